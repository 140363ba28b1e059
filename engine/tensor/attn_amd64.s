#include "textflag.h"
#include "transpose_amd64.h"

DATA attnOne<>+0(SB)/4, $0x3f800000
GLOBL attnOne<>(SB), RODATA|NOPTR, $4

// Pieces of the AVX-512 four-head kernels (madRowsF16Heads4AVX512 and
// madRowsF16Heads4ApartAVX512), whose heads keep their accumulators in
// Z0-Z3, Z4-Z7, Z8-Z11 and Z12-Z15. H4ROUND rounds a head's accumulators
// to F16 and widens them back, as storing them would; H4MAD adds the
// value row Z16-Z19 times the head's vs (at vsAt); H4SCALE multiplies
// them by the ms in X28; H4ROW widens a value row into Z16-Z19; H4LOADACC
// and H4STOREACC move the four heads' chunks (DI, R12 = n*2 and R13 =
// n*6 bytes apart) in and out.
#define H4ROUND(Za, Zb, Zc, Zd) \
	VCVTPS2PH $0, Za, Y24; \
	VCVTPS2PH $0, Zb, Y25; \
	VCVTPS2PH $0, Zc, Y26; \
	VCVTPS2PH $0, Zd, Y27; \
	VCVTPH2PS Y24, Za; \
	VCVTPH2PS Y25, Zb; \
	VCVTPH2PS Y26, Zc; \
	VCVTPH2PS Y27, Zd

#define H4MAD(vsAt, Za, Zb, Zc, Zd) \
	VBROADCASTSS vsAt, Z20; \
	VFMADD231PS Z20, Z16, Za; \
	VFMADD231PS Z20, Z17, Zb; \
	VFMADD231PS Z20, Z18, Zc; \
	VFMADD231PS Z20, Z19, Zd; \
	H4ROUND(Za, Zb, Zc, Zd)

#define H4SCALE(Za, Zb, Zc, Zd) \
	VBROADCASTSS X28, Z21; \
	VMULPS Z21, Za, Za; \
	VMULPS Z21, Zb, Zb; \
	VMULPS Z21, Zc, Zc; \
	VMULPS Z21, Zd, Zd; \
	H4ROUND(Za, Zb, Zc, Zd)

#define H4ROW(m0, m1, m2, m3) \
	VCVTPH2PS m0, Z16; \
	VCVTPH2PS m1, Z17; \
	VCVTPH2PS m2, Z18; \
	VCVTPH2PS m3, Z19

#define H4LOADACC \
	VCVTPH2PS (DI), Z0; \
	VCVTPH2PS 32(DI), Z1; \
	VCVTPH2PS 64(DI), Z2; \
	VCVTPH2PS 96(DI), Z3; \
	VCVTPH2PS (DI)(R12*1), Z4; \
	VCVTPH2PS 32(DI)(R12*1), Z5; \
	VCVTPH2PS 64(DI)(R12*1), Z6; \
	VCVTPH2PS 96(DI)(R12*1), Z7; \
	VCVTPH2PS (DI)(R12*2), Z8; \
	VCVTPH2PS 32(DI)(R12*2), Z9; \
	VCVTPH2PS 64(DI)(R12*2), Z10; \
	VCVTPH2PS 96(DI)(R12*2), Z11; \
	VCVTPH2PS (DI)(R13*1), Z12; \
	VCVTPH2PS 32(DI)(R13*1), Z13; \
	VCVTPH2PS 64(DI)(R13*1), Z14; \
	VCVTPH2PS 96(DI)(R13*1), Z15

#define H4STOREACC \
	VCVTPS2PH $0, Z0, (DI); \
	VCVTPS2PH $0, Z1, 32(DI); \
	VCVTPS2PH $0, Z2, 64(DI); \
	VCVTPS2PH $0, Z3, 96(DI); \
	VCVTPS2PH $0, Z4, (DI)(R12*1); \
	VCVTPS2PH $0, Z5, 32(DI)(R12*1); \
	VCVTPS2PH $0, Z6, 64(DI)(R12*1); \
	VCVTPS2PH $0, Z7, 96(DI)(R12*1); \
	VCVTPS2PH $0, Z8, (DI)(R12*2); \
	VCVTPS2PH $0, Z9, 32(DI)(R12*2); \
	VCVTPS2PH $0, Z10, 64(DI)(R12*2); \
	VCVTPS2PH $0, Z11, 96(DI)(R12*2); \
	VCVTPS2PH $0, Z12, (DI)(R13*1); \
	VCVTPS2PH $0, Z13, 32(DI)(R13*1); \
	VCVTPS2PH $0, Z14, 64(DI)(R13*1); \
	VCVTPS2PH $0, Z15, 96(DI)(R13*1)

// MadRowsF16 with AVX-512 for n a multiple of 16: per chunk of 16 values
// the accumulator stays in a register as float32 holding F16 values, and
// is rounded to F16 after every operation exactly as storing it would.
// func madRowsF16AVX512(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)
TEXT ·madRowsF16AVX512(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ms+32(FP), R8
	MOVQ vs+40(FP), R9
	MOVQ np+48(FP), R10
	SHRQ $4, CX
	JZ   done
	TESTQ R10, R10
	JZ   done
	VMOVSS attnOne<>(SB), X31

chunk:
	VCVTPH2PS (DI), Z0
	MOVQ SI, R11
	XORQ DX, DX

pos:
	VMOVSS (R8)(DX*4), X1
	VUCOMISS X31, X1
	JNE  scale
	JP   scale
	JMP  mad

scale:
	VBROADCASTSS X1, Z1
	VMULPS Z1, Z0, Z0
	VCVTPS2PH $0, Z0, Y2
	VCVTPH2PS Y2, Z0

mad:
	VBROADCASTSS (R9)(DX*4), Z3
	VCVTPH2PS (R11), Z4
	VFMADD231PS Z3, Z4, Z0
	VCVTPS2PH $0, Z0, Y2
	VCVTPH2PS Y2, Z0
	ADDQ BX, R11
	INCQ DX
	CMPQ DX, R10
	JLT  pos

	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ  chunk

done:
	VZEROUPPER
	RET

// madRowsF16AVX512x64 is madRowsF16AVX512 for n a multiple of 64, four
// chunks of 16 at once: each chunk's accumulator is one dependency chain
// through the positions, so four in flight hide the latency of the
// multiply-add and the two F16 conversions.
// func madRowsF16AVX512x64(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)
TEXT ·madRowsF16AVX512x64(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ms+32(FP), R8
	MOVQ vs+40(FP), R9
	MOVQ np+48(FP), R10
	SHRQ $6, CX
	JZ   done64
	TESTQ R10, R10
	JZ   done64
	VMOVSS attnOne<>(SB), X31

chunk64:
	VCVTPH2PS (DI), Z0
	VCVTPH2PS 32(DI), Z5
	VCVTPH2PS 64(DI), Z6
	VCVTPH2PS 96(DI), Z7
	MOVQ SI, R11
	XORQ DX, DX

pos64:
	VMOVSS (R8)(DX*4), X1
	VUCOMISS X31, X1
	JNE  scale64
	JP   scale64
	JMP  mad64

scale64:
	VBROADCASTSS X1, Z1
	VMULPS Z1, Z0, Z0
	VMULPS Z1, Z5, Z5
	VMULPS Z1, Z6, Z6
	VMULPS Z1, Z7, Z7
	VCVTPS2PH $0, Z0, Y2
	VCVTPS2PH $0, Z5, Y8
	VCVTPS2PH $0, Z6, Y9
	VCVTPS2PH $0, Z7, Y10
	VCVTPH2PS Y2, Z0
	VCVTPH2PS Y8, Z5
	VCVTPH2PS Y9, Z6
	VCVTPH2PS Y10, Z7

mad64:
	VBROADCASTSS (R9)(DX*4), Z3
	VCVTPH2PS (R11), Z4
	VCVTPH2PS 32(R11), Z11
	VCVTPH2PS 64(R11), Z12
	VCVTPH2PS 96(R11), Z13
	VFMADD231PS Z3, Z4, Z0
	VFMADD231PS Z3, Z11, Z5
	VFMADD231PS Z3, Z12, Z6
	VFMADD231PS Z3, Z13, Z7
	VCVTPS2PH $0, Z0, Y2
	VCVTPS2PH $0, Z5, Y8
	VCVTPS2PH $0, Z6, Y9
	VCVTPS2PH $0, Z7, Y10
	VCVTPH2PS Y2, Z0
	VCVTPH2PS Y8, Z5
	VCVTPH2PS Y9, Z6
	VCVTPH2PS Y10, Z7
	ADDQ BX, R11
	INCQ DX
	CMPQ DX, R10
	JLT  pos64

	VCVTPS2PH $0, Z0, (DI)
	VCVTPS2PH $0, Z5, 32(DI)
	VCVTPS2PH $0, Z6, 64(DI)
	VCVTPS2PH $0, Z7, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  chunk64

done64:
	VZEROUPPER
	RET

// madRowsF16AVX512's operations with AVX2 for n a multiple of 8: chunks
// of 8 values (small heads, such as 8 or 24 wide, which the 16-value
// kernels cannot take).
// func madRowsF16AVX2x8(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)
TEXT ·madRowsF16AVX2x8(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ms+32(FP), R8
	MOVQ vs+40(FP), R9
	MOVQ np+48(FP), R10
	SHRQ $3, CX
	JZ   s8done
	TESTQ R10, R10
	JZ   s8done
	VMOVSS attnOne<>(SB), X15

s8chunk:
	VCVTPH2PS (DI), Y0
	MOVQ SI, R11
	XORQ DX, DX

s8pos:
	VMOVSS (R8)(DX*4), X1
	VUCOMISS X15, X1
	JNE  s8scale
	JP   s8scale
	JMP  s8mad

s8scale:
	VBROADCASTSS X1, Y1
	VMULPS Y1, Y0, Y0
	VCVTPS2PH $0, Y0, X2
	VCVTPH2PS X2, Y0

s8mad:
	VBROADCASTSS (R9)(DX*4), Y3
	VCVTPH2PS (R11), Y4
	VFMADD231PS Y3, Y4, Y0
	VCVTPS2PH $0, Y0, X2
	VCVTPH2PS X2, Y0
	ADDQ BX, R11
	INCQ DX
	CMPQ DX, R10
	JLT  s8pos

	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, DI
	ADDQ $16, SI
	DECQ CX
	JNZ  s8chunk

s8done:
	VZEROUPPER
	RET

// ggml_vec_dot_f16 for rows shorter than one step of 64 (so all of them
// is its leftover loop): each product of two F16 values (exact in
// float32) added in order to a float64 sum, rounded to float32 at the
// end. np key rows stride bytes apart against q (n values, a multiple of
// 8 below 64), one score each at out.
// func scoresF16SmallAVX2(out *float32, keys *uint16, stride uintptr, np int, q *uint16, n int)
TEXT ·scoresF16SmallAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ keys+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ np+24(FP), R10
	MOVQ q+32(FP), R8
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	TESTQ R10, R10
	JZ   scdone
	TESTQ CX, CX
	JZ   scdone

scpos:
	VXORPD X0, X0, X0
	MOVQ SI, R11
	MOVQ R8, R12
	MOVQ CX, DX

scchunk:
	VCVTPH2PS (R11), Y1
	VCVTPH2PS (R12), Y2
	VMULPS Y2, Y1, Y1
	VCVTPS2PD X1, Y2
	VEXTRACTF128 $1, Y1, X3
	VCVTPS2PD X3, Y3
	VADDSD X2, X0, X0
	VPERMILPD $1, X2, X4
	VADDSD X4, X0, X0
	VEXTRACTF128 $1, Y2, X4
	VADDSD X4, X0, X0
	VPERMILPD $1, X4, X4
	VADDSD X4, X0, X0
	VADDSD X3, X0, X0
	VPERMILPD $1, X3, X4
	VADDSD X4, X0, X0
	VEXTRACTF128 $1, Y3, X4
	VADDSD X4, X0, X0
	VPERMILPD $1, X4, X4
	VADDSD X4, X0, X0
	ADDQ $16, R11
	ADDQ $16, R12
	DECQ DX
	JNZ  scchunk

	VCVTSD2SS X0, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ BX, SI
	DECQ R10
	JNZ  scpos

scdone:
	VZEROUPPER
	RET

// MadRowsF16Heads4 with AVX-512 for n a multiple of 64: four heads' value
// sums at once, each head's operations exactly those of
// madRowsF16AVX512x64. One head's sum is a chain (add, round to F16,
// widen, next position) whose latency, not the arithmetic, bounds it; four
// independent chains interleaved keep the units busy. The heads' factors
// are interleaved by position (ms[4p+h], vs[4p+h]); their accumulators
// are n values apart; they read the same value rows.
// Registers: DI the chunk of head 0's accumulator (heads at R12, 2*R12,
// R13 bytes from it), SI the chunk of the first value row, R11 the
// current row, BX the row stride, R8/R9 ms/vs, DX the position's byte
// offset into them (16 per position), R10 its end, CX chunks left. Z0-Z15
// the heads' accumulators (four each), Z16-Z19 the widened values, Z20 a
// broadcast factor, Y24-Y27 the rounding's halves, X28 ms, X31 1.0.
// func madRowsF16Heads4AVX512(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)
TEXT ·madRowsF16Heads4AVX512(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ms+32(FP), R8
	MOVQ vs+40(FP), R9
	MOVQ np+48(FP), R10
	LEAQ (CX)(CX*1), R12
	LEAQ (R12)(R12*2), R13
	SHLQ $4, R10
	SHRQ $6, CX
	JZ   h4done
	TESTQ R10, R10
	JZ   h4done
	VMOVSS attnOne<>(SB), X31

h4chunk:
	H4LOADACC
	MOVQ SI, R11
	XORQ DX, DX

h4pos:
	H4ROW((R11), 32(R11), 64(R11), 96(R11))
	// head 0
	VMOVSS (R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  h4scale0
	JP   h4scale0
h4mad0:
	H4MAD((R9)(DX*1), Z0, Z1, Z2, Z3)
	// head 1
	VMOVSS 4(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  h4scale1
	JP   h4scale1
h4mad1:
	H4MAD(4(R9)(DX*1), Z4, Z5, Z6, Z7)
	// head 2
	VMOVSS 8(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  h4scale2
	JP   h4scale2
h4mad2:
	H4MAD(8(R9)(DX*1), Z8, Z9, Z10, Z11)
	// head 3
	VMOVSS 12(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  h4scale3
	JP   h4scale3
h4mad3:
	H4MAD(12(R9)(DX*1), Z12, Z13, Z14, Z15)

	ADDQ BX, R11
	ADDQ $16, DX
	CMPQ DX, R10
	JLT  h4pos

	H4STOREACC
	ADDQ $128, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  h4chunk

h4done:
	VZEROUPPER
	RET

// The scalings of a head's accumulator (ms != 1), out of the loop's way.
h4scale0:
	H4SCALE(Z0, Z1, Z2, Z3)
	JMP  h4mad0

h4scale1:
	H4SCALE(Z4, Z5, Z6, Z7)
	JMP  h4mad1

h4scale2:
	H4SCALE(Z8, Z9, Z10, Z11)
	JMP  h4mad2

h4scale3:
	H4SCALE(Z12, Z13, Z14, Z15)
	JMP  h4mad3

// MadRowsF16Heads4 with AVX2 for small heads (n a multiple of 8, such as
// 8 or 32): four heads' value sums at once, each head's operations those
// of madRowsF16AVX2x8, and each head reading its own value rows (query
// heads of different KV heads). A head of 8 values is one chain of
// dependent operations per position (scale, round, add, round), so one
// head at a time leaves the units idle; four chains side by side fill
// them. The scale is skipped at positions where all four factors ms are 1
// (a multiplication by 1 and its rounding change nothing); otherwise all
// four are scaled, which for a factor of 1 is again no change.
// Registers: DI the chunk of head 0's accumulator (head h at h*AX bytes
// from it), R11 the current row of the chunk, BX the row stride, R12, R13,
// SI, R10 the heads' byte offsets into a row, R8/R9 the position's ms/vs
// (four each), DX positions left, CX chunks left; Y0-Y3 the accumulators,
// Y15 four 1.0s.
// func madRowsF16Heads4x8AVX2(acc, vals *uint16, stride uintptr, n int, offs *[4]uintptr, ms, vs *float32, np int)
TEXT ·madRowsF16Heads4x8AVX2(SB), NOSPLIT, $0-64
	MOVQ n+24(FP), CX
	MOVQ CX, AX
	SHLQ $1, AX
	SHRQ $3, CX
	JZ   q8done
	MOVQ np+56(FP), DX
	TESTQ DX, DX
	JZ   q8done
	MOVQ offs+32(FP), DX
	MOVQ 0(DX), R12
	MOVQ 8(DX), R13
	MOVQ 16(DX), SI
	MOVQ 24(DX), R10
	MOVQ stride+16(FP), BX
	MOVQ acc+0(FP), DI
	VBROADCASTSS attnOne<>(SB), X15

q8chunk:
	LEAQ (AX)(AX*2), DX
	VCVTPH2PS (DI), Y0
	VCVTPH2PS (DI)(AX*1), Y1
	VCVTPH2PS (DI)(AX*2), Y2
	VCVTPH2PS (DI)(DX*1), Y3
	MOVQ DI, R11
	SUBQ acc+0(FP), R11
	ADDQ vals+8(FP), R11
	MOVQ ms+40(FP), R8
	MOVQ vs+48(FP), R9
	MOVQ np+56(FP), DX

q8pos:
	VMOVUPS (R8), X8
	VCMPPS $4, X15, X8, X9
	VPTEST X9, X9
	JZ   q8mad
	VBROADCASTSS 0(R8), Y8
	VBROADCASTSS 4(R8), Y9
	VBROADCASTSS 8(R8), Y10
	VBROADCASTSS 12(R8), Y11
	VMULPS Y8, Y0, Y0
	VMULPS Y9, Y1, Y1
	VMULPS Y10, Y2, Y2
	VMULPS Y11, Y3, Y3
	VCVTPS2PH $0, Y0, X4
	VCVTPS2PH $0, Y1, X5
	VCVTPS2PH $0, Y2, X6
	VCVTPS2PH $0, Y3, X7
	VCVTPH2PS X4, Y0
	VCVTPH2PS X5, Y1
	VCVTPH2PS X6, Y2
	VCVTPH2PS X7, Y3

q8mad:
	VCVTPH2PS (R11)(R12*1), Y4
	VCVTPH2PS (R11)(R13*1), Y5
	VCVTPH2PS (R11)(SI*1), Y6
	VCVTPH2PS (R11)(R10*1), Y7
	VBROADCASTSS 0(R9), Y8
	VBROADCASTSS 4(R9), Y9
	VBROADCASTSS 8(R9), Y10
	VBROADCASTSS 12(R9), Y11
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	VCVTPS2PH $0, Y0, X4
	VCVTPS2PH $0, Y1, X5
	VCVTPS2PH $0, Y2, X6
	VCVTPS2PH $0, Y3, X7
	VCVTPH2PS X4, Y0
	VCVTPH2PS X5, Y1
	VCVTPH2PS X6, Y2
	VCVTPH2PS X7, Y3
	ADDQ BX, R11
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ DX
	JNZ  q8pos

	LEAQ (AX)(AX*2), DX
	VCVTPS2PH $0, Y0, (DI)
	VCVTPS2PH $0, Y1, (DI)(AX*1)
	VCVTPS2PH $0, Y2, (DI)(AX*2)
	VCVTPS2PH $0, Y3, (DI)(DX*1)
	ADDQ $16, DI
	DECQ CX
	JNZ  q8chunk

q8done:
	VZEROUPPER
	RET

// scoresF16SmallAVX2's sums for eight positions at once (np8 groups of
// eight), the positions in the lanes of one float64 vector: each
// position's n products are computed in float32 (exact), the eight
// positions' products transposed so that one vector holds product i of
// each, and the vectors added to the float64 sums in order i = 0, 1, ...:
// every position's sum is the same chain of adds as one at a time, eight
// of them side by side instead of a horizontal sum each.
// Registers: SI the group's first key row (rows BX apart; R12 = 3, R13 =
// 5, R10 = 7 rows), R11 the chunk's, R8 the query chunk, DX chunks left,
// DI out, CX groups left; Y0-Y15 products and their transposition, Y16
// the query chunk, Z17 the sums, Z18 a widened product vector.
// A last group of rem (1-7) positions runs whole, its key rows past the
// positions read from memory the caller vouches for, and only its rem
// sums are stored (K1): the other lanes' rows are not the query's.
// func scoresF16Small8AVX512(out *float32, keys *uint16, stride uintptr, np8 int, q *uint16, n int, rem int)
TEXT ·scoresF16Small8AVX512(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ keys+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ np8+24(FP), CX
	LEAQ (BX)(BX*2), R12
	LEAQ (BX)(BX*4), R13
	LEAQ (R12)(BX*4), R10
	MOVQ rem+48(FP), AX
	TESTQ AX, AX
	JZ   s8whole
	// The partial group counts as one more, stored through K1.
	MOVQ CX, R11
	MOVQ AX, CX
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	MOVQ R11, CX
	KMOVB DX, K1
	INCQ CX
	JMP  s8group

s8whole:
	KXNORB K1, K1, K1
	TESTQ CX, CX
	JZ   s8gdone

s8group:
	VXORPD Z17, Z17, Z17
	MOVQ SI, R11
	MOVQ q+32(FP), R8
	MOVQ n+40(FP), DX
	SHRQ $3, DX

s8gchunk:
	VCVTPH2PS (R8), Y16
	CVTROWS8(R11)
	VMULPS Y16, Y0, Y0
	VMULPS Y16, Y1, Y1
	VMULPS Y16, Y2, Y2
	VMULPS Y16, Y3, Y3
	VMULPS Y16, Y4, Y4
	VMULPS Y16, Y5, Y5
	VMULPS Y16, Y6, Y6
	VMULPS Y16, Y7, Y7
	// Transpose: Y8+i (i < 8) gets product i of positions 0-7.
	TRANSPOSE8
	ADDCOLS8
	ADDQ $16, R8
	ADDQ $16, R11
	DECQ DX
	JNZ  s8gchunk

	VCVTPD2PS Z17, Y17
	CMPQ CX, $1
	JE   s8last
	VMOVUPS Y17, (DI)
	ADDQ $32, DI
	LEAQ (SI)(BX*8), SI
	DECQ CX
	JMP  s8group

s8last:
	VMOVUPS Y17, K1, (DI)

s8gdone:
	VZEROUPPER
	RET

// madRowsF16Heads4AVX512 for heads that read different value rows (query
// heads of different KV heads): the same operations, each head loading
// its own row at its byte offset offs[h] (R14 from AX) where the shared
// kernel loads one row for all four. Query heads a KV head serves in a
// number that is not a multiple of four (three, seven) then still go four
// at a time.
// func madRowsF16Heads4ApartAVX512(acc, vals *uint16, stride uintptr, n int, offs *[4]uintptr, ms, vs *float32, np int)
TEXT ·madRowsF16Heads4ApartAVX512(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ offs+32(FP), AX
	MOVQ ms+40(FP), R8
	MOVQ vs+48(FP), R9
	MOVQ np+56(FP), R10
	LEAQ (CX)(CX*1), R12
	LEAQ (R12)(R12*2), R13
	SHLQ $4, R10
	SHRQ $6, CX
	JZ   a4done
	TESTQ R10, R10
	JZ   a4done
	VMOVSS attnOne<>(SB), X31

a4chunk:
	H4LOADACC
	MOVQ SI, R11
	XORQ DX, DX

a4pos:
	// head 0
	VMOVSS (R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  a4scale0
	JP   a4scale0
a4mad0:
	MOVQ 0(AX), R14
	H4ROW((R11)(R14*1), 32(R11)(R14*1), 64(R11)(R14*1), 96(R11)(R14*1))
	H4MAD((R9)(DX*1), Z0, Z1, Z2, Z3)
	// head 1
	VMOVSS 4(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  a4scale1
	JP   a4scale1
a4mad1:
	MOVQ 8(AX), R14
	H4ROW((R11)(R14*1), 32(R11)(R14*1), 64(R11)(R14*1), 96(R11)(R14*1))
	H4MAD(4(R9)(DX*1), Z4, Z5, Z6, Z7)
	// head 2
	VMOVSS 8(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  a4scale2
	JP   a4scale2
a4mad2:
	MOVQ 16(AX), R14
	H4ROW((R11)(R14*1), 32(R11)(R14*1), 64(R11)(R14*1), 96(R11)(R14*1))
	H4MAD(8(R9)(DX*1), Z8, Z9, Z10, Z11)
	// head 3
	VMOVSS 12(R8)(DX*1), X28
	VUCOMISS X31, X28
	JNE  a4scale3
	JP   a4scale3
a4mad3:
	MOVQ 24(AX), R14
	H4ROW((R11)(R14*1), 32(R11)(R14*1), 64(R11)(R14*1), 96(R11)(R14*1))
	H4MAD(12(R9)(DX*1), Z12, Z13, Z14, Z15)

	ADDQ BX, R11
	ADDQ $16, DX
	CMPQ DX, R10
	JLT  a4pos

	H4STOREACC
	ADDQ $128, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  a4chunk

a4done:
	VZEROUPPER
	RET

// The scalings of a head's accumulator (ms != 1), out of the loop's way.
a4scale0:
	H4SCALE(Z0, Z1, Z2, Z3)
	JMP  a4mad0

a4scale1:
	H4SCALE(Z4, Z5, Z6, Z7)
	JMP  a4mad1

a4scale2:
	H4SCALE(Z8, Z9, Z10, Z11)
	JMP  a4mad2

a4scale3:
	H4SCALE(Z12, Z13, Z14, Z15)
	JMP  a4mad3
