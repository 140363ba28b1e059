package main

import "fmt"

// f16WideAVX512 is the F16 prompt kernel at AVX-512: tinyBLAS's order for
// every (row, token) (one accumulator of 16 lanes, a fused multiply-add
// per 16 elements, _mm512_reduce_add_ps's tree; see ggmlorder.go), as
// f16AVX512 computes it, on a taller register tile: six rows by four
// tokens (seven by three, eight by two or one), 24 accumulators, so each
// step's 24 multiply-adds wait on ten loads (six rows widened from F16,
// four tokens) instead of 16 on eight. Rows past the last whole tile go
// four at a time, then one.
//
// Registers: SI, R8 (SI+3*BX) and R9 (SI+6*BX) address the tile's rows at
// the current step (rows 1, 2, 4, 5, 7 at BX and 2*BX past them); R10 the
// first token's activations at the step, R11/R12 aStride and 3*aStride;
// R14 the tile's first row; DX steps left; CX rows left; BX wStride; DI
// the output, R13 oStride; AX a temporary. Z0.. the rows' widened
// weights, then the tokens' activations, the accumulators last.
func f16WideAVX512(g *gen, T int) string {
	name := fmt.Sprintf("f16WideAVX512x%d", T)
	tileHeader(g, name)
	g.i("MOVQ w+0(FP), R14")
	g.i("MOVQ wStride+8(FP), BX")
	g.i("MOVQ nRows+16(FP), CX")
	g.i("MOVQ aStride+40(FP), R11")
	g.i("LEAQ (R11)(R11*2), R12")
	g.i("MOVQ out+48(FP), DI")
	g.i("MOVQ oStride+56(FP), R13")
	R := [...]int{8, 8, 7, 6}[T-1]
	sizes := []int{R}
	if R > 4 {
		sizes = append(sizes, 4)
	}
	sizes = append(sizes, 1)
	for i, rs := range sizes {
		p := fmt.Sprintf("r%d", rs)
		g.label(p + "tiles")
		g.i("CMPQ CX, $%d", rs)
		if i+1 < len(sizes) {
			g.i("JLT r%dtiles", sizes[i+1])
		} else {
			g.i("JLT done")
		}
		f16WideTile(g, T, rs, p)
		for left := rs; left > 0; {
			k := min(left, 4)
			if k == 3 {
				k = 2
			}
			g.i("LEAQ (R14)(BX*%d), R14", k)
			left -= k
		}
		g.i("ADDQ $%d, DI", 4*rs)
		g.i("SUBQ $%d, CX", rs)
		g.i("JMP %stiles", p)
	}
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
	return name
}

// f16WideTile computes R rows x T tokens from R14 and stores them at DI.
func f16WideTile(g *gen, T, R int, p string) {
	g.i("MOVQ R14, SI")
	if R > 3 {
		g.i("LEAQ (SI)(BX*2), R8")
		g.i("ADDQ BX, R8")
	}
	if R > 6 {
		g.i("LEAQ (R8)(BX*2), R9")
		g.i("ADDQ BX, R9")
	}
	g.i("MOVQ a+32(FP), R10")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $4, DX")
	accBase := 32 - R*T
	acc := func(r, t int) string { return z(accBase + r*T + t) }
	for r := 0; r < R; r++ {
		for t := 0; t < T; t++ {
			g.i("VPXORD %s, %s, %s", acc(r, t), acc(r, t), acc(r, t))
		}
	}
	g.i("TESTQ DX, DX")
	g.i("JZ %sreduce", p)
	g.label(p + "loop")
	for r := 0; r < R; r++ {
		base := [...]string{"SI", "R8", "R9"}[r/3]
		idx := [...]string{"", "(BX*1)", "(BX*2)"}[r%3]
		g.i("VCVTPH2PS (%s)%s, %s", base, idx, z(r))
	}
	acts := []int{R, R + 1}
	if R+1 >= accBase {
		acts[1] = R
	}
	for t := 0; t < T; t++ {
		av := z(acts[t%2])
		g.i("VMOVUPS (R10)%s, %s", [...]string{"", "(R11*1)", "(R11*2)", "(R12*1)"}[t], av)
		for r := 0; r < R; r++ {
			g.i("VFMADD231PS %s, %s, %s", z(r), av, acc(r, t))
		}
	}
	g.i("ADDQ $32, SI")
	if R > 3 {
		g.i("ADDQ $32, R8")
	}
	if R > 6 {
		g.i("ADDQ $32, R9")
	}
	g.i("ADDQ $64, R10")
	g.i("DECQ DX")
	g.i("JNZ %sloop", p)
	g.label(p + "reduce")
	if T == 4 {
		g.i("LEAQ (DI)(R13*2), AX")
	}
	for r := 0; r < R; r++ {
		for t := 0; t < T; t++ {
			a := acc(r, t)
			g.i("VEXTRACTF64X4 $1, %s, Y1", a)
			g.i("VADDPS Y1, %s, Y1", "Y"+a[1:])
			hsum8(g, "X1", "X0")
			dst := [...]string{"%d(DI)", "%d(DI)(R13*1)", "%d(DI)(R13*2)", "%d(AX)(R13*1)"}[t]
			g.i("VMOVSS X1, "+dst, 4*r)
		}
	}
}
