package main

import (
	"fmt"
	"strings"
)

// Activation quantizers, ggml-cpu's x86 algorithms (quantize_row_q8_0 and
// q8_1 with AVX2; q8_K's reference, vectorized) writing the tensor
// package's layouts. The Go versions in act.go compute the same values.

func quantOps() []vecop {
	return []vecop{
		// dst gets, per 32 values: qs[32], d (float32 of the F16 scale),
		// then corr = -k*sum(qs) (q8_1: s = F16(d*sum(qs)) as float32).
		{"quantQ8_0AVX2(dst *byte, x *float32, nb int, k int32)", q8Body(false)},
		{"quantQ8_1AVX2(dst *byte, x *float32, nb int)", q8Body(true)},
		// The actQ8_0L layout (AVX-512 VNNI): per 32 values qs[32], the
		// eight lanes' corrections -128*sum(qs[4l:4l+4]) as int32, d.
		{"quantQ8_0LVNNI(dst *byte, x *float32, nb int)", q8LBody()},
		// Per 256 values: qs[256], bsums16, bsums32, d, zero padding.
		{"quantQ8_KAVX2(dst *byte, x *float32, nb int)", q8KBody()},
		// F16 rounding of n float32 values (n a multiple of 8), in place.
		{"roundF16AVX2(dst *float32, x *float32, n int)", `
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X0
	VCVTPH2PS X0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
	}
}

func q8Body(q8_1 bool) string {
	s := `
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ done
	VBROADCASTSS c127f<>(SB), X9
	VMOVDQU q8perm<>(SB), Y10
	VBROADCASTSS absMask<>(SB), Y11
	VXORPS X12, X12, X12
loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS Y11, Y0, Y4
	VANDPS Y11, Y1, Y5
	VANDPS Y11, Y2, Y6
	VANDPS Y11, Y3, Y7
	VMAXPS Y5, Y4, Y4
	VMAXPS Y7, Y6, Y6
	VMAXPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS X5, X4, X4
	VMOVHLPS X4, X4, X5
	VMAXPS X5, X4, X4
	VMOVSHDUP X4, X5
	VMAXSS X5, X4, X4
	// d = amax/127 rounded to F16; id = 127/amax, or 0 when amax is 0.
	VDIVSS X9, X4, X5
	VCVTPS2PH $0, X5, X6
	VCVTPH2PS X6, X6
	VMOVSS X6, 32(DI)
	VDIVSS X4, X9, X7
	VCMPSS $4, X12, X4, X8
	VANDPS X8, X7, X7
	VBROADCASTSS X7, Y7
	VMULPS Y7, Y0, Y0
	VMULPS Y7, Y1, Y1
	VMULPS Y7, Y2, Y2
	VMULPS Y7, Y3, Y3
	VROUNDPS $0, Y0, Y0
	VROUNDPS $0, Y1, Y1
	VROUNDPS $0, Y2, Y2
	VROUNDPS $0, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	// Sum of the quants (before saturation, as ggml sums them).
	VPADDD Y1, Y0, Y4
	VPADDD Y3, Y2, Y6
	VPADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X6
	VPADDD X6, X4, X4
	VPSHUFD $0x4e, X4, X6
	VPADDD X6, X4, X4
	VPSHUFD $0xb1, X4, X6
	VPADDD X6, X4, X4
`
	if q8_1 {
		s += `	VCVTDQ2PS X4, X4
	VMULSS X4, X5, X4
	VCVTPS2PH $0, X4, X4
	VCVTPH2PS X4, X4
	VMOVSS X4, 36(DI)
`
	} else {
		s += `	VMOVD X4, AX
	IMULL k+24(FP), AX
	NEGL AX
	MOVL AX, 36(DI)
`
	}
	s += `	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y10, Y0
	VMOVDQU Y0, (DI)
	ADDQ $128, SI
	ADDQ $40, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`
	return s
}

// q8LBody is q8Body's quantizer writing actQ8_0L blocks: d at 64, and
// the lanes' corrections (from the saturated int8 quants the kernels
// multiply) at 32.
func q8LBody() string {
	s := q8Body(false)
	s = strings.Replace(s, "VMOVSS X6, 32(DI)", "VMOVSS X6, 64(DI)", 1)
	i := strings.Index(s, "	// Sum of the quants")
	j := strings.Index(s, "	VPACKSSDW Y1, Y0, Y0")
	s = s[:i] + s[j:]
	s = strings.Replace(s, "	VMOVDQU Y0, (DI)\n", `	VMOVDQU Y0, (DI)
	VPXOR Y4, Y4, Y4
	VPDPBUSD Y0, Y13, Y4
	VPSUBD Y4, Y12, Y4
	VMOVDQU Y4, 32(DI)
`, 1)
	s = strings.Replace(s, "	VXORPS X12, X12, X12\n", "	VXORPS X12, X12, X12\n	VPBROADCASTD c80<>(SB), Y13\n", 1)
	s = strings.Replace(s, "ADDQ $40, DI", "ADDQ $72, DI", 1)
	return s
}

// q8KBody is quantize_row_q8_K_ref: amax and the first value reaching
// it, iscale = -127/max, q = min(127, round(iscale*x)), the sums of 16 and
// of 32 quants, d = 1/iscale.
func q8KBody() string {
	s := `
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ done
	VBROADCASTSS absMask<>(SB), Y15
	VMOVDQU q8perm<>(SB), Y14
	VMOVDQU ones8<>(SB), Y12
	VMOVDQU ones16<>(SB), Y13
loop:
`
	for i := 0; i < 32; i++ {
		if i < 4 {
			s += fmt.Sprintf("\tVANDPS %d(SI), Y15, Y%d\n", 32*i, i)
		} else {
			s += fmt.Sprintf("\tVANDPS %d(SI), Y15, Y4\n\tVMAXPS Y4, Y%d, Y%d\n", 32*i, i%4, i%4)
		}
	}
	s += `	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VMAXPS X1, X0, X0
	VMOVSHDUP X0, X1
	VMAXSS X1, X0, X0
	VXORPS X1, X1, X1
	VUCOMISS X1, X0
	JNE nonzero
	VXORPS Y1, Y1, Y1
`
	for off := 0; off < 320; off += 32 {
		s += fmt.Sprintf("\tVMOVDQU Y1, %d(DI)\n", off)
	}
	s += `	JMP next
nonzero:
	// The first value whose magnitude is amax gives max (with its sign).
	VBROADCASTSS X0, Y5
	XORQ BX, BX
find:
	VANDPS (SI)(BX*1), Y15, Y4
	VCMPPS $0, Y5, Y4, Y4
	VMOVMSKPS Y4, AX
	TESTL AX, AX
	JNZ found
	ADDQ $32, BX
	JMP find
found:
	BSFL AX, AX
	LEAQ (SI)(BX*1), R8
	VMOVSS (R8)(AX*4), X6
	VMOVSS cNeg127<>(SB), X7
	VDIVSS X6, X7, X7
	VMOVSS c1f<>(SB), X8
	VDIVSS X7, X8, X8
	VXORPS X9, X9, X9
	VMOVDQU X9, 304(DI)
	VMOVSS X8, 304(DI)
	VBROADCASTSS X7, Y7
`
	for i := 0; i < 8; i++ {
		for k := 0; k < 4; k++ {
			s += fmt.Sprintf("\tVMULPS %d(SI), Y7, Y%d\n\tVROUNDPS $0, Y%d, Y%d\n\tVCVTPS2DQ Y%d, Y%d\n\tVPMINSD c127d<>(SB), Y%d, Y%d\n",
				128*i+32*k, k, k, k, k, k, k, k)
		}
		s += fmt.Sprintf(`	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y14, Y0
	VMOVDQU Y0, %d(DI)
	VPMADDUBSW Y0, Y12, Y0
	VPMADDWD Y13, Y0, Y%d
`, 32*i, 4+i%2)
		if i%2 == 1 {
			s += fmt.Sprintf("\tVPHADDD Y5, Y4, Y%d\n", 8+i/2)
		}
	}
	s += `	// Y8..Y11 hold pairwise sums; two more rounds give the 16 group sums.
	VPHADDD Y9, Y8, Y0
	VPHADDD Y11, Y10, Y1
	VPERMD Y0, Y14, Y0
	VPERMD Y1, Y14, Y1
	VPACKSSDW Y1, Y0, Y2
	VPERMQ $0xd8, Y2, Y2
	VMOVDQU Y2, 256(DI)
	VPHADDD Y1, Y0, Y3
	VMOVDQU pairPerm<>(SB), Y4
	VPERMD Y3, Y4, Y3
	VEXTRACTI128 $1, Y3, X4
	VPACKSSDW X4, X3, X3
	VMOVDQU X3, 288(DI)
next:
	ADDQ $1024, SI
	ADDQ $320, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`
	return s
}

func emitQuantConstants(g *gen) {
	table(g, "cNeg127", dwords(0xc2fe0000, 0)) // -127.0
	table(g, "c1f", dwords(0x3f800000, 0))     // 1.0
	table(g, "c127d", dwords(127, 127, 127, 127, 127, 127, 127, 127))
	var ones []byte
	for i := 0; i < 32; i++ {
		ones = append(ones, 1)
	}
	table(g, "ones8", ones)
	table(g, "pairPerm", dwords(0, 1, 4, 5, 2, 3, 6, 7))
	table(g, "c127f", dwords(0x42fe0000, 0)) // 127.0
	table(g, "absMask", dwords(0x7fffffff, 0))
	table(g, "q8perm", dwords(0, 4, 1, 5, 2, 6, 3, 7))
}
