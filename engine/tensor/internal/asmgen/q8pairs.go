package main

import "fmt"

// q8_0x8VNNI is the Q8_0 prompt kernel at AVX-512: eight weight rows by
// T tokens per pass over the blocks, each zmm holding two rows' eight
// lanes (row 2p in the low half, 2p+1 in the high one). Every (row,
// token) keeps its own eight float lanes and computes exactly what
// q8_0VNNI does (ggml_vec_dot_q8_0_q8_0's order: per block, the eight
// 4-quant lane sums, converted, times d_w*d_a, fused into the lanes; the
// lanes summed as hsum_float_8 at the end), so the tile shape never
// changes a result. What the width buys: one VPDPBUSD, VCVTDQ2PS, VMULPS
// and VFMADD231PS serve two rows, and each token's block (quants,
// corrections, scale) is loaded once for eight rows instead of once per
// row. Rows past the last whole group of eight go through q8_0VNNI.
//
// Registers: R8 rows 0-3 of the current block (rows 1-3 at BX, 2*BX,
// R14=3*BX from it), R9 rows 4-7, AX the first token's block, R10/R11
// aStride and 3*aStride, DI the group's output, R12/R13 oStride and
// 3*oStride, SI the group, CX groups left, DX blocks left. Z0-Z3 the
// pairs' quants (offset by 128 to be unsigned), Z4-Z7 their scales, Z8 a
// token's quants in both halves, Z9 its corrections, Z10 its scale, Z11-Z14
// temporaries, Z15 0x80 bytes, Z16+4p+t the accumulators.
func q8_0x8VNNI(g *gen, T int) string {
	name := fmt.Sprintf("q8_0x8VNNIx%d", T)
	tileHeader(g, name)
	loadTileArgs(g)
	g.i("LEAQ (BX)(BX*2), R14")
	g.i("SHRQ $3, CX")
	g.i("VPBROADCASTD c80<>(SB), Z15")
	g.i("TESTQ CX, CX")
	g.i("JLE done")
	g.label("group")
	g.i("MOVQ SI, R8")
	g.i("LEAQ (SI)(BX*4), R9")
	g.i("MOVQ a+32(FP), AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $5, DX")
	for p := 0; p < 4; p++ {
		for t := 0; t < T; t++ {
			a := z(16 + 4*p + t)
			g.i("VPXORD %s, %s, %s", a, a, a)
		}
	}
	g.i("TESTQ DX, DX")
	g.i("JZ store")
	g.label("block")
	row := func(r, disp int) string {
		base := "R8"
		if r >= 4 {
			base = "R9"
		}
		return fmt.Sprintf("%d(%s)%s", disp, base, [...]string{"", "(BX*1)", "(BX*2)", "(R14*1)"}[r%4])
	}
	for p := 0; p < 4; p++ {
		g.i("VMOVDQU %s, %s", row(2*p, 2), y(p))
		g.i("VINSERTI64X4 $1, %s, %s, %s", row(2*p+1, 2), z(p), z(p))
		g.i("VPXORD Z15, %s, %s", z(p), z(p))
		g.i("VPBROADCASTW %s, %s", row(2*p, 0), x(4+p))
		g.i("VPBROADCASTW %s, X11", row(2*p+1, 0))
		g.i("VINSERTI128 $1, X11, %s, %s", y(4+p), y(4+p))
		g.i("VCVTPH2PS %s, %s", y(4+p), z(4+p))
	}
	for t := 0; t < T; t++ {
		g.i("VBROADCASTI64X4 %s, Z8", act(t, 0))
		g.i("VBROADCASTI64X4 %s, Z9", act(t, 32))
		g.i("VBROADCASTSS %s, Z10", act(t, 64))
		for p := 0; p < 4; p++ {
			is, sc := z(11+2*(p%2)), z(12+2*(p%2))
			g.i("VMOVDQA64 Z9, %s", is)
			g.i("VPDPBUSD Z8, %s, %s", z(p), is)
			g.i("VCVTDQ2PS %s, %s", is, is)
			g.i("VMULPS Z10, %s, %s", z(4+p), sc)
			g.i("VFMADD231PS %s, %s, %s", is, sc, z(16+4*p+t))
		}
	}
	g.i("ADDQ $34, R8")
	g.i("ADDQ $34, R9")
	g.i("ADDQ $72, AX")
	g.i("DECQ DX")
	g.i("JNZ block")
	g.label("store")
	// hsum_float_8 of each row's lanes, as the kernel family's reduce.
	for p := 0; p < 4; p++ {
		for t := 0; t < T; t++ {
			g.i("VMOVAPS %s, Z0", z(16+4*p+t))
			g.i("VEXTRACTF64X4 $1, Z0, Y1")
			for h, a := range []int{0, 1} {
				hsum8(g, x(a), "X2")
				disp := 4 * (2*p + h)
				dst := [...]string{"%d(DI)", "%d(DI)(R12*1)", "%d(DI)(R12*2)", "%d(DI)(R13*1)"}[t]
				g.i("VMOVSS %s, "+dst, x(a), disp)
			}
		}
	}
	g.i("LEAQ (SI)(BX*8), SI")
	g.i("ADDQ $32, DI")
	g.i("DECQ CX")
	g.i("JNZ group")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
	return name
}
