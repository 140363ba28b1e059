package main

import "fmt"

// Packed kernels read weights that the tensor package repacked at load
// (pack.go): eight rows interleaved, so that one 32-byte load holds four
// quant bytes of each of the eight rows. Lane r of every vector is row r:
// a VPDPBUSD against four activation quants broadcast from memory adds one
// row's products per lane, and the float work (convert, scale, accumulate)
// then covers eight rows at once, with no transposition at run time.
//
// q4_0x8VNNI: per group of eight rows and per block, 144 bytes: the eight
// F16 scales, then for g = 0..3 the rows' quant bytes 4g..4g+3. Low
// nibbles are elements 4g..4g+3, high nibbles 16+4g..16+4g+3 (ggml's
// order). The activations are actQ8_0 with corr = -8*sum(qs), which
// removes Q4_0's offset of 8.
//
// Registers: SI the group, R8 its current block, BX the group stride, CX
// groups left, DX blocks left, AX the first token's block, R9 its row,
// R10/R11 aStride and 3*aStride, DI the output, R12/R13 oStride and
// 3*oStride. Y0 the scales, Y1..Y8 the unpacked quants, Y9/Y10 two
// integer chains (so the eight VPDPBUSDs are not one dependency chain),
// Y11 the scales times the token's, Y12..Y15 the tokens' sums, Y16 0x0f.
func q4_0x8VNNI(g *gen, T int) string {
	return emitPacked(g, "q4_0x8VNNI", T, 5, 12, 144, 40,
		func() { g.i("VMOVDQU64 c0f<>(SB), Y16") },
		func() {
			g.i("VCVTPH2PS (R8), Y0")
			for q := 0; q < 4; q++ {
				g.i("VMOVDQU %d(R8), %s", 16+32*q, y(1+q))
			}
			for q := 0; q < 4; q++ {
				g.i("VPSRLW $4, %s, %s", y(1+q), y(5+q))
			}
			for q := 0; q < 8; q++ {
				g.i("VPANDD Y16, %s, %s", y(1+q), y(1+q))
			}
			for t := 0; t < T; t++ {
				g.i("VPBROADCASTD %s, Y9", act(t, 36))
				g.i("VPXOR Y10, Y10, Y10")
				for q := 0; q < 8; q++ {
					g.i("VPDPBUSD.BCST %s, %s, %s", act(t, 4*q), y(1+q), y(9+q%2))
				}
				g.i("VPADDD Y10, Y9, Y9")
				g.i("VCVTDQ2PS Y9, Y9")
				g.i("VMULPS.BCST %s, Y0, Y11", act(t, 32))
				g.i("VFMADD231PS Y11, Y9, %s", y(12+t))
			}
		})
}

// emitPacked writes a packed kernel for T tokens: the loop over groups
// of eight rows and, in each, over blocks of 2^nShift values (wStep
// weight and aStep activation bytes), with block emitting one block's
// work; the tokens' float sums, in registers acc.., are stored as eight
// rows' results. setup runs once per call. It returns the kernel's name.
func emitPacked(g *gen, stem string, T, nShift, acc, wStep, aStep int, setup, block func()) string {
	name := fmt.Sprintf("%sx%d", stem, T)
	tileHeader(g, name)
	loadTileArgs(g)
	g.i("SHRQ $3, CX")
	if setup != nil {
		setup()
	}
	g.i("TESTQ CX, CX")
	g.i("JLE done")
	g.label("group")
	g.i("MOVQ SI, R8")
	g.i("MOVQ R9, AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $%d, DX", nShift)
	for t := 0; t < T; t++ {
		g.i("VXORPS %s, %s, %s", y(acc+t), y(acc+t), y(acc+t))
	}
	g.i("TESTQ DX, DX")
	g.i("JZ store")
	g.label("block")
	block()
	g.i("ADDQ $%d, R8", wStep)
	g.i("ADDQ $%d, AX", aStep)
	g.i("DECQ DX")
	g.i("JNZ block")
	g.label("store")
	for t := 0; t < T; t++ {
		g.i("VMOVUPS %s, %s", y(acc+t), out(t))
	}
	g.i("ADDQ BX, SI")
	g.i("ADDQ $32, DI")
	g.i("DECQ CX")
	g.i("JNZ group")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
	return name
}

// q4_Kx8VNNI: Q4_K in the x8 layout (tensor/pack.go), actQ8_K
// activations. Per block and token: each sub-block's eight lanes of
// integer dots (VPDPBUSD against broadcast activation dwords) times its
// scale (VPMULLD), summed; the mins term in four VPDPWSSD of the rows'
// (min, min) int16 pairs against the activations' 32-value sums; then
// acc = isum*(d*dy) + acc and acc = acc - msum*(dmin*dy), one rounding
// each.
//
// Registers: Y0 d, Y1 dmin, Y2..Y5 the tokens' scaled sums, Y6..Y9 their
// float sums, Y10/Y11 a sub-block pair's dots, Y12..Y14 temporaries,
// Y15 the mins sum, Y16..Y23 / Y24..Y31 a pair's low / high nibbles.
func q4_Kx8VNNI(g *gen, T int) string {
	return emitPacked(g, "q4_Kx8VNNI", T, 8, 6, 1248, 320, nil, func() {
		g.i("VCVTPH2PS (R8), Y0")
		g.i("VCVTPH2PS 16(R8), Y1")
		for t := 0; t < T; t++ {
			g.i("VPXORD %s, %s, %s", y(2+t), y(2+t), y(2+t))
		}
		for i := 0; i < 4; i++ {
			for q := 0; q < 8; q++ {
				lo, hi := 16+q, 24+q
				g.i("VMOVDQU64 %d(R8), %s", 224+32*(8*i+q), y(lo))
				g.i("VPSRLW $4, %s, %s", y(lo), y(hi))
				g.i("VPANDD c0f<>(SB), %s, %s", y(lo), y(lo))
				g.i("VPANDD c0f<>(SB), %s, %s", y(hi), y(hi))
			}
			for t := 0; t < T; t++ {
				g.i("VPXORD Y10, Y10, Y10")
				g.i("VPXORD Y11, Y11, Y11")
				for q := 0; q < 8; q++ {
					g.i("VPDPBUSD.BCST %s, %s, Y10", act(t, 64*i+4*q), y(16+q))
					g.i("VPDPBUSD.BCST %s, %s, Y11", act(t, 64*i+32+4*q), y(24+q))
				}
				g.i("VPMOVZXBD %d(R8), Y12", 32+8*(2*i))
				g.i("VPMULLD Y12, Y10, Y10")
				g.i("VPADDD Y10, %s, %s", y(2+t), y(2+t))
				g.i("VPMOVZXBD %d(R8), Y12", 32+8*(2*i+1))
				g.i("VPMULLD Y12, Y11, Y11")
				g.i("VPADDD Y11, %s, %s", y(2+t), y(2+t))
			}
		}
		for p := 0; p < 4; p++ {
			g.i("VMOVDQU64 %d(R8), %s", 96+32*p, y(16+p))
		}
		for t := 0; t < T; t++ {
			g.i("VPXORD Y15, Y15, Y15")
			for p := 0; p < 4; p++ {
				g.i("VPDPWSSD.BCST %s, %s, Y15", act(t, 288+4*p), y(16+p))
			}
			g.i("VCVTDQ2PS %s, Y13", y(2+t))
			g.i("VMULPS.BCST %s, Y0, Y12", act(t, 304))
			g.i("VFMADD231PS Y12, Y13, %s", y(6+t))
			g.i("VCVTDQ2PS Y15, Y13")
			g.i("VMULPS.BCST %s, Y1, Y12", act(t, 304))
			g.i("VFNMADD231PS Y12, Y13, %s", y(6+t))
		}
	})
}
