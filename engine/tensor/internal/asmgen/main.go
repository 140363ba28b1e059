// Command asmgen writes the tensor package's amd64 kernels
// (kernels_amd64.s) and their Go declarations (kernels_decl_amd64.go).
//
// Each kernel is written once here as a Go function that emits Plan 9
// assembly for a given number of tokens T (1 to 4) sharing each weight
// load, and a given level. Every T variant performs the same float
// operations in the same order for each token, so a token's result does
// not depend on the batch it is computed in.
//
// Calling convention of every kernel (see tileFn in dispatch.go):
//
//	func(w unsafe.Pointer, wStride uintptr, nRows, n int,
//	     a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr)
//
// Registers: SI weight row, R8 weight block, R9 activations of the first
// token, AX its current block, R10/R11 aStride and 3*aStride, DI output of
// the current row, R12/R13 oStride and 3*oStride, CX rows left, DX blocks
// left, BX wStride.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type gen struct {
	b bytes.Buffer
}

func (g *gen) i(format string, args ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.b, "%s:\n", l) }
func (g *gen) raw(s string)                 { g.b.WriteString(s) }

// act is the address of byte disp of token t's current activation block.
func act(t, disp int) string {
	switch t {
	case 0:
		return fmt.Sprintf("%d(AX)", disp)
	case 1:
		return fmt.Sprintf("%d(AX)(R10*1)", disp)
	case 2:
		return fmt.Sprintf("%d(AX)(R10*2)", disp)
	}
	return fmt.Sprintf("%d(AX)(R11*1)", disp)
}

// out is the address of token t's result for the current row.
func out(t int) string {
	return [...]string{"(DI)", "(DI)(R12*1)", "(DI)(R12*2)", "(DI)(R13*1)"}[t]
}

func y(n int) string { return fmt.Sprintf("Y%d", n) }

// hsum8 sums the eight lanes of the ymm register whose low half is xa into
// xa's low lane, as llama.cpp's hsum_float_8 does (the 128-bit halves,
// then pairs, then the last two), with tmp (an xmm register) as scratch.
func hsum8(g *gen, xa, tmp string) {
	ya := "Y" + xa[1:]
	g.i("VEXTRACTF128 $1, %s, %s", ya, tmp)
	g.i("VADDPS %s, %s, %s", tmp, xa, xa)
	g.i("VPERMILPS $0x4e, %s, %s", xa, tmp)
	g.i("VADDPS %s, %s, %s", tmp, xa, xa)
	g.i("VPERMILPS $0xb1, %s, %s", xa, tmp)
	g.i("VADDSS %s, %s, %s", tmp, xa, xa)
}
func x(n int) string { return fmt.Sprintf("X%d", n) }
func z(n int) string { return fmt.Sprintf("Z%d", n) }

// kernel describes one dot-product kernel family.
type kernel struct {
	name   string // Go name stem, e.g. "q4_0AVX2"; the T variants append "x1".."x4"
	wStep  int    // weight bytes per step
	aStep  int    // activation bytes per step
	nShift int    // log2 of elements per step (n >> nShift = steps)
	pairs  bool   // steps go two at a time, with a final single step
	// acc is the float accumulator register of token t.
	acc func(t int) int
	// setup emits code run once per call (constants into registers).
	setup func(g *gen, T int)
	// step emits the work of `steps` (1 or 2) steps at R8/AX.
	step func(g *gen, T, steps int)
}

// tileHeader starts the tileFn-shaped kernel name (see dispatch.go).
func tileHeader(g *gen, name string) {
	g.raw(fmt.Sprintf("\n// func %s(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr)\n", name))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64\n", name))
}

// loadTileArgs loads a tileFn's arguments into the registers the row
// kernels use: SI w, BX wStride, CX nRows, R9 a, R10/R11 aStride and
// 3*aStride, DI out, R12/R13 oStride and 3*oStride.
func loadTileArgs(g *gen) {
	g.i("MOVQ w+0(FP), SI")
	g.i("MOVQ wStride+8(FP), BX")
	g.i("MOVQ nRows+16(FP), CX")
	g.i("MOVQ a+32(FP), R9")
	g.i("MOVQ aStride+40(FP), R10")
	g.i("LEAQ (R10)(R10*2), R11")
	g.i("MOVQ out+48(FP), DI")
	g.i("MOVQ oStride+56(FP), R12")
	g.i("LEAQ (R12)(R12*2), R13")
}

func (k *kernel) emit(g *gen, T int) {
	name := fmt.Sprintf("%sx%d", k.name, T)
	tileHeader(g, name)
	loadTileArgs(g)
	if k.setup != nil {
		k.setup(g, T)
	}
	g.i("TESTQ CX, CX")
	g.i("JLE done")
	g.label("row")
	g.i("MOVQ SI, R8")
	g.i("MOVQ R9, AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $%d, DX", k.nShift)
	for t := 0; t < T; t++ {
		r := k.acc(t)
		g.i("VXORPS %s, %s, %s", y(r), y(r), y(r))
	}
	if k.pairs {
		g.i("CMPQ DX, $2")
		g.i("JLT single")
		g.label("pair")
		k.step(g, T, 2)
		g.i("ADDQ $%d, R8", 2*k.wStep)
		g.i("ADDQ $%d, AX", 2*k.aStep)
		g.i("SUBQ $2, DX")
		g.i("CMPQ DX, $2")
		g.i("JGE pair")
		g.label("single")
		g.i("TESTQ DX, DX")
		g.i("JZ reduce")
		k.step(g, T, 1)
	} else {
		g.i("TESTQ DX, DX")
		g.i("JZ reduce")
		g.label("loop")
		k.step(g, T, 1)
		g.i("ADDQ $%d, R8", k.wStep)
		g.i("ADDQ $%d, AX", k.aStep)
		g.i("DECQ DX")
		g.i("JNZ loop")
	}
	g.label("reduce")
	for t := 0; t < T; t++ {
		a := k.acc(t)
		hsum8(g, x(a), "X0")
		g.i("VMOVSS %s, %s", x(a), out(t))
	}
	g.i("ADDQ BX, SI")
	g.i("ADDQ $4, DI")
	g.i("DECQ CX")
	g.i("JNZ row")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
}

func main() {
	outS := flag.String("s", "kernels_amd64.s", "assembly output")
	outGo := flag.String("go", "kernels_decl_amd64.go", "Go declarations output")
	flag.Parse()
	asm, decl, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*outS, asm, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*outGo, decl, 0o644); err != nil {
		log.Fatal(err)
	}
}

// generate returns the assembly file and the Go declarations file.
func generate() (asm, decl []byte, err error) {
	g := &gen{}
	g.raw("// Code generated by internal/asmgen; DO NOT EDIT.\n\n#include \"textflag.h\"\n")
	emitConstants(g)
	emitLaneMask(g)
	emitLaneKConstants(g)
	emitQuantConstants(g)
	var names []string
	add := func(name string, T int, emit func(*gen, int)) {
		emit(g, T)
		names = append(names, fmt.Sprintf("%sx%d", name, T))
	}
	for T := 1; T <= 4; T++ {
		for _, k := range kernels() {
			add(k.name, T, k.emit)
		}
		for _, k := range []*laneKernel{q4_0Lanes(false), q4_0Lanes(true), q4_KLanesVNNI()} {
			add(k.name, T, k.emit)
		}
		for _, k := range floatKernels() {
			add(k.name, T, k.emit)
		}
		names = append(names, q4_0x8VNNI(g, T), q4_0x16VNNI(g, T), q8_0x8VNNI(g, T), f16WideAVX512(g, T))
	}
	names = append(names, q4_Kx8GemvVNNI(g), q4_Kx8GemvPairVNNI(g), q4_Kx8GemmVNNI(g), q4_Kx8GemvAVX2(g), q4_Kx8GemmAVX2(g), q6_KPairsAVX512(g))
	var decls []string
	for _, v := range append(vecops(), quantOps()...) {
		name := v.decl[:strings.Index(v.decl, "(")]
		g.raw(fmt.Sprintf("\n// func %s\nTEXT ·%s(SB), NOSPLIT, $0\n", v.decl, name))
		g.raw(strings.TrimPrefix(v.body, "\n"))
		decls = append(decls, v.decl)
	}
	var d strings.Builder
	d.WriteString("// Code generated by internal/asmgen; DO NOT EDIT.\n\npackage tensor\n\nimport \"unsafe\"\n\n")
	for _, n := range names {
		fmt.Fprintf(&d, "//go:noescape\nfunc %s(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr)\n\n", n)
	}
	for _, dcl := range decls {
		fmt.Fprintf(&d, "//go:noescape\nfunc %s\n\n", dcl)
	}
	src, err := format.Source([]byte(d.String()))
	if err != nil {
		return nil, nil, err
	}
	return g.b.Bytes(), src, nil
}

func kernels() []*kernel {
	return []*kernel{
		q8_0AVX2(), q8_0VNNI(),
		q4_0AVX2(), q4_0VNNI(),
		q5_0AVX2(), q5_0VNNI(),
		q4_1AVX2(false), q4_1AVX2(true),
		q4_KAVX2(false), q4_KAVX2(true),
		q6_KAVX2(), q3_KAVX2(), q2_KAVX2(),
	}
}

func floatKernels() []*floatKernel {
	return []*floatKernel{
		{name: "f32AVX2", kind: kF32}, {name: "f16AVX2", kind: kF16}, {name: "bf16AVX2", kind: kBF16},
		{name: "f32AVX512", kind: kF32, zmm: true}, {name: "f16AVX512", kind: kF16, zmm: true},
		{name: "bf16AVX512", kind: kBF16DP, zmm: true},
	}
}
