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
