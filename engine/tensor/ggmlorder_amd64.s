#include "textflag.h"

// ggml_vec_dot_f16's whole steps of 64 (see ggmlorder.go): four
// accumulators of 16 lanes, fused multiply-adds, pairwise sums, then
// _mm512_reduce_add_ps's tree. n is a positive multiple of 64. The
// AVX-512 version is dotF16RowsAVX512 below; this one holds each 16-lane
// accumulator as two 8-lane halves (lo: lanes 0-7, hi: lanes 8-15), for
// AVX2 machines.

// func dotF16x64AVX2(a, b *uint16, n int) float32
TEXT ·dotF16x64AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop256:
	VCVTPH2PS (SI), Y8
	VCVTPH2PS (DI), Y9
	VFMADD231PS Y9, Y8, Y0
	VCVTPH2PS 16(SI), Y10
	VCVTPH2PS 16(DI), Y11
	VFMADD231PS Y11, Y10, Y1
	VCVTPH2PS 32(SI), Y8
	VCVTPH2PS 32(DI), Y9
	VFMADD231PS Y9, Y8, Y2
	VCVTPH2PS 48(SI), Y10
	VCVTPH2PS 48(DI), Y11
	VFMADD231PS Y11, Y10, Y3
	VCVTPH2PS 64(SI), Y8
	VCVTPH2PS 64(DI), Y9
	VFMADD231PS Y9, Y8, Y4
	VCVTPH2PS 80(SI), Y10
	VCVTPH2PS 80(DI), Y11
	VFMADD231PS Y11, Y10, Y5
	VCVTPH2PS 96(SI), Y8
	VCVTPH2PS 96(DI), Y9
	VFMADD231PS Y9, Y8, Y6
	VCVTPH2PS 112(SI), Y10
	VCVTPH2PS 112(DI), Y11
	VFMADD231PS Y11, Y10, Y7
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JNZ  loop256

	// sum0 += sum2; sum1 += sum3; sum0 += sum1 (each as lo, hi)
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	// lanes i and i+8, then the 128-bit halves, then pairs
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// ggml_vec_dot_f16's steps of 64 with AVX-512 over nRows weight rows
// wStride bytes apart against one activation row, each result stored as
// float32 at out+4*r: attention's dot products (one row) and the decode
// kernel of F16 weights when n is a multiple of 64 (no leftovers).
// func dotF16RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF16RowsAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	MOVQ nRows+16(FP), R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  rowsdone

row:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

rowloop:
	VCVTPH2PS (SI), Z4
	VCVTPH2PS (DI), Z5
	VFMADD231PS Z5, Z4, Z0
	VCVTPH2PS 32(SI), Z6
	VCVTPH2PS 32(DI), Z7
	VFMADD231PS Z7, Z6, Z1
	VCVTPH2PS 64(SI), Z8
	VCVTPH2PS 64(DI), Z9
	VFMADD231PS Z9, Z8, Z2
	VCVTPH2PS 96(SI), Z10
	VCVTPH2PS 96(DI), Z11
	VFMADD231PS Z11, Z10, Z3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JNZ  rowloop

	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0
	MOVSS X0, (R10)
	ADDQ $4, R10
	ADDQ BX, R8
	DECQ R9
	JNZ  row

rowsdone:
	VZEROUPPER
	RET
