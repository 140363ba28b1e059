#include "textflag.h"

// REDUCE64 leaves in the low lane of Xa the sum of the four 16-lane
// accumulators Za..Zd of vecDot64 (ggmlorder.go): sum0 += sum2, sum1 +=
// sum3, sum0 += sum1, then _mm512_reduce_add_ps's tree (the 256-bit
// halves, the 128-bit halves, pairs, the last two). Zb (Yb, Xb) is
// scratch; Ya and Xa are Za's lower halves.
#define REDUCE64(Za, Zb, Zc, Zd, Ya, Yb, Xa, Xb) \
	VADDPS Zc, Za, Za; \
	VADDPS Zd, Zb, Zb; \
	VADDPS Zb, Za, Za; \
	VEXTRACTF64X4 $1, Za, Yb; \
	VADDPS Yb, Ya, Ya; \
	VEXTRACTF128 $1, Ya, Xb; \
	VADDPS Xb, Xa, Xa; \
	VPERMILPS $0x4e, Xa, Xb; \
	VADDPS Xb, Xa, Xa; \
	VPERMILPS $0xb1, Xa, Xb; \
	VADDSS Xb, Xa, Xa

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

	REDUCE64(Z0, Z1, Z2, Z3, Y0, Y1, X0, X1)
	MOVSS X0, (R10)
	ADDQ $4, R10
	ADDQ BX, R8
	DECQ R9
	JNZ  row

rowsdone:
	VZEROUPPER
	RET

// ggml_vec_dot_f32 with AVX-512 over nRows weight rows wStride bytes apart
// against one activation row of n float32 values, each result stored at
// out+4*r: the single-token path of F32 weights. The whole steps of 64 are
// vecDot64 (four accumulators of 16 lanes, added pairwise, reduced by
// _mm512_reduce_add_ps's tree); the leftovers are added as GCC compiles
// ggml's scalar loop: runs of eight product by product (each product
// rounded), then the last n%8 fused into the sum (vecDotF32).
// func dotF32RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF32RowsAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	MOVQ nRows+16(FP), R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  f32done

f32row:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	ANDQ $-64, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	TESTQ CX, CX
	JZ   f32reduce

f32loop:
	VMOVUPS (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	VMOVUPS 64(SI), Z5
	VFMADD231PS 64(DI), Z5, Z1
	VMOVUPS 128(SI), Z6
	VFMADD231PS 128(DI), Z6, Z2
	VMOVUPS 192(SI), Z7
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  f32loop

f32reduce:
	REDUCE64(Z0, Z1, Z2, Z3, Y0, Y1, X0, X1)

	// Leftovers: DX = n%64 of them, the first DX&^7 added product by
	// product, the rest fused.
	MOVQ n+24(FP), DX
	ANDQ $63, DX
	MOVQ DX, R11
	ANDQ $7, R11
	SUBQ R11, DX
	JZ   f32fused

f32plain:
	VMOVSS (SI), X1
	VMULSS (DI), X1, X1
	VADDSS X1, X0, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ DX
	JNZ  f32plain

f32fused:
	TESTQ R11, R11
	JZ   f32store

f32fma:
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ R11
	JNZ  f32fma

f32store:
	VMOVSS X0, (R10)
	ADDQ $4, R10
	ADDQ BX, R8
	DECQ R9
	JNZ  f32row

f32done:
	VZEROUPPER
	RET

// dotF32RowsAVX512's operations with AVX2: each 16-lane accumulator held as
// two 8-lane halves (Y0/Y1: sum0 lo/hi, Y2/Y3 sum1, Y4/Y5 sum2, Y6/Y7
// sum3), the same sums in the same order.
// func dotF32RowsAVX2(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF32RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	MOVQ nRows+16(FP), R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  a2done

a2row:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	ANDQ $-64, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ   a2reduce

a2loop:
	VMOVUPS (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	VMOVUPS 32(SI), Y9
	VFMADD231PS 32(DI), Y9, Y1
	VMOVUPS 64(SI), Y10
	VFMADD231PS 64(DI), Y10, Y2
	VMOVUPS 96(SI), Y11
	VFMADD231PS 96(DI), Y11, Y3
	VMOVUPS 128(SI), Y8
	VFMADD231PS 128(DI), Y8, Y4
	VMOVUPS 160(SI), Y9
	VFMADD231PS 160(DI), Y9, Y5
	VMOVUPS 192(SI), Y10
	VFMADD231PS 192(DI), Y10, Y6
	VMOVUPS 224(SI), Y11
	VFMADD231PS 224(DI), Y11, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  a2loop

a2reduce:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0

	MOVQ n+24(FP), DX
	ANDQ $63, DX
	MOVQ DX, R11
	ANDQ $7, R11
	SUBQ R11, DX
	JZ   a2fused

a2plain:
	VMOVSS (SI), X1
	VMULSS (DI), X1, X1
	VADDSS X1, X0, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ DX
	JNZ  a2plain

a2fused:
	TESTQ R11, R11
	JZ   a2store

a2fma:
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ R11
	JNZ  a2fma

a2store:
	VMOVSS X0, (R10)
	ADDQ $4, R10
	ADDQ BX, R8
	DECQ R9
	JNZ  a2row

a2done:
	VZEROUPPER
	RET

// dotF32Rows4AVX512 is dotF32RowsAVX512 four rows at a time (nRows a
// multiple of 4): each row's operations are the same, but the four rows'
// reductions and leftover loops, each a chain of dependent adds, run side
// by side instead of one after another. Rows of a small model's FFN (172
// values: 44 leftovers) were dominated by that chain. Row k's sums: Z(4k)
// .. Z(4k+3), its total X(4k).
// func dotF32Rows4AVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF32Rows4AVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	LEAQ (BX)(BX*2), R12
	MOVQ nRows+16(FP), R9
	SHRQ $2, R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  q4done

q4group:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	ANDQ $-64, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	TESTQ CX, CX
	JZ   q4reduce

q4loop:
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	VMOVUPS 128(DI), Z18
	VMOVUPS 192(DI), Z19
	VFMADD231PS (SI), Z16, Z0
	VFMADD231PS 64(SI), Z17, Z1
	VFMADD231PS 128(SI), Z18, Z2
	VFMADD231PS 192(SI), Z19, Z3
	VFMADD231PS (SI)(BX*1), Z16, Z4
	VFMADD231PS 64(SI)(BX*1), Z17, Z5
	VFMADD231PS 128(SI)(BX*1), Z18, Z6
	VFMADD231PS 192(SI)(BX*1), Z19, Z7
	VFMADD231PS (SI)(BX*2), Z16, Z8
	VFMADD231PS 64(SI)(BX*2), Z17, Z9
	VFMADD231PS 128(SI)(BX*2), Z18, Z10
	VFMADD231PS 192(SI)(BX*2), Z19, Z11
	VFMADD231PS (SI)(R12*1), Z16, Z12
	VFMADD231PS 64(SI)(R12*1), Z17, Z13
	VFMADD231PS 128(SI)(R12*1), Z18, Z14
	VFMADD231PS 192(SI)(R12*1), Z19, Z15
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  q4loop

q4reduce:
	REDUCE64(Z0, Z1, Z2, Z3, Y0, Y1, X0, X1)
	REDUCE64(Z4, Z5, Z6, Z7, Y4, Y5, X4, X5)
	REDUCE64(Z8, Z9, Z10, Z11, Y8, Y9, X8, X9)
	REDUCE64(Z12, Z13, Z14, Z15, Y12, Y13, X12, X13)

	// Leftovers, as dotF32RowsAVX512 adds them, the four rows together.
	MOVQ n+24(FP), DX
	ANDQ $63, DX
	MOVQ DX, R11
	ANDQ $7, R11
	SUBQ R11, DX
	JZ   q4fused

q4plain:
	VMOVSS (DI), X16
	VMULSS (SI), X16, X1
	VMULSS (SI)(BX*1), X16, X5
	VMULSS (SI)(BX*2), X16, X9
	VMULSS (SI)(R12*1), X16, X13
	VADDSS X1, X0, X0
	VADDSS X5, X4, X4
	VADDSS X9, X8, X8
	VADDSS X13, X12, X12
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ DX
	JNZ  q4plain

q4fused:
	TESTQ R11, R11
	JZ   q4store

q4fma:
	VMOVSS (DI), X16
	VFMADD231SS (SI), X16, X0
	VFMADD231SS (SI)(BX*1), X16, X4
	VFMADD231SS (SI)(BX*2), X16, X8
	VFMADD231SS (SI)(R12*1), X16, X12
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ R11
	JNZ  q4fma

q4store:
	VMOVSS X0, (R10)
	VMOVSS X4, 4(R10)
	VMOVSS X8, 8(R10)
	VMOVSS X12, 12(R10)
	ADDQ $16, R10
	LEAQ (R8)(BX*4), R8
	DECQ R9
	JNZ  q4group

q4done:
	VZEROUPPER
	RET

// dotF16Rows4AVX512 is dotF16RowsAVX512 four rows at a time (nRows a
// multiple of 4, n of 64): each row's operations are the same, each
// activation step is converted once for the four, and the four rows'
// reductions, each a chain of dependent adds, run side by side (written
// one after another, they are independent, and the processor overlaps
// them). Attention's scores of a 64-value head were bound by that chain.
// func dotF16Rows4AVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF16Rows4AVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	LEAQ (BX)(BX*2), R12
	MOVQ nRows+16(FP), R9
	SHRQ $2, R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  h4done

h4group:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15

h4loop:
	VCVTPH2PS 0(DI), Z16
	VCVTPH2PS 32(DI), Z17
	VCVTPH2PS 64(DI), Z18
	VCVTPH2PS 96(DI), Z19
	VCVTPH2PS 0(SI), Z20
	VCVTPH2PS 32(SI), Z21
	VCVTPH2PS 64(SI), Z22
	VCVTPH2PS 96(SI), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z21, Z1
	VFMADD231PS Z18, Z22, Z2
	VFMADD231PS Z19, Z23, Z3
	VCVTPH2PS 0(SI)(BX*1), Z20
	VCVTPH2PS 32(SI)(BX*1), Z21
	VCVTPH2PS 64(SI)(BX*1), Z22
	VCVTPH2PS 96(SI)(BX*1), Z23
	VFMADD231PS Z16, Z20, Z4
	VFMADD231PS Z17, Z21, Z5
	VFMADD231PS Z18, Z22, Z6
	VFMADD231PS Z19, Z23, Z7
	VCVTPH2PS 0(SI)(BX*2), Z20
	VCVTPH2PS 32(SI)(BX*2), Z21
	VCVTPH2PS 64(SI)(BX*2), Z22
	VCVTPH2PS 96(SI)(BX*2), Z23
	VFMADD231PS Z16, Z20, Z8
	VFMADD231PS Z17, Z21, Z9
	VFMADD231PS Z18, Z22, Z10
	VFMADD231PS Z19, Z23, Z11
	VCVTPH2PS 0(SI)(R12*1), Z20
	VCVTPH2PS 32(SI)(R12*1), Z21
	VCVTPH2PS 64(SI)(R12*1), Z22
	VCVTPH2PS 96(SI)(R12*1), Z23
	VFMADD231PS Z16, Z20, Z12
	VFMADD231PS Z17, Z21, Z13
	VFMADD231PS Z18, Z22, Z14
	VFMADD231PS Z19, Z23, Z15
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JNZ  h4loop

	REDUCE64(Z0, Z1, Z2, Z3, Y0, Y1, X0, X1)
	REDUCE64(Z4, Z5, Z6, Z7, Y4, Y5, X4, X5)
	REDUCE64(Z8, Z9, Z10, Z11, Y8, Y9, X8, X9)
	REDUCE64(Z12, Z13, Z14, Z15, Y12, Y13, X12, X13)
	VMOVSS X0, (R10)
	VMOVSS X4, 4(R10)
	VMOVSS X8, 8(R10)
	VMOVSS X12, 12(R10)
	ADDQ $16, R10
	LEAQ (R8)(BX*4), R8
	DECQ R9
	JNZ  h4group

h4done:
	VZEROUPPER
	RET

// dotF16F32RowsAVX512 is dotF16RowsAVX512 with the activations already
// widened: float32 values that are F16 values (ggml converts the token to
// F16 and widens both sides at every step; widening the token once gives
// the same operands). One conversion a step instead of two: F16 decoding
// was bound by them, not by memory.
// func dotF16F32RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)
TEXT ·dotF16F32RowsAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ wStride+8(FP), BX
	MOVQ nRows+16(FP), R9
	MOVQ out+40(FP), R10
	TESTQ R9, R9
	JLE  hfdone

hfrow:
	MOVQ R8, SI
	MOVQ a+32(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

hfloop:
	VCVTPH2PS (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	VCVTPH2PS 32(SI), Z6
	VFMADD231PS 64(DI), Z6, Z1
	VCVTPH2PS 64(SI), Z8
	VFMADD231PS 128(DI), Z8, Z2
	VCVTPH2PS 96(SI), Z10
	VFMADD231PS 192(DI), Z10, Z3
	ADDQ $128, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  hfloop

	REDUCE64(Z0, Z1, Z2, Z3, Y0, Y1, X0, X1)
	MOVSS X0, (R10)
	ADDQ $4, R10
	ADDQ BX, R8
	DECQ R9
	JNZ  hfrow

hfdone:
	VZEROUPPER
	RET
