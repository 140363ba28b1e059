package main

// Vector helpers for attention. Each takes element counts that are a
// multiple of its step; the Go side handles the rest.

type vecop struct {
	decl string // Go declaration after "func "
	body string
}

func vecops() []vecop {
	return []vecop{
		{"dotF16AVX2(a, b *uint16, n int) float32", `
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TESTQ CX, CX
	JZ reduce
loop:
	VCVTPH2PS (SI), Y0
	VCVTPH2PS (DI), Y1
	VFMADD231PS Y0, Y1, Y2
	VCVTPH2PS 16(SI), Y4
	VCVTPH2PS 16(DI), Y5
	VFMADD231PS Y4, Y5, Y3
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ loop
reduce:
` + hsum("Y2", "Y3") + `
	VMOVSS X2, ret+24(FP)
	VZEROUPPER
	RET
`},
		{"dotF32AVX2(a, b *float32, n int) float32", `
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TESTQ CX, CX
	JZ reduce
loop:
	VMOVUPS (SI), Y0
	VFMADD231PS (DI), Y0, Y2
	VMOVUPS 32(SI), Y1
	VFMADD231PS 32(DI), Y1, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop
reduce:
` + hsum("Y2", "Y3") + `
	VMOVSS X2, ret+24(FP)
	VZEROUPPER
	RET
`},
		// y = F16(y + x*v), 8 at a time.
		{"madF16AVX2(y, x *uint16, n int, v float32)", `
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	VBROADCASTSS v+24(FP), Y2
	TESTQ CX, CX
	JZ done
loop:
	VCVTPH2PS (DI), Y0
	VCVTPH2PS (SI), Y1
	VFMADD231PS Y1, Y2, Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
		// y += F32(x)*v, 8 at a time.
		{"madF32AVX2(y *float32, x *uint16, n int, v float32)", `
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	VBROADCASTSS v+24(FP), Y2
	TESTQ CX, CX
	JZ done
loop:
	VCVTPH2PS (SI), Y1
	VFMADD213PS (DI), Y2, Y1
	VMOVUPS Y1, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
		{"scaleF16AVX2(y *uint16, n int, v float32)", `
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VBROADCASTSS v+16(FP), Y2
	TESTQ CX, CX
	JZ done
loop:
	VCVTPH2PS (DI), Y0
	VMULPS Y2, Y0, Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
		// y += x*a, 8 at a time.
		{"axpyAVX2(y, x *float32, n int, a float32)", `
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	VBROADCASTSS a+24(FP), Y2
	TESTQ CX, CX
	JZ done
loop:
	VMOVUPS (SI), Y1
	VFMADD213PS (DI), Y2, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
		{"scaleF32AVX2(y *float32, n int, v float32)", `
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VBROADCASTSS v+16(FP), Y2
	TESTQ CX, CX
	JZ done
loop:
	VMULPS (DI), Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
`},
	}
}

// hsum adds b into a and sums a's lanes into the low lane of a (as X).
func hsum(a, b string) string {
	xa := "X" + a[1:]
	return "\tVADDPS " + b + ", " + a + ", " + a + "\n" +
		"\tVEXTRACTF128 $1, " + a + ", X0\n" +
		"\tVADDPS X0, " + xa + ", " + xa + "\n" +
		"\tVPERMILPS $0x4e, " + xa + ", X0\n" +
		"\tVADDPS X0, " + xa + ", " + xa + "\n" +
		"\tVPERMILPS $0xb1, " + xa + ", X0\n" +
		"\tVADDSS X0, " + xa + ", " + xa
}
