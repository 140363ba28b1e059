package main

import "fmt"

// The float formats: weights widened to float32 and fused-multiply-added
// with float32 activations (already rounded to the weights' precision), or
// for BF16 with VDPBF16PS on bfloat16 activations. A register tile of R
// rows x T tokens keeps one accumulator per (row, token), so every tile
// shape performs the same operations for a given row and token.
//
// Registers: SI, R8, R9, R14 the tile's row pointers; R10..R13 the tokens'
// activations; AX the byte offset into the weight rows (activations are
// at AX*scale); DX the weight bytes per row; CX rows left; DI output; BX
// wStride.

type floatKind int

const (
	kF32 floatKind = iota
	kF16
	kBF16   // widened by shifting, float32 activations
	kBF16DP // VDPBF16PS on bfloat16 activations
)

type floatKernel struct {
	name string
	kind floatKind
	zmm  bool
}

func (f *floatKernel) wBytes() int {
	if f.kind == kF32 {
		return 4
	}
	return 2
}

// lanes is the number of elements per vector and per step (two vectors of
// bfloat16 pairs for VDPBF16PS).
func (f *floatKernel) lanes() int {
	switch {
	case f.kind == kBF16DP:
		return 32
	case f.zmm:
		return 16
	}
	return 8
}

// rows is the tile height for T tokens: as many as the registers allow.
func (f *floatKernel) rows(T int) int {
	if f.zmm || T <= 2 {
		return 4
	}
	return 3
}

func (f *floatKernel) vreg(n int) string {
	if f.zmm {
		return z(n)
	}
	return y(n)
}

// acc is the accumulator of row r, token t in a tile of T tokens.
func (f *floatKernel) acc(r, t, T int) int {
	if f.zmm {
		return 16 + 4*r + t
	}
	return 16 - f.rows(T)*T + r*T + t
}

var rowPtr = [4]string{"SI", "R8", "R9", "R14"}
var actPtr = [4]string{"R10", "R11", "R12", "R13"}

func (f *floatKernel) emit(g *gen, T int) {
	name := fmt.Sprintf("%sx%d", f.name, T)
	tileHeader(g, name)
	g.i("MOVQ w+0(FP), SI")
	g.i("MOVQ wStride+8(FP), BX")
	g.i("MOVQ nRows+16(FP), CX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $%d, DX", log2(f.lanes()))
	g.i("SHLQ $%d, DX", log2(f.lanes()*f.wBytes()))
	g.i("MOVQ a+32(FP), R10")
	g.i("MOVQ aStride+40(FP), AX")
	g.i("LEAQ (R10)(AX*1), R11")
	g.i("LEAQ (R10)(AX*2), R12")
	g.i("LEAQ (R11)(AX*2), R13")
	g.i("MOVQ out+48(FP), DI")
	R := f.rows(T)
	g.label("group")
	g.i("CMPQ CX, $%d", R)
	g.i("JLT rest")
	f.tile(g, T, R, "g")
	switch R {
	case 4:
		g.i("LEAQ (SI)(BX*4), SI")
	case 3:
		g.i("LEAQ (SI)(BX*2), SI")
		g.i("ADDQ BX, SI")
	}
	g.i("ADDQ $%d, DI", 4*R)
	g.i("SUBQ $%d, CX", R)
	g.i("JMP group")
	g.label("rest")
	g.i("TESTQ CX, CX")
	g.i("JZ done")
	f.tile(g, T, 1, "r")
	g.i("ADDQ BX, SI")
	g.i("ADDQ $4, DI")
	g.i("DECQ CX")
	g.i("JMP rest")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
}

// tile computes R rows x T tokens at SI and stores the results; labels
// get the prefix p.
func (f *floatKernel) tile(g *gen, T, R int, p string) {
	if R > 1 {
		g.i("LEAQ (SI)(BX*1), R8")
		g.i("LEAQ (SI)(BX*2), R9")
	}
	if R > 3 {
		g.i("LEAQ (R8)(BX*2), R14")
	}
	for r := 0; r < R; r++ {
		for t := 0; t < T; t++ {
			a := f.vreg(f.acc(r, t, T))
			g.i("VXORPS %s, %s, %s", a, a, a)
		}
	}
	g.i("XORQ AX, AX")
	g.i("TESTQ DX, DX")
	g.i("JZ %sreduce", p)
	g.label(p + "loop")
	scale := 4 / f.wBytes()
	if f.kind == kBF16DP {
		scale = 1
	}
	for r := 0; r < R; r++ {
		w := f.vreg(r)
		src := fmt.Sprintf("(%s)(AX*1)", rowPtr[r])
		switch f.kind {
		case kF32:
			g.i("VMOVUPS %s, %s", src, w)
		case kF16:
			g.i("VCVTPH2PS %s, %s", src, w)
		case kBF16:
			g.i("VPMOVZXWD %s, %s", src, w)
			g.i("VPSLLD $16, %s, %s", w, w)
		case kBF16DP:
			g.i("VMOVDQU32 %s, %s", src, w)
		}
	}
	// Two activation registers alternate when the accumulators leave room.
	acts := []int{4, 5}
	if !f.zmm {
		acts = []int{R, R + 1}
		if R+1 >= f.acc(0, 0, T) {
			acts = []int{R, R}
		}
	}
	for t := 0; t < T; t++ {
		av := acts[t%2]
		g.i("VMOVUPS (%s)(AX*%d), %s", actPtr[t], scale, f.vreg(av))
		for r := 0; r < R; r++ {
			acc := f.acc(r, t, T)
			if f.kind == kBF16DP {
				g.i("%s // VDPBF16PS Z%d, Z%d, Z%d", vdpbf16ps(acc, av, r), r, av, acc)
			} else {
				g.i("VFMADD231PS %s, %s, %s", f.vreg(r), f.vreg(av), f.vreg(acc))
			}
		}
	}
	g.i("ADDQ $%d, AX", f.lanes()*f.wBytes())
	g.i("CMPQ AX, DX")
	g.i("JLT %sloop", p)
	g.label(p + "reduce")
	g.i("MOVQ oStride+56(FP), AX")
	for r := 0; r < R; r++ {
		for t := 0; t < T; t++ {
			acc := f.acc(r, t, T)
			s := y(acc)
			if f.zmm {
				g.i("VEXTRACTF64X4 $1, %s, Y1", z(acc))
				g.i("VADDPS Y1, %s, Y1", y(acc))
				s = "Y1"
			}
			xs := "X" + s[1:]
			hsum8(g, xs, "X0")
			dst := [...]string{"%d(DI)", "%d(DI)(AX*1)", "%d(DI)(AX*2)", "%d(R8)(AX*1)"}[t]
			if t == 3 {
				g.i("LEAQ (DI)(AX*2), R8")
			}
			g.i("VMOVSS %s, "+dst, xs, 4*r)
		}
	}
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

// vdpbf16ps encodes VDPBF16PS zmm(dst), zmm(src1), zmm(src2) (Intel
// operand order), which the Go assembler does not know: EVEX.512.F3.0F38.W0
// 52 /r with register operands.
func vdpbf16ps(dst, src1, src2 int) string {
	inv := func(bit int) byte { return byte(^bit & 1) }
	p0 := inv(dst>>3)<<7 | inv(src2>>4)<<6 | inv(src2>>3)<<5 | inv(dst>>4)<<4 | 0b10
	p1 := byte(^src1&15)<<3 | 1<<2 | 0b10
	p2 := byte(0b10)<<5 | inv(src1>>4)<<3
	modrm := byte(0xc0) | byte(dst&7)<<3 | byte(src2&7)
	return fmt.Sprintf("BYTE $0x62; BYTE $%#02x; BYTE $%#02x; BYTE $%#02x; BYTE $0x52; BYTE $%#02x", p0, p1, p2, modrm)
}
