package main

// The 32-element block formats. Two blocks go per step: each token sums
// the two blocks' scaled products before adding them to its accumulator,
// which keeps the accumulator's dependency chain short when T is 1.
//
// Registers: Y0/Y1 the two blocks' weight quants as the multiply wants
// them (unsigned), Y2/Y3 their F16 scales broadcast, Y4/Y5 per-format
// (signed Q8_0 quants, or Q4_1/Q5_1 mins), Y6..Y10 per-token temporaries,
// Y11 int16 ones, Y12..Y15 the tokens' accumulators.

type legacy struct {
	name    string
	wbs     int  // weight block bytes
	vnni    bool // AVX512-VNNI (VPDPBUSD) instead of VPMADDUBSW+VPMADDWD
	minTerm bool // Q4_1/Q5_1: add m*s per block
	// blockFMA adds each block to the accumulator with its own fused
	// multiply-add, in block order, as ggml_vec_dot_q8_0_q8_0 (and
	// tinyBLAS) do on x86, instead of summing a pair of blocks first.
	blockFMA bool
	// aStep and dOff: activation bytes per block and the offset of its
	// float32 scale (40 and 32, the actQ8_0/actQ8_1 layouts, when zero).
	aStep, dOff int
	prep        func(g *gen, b int)
	idot        func(g *gen, t, b, dst int)
}

func acc1(t int) int { return 12 + t }

func (l *legacy) kernel() *kernel {
	if l.aStep == 0 {
		l.aStep, l.dOff = 40, 32
	}
	return &kernel{
		name: l.name, wStep: l.wbs, aStep: l.aStep, nShift: 5, pairs: true,
		acc: acc1,
		setup: func(g *gen, T int) {
			if !l.vnni {
				g.i("VMOVDQU ones16<>(SB), Y11")
			}
		},
		step: func(g *gen, T, steps int) {
			for b := 0; b < steps; b++ {
				l.prep(g, b)
				g.i("VPBROADCASTW %d(R8), %s", b*l.wbs, x(2+b))
				g.i("VCVTPH2PS %s, %s", x(2+b), y(2+b))
			}
			for t := 0; t < T; t++ {
				p := [2]int{6, 8}
				s := [2]int{7, 9}
				for b := 0; b < steps; b++ {
					l.idot(g, t, b, p[b])
					g.i("VCVTDQ2PS %s, %s", y(p[b]), y(p[b]))
					if l.vnni {
						g.i("VMULPS.BCST %s, %s, %s", act(t, l.aStep*b+l.dOff), y(2+b), y(s[b]))
					} else {
						g.i("VBROADCASTSS %s, %s", act(t, l.aStep*b+l.dOff), y(s[b]))
						g.i("VMULPS %s, %s, %s", y(2+b), y(s[b]), y(s[b]))
					}
				}
				acc := y(12 + t)
				if l.blockFMA {
					for b := 0; b < steps; b++ {
						g.i("VFMADD231PS %s, %s, %s", y(p[b]), y(s[b]), acc)
					}
				} else if steps == 2 {
					g.i("VMULPS Y7, Y6, Y10")
					g.i("VFMADD231PS Y8, Y9, Y10")
					if l.minTerm {
						g.i("VMOVSS %s, X6", act(t, 36))
						g.i("VFMADD231PS Y6, Y4, Y10")
						g.i("VMOVSS %s, X8", act(t, 40+36))
						g.i("VFMADD231PS Y8, Y5, Y10")
					}
					g.i("VADDPS Y10, %s, %s", acc, acc)
				} else {
					g.i("VFMADD231PS Y6, Y7, %s", acc)
					if l.minTerm {
						g.i("VMOVSS %s, X6", act(t, 36))
						g.i("VFMADD231PS Y6, Y4, %s", acc)
					}
				}
			}
		},
	}
}

// nibbles loads the 16 bytes at off into Y(b) as 32 values 0..15: low
// nibbles then high nibbles, ggml's element order. Y(4+b) is clobbered.
func nibbles(g *gen, b, off int) {
	g.i("VMOVDQU %d(R8), %s", off, x(b))
	g.i("VPSRLW $4, %s, %s", x(b), x(4+b))
	g.i("VINSERTI128 $1, %s, %s, %s", x(4+b), y(b), y(b))
	g.i("VPAND c0f<>(SB), %s, %s", y(b), y(b))
}

// highBits ORs bit i of the uint32 at off into bit 4 of byte i of Y(b),
// using Y(tmp).
func highBits(g *gen, b, off, tmp int) {
	g.i("VPBROADCASTD %d(R8), %s", off, y(tmp))
	g.i("VPSHUFB bitsShuf<>(SB), %s, %s", y(tmp), y(tmp))
	g.i("VPOR bitsMask<>(SB), %s, %s", y(tmp), y(tmp))
	g.i("VPCMPEQB cff<>(SB), %s, %s", y(tmp), y(tmp))
	g.i("VPAND c10<>(SB), %s, %s", y(tmp), y(tmp))
	g.i("VPOR %s, %s, %s", y(tmp), y(b), y(b))
}

// maddubs sums, per 32-bit lane, the products of the unsigned weight bytes
// in Y(w) with token t's int8 quants at disp, into Y(dst).
func maddubs(g *gen, t, disp, w, dst int) {
	g.i("VPMADDUBSW %s, %s, %s", act(t, disp), y(w), y(dst))
	g.i("VPMADDWD Y11, %s, %s", y(dst), y(dst))
}

// corrected is maddubs plus the block's correction -offset*sum(q) (in
// lane 0; VMOVD clears the others), which removes the offset of unsigned
// weight quants.
func corrected(g *gen, t, b, dst int, vnni bool) {
	if vnni {
		g.i("VMOVD %s, %s", act(t, 40*b+36), x(dst))
		g.i("VPDPBUSD %s, %s, %s", act(t, 40*b), y(b), y(dst))
		return
	}
	maddubs(g, t, 40*b, b, dst)
	g.i("VMOVD %s, X10", act(t, 40*b+36))
	g.i("VPADDD Y10, %s, %s", y(dst), y(dst))
}

func q8_0AVX2() *kernel {
	return (&legacy{name: "q8_0AVX2", wbs: 34, blockFMA: true,
		prep: func(g *gen, b int) {
			g.i("VMOVDQU %d(R8), %s", 34*b+2, y(4+b))
			g.i("VPABSB %s, %s", y(4+b), y(b))
		},
		idot: func(g *gen, t, b, dst int) {
			g.i("VMOVDQU %s, %s", act(t, 40*b), y(dst))
			g.i("VPSIGNB %s, %s, %s", y(4+b), y(dst), y(dst))
			g.i("VPMADDUBSW %s, %s, %s", y(dst), y(b), y(dst))
			g.i("VPMADDWD Y11, %s, %s", y(dst), y(dst))
		},
	}).kernel()
}

// q8_0VNNI is q8_0AVX2's arithmetic in fewer instructions: the weights
// are offset by 128 once per block to be unsigned, and each token's
// integer lanes start from the actQ8_0L layout's corrections
// -128*sum(quants), so one VPDPBUSD gives ggml's eight lane sums.
func q8_0VNNI() *kernel {
	return (&legacy{name: "q8_0VNNI", wbs: 34, vnni: true, blockFMA: true, aStep: 72, dOff: 64,
		prep: func(g *gen, b int) {
			g.i("VMOVDQU %d(R8), %s", 34*b+2, y(b))
			g.i("VPXOR c80<>(SB), %s, %s", y(b), y(b))
		},
		idot: func(g *gen, t, b, dst int) {
			g.i("VMOVDQU %s, %s", act(t, 72*b+32), y(dst))
			g.i("VPDPBUSD %s, %s, %s", act(t, 72*b), y(b), y(dst))
		},
	}).kernel()
}

// q4_0AVX2 and q4_0VNNI compute one weight row at a time (the lane
// kernels interleave eight): decoding streams each row once from memory,
// and one row's sequential reads are what the hardware prefetcher follows
// best.
func q4_0AVX2() *kernel {
	return (&legacy{name: "q4_0AVX2", wbs: 18,
		prep: func(g *gen, b int) { nibbles(g, b, 18*b+2) },
		idot: func(g *gen, t, b, dst int) { corrected(g, t, b, dst, false) },
	}).kernel()
}

func q4_0VNNI() *kernel {
	return (&legacy{name: "q4_0VNNI", wbs: 18, vnni: true,
		prep: func(g *gen, b int) { nibbles(g, b, 18*b+2) },
		idot: func(g *gen, t, b, dst int) { corrected(g, t, b, dst, true) },
	}).kernel()
}

func q5_0AVX2() *kernel {
	return (&legacy{name: "q5_0AVX2", wbs: 22,
		prep: func(g *gen, b int) {
			nibbles(g, b, 22*b+6)
			highBits(g, b, 22*b+2, 4+b)
		},
		idot: func(g *gen, t, b, dst int) { corrected(g, t, b, dst, false) },
	}).kernel()
}

// q5_0VNNI adds the fifth bit with a byte mask loaded straight from qh.
func q5_0VNNI() *kernel {
	return (&legacy{name: "q5_0VNNI", wbs: 22, vnni: true,
		prep: func(g *gen, b int) {
			nibbles(g, b, 22*b+6)
			g.i("KMOVD %d(R8), K%d", 22*b+2, 1+b)
			g.i("VPADDB c10<>(SB), %s, K%d, %s", y(b), 1+b, y(b))
		},
		idot: func(g *gen, t, b, dst int) { corrected(g, t, b, dst, true) },
	}).kernel()
}

// q4_1AVX2 serves Q4_1 and (five) Q5_1: unsigned quants, plus m*s.
func q4_1AVX2(five bool) *kernel {
	l := &legacy{name: "q4_1AVX2", wbs: 20, minTerm: true}
	if five {
		l.name, l.wbs = "q5_1AVX2", 24
	}
	l.prep = func(g *gen, b int) {
		if five {
			nibbles(g, b, 24*b+8)
			highBits(g, b, 24*b+4, 10)
		} else {
			nibbles(g, b, 20*b+4)
		}
		g.i("VPBROADCASTW %d(R8), %s", l.wbs*b+2, x(4+b))
		g.i("VCVTPH2PS %s, %s", x(4+b), y(4+b))
	}
	l.idot = func(g *gen, t, b, dst int) { maddubs(g, t, 40*b, b, dst) }
	return l.kernel()
}
