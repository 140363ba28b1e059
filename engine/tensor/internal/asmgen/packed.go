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
// Registers: SI the group, BX the group stride, CX groups left, R9 the
// first token's row, R10/R11 aStride and 3*aStride, DI the output,
// R12/R13 oStride and 3*oStride (the rest at q4_0x8Group).
//
// q4_0x8VNNI takes one group at a time; q4_0x16VNNI takes two groups at a
// time in zmm registers, group g in the low 256 bits and group g+1 in the
// high, so that the same instructions do sixteen rows (the sixteen
// results are adjacent rows of the output), then a last group alone. Each
// row's operations are the same in both. The wide one halves the
// instructions per weight, which is what a prompt or a large batch is
// bound by; with few tokens the weights' memory stream is the bound, and
// two streams a thread (groups g and g+1 lie a group stride apart) slow
// it: decoding one to four sequences ran 15-30% slower with it.
func q4_0x8VNNI(g *gen, T int) string { return q4_0Packed(g, T, false) }

func q4_0x16VNNI(g *gen, T int) string { return q4_0Packed(g, T, true) }

func q4_0Packed(g *gen, T int, wide bool) string {
	name := fmt.Sprintf("q4_0x8VNNIx%d", T)
	if wide {
		name = fmt.Sprintf("q4_0x16VNNIx%d", T)
	}
	tileHeader(g, name)
	loadTileArgs(g)
	g.i("SHRQ $3, CX")
	g.i("VPBROADCASTD c0f<>(SB), Z16")
	if wide {
		g.label("pair")
		g.i("CMPQ CX, $2")
		g.i("JLT single")
		q4_0x8Group(g, T, true)
		g.i("LEAQ (SI)(BX*2), SI")
		g.i("ADDQ $64, DI")
		g.i("SUBQ $2, CX")
		g.i("JMP pair")
	}
	g.label("single")
	g.i("TESTQ CX, CX")
	g.i("JLE done")
	q4_0x8Group(g, T, false)
	g.i("ADDQ BX, SI")
	g.i("ADDQ $32, DI")
	g.i("DECQ CX")
	g.i("JMP single")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
	return name
}

// q4_0x8Group emits one group's (or, with pair, two adjacent groups')
// loop over blocks and the store of its results. Registers: R8 the
// current block, AX the first token's, DX blocks left; 0 the scales,
// 1..8 the unpacked quants, 9/10 two integer chains (so the eight
// VPDPBUSDs are not one dependency chain), 11 the scales times the
// token's, 12..15 the tokens' sums, 16 0x0f in every byte, 17 scratch.
func q4_0x8Group(g *gen, T int, pair bool) {
	v, p := y, ""
	if pair {
		v, p = z, "p"
	}
	g.i("MOVQ SI, R8")
	g.i("MOVQ R9, AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("SHRQ $5, DX")
	for t := 0; t < T; t++ {
		g.i("VXORPS %s, %s, %s", v(12+t), v(12+t), v(12+t))
	}
	g.i("TESTQ DX, DX")
	g.i("JZ %sstore", p)
	g.label(p + "block")
	if pair {
		g.i("VMOVDQU (R8), X0")
		g.i("VINSERTI128 $1, (R8)(BX*1), Y0, Y0")
		g.i("VCVTPH2PS Y0, Z0")
		for q := 0; q < 4; q++ {
			g.i("VMOVDQU %d(R8), %s", 16+32*q, y(1+q))
			g.i("VINSERTI64X4 $1, %d(R8)(BX*1), %s, %s", 16+32*q, z(1+q), z(1+q))
		}
	} else {
		g.i("VCVTPH2PS (R8), Y0")
		for q := 0; q < 4; q++ {
			g.i("VMOVDQU %d(R8), %s", 16+32*q, y(1+q))
		}
	}
	for q := 0; q < 4; q++ {
		g.i("VPSRLW $4, %s, %s", v(1+q), v(5+q))
	}
	for q := 0; q < 8; q++ {
		g.i("VPANDD %s, %s, %s", v(16), v(1+q), v(1+q))
	}
	for t := 0; t < T; t++ {
		g.i("VPBROADCASTD %s, %s", act(t, 36), v(9))
		g.i("VPXORD %s, %s, %s", v(10), v(10), v(10))
		for q := 0; q < 8; q++ {
			g.i("VPDPBUSD.BCST %s, %s, %s", act(t, 4*q), v(1+q), v(9+q%2))
		}
		g.i("VPADDD %s, %s, %s", v(10), v(9), v(9))
		g.i("VCVTDQ2PS %s, %s", v(9), v(9))
		g.i("VMULPS.BCST %s, %s, %s", act(t, 32), v(0), v(11))
		g.i("VFMADD231PS %s, %s, %s", v(11), v(9), v(12+t))
	}
	g.i("ADDQ $144, R8")
	g.i("ADDQ $40, AX")
	g.i("DECQ DX")
	g.i("JNZ %sblock", p)
	g.label(p + "store")
	for t := 0; t < T; t++ {
		g.i("VMOVUPS %s, %s", v(12+t), out(t))
	}
}

// emitPacked writes a packed kernel for T tokens: the loop over groups
// of eight rows and, in each, over blocks of 2^nShift values (wStep
// weight and aStep activation bytes), with block emitting one block's
// work; the tokens' float sums, in registers acc.., are stored as eight
// rows' results. setup runs once per call. It returns the kernel's name.
func emitPacked(g *gen, stem string, T, nShift, acc, wStep, aStep int, setup, block func()) string {
	return emitPackedAcc(g, stem, T, nShift, acc, T, wStep, aStep, setup, block, nil)
}

// emitPackedAcc is emitPacked with nAcc float registers from acc zeroed
// per group, and finish run before the tokens' sums (acc..acc+T-1) are
// stored.
func emitPackedAcc(g *gen, stem string, T, nShift, acc, nAcc, wStep, aStep int, setup, block, finish func()) string {
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
	for t := 0; t < nAcc; t++ {
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
	if finish != nil {
		finish()
	}
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

// The packed Q4_K kernels compute as llama.cpp's repacked ones
// (ggml_gemv_q4_K_8x8_q8_K, ggml_gemm_q4_K_8x8_q8_K; see tensor/pack.go):
// Q4_K in the x8 layout, actQ8_K activations. Each sub-block's eight lanes
// of integer dots come from VPDPBUSD against broadcast activation dwords,
// times its scale (VPMULLD); the mins terms from VPDPWSSD of the rows'
// (min, min) int16 pairs against the activations' 32-value sums. Each row
// keeps two float sums, acc += dots*(d*dy) and accMin += mins*(dmin*dy),
// one rounding each, and stores acc - accMin.
//
// q4_Kx8GemvVNNI (one token) adds a block's integer totals once per
// block: Y0 d, Y1 dmin, Y2 the block's dots, Y6 acc, Y7 accMin, Y10/Y11
// a sub-block pair's dots, Y12/Y13 temporaries, Y15 the mins, Y16..Y23 /
// Y24..Y31 a pair's low / high nibbles.
func q4_Kx8GemvVNNI(g *gen) string {
	return emitPackedAcc(g, "q4_Kx8GemvVNNI", 1, 8, 6, 2, 1248, 320, nil, func() {
		g.i("VCVTPH2PS (R8), Y0")
		g.i("VCVTPH2PS 16(R8), Y1")
		g.i("VPXORD Y2, Y2, Y2")
		for i := 0; i < 4; i++ {
			q4KLoadPair(g, i)
			q4KPairDots(g, 0, i)
			g.i("VPADDD Y10, Y2, Y2")
		}
		g.i("VPXORD Y15, Y15, Y15")
		for p := 0; p < 4; p++ {
			g.i("VMOVDQU64 %d(R8), Y14", 96+32*p)
			g.i("VPDPWSSD.BCST %s, Y14, Y15", act(0, 288+4*p))
		}
		g.i("VCVTDQ2PS Y2, Y13")
		g.i("VMULPS.BCST %s, Y0, Y12", act(0, 304))
		g.i("VFMADD231PS Y12, Y13, Y6")
		g.i("VCVTDQ2PS Y15, Y13")
		g.i("VMULPS.BCST %s, Y1, Y12", act(0, 304))
		g.i("VFMADD231PS Y12, Y13, Y7")
	}, func() {
		g.i("VSUBPS Y7, Y6, Y6")
	})
}

// q4_Kx8GemvPairVNNI is q4_Kx8GemvVNNI for two tokens at once: each
// token's operations are the gemv's, in its order, and each sub-block
// pair's nibbles are unpacked once for both. Decode steps of a batch of
// sequences are bound by that arithmetic, not by the weights' stream.
// Y0 d, Y1 dmin, Y2/Y3 the tokens' block dots, Y6/Y7 their acc, Y8/Y9
// their accMin, Y10/Y11 a pair's dots, Y12/Y13 temporaries, Y14 the
// rows' mins, Y15 a token's mins term, Y16..Y31 a pair's nibbles.
func q4_Kx8GemvPairVNNI(g *gen) string {
	const T = 2
	return emitPackedAcc(g, "q4_Kx8GemvPairVNNI", T, 8, 6, 2*T, 1248, 320, nil, func() {
		g.i("VCVTPH2PS (R8), Y0")
		g.i("VCVTPH2PS 16(R8), Y1")
		for t := 0; t < T; t++ {
			g.i("VPXORD %s, %s, %s", y(2+t), y(2+t), y(2+t))
		}
		for i := 0; i < 4; i++ {
			q4KLoadPair(g, i)
			for t := 0; t < T; t++ {
				q4KPairDots(g, t, i)
				g.i("VPADDD Y10, %s, %s", y(2+t), y(2+t))
			}
		}
		for t := 0; t < T; t++ {
			g.i("VPXORD Y15, Y15, Y15")
			for p := 0; p < 4; p++ {
				g.i("VMOVDQU64 %d(R8), Y14", 96+32*p)
				g.i("VPDPWSSD.BCST %s, Y14, Y15", act(t, 288+4*p))
			}
			g.i("VCVTDQ2PS %s, Y13", y(2+t))
			g.i("VMULPS.BCST %s, Y0, Y12", act(t, 304))
			g.i("VFMADD231PS Y12, Y13, %s", y(6+t))
			g.i("VCVTDQ2PS Y15, Y13")
			g.i("VMULPS.BCST %s, Y1, Y12", act(t, 304))
			g.i("VFMADD231PS Y12, Y13, %s", y(8+t))
		}
	}, func() {
		for t := 0; t < T; t++ {
			g.i("VSUBPS %s, %s, %s", y(8+t), y(6+t), y(6+t))
		}
	})
}

// q4_Kx8GemmVNNI (four tokens) adds each sub-block pair's sums as it
// goes: Y0 d, Y1 dmin, Y2..Y5 the tokens' acc, Y6..Y9 their accMin,
// Y10/Y11 a pair's dots, Y12/Y13 temporaries, Y14 the pair's mins, Y15
// its mins term, Y16..Y31 the pair's nibbles.
func q4_Kx8GemmVNNI(g *gen) string {
	const T = 4
	return emitPackedAcc(g, "q4_Kx8GemmVNNI", T, 8, 2, 2*T, 1248, 320, nil, func() {
		g.i("VCVTPH2PS (R8), Y0")
		g.i("VCVTPH2PS 16(R8), Y1")
		for i := 0; i < 4; i++ {
			q4KLoadPair(g, i)
			g.i("VMOVDQU64 %d(R8), Y14", 96+32*i)
			for t := 0; t < T; t++ {
				q4KPairDots(g, t, i)
				g.i("VCVTDQ2PS Y10, Y13")
				g.i("VMULPS.BCST %s, Y0, Y12", act(t, 304))
				g.i("VFMADD231PS Y12, Y13, %s", y(2+t))
				g.i("VPXORD Y15, Y15, Y15")
				g.i("VPDPWSSD.BCST %s, Y14, Y15", act(t, 288+4*i))
				g.i("VCVTDQ2PS Y15, Y13")
				g.i("VMULPS.BCST %s, Y1, Y12", act(t, 304))
				g.i("VFMADD231PS Y12, Y13, %s", y(6+t))
			}
		}
	}, func() {
		for t := 0; t < T; t++ {
			g.i("VSUBPS %s, %s, %s", y(6+t), y(2+t), y(2+t))
		}
	})
}

// q4KLoadPair loads sub-block pair i's nibbles of the eight rows: low
// nibbles (sub-block 2i) into Y16..Y23, high (2i+1) into Y24..Y31.
func q4KLoadPair(g *gen, i int) {
	for q := 0; q < 8; q++ {
		lo, hi := 16+q, 24+q
		g.i("VMOVDQU64 %d(R8), %s", 224+32*(8*i+q), y(lo))
		g.i("VPSRLW $4, %s, %s", y(lo), y(hi))
		g.i("VPANDD c0f<>(SB), %s, %s", y(lo), y(lo))
		g.i("VPANDD c0f<>(SB), %s, %s", y(hi), y(hi))
	}
}

// q4KPairDots leaves in Y10 token t's scaled dots of sub-block pair i:
// sc[2i]*dot[2i] + sc[2i+1]*dot[2i+1], per row.
func q4KPairDots(g *gen, t, i int) {
	g.i("VPXORD Y10, Y10, Y10")
	g.i("VPXORD Y11, Y11, Y11")
	for q := 0; q < 8; q++ {
		g.i("VPDPBUSD.BCST %s, %s, Y10", act(t, 64*i+4*q), y(16+q))
		g.i("VPDPBUSD.BCST %s, %s, Y11", act(t, 64*i+32+4*q), y(24+q))
	}
	g.i("VPMOVZXBD %d(R8), Y12", 32+8*(2*i))
	g.i("VPMULLD Y12, Y10, Y10")
	g.i("VPMOVZXBD %d(R8), Y12", 32+8*(2*i+1))
	g.i("VPMULLD Y12, Y11, Y11")
	g.i("VPADDD Y11, Y10, Y10")
}

// The AVX2 packed Q4_K kernels are the VNNI ones with VPMADDUBSW and
// VPMADDWD (against ones, then against the mins) in place of VPDPBUSD and
// VPDPWSSD: the same integers (a pair of nibble-times-int8 products never
// saturates 16 bits), the same float operations. With sixteen registers
// the quants are loaded a dword column at a time.

// q4KPairDotsAVX2 leaves in Y4 token t's scaled dots of sub-block pair i
// per row, using Y0..Y3, Y5 and Y6.
func q4KPairDotsAVX2(g *gen, t, i int) {
	g.i("VPXOR Y4, Y4, Y4")
	g.i("VPXOR Y5, Y5, Y5")
	for q := 0; q < 8; q++ {
		g.i("VMOVDQU %d(R8), Y0", 224+32*(8*i+q))
		g.i("VPSRLW $4, Y0, Y1")
		g.i("VPAND c0f<>(SB), Y0, Y0")
		g.i("VPAND c0f<>(SB), Y1, Y1")
		g.i("VPBROADCASTD %s, Y2", act(t, 64*i+4*q))
		g.i("VPMADDUBSW Y2, Y0, Y3")
		g.i("VPMADDWD ones16<>(SB), Y3, Y3")
		g.i("VPADDD Y3, Y4, Y4")
		g.i("VPBROADCASTD %s, Y2", act(t, 64*i+32+4*q))
		g.i("VPMADDUBSW Y2, Y1, Y3")
		g.i("VPMADDWD ones16<>(SB), Y3, Y3")
		g.i("VPADDD Y3, Y5, Y5")
	}
	g.i("VPMOVZXBD %d(R8), Y6", 32+8*(2*i))
	g.i("VPMULLD Y6, Y4, Y4")
	g.i("VPMOVZXBD %d(R8), Y6", 32+8*(2*i+1))
	g.i("VPMULLD Y6, Y5, Y5")
	g.i("VPADDD Y5, Y4, Y4")
}

// q4KPairMinsAVX2 leaves in Y5 token t's mins term of sub-block pair p per
// row, using Y2.
func q4KPairMinsAVX2(g *gen, t, p int) {
	g.i("VMOVDQU %d(R8), Y5", 96+32*p)
	g.i("VPBROADCASTD %s, Y2", act(t, 288+4*p))
	g.i("VPMADDWD Y2, Y5, Y5")
}

// q4_Kx8GemvAVX2: Y8 the block's dots, Y9 its mins, Y10 acc, Y11 accMin,
// Y12/Y13 temporaries.
func q4_Kx8GemvAVX2(g *gen) string {
	return emitPackedAcc(g, "q4_Kx8GemvAVX2", 1, 8, 10, 2, 1248, 320, nil, func() {
		g.i("VPXOR Y8, Y8, Y8")
		g.i("VPXOR Y9, Y9, Y9")
		for i := 0; i < 4; i++ {
			q4KPairDotsAVX2(g, 0, i)
			g.i("VPADDD Y4, Y8, Y8")
			q4KPairMinsAVX2(g, 0, i)
			g.i("VPADDD Y5, Y9, Y9")
		}
		g.i("VBROADCASTSS %s, Y13", act(0, 304))
		g.i("VCVTPH2PS (R8), Y12")
		g.i("VMULPS Y13, Y12, Y12")
		g.i("VCVTDQ2PS Y8, Y8")
		g.i("VFMADD231PS Y12, Y8, Y10")
		g.i("VCVTPH2PS 16(R8), Y12")
		g.i("VMULPS Y13, Y12, Y12")
		g.i("VCVTDQ2PS Y9, Y9")
		g.i("VFMADD231PS Y12, Y9, Y11")
	}, func() {
		g.i("VSUBPS Y11, Y10, Y10")
	})
}

// q4_Kx8GemmAVX2 (four tokens): Y8..Y11 the tokens' acc, Y12..Y15 their
// accMin, Y6/Y7 temporaries.
func q4_Kx8GemmAVX2(g *gen) string {
	const T = 4
	return emitPackedAcc(g, "q4_Kx8GemmAVX2", T, 8, 8, 2*T, 1248, 320, nil, func() {
		for i := 0; i < 4; i++ {
			for t := 0; t < T; t++ {
				q4KPairDotsAVX2(g, t, i)
				g.i("VBROADCASTSS %s, Y7", act(t, 304))
				g.i("VCVTPH2PS (R8), Y6")
				g.i("VMULPS Y7, Y6, Y6")
				g.i("VCVTDQ2PS Y4, Y4")
				g.i("VFMADD231PS Y6, Y4, %s", y(8+t))
				q4KPairMinsAVX2(g, t, i)
				g.i("VCVTPH2PS 16(R8), Y6")
				g.i("VMULPS Y7, Y6, Y6")
				g.i("VCVTDQ2PS Y5, Y5")
				g.i("VFMADD231PS Y6, Y5, %s", y(12+t))
			}
		}
	}, func() {
		for t := 0; t < T; t++ {
			g.i("VSUBPS %s, %s, %s", y(12+t), y(8+t), y(8+t))
		}
	})
}
