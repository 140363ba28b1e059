#include "textflag.h"
#include "transpose_amd64.h"

// func rmsSums8AVX512(x *float32, d int, sums *[8]float64)
//
// The sums of squares of eight rows of d values (d a positive multiple of
// 8, rows d apart) in the lanes of one float64 vector: per chunk of eight
// columns the rows' squares (float32, rounded), transposed so that one
// vector holds column i of every row, then widened and added in column
// order: each row's chain of adds is RMSNorm's.
TEXT ·rmsSums8AVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ d+8(FP), DX
	MOVQ DX, BX
	SHLQ $2, BX                // row bytes
	SHRQ $3, DX                // chunks
	MOVQ sums+16(FP), DI
	LEAQ (BX)(BX*2), R12
	LEAQ (BX)(BX*4), R13
	LEAQ (R12)(BX*4), R10
	VXORPD Z17, Z17, Z17
chunk:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(BX*1), Y1
	VMOVUPS (SI)(BX*2), Y2
	VMOVUPS (SI)(R12*1), Y3
	VMOVUPS (SI)(BX*4), Y4
	VMOVUPS (SI)(R13*1), Y5
	VMOVUPS (SI)(R12*2), Y6
	VMOVUPS (SI)(R10*1), Y7
	VMULPS Y0, Y0, Y0
	VMULPS Y1, Y1, Y1
	VMULPS Y2, Y2, Y2
	VMULPS Y3, Y3, Y3
	VMULPS Y4, Y4, Y4
	VMULPS Y5, Y5, Y5
	VMULPS Y6, Y6, Y6
	VMULPS Y7, Y7, Y7
	// Transpose: Y8+i gets column i of rows 0-7.
	TRANSPOSE8
	ADDCOLS8
	ADDQ $32, SI
	DECQ DX
	JNZ  chunk
	VMOVUPD Z17, (DI)
	VZEROUPPER
	RET

// func scaleMulAVX2(y, x, w *float32, n int, scale float32)
//
// y = (x*scale)*w, n a positive multiple of 8: two roundings, as Go's
// scaleMulGo.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-36
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS scale+32(FP), Y15
sm:
	VMULPS (SI), Y15, Y0
	VMULPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  sm
	VZEROUPPER
	RET
