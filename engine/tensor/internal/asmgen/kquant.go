package main

// The K-quant formats, one 256-element super-block per step. Integer sums
// stay in Y8..Y11 (one per token) for the whole super-block; the float
// accumulators are Y12..Y15. Y0..Y7 are shared or temporary.

func kquant(name string, wbs int, body func(g *gen, T int)) *kernel {
	return &kernel{
		name: name, wStep: wbs, aStep: 320, nShift: 8,
		acc:  acc1,
		step: func(g *gen, T, steps int) { body(g, T) },
	}
}

// The activation block (actQ8_K): qs at 0, bsums16 at 256, bsums32 at 288,
// d at 304.
const (
	aBsums16 = 256
	aBsums32 = 288
	aD       = 304
)

// finish converts each token's integer sum and adds it, times the
// super-block scale d (F16 at dOff) times the token's d, to its
// accumulator.
func finish(g *gen, T, dOff int) {
	g.i("VPBROADCASTW %d(R8), X6", dOff)
	g.i("VCVTPH2PS X6, Y6")
	for t := 0; t < T; t++ {
		is := y(8 + t)
		g.i("VCVTDQ2PS %s, %s", is, is)
		g.i("VBROADCASTSS %s, Y5", act(t, aD))
		g.i("VMULPS Y6, Y5, Y5")
		g.i("VFMADD231PS %s, Y5, %s", is, y(12+t))
	}
}

// minsTerm subtracts, for each token, dmin (F16 at dminOff) times the
// token's d times the int32 lanes madd(bsums at bsOff, Y(mins)), where
// mins is a Y or (xmm) X register of int16 mins.
func minsTerm(g *gen, T, dminOff, bsOff, mins int, xmm bool) {
	g.i("VPBROADCASTW %d(R8), X3", dminOff)
	g.i("VCVTPH2PS X3, Y3")
	for t := 0; t < T; t++ {
		if xmm {
			g.i("VPMADDWD %s, %s, X4", act(t, bsOff), x(mins))
		} else {
			g.i("VPMADDWD %s, %s, Y4", act(t, bsOff), y(mins))
		}
		g.i("VCVTDQ2PS Y4, Y4")
		g.i("VBROADCASTSS %s, Y5", act(t, aD))
		g.i("VMULPS Y3, Y5, Y5")
		g.i("VFNMADD231PS Y4, Y5, %s", y(12+t))
	}
}

// accumulate adds madd(maddubs(Y(q), token quants at disp), Y(sc)) to each
// token's integer sum; first sets instead of adding.
func accumulate(g *gen, T, q, sc, disp int, first bool) {
	for t := 0; t < T; t++ {
		g.i("VPMADDUBSW %s, %s, Y7", act(t, disp), y(q))
		g.i("VPMADDWD %s, Y7, Y7", y(sc))
		if first {
			g.i("VMOVDQA Y7, %s", y(8+t))
		} else {
			g.i("VPADDD Y7, %s, %s", y(8+t), y(8+t))
		}
	}
}

// shiftBits moves bit `from` of every byte of Y(r) to bit `to` (the other
// bits are masked off by the caller); word shifts are fine as the mask
// drops what crosses bytes.
func shiftBits(g *gen, r, from, to int) {
	switch {
	case to > from:
		g.i("VPSLLW $%d, %s, %s", to-from, y(r), y(r))
	case to < from:
		g.i("VPSRLW $%d, %s, %s", from-to, y(r), y(r))
	}
}

// k4Scales decodes Q4_K/Q5_K's 12 scale bytes at 4(R8) into Y1 (the eight
// 6-bit scales as int16, in both 128-bit lanes) and X2 (the eight mins as
// int16).
func k4Scales(g *gen) {
	g.i("VMOVDQU 4(R8), X0")
	g.i("VPSHUFD $0x98, X0, X1")
	g.i("VPSRLVD k4shift<>(SB), X1, X1")
	g.i("VPAND k4mask<>(SB), X1, X1")
	g.i("VPSHUFD $0x50, X0, X2")
	g.i("VPSRLD $6, X2, X2")
	g.i("VPAND k4hmask<>(SB), X2, X2")
	g.i("VPSLLD $4, X2, X2")
	g.i("VPOR X2, X1, X1")
	g.i("VPMOVZXBW X1, Y1")
	g.i("VEXTRACTI128 $1, Y1, X2")
	g.i("VPERMQ $0x44, Y1, Y1")
}

// q4_KAVX2 serves Q4_K and (five) Q5_K. Mins first: their term needs only
// the block sums, and doing it first frees registers for the quants.
func q4_KAVX2(five bool) *kernel {
	name, wbs, qs := "q4_KAVX2", 144, 16
	if five {
		name, wbs, qs = "q5_KAVX2", 176, 48
	}
	return kquant(name, wbs, func(g *gen, T int) {
		k4Scales(g)
		minsTerm(g, T, 2, aBsums32, 2, true)
		for j := 0; j < 4; j++ {
			g.i("VMOVDQU %d(R8), Y4", qs+32*j)
			g.i("VPSRLW $4, Y4, Y5")
			g.i("VPAND c0f<>(SB), Y4, Y4")
			g.i("VPAND c0f<>(SB), Y5, Y5")
			if five {
				for h, r := range []int{4, 5} {
					g.i("VMOVDQU 16(R8), Y3")
					shiftBits(g, 3, 2*j+h, 4)
					g.i("VPAND c10<>(SB), Y3, Y3")
					g.i("VPOR Y3, %s, %s", y(r), y(r))
				}
			}
			g.i("VPSHUFB k4shuf<>+%d(SB), Y1, Y6", 64*j)
			accumulate(g, T, 4, 6, 64*j, j == 0)
			g.i("VPSHUFB k4shuf<>+%d(SB), Y1, Y6", 64*j+32)
			accumulate(g, T, 5, 6, 64*j+32, false)
		}
		finish(g, T, 0)
	})
}

// sixteenScales runs the element loop of the formats with sixteen scales
// per super-block (Q2_K, Q3_K, Q6_K): Y0 holds the int16 scales; quant
// emits code leaving the 32 unsigned quants of half h, group k in Y3
// (it may use Y4). first says the integer sums start here.
func sixteenScales(g *gen, T int, first bool, quant func(h, k int)) {
	for h := 0; h < 2; h++ {
		g.i("VPERMQ $%#x, Y0, Y1", []int{0x44, 0xee}[h])
		for k := 0; k < 4; k++ {
			g.i("VPSHUFB q6shuf<>+%d(SB), Y1, Y2", 32*k)
			quant(h, k)
			accumulate(g, T, 3, 2, 128*h+32*k, first && h == 0 && k == 0)
		}
	}
}

// offsetCorrection starts each token's integer sum at -off*sum(sc*bsum16):
// the quants are taken unsigned and the offset comes out here.
func offsetCorrection(g *gen, T, shift int) {
	g.i("VPXOR Y1, Y1, Y1")
	g.i("VPSUBW Y0, Y1, Y1")
	for t := 0; t < T; t++ {
		g.i("VPMADDWD %s, Y1, %s", act(t, aBsums16), y(8+t))
		g.i("VPSLLD $%d, %s, %s", shift, y(8+t), y(8+t))
	}
}

func q6_KAVX2() *kernel {
	return kquant("q6_KAVX2", 210, func(g *gen, T int) {
		g.i("VPMOVSXBW 192(R8), Y0")
		offsetCorrection(g, T, 5)
		sixteenScales(g, T, false, func(h, k int) {
			g.i("VMOVDQU %d(R8), Y3", 64*h+32*(k&1))
			if k >= 2 {
				g.i("VPSRLW $4, Y3, Y3")
			}
			g.i("VPAND c0f<>(SB), Y3, Y3")
			g.i("VMOVDQU %d(R8), Y4", 128+32*h)
			shiftBits(g, 4, 2*k, 4)
			g.i("VPAND c30<>(SB), Y4, Y4")
			g.i("VPOR Y4, Y3, Y3")
		})
		finish(g, T, 208)
	})
}

func q3_KAVX2() *kernel {
	return kquant("q3_KAVX2", 110, func(g *gen, T int) {
		// Scales: 12 bytes at 96 (a 16-byte load would pass the block).
		g.i("VMOVQ 96(R8), X0")
		g.i("VPINSRD $2, 104(R8), X0, X0")
		g.i("VPSHUFD $0x44, X0, X1")
		g.i("VPSRLVD q3shiftL<>(SB), X1, X1")
		g.i("VPAND c0f<>(SB), X1, X1")
		g.i("VPSHUFD $0xaa, X0, X2")
		g.i("VPSRLVD q3shiftH<>(SB), X2, X2")
		g.i("VPAND c03<>(SB), X2, X2")
		g.i("VPSLLD $4, X2, X2")
		g.i("VPOR X2, X1, X1")
		g.i("VPMOVZXBW X1, Y0")
		g.i("VPSUBW c32w<>(SB), Y0, Y0")
		offsetCorrection(g, T, 2)
		sixteenScales(g, T, false, func(h, k int) {
			g.i("VMOVDQU %d(R8), Y3", 32+32*h)
			shiftBits(g, 3, 2*k, 0)
			g.i("VPAND c03<>(SB), Y3, Y3")
			g.i("VMOVDQU (R8), Y4")
			shiftBits(g, 4, 4*h+k, 2)
			g.i("VPAND c04<>(SB), Y4, Y4")
			g.i("VPOR Y4, Y3, Y3")
		})
		finish(g, T, 108)
	})
}

func q2_KAVX2() *kernel {
	return kquant("q2_KAVX2", 84, func(g *gen, T int) {
		g.i("VMOVDQU (R8), X0")
		g.i("VPSRLW $4, X0, X1")
		g.i("VPAND c0f<>(SB), X1, X1")
		g.i("VPMOVZXBW X1, Y1") // mins
		minsTerm(g, T, 82, aBsums16, 1, false)
		g.i("VPAND c0f<>(SB), X0, X0")
		g.i("VPMOVZXBW X0, Y0") // scales
		sixteenScales(g, T, true, func(h, k int) {
			g.i("VMOVDQU %d(R8), Y3", 16+32*h)
			shiftBits(g, 3, 2*k, 0)
			g.i("VPAND c03<>(SB), Y3, Y3")
		})
		finish(g, T, 80)
	})
}

// q6_KPairsAVX512 is q6_KAVX2 for one token, two super-blocks of a row at
// a time: block b in the low 256 bits of every zmm register and block
// b+1 in the high, so that each integer instruction of the AVX2 kernel
// serves both; the float sums then add block b's term and block b+1's in
// that order, as the AVX2 kernel does, and the row is reduced as it
// reduces it. (Two rows at a time, one per half, read two streams a
// thread and decoded a Q4_K_M model 10-20% slower.) An odd last block
// goes alone in the low halves.
//
// Registers: Z0 the scales, Z1 a half's scales, Z2 a group's, Z3 quants,
// Z4 high bits, Z5..Z7 temporaries, Z8 the integer sums, Y12 the float
// sum, Z16 0x0f, Z17 0x30, Z18/Z19 the low bits of a half, Z20
// scratch, Z21/Z22 activations, Z23 a half's high bits, Z24..Z27 the scale
// shuffles.
func q6_KPairsAVX512(g *gen) string {
	const name = "q6_KPairsAVX512"
	tileHeader(g, name)
	loadTileArgs(g)
	g.i("VPBROADCASTD c0f<>(SB), Z16")
	g.i("VPBROADCASTD c30<>(SB), Z17")
	for k := 0; k < 4; k++ {
		g.i("VBROADCASTI64X4 q6shuf<>+%d(SB), Z%d", 32*k, 24+k)
	}
	g.i("TESTQ CX, CX")
	g.i("JLE done")
	g.label("row")
	g.i("MOVQ SI, R8")
	g.i("MOVQ R9, AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $8, DX")
	g.i("VXORPS Y12, Y12, Y12")
	g.i("CMPQ DX, $2")
	g.i("JLT single")
	g.label("pair")
	q6Blocks(g, true)
	g.i("ADDQ $420, R8")
	g.i("ADDQ $640, AX")
	g.i("SUBQ $2, DX")
	g.i("CMPQ DX, $2")
	g.i("JGE pair")
	g.label("single")
	g.i("TESTQ DX, DX")
	g.i("JZ reduce")
	q6Blocks(g, false)
	g.label("reduce")
	hsum8(g, "X12", "X0")
	g.i("VMOVSS X12, (DI)")
	g.i("ADDQ BX, SI")
	g.i("ADDQ $4, DI")
	g.i("DECQ CX")
	g.i("JNZ row")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
	return name
}

// q6Blocks emits one super-block's work (two, with pair: R8 and R8+210,
// AX and AX+320) and adds it to Y12.
func q6Blocks(g *gen, pair bool) {
	// load puts 32 bytes at disp(base) in the low half of z, and with
	// pair the next block's (step bytes on) in the high half.
	load := func(base string, disp, step int, lo, z string) {
		g.i("VMOVDQU64 %d(%s), %s", disp, base, lo)
		if pair {
			g.i("VINSERTI64X4 $1, %d(%s), %s, %s", disp+step, base, z, z)
		}
	}
	g.i("VPMOVSXBW 192(R8), Y0")
	if pair {
		g.i("VPMOVSXBW 402(R8), Y20")
		g.i("VINSERTI64X4 $1, Y20, Z0, Z0")
	}
	// offsetCorrection
	g.i("VPXORD Z1, Z1, Z1")
	g.i("VPSUBW Z0, Z1, Z1")
	load("AX", aBsums16, 320, "Y21", "Z21")
	g.i("VPMADDWD Z21, Z1, Z8")
	g.i("VPSLLD $5, Z8, Z8")
	for h := 0; h < 2; h++ {
		g.i("VPERMQ $%#x, Z0, Z1", []int{0x44, 0xee}[h])
		load("R8", 64*h, 210, "Y18", "Z18")
		load("R8", 64*h+32, 210, "Y19", "Z19")
		load("R8", 128+32*h, 210, "Y23", "Z23")
		for k := 0; k < 4; k++ {
			g.i("VPSHUFB Z%d, Z1, Z2", 24+k)
			src := []string{"Z18", "Z19"}[k&1]
			if k >= 2 {
				g.i("VPSRLW $4, %s, Z3", src)
				g.i("VPANDD Z16, Z3, Z3")
			} else {
				g.i("VPANDD Z16, %s, Z3", src)
			}
			switch {
			case 4 > 2*k:
				g.i("VPSLLW $%d, Z23, Z4", 4-2*k)
			case 4 < 2*k:
				g.i("VPSRLW $%d, Z23, Z4", 2*k-4)
			default:
				g.i("VMOVDQA64 Z23, Z4")
			}
			g.i("VPANDD Z17, Z4, Z4")
			g.i("VPORD Z4, Z3, Z3")
			// accumulate
			load("AX", 128*h+32*k, 320, "Y22", "Z22")
			g.i("VPMADDUBSW Z22, Z3, Z7")
			g.i("VPMADDWD Z2, Z7, Z7")
			g.i("VPADDD Z7, Z8, Z8")
		}
	}
	// finish, block b and then block b+1: d (F16 at 208) times the
	// block's activation d.
	g.i("VCVTDQ2PS Z8, Z8")
	for b := 0; b < 2; b++ {
		if b == 1 {
			if !pair {
				break
			}
			g.i("VEXTRACTF64X4 $1, Z8, Y8")
		}
		g.i("VPBROADCASTW %d(R8), X6", 208+210*b)
		g.i("VCVTPH2PS X6, Y6")
		g.i("VBROADCASTSS %s, Y5", act(0, aD+320*b))
		g.i("VMULPS Y6, Y5, Y5")
		g.i("VFMADD231PS Y8, Y5, Y12")
	}
}
