#include "textflag.h"

// func floatsToHalvesAVX2(dst *uint16, src *float32, n int)
//
// VCVTPS2PH with round-to-nearest-even (imm8 0) on n values, n a positive
// multiple of 8: floatToHalf's results (F16C, which ggml-cpu uses).
TEXT ·floatsToHalvesAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
loop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER
	RET

// widenScaleAVX2: out[h*n+k] = float32(acc[h*n+k]) * inv[h] for heads h <
// heads, n a multiple of 8: VCVTPH2PS and one multiply per eight values,
// as the Go loop's table lookup and multiply.
// func widenScaleAVX2(out *float32, acc *uint16, inv *float32, heads, n int)
TEXT ·widenScaleAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ inv+16(FP), R8
	MOVQ heads+24(FP), CX
	TESTQ CX, CX
	JZ   wsdone
wshead:
	VBROADCASTSS (R8), Y1
	MOVQ n+32(FP), DX
	SHRQ $3, DX
	JZ   wsnext
wschunk:
	VCVTPH2PS (SI), Y0
	VMULPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ DX
	JNZ  wschunk
wsnext:
	ADDQ $4, R8
	DECQ CX
	JNZ  wshead
wsdone:
	VZEROUPPER
	RET
