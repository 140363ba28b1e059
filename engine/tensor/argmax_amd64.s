#include "textflag.h"

// func maxF32AVX2(x *float32, n int) float32
//
// The largest of x's n values (n a positive multiple of 8), NaNs passed
// over: each lane keeps v where v > its maximum, which a NaN never is
// (VMAXPS returns its second source, here the maximum, when either is
// NaN; Go's operand order puts that source first). All NaN: -Inf.
TEXT ·maxF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX
	VMOVD AX, X0
	VPBROADCASTD X0, Y0
	VMOVDQA Y0, Y1
	VMOVDQA Y0, Y2
	VMOVDQA Y0, Y3
	CMPQ CX, $32
	JB   tail
loop32:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VMAXPS Y0, Y4, Y0
	VMAXPS Y1, Y5, Y1
	VMAXPS Y2, Y6, Y2
	VMAXPS Y3, Y7, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  loop32
tail:
	TESTQ CX, CX
	JZ   reduce
loop8:
	VMOVUPS (SI), Y4
	VMAXPS Y0, Y4, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ  loop8
reduce:
	// No NaN is left in the lanes: any order of maxima gives the same.
	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func indexF32AVX2(x *float32, n int, v float32) int
//
// The first index i < n (n a positive multiple of 8) where x[i] == v, or
// -1.
TEXT ·indexF32AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0
	XORQ DX, DX
find:
	VCMPPS $0, (SI)(DX*4), Y0, Y1
	VMOVMSKPS Y1, AX
	TESTL AX, AX
	JNZ  found
	ADDQ $8, DX
	CMPQ DX, CX
	JB   find
	MOVQ $-1, ret+24(FP)
	VZEROUPPER
	RET
found:
	BSFL AX, AX
	ADDQ DX, AX
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET
