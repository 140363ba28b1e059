package main

import "fmt"

// Lane kernels put eight weight rows in the eight 32-bit lanes of a vector:
// each block's quants are transposed on the fly so that lane r holds four
// quants of row r, and every VPDPBUSD (or VPMADDUBSW) multiplies them by
// four activation quants broadcast to all lanes. A block's integer sums
// then sit one per lane, and the float work (convert, scale, accumulate)
// is done once for eight rows instead of once per row.
//
// A group of fewer than eight rows repeats its last row in the missing
// lanes and stores only the real ones, so every row is computed the same
// way whatever the tile.
//
// Registers: row pointers SI, BX, CX, R8 (rows 0-3) and R9, R12, R13, R14
// (rows 4-7), all pointing at the end of the row; DX the negative byte
// offset from there; AX the first token's activation block, R10/R11
// aStride and 3*aStride; DI the output. nRows, w and n live in their
// argument slots (n rewritten to bytes per row).

var lanePtr = [8]string{"SI", "BX", "CX", "R8", "R9", "R12", "R13", "R14"}

type laneKernel struct {
	name   string
	wbs    int
	vnni   bool
	aStep  int // activation bytes per block: 40, or 320 for Q8_K
	nShift int // log2 of elements per block
	facc   int // first float accumulator register (one per token)
	// custom replaces the generic block body.
	custom func(g *gen, T int)
	// weights emits the loads leaving the block's unsigned quants, one
	// register per group of four, in groups[g] (element order 4g..4g+3
	// within each half as actOff says).
	weights func(g *gen)
	groups  []laneGroup
}

type laneGroup struct {
	reg    int // vector register holding the group's quants (all rows)
	actOff int // byte offset of the group's 4 activation quants
}

func wAddr(r, disp int) string { return fmt.Sprintf("%d(%s)(DX*1)", disp, lanePtr[r]) }

func (k *laneKernel) emit(g *gen, T int) {
	name := fmt.Sprintf("%sx%d", k.name, T)
	tileHeader(g, name)
	if k.aStep == 0 {
		k.aStep, k.nShift, k.facc = 40, 5, 12
	}
	g.i("MOVQ n+24(FP), AX")
	g.i("SHRQ $%d, AX", k.nShift)
	g.i("IMULQ $%d, AX", k.wbs)
	g.i("MOVQ AX, n+24(FP)")
	g.i("MOVQ aStride+40(FP), R10")
	g.i("LEAQ (R10)(R10*2), R11")
	g.i("MOVQ out+48(FP), DI")
	g.label("group")
	g.i("CMPQ nRows+16(FP), $0")
	g.i("JLE done")
	g.i("MOVQ w+0(FP), SI")
	g.i("ADDQ n+24(FP), SI")
	for r := 1; r < 8; r++ {
		g.i("MOVQ wStride+8(FP), AX")
		g.i("XORQ DX, DX")
		g.i("CMPQ nRows+16(FP), $%d", r+1)
		g.i("CMOVQLT DX, AX")
		g.i("LEAQ (%s)(AX*1), %s", lanePtr[r-1], lanePtr[r])
	}
	g.i("MOVQ a+32(FP), AX")
	g.i("MOVQ n+24(FP), DX")
	g.i("NEGQ DX")
	for t := 0; t < T; t++ {
		g.i("VPXORD %s, %s, %s", y(k.facc+t), y(k.facc+t), y(k.facc+t))
	}
	g.i("TESTQ DX, DX")
	g.i("JZ store")
	g.label("loop")
	if k.custom != nil {
		k.custom(g, T)
	} else {
		k.body(g, T)
	}
	g.i("ADDQ $%d, AX", k.aStep)
	g.i("ADDQ $%d, DX", k.wbs)
	g.i("JNZ loop")
	g.label("store")
	// Mask of the rows this group really has: min(nRows, 8) lanes.
	g.i("MOVQ nRows+16(FP), AX")
	g.i("MOVQ $8, DX")
	g.i("CMPQ AX, DX")
	g.i("CMOVQGT DX, AX")
	g.i("SHLQ $5, AX")
	g.i("LEAQ laneMask<>(SB), DX")
	g.i("VMOVDQU (DX)(AX*1), Y9")
	g.i("MOVQ oStride+56(FP), AX")
	for t := 0; t < T; t++ {
		dst := [...]string{"(DI)", "(DI)(AX*1)", "(DI)(AX*2)", "(DX)(AX*1)"}[t]
		if t == 3 {
			g.i("LEAQ (DI)(AX*2), DX")
		}
		if k.facc+t >= 16 { // VMASKMOVPS is VEX-only
			g.i("VMOVAPS %s, Y10", y(k.facc+t))
			g.i("VMASKMOVPS Y10, Y9, %s", dst)
		} else {
			g.i("VMASKMOVPS %s, Y9, %s", y(k.facc+t), dst)
		}
	}
	g.i("ADDQ $32, DI")
	g.i("SUBQ $8, nRows+16(FP)")
	g.i("MOVQ wStride+8(FP), AX")
	g.i("SHLQ $3, AX")
	g.i("ADDQ AX, w+0(FP)")
	g.i("JMP group")
	g.label("done")
	g.i("VZEROUPPER")
	g.i("RET")
}

// body processes one block for 8 rows and T tokens. Y8 gets the rows'
// scales; Y12+t are the float accumulators.
func (k *laneKernel) body(g *gen, T int) {
	k.weights(g)
	// The eight rows' F16 scales, which start each block.
	g.i("VMOVD %s, X8", wAddr(0, 0))
	for r := 1; r < 8; r++ {
		g.i("VPINSRW $%d, %s, X8, X8", r, wAddr(r, 0))
	}
	g.i("VCVTPH2PS X8, Y8")
	for t := 0; t < T; t++ {
		if k.vnni {
			is := y(20 + t)
			g.i("VPBROADCASTD %s, %s", act(t, 36), is)
			for _, gr := range k.groups {
				g.i("VPDPBUSD.BCST %s, %s, %s", act(t, gr.actOff), y(gr.reg), is)
			}
			g.i("VCVTDQ2PS %s, %s", is, is)
			g.i("VMULPS.BCST %s, Y8, %s", act(t, 32), y(24+t))
			g.i("VFMADD231PS %s, %s, %s", is, y(24+t), y(12+t))
			continue
		}
		// AVX2 (Q4_0 only): int16 pair sums stay below 8*2*15*127.
		for i, gr := range k.groups {
			g.i("VPBROADCASTD %s, Y9", act(t, gr.actOff))
			if i == 0 {
				g.i("VPMADDUBSW Y9, %s, Y10", y(gr.reg))
			} else {
				g.i("VPMADDUBSW Y9, %s, Y9", y(gr.reg))
				g.i("VPADDW Y9, Y10, Y10")
			}
		}
		g.i("VPMADDWD ones16<>(SB), Y10, Y10")
		g.i("VPBROADCASTD %s, Y9", act(t, 36))
		g.i("VPADDD Y9, Y10, Y10")
		g.i("VCVTDQ2PS Y10, Y10")
		g.i("VBROADCASTSS %s, Y9", act(t, 32))
		g.i("VMULPS Y8, Y9, Y9")
		g.i("VFMADD231PS Y10, Y9, %s", y(12+t))
	}
}

// q4_KLanesVNNI: see the comment in the body. Registers: Y0-Y7 low
// nibbles, Y8-Y15 high nibbles (per 64-element chunk), Y16/Y17 the 6-bit
// scales of sub-blocks 0-3 / 4-7 (a byte each per lane), Y18 the rows' d,
// Y19/Y20 the chunk's two scales, Y21/Y22 temporaries, Y23 dmin, Y24+t the
// tokens' integer sums, Y28+t their float accumulators.
func q4_KLanesVNNI() *laneKernel {
	k := &laneKernel{name: "q4_KLanesVNNI", wbs: 144, vnni: true, aStep: 320, nShift: 8, facc: 28}
	k.custom = func(g *gen, T int) {
		// Bytes 0-15 of each row: d|dmin, then the 12 scale bytes u0,u1,u2.
		transpose4(g, 0, 0, [4]int{8, 9, 10, 11})
		g.i("VPMOVDW Y0, X12")
		g.i("VCVTPH2PS X12, Y18")
		g.i("VPSRLD $16, Y0, Y12")
		g.i("VPMOVDW Y12, X12")
		g.i("VCVTPH2PS X12, Y23")
		// get_scale_min_k4 for eight rows at once, four 6-bit values per lane.
		g.i("VPANDD.BCST k3f<>(SB), Y1, Y16") // scales 0-3
		g.i("VPANDD.BCST k3f<>(SB), Y2, Y13") // mins 0-3
		g.i("VPSRLD $6, Y1, Y12")
		g.i("VPANDD.BCST k03<>(SB), Y12, Y12")
		g.i("VPSLLD $4, Y12, Y12")
		g.i("VPANDD.BCST k0f<>(SB), Y3, Y17")
		g.i("VPORD Y12, Y17, Y17") // scales 4-7
		g.i("VPSRLD $6, Y2, Y12")
		g.i("VPANDD.BCST k03<>(SB), Y12, Y12")
		g.i("VPSLLD $4, Y12, Y12")
		g.i("VPSRLD $4, Y3, Y14")
		g.i("VPANDD.BCST k0f<>(SB), Y14, Y14")
		g.i("VPORD Y12, Y14, Y14") // mins 4-7
		// Mins as int16 pairs per lane, against the token's pairs of
		// 32-element sums: acc -= dmin*d_t * sum(m*bsum).
		g.i("VPSHUFB pairSel01<>(SB), Y13, Y4")
		g.i("VPSHUFB pairSel23<>(SB), Y13, Y5")
		g.i("VPSHUFB pairSel01<>(SB), Y14, Y6")
		g.i("VPSHUFB pairSel23<>(SB), Y14, Y7")
		for t := 0; t < T; t++ {
			g.i("VPXORD Y21, Y21, Y21")
			for i := 0; i < 4; i++ {
				g.i("VPDPWSSD.BCST %s, %s, Y21", act(t, 288+4*i), y(4+i))
			}
			g.i("VCVTDQ2PS Y21, Y21")
			g.i("VMULPS.BCST %s, Y23, Y22", act(t, 304))
			g.i("VFNMADD231PS Y21, Y22, %s", y(28+t))
		}
		for j := 0; j < 4; j++ {
			transpose4(g, 16+32*j, 0, [4]int{8, 9, 10, 11})
			transpose4(g, 32+32*j, 4, [4]int{8, 9, 10, 11})
			for i := 0; i < 8; i++ {
				g.i("VPSRLW $4, %s, %s", y(i), y(8+i))
				g.i("VPANDD c0f<>(SB), %s, %s", y(i), y(i))
				g.i("VPANDD c0f<>(SB), %s, %s", y(8+i), y(8+i))
			}
			src := "Y16"
			if j >= 2 {
				src = "Y17"
			}
			g.i("VPSHUFB byteSel<>+%d(SB), %s, Y19", 64*(j%2), src)
			g.i("VPSHUFB byteSel<>+%d(SB), %s, Y20", 64*(j%2)+32, src)
			for t := 0; t < T; t++ {
				for h, tmp := range []string{"Y21", "Y22"} {
					g.i("VPXORD %s, %s, %s", tmp, tmp, tmp)
					for i := 0; i < 8; i++ {
						g.i("VPDPBUSD.BCST %s, %s, %s", act(t, 64*j+32*h+4*i), y(8*h+i), tmp)
					}
				}
				g.i("VPMULLD Y19, Y21, Y21")
				g.i("VPMULLD Y20, Y22, Y22")
				if j == 0 {
					g.i("VPADDD Y21, Y22, %s", y(24+t))
				} else {
					g.i("VPADDD Y21, %s, %s", y(24+t), y(24+t))
					g.i("VPADDD Y22, %s, %s", y(24+t), y(24+t))
				}
			}
		}
		for t := 0; t < T; t++ {
			g.i("VCVTDQ2PS %s, %s", y(24+t), y(24+t))
			g.i("VMULPS.BCST %s, Y18, Y22", act(t, 304))
			g.i("VFMADD231PS %s, Y22, %s", y(24+t), y(28+t))
		}
	}
	return k
}

func emitLaneKConstants(g *gen) {
	table(g, "k3f", dwords(0x3f3f3f3f, 0))
	table(g, "k0f", dwords(0x0f0f0f0f, 0))
	table(g, "k03", dwords(0x03030303, 0))
	// byteSel + 32*k zero-extends byte k of every dword (VPSHUFB indexes
	// within each 128-bit lane, whose dword d starts at byte 4d).
	var sel []byte
	for k := 0; k < 4; k++ {
		for d := 0; d < 8; d++ {
			b := byte(4*(d%4) + k)
			sel = append(sel, b, 0x80, 0x80, 0x80)
		}
	}
	table(g, "byteSel", sel)
	var p01, p23 []byte
	for d := 0; d < 8; d++ {
		b := byte(4 * (d % 4))
		p01 = append(p01, b, 0x80, b+1, 0x80)
		p23 = append(p23, b+2, 0x80, b+3, 0x80)
	}
	table(g, "pairSel01", p01)
	table(g, "pairSel23", p23)
}

// transpose4 loads 16 bytes at disp of rows (j, j+4) into the two 128-bit
// halves of Y(base+j) and transposes dwords so that Y(base+i) holds dword
// i of rows 0..7. t0..t3 are temporaries.
func transpose4(g *gen, disp, base int, tmp [4]int) {
	for j := 0; j < 4; j++ {
		g.i("VMOVDQU %s, %s", wAddr(j, disp), x(base+j))
		g.i("VINSERTI128 $1, %s, %s, %s", wAddr(j+4, disp), y(base+j), y(base+j))
	}
	g.i("VPUNPCKLDQ %s, %s, %s", y(base+1), y(base), y(tmp[0]))
	g.i("VPUNPCKHDQ %s, %s, %s", y(base+1), y(base), y(tmp[1]))
	g.i("VPUNPCKLDQ %s, %s, %s", y(base+3), y(base+2), y(tmp[2]))
	g.i("VPUNPCKHDQ %s, %s, %s", y(base+3), y(base+2), y(tmp[3]))
	g.i("VPUNPCKLQDQ %s, %s, %s", y(tmp[2]), y(tmp[0]), y(base))
	g.i("VPUNPCKHQDQ %s, %s, %s", y(tmp[2]), y(tmp[0]), y(base+1))
	g.i("VPUNPCKLQDQ %s, %s, %s", y(tmp[3]), y(tmp[1]), y(base+2))
	g.i("VPUNPCKHQDQ %s, %s, %s", y(tmp[3]), y(tmp[1]), y(base+3))
}

// q4_0Lanes: group g < 4 is the low nibbles of dword g (elements 4g..),
// group 4+g the high nibbles (elements 16+4g..).
func q4_0Lanes(vnni bool) *laneKernel {
	name := "q4_0LanesAVX2"
	if vnni {
		name = "q4_0LanesVNNI"
	}
	k := &laneKernel{name: name, wbs: 18, vnni: vnni}
	for i := 0; i < 4; i++ {
		k.groups = append(k.groups, laneGroup{i, 4 * i}, laneGroup{4 + i, 16 + 4*i})
	}
	k.weights = func(g *gen) {
		transpose4(g, 2, 0, [4]int{4, 5, 6, 7})
		for i := 0; i < 4; i++ {
			g.i("VPSRLW $4, %s, %s", y(i), y(4+i))
			g.i("VPAND c0f<>(SB), %s, %s", y(i), y(i))
			g.i("VPAND c0f<>(SB), %s, %s", y(4+i), y(4+i))
		}
	}
	return k
}

func emitLaneMask(g *gen) {
	var b []byte
	for n := 0; n <= 8; n++ {
		for l := 0; l < 8; l++ {
			v := byte(0)
			if l < n {
				v = 0xff
			}
			b = append(b, v, v, v, v)
		}
	}
	table(g, "laneMask", b)
}
