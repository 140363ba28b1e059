#include "textflag.h"

// The four-head softmax kernels' shared steps: SCORES4 gathers the four
// heads' scores at a position (SI, heads BX bytes apart, R10 = 3*BX) into
// X0; NEXTPOS steps the scores, ms (DI) and vs (DX) to the next position
// and counts it off CX.
#define SCORES4 \
	VMOVSS (SI), X0; \
	VINSERTPS $0x10, (SI)(BX*1), X0, X0; \
	VINSERTPS $0x20, (SI)(BX*2), X0, X0; \
	VINSERTPS $0x30, (SI)(R10*1), X0, X0

#define NEXTPOS \
	ADDQ $4, SI; \
	ADDQ $16, DI; \
	ADDQ $16, DX; \
	DECQ CX

// SoftmaxFactors4 with AVX-512: four heads' online softmax in the four
// lanes of one vector, position by position. Per lane the operations are
// SoftmaxFactors' (softmax.go):
//   v = sc*scale; if v > max { m = Expf(max-v); e = 1; max = v } else { m = 1; e = Expf(v-max) }
//   sum = fma(sum, m, e)   (SoftmaxSum: for m = 1 the add is the same)
// and Expf's common path in float64 lanes (libm/expf.go):
//   kd = fma(InvLn2N, x, Shift); ki = bits(kd); kd -= Shift
//   r  = fma(InvLn2N, x, -kd)
//   s  = frombits(tab[ki%32] + ki<<47)
//   z  = fma(C0, r, C1); r2 = r*r; y = fma(C2, r, 1); y = fma(z, r2, y)
//   e  = float32(y*s)
// For the arguments the softmax makes (at most 0, or NaN) the common path
// alone gives Expf's results from Underflow (-103.97) up, its subnormal
// results and quieted NaNs included (TestSoftmaxFactors4 sweeps them);
// below Underflow, and for -Inf, the table's exponent field would wrap,
// so 0 is blended in there.
// Registers: SI head 0's score at the position (heads BX bytes apart),
// DI/DX the position's ms/vs, CX positions left; X16 scale, X17 the
// maxima, X18 the sums, Y20-Y25 Expf's constants, Y26 the index mask,
// X27 1.0, X28 Underflow, X31 zero.
// func softmax4AVX512(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[4]float32, ev *libm.ExpfVector)
TEXT ·softmax4AVX512(SB), NOSPLIT, $0-64
	MOVQ sc+0(FP), SI
	MOVQ hstride+8(FP), BX
	MOVQ np+16(FP), CX
	VBROADCASTSS scale+24(FP), X16
	MOVQ ms+32(FP), DI
	MOVQ vs+40(FP), DX
	MOVQ ev+56(FP), R8
	VBROADCASTSD 256(R8), Y20 // Shift
	VBROADCASTSD 264(R8), Y21 // InvLn2N
	VBROADCASTSD 272(R8), Y22 // C0
	VBROADCASTSD 280(R8), Y23 // C1
	VBROADCASTSD 288(R8), Y24 // C2
	VBROADCASTSD 296(R8), Y25 // 1.0
	VBROADCASTSS 304(R8), X28 // Underflow
	MOVQ $31, AX
	VPBROADCASTQ AX, Y26
	MOVL $0x3f800000, AX
	VPBROADCASTD AX, X27
	VPXORD X31, X31, X31
	MOVL $0xff800000, AX
	VPBROADCASTD AX, X17      // maxima: -Inf
	VXORPS X18, X18, X18      // sums: 0
	LEAQ (BX)(BX*2), R10
	TESTQ CX, CX
	JZ   done

loop:
	SCORES4
	VMULPS X16, X0, X0        // v
	VCMPPS $0x1e, X17, X0, K1 // v > max (ordered: false for a NaN)
	VSUBPS X17, X0, X1        // x = v - max
	VSUBPS X0, X17, K1, X1    // or max - v where v > max
	VMOVAPS X0, K1, X17       // max = v there

	VCVTPS2PD X1, Y3
	VMOVAPD Y20, Y4
	VFMADD231PD Y21, Y3, Y4   // kd = InvLn2N*x + Shift
	VSUBPD Y20, Y4, Y5        // kd - Shift
	VFMSUB231PD Y21, Y3, Y5   // r = InvLn2N*x - kd
	VPANDQ Y26, Y4, Y6        // ki % 32
	KXNORB K2, K2, K2
	VPGATHERQQ (R8)(Y6*8), K2, Y7
	VPSLLQ $47, Y4, Y8
	VPADDQ Y8, Y7, Y7         // s
	VMOVAPD Y23, Y9
	VFMADD231PD Y22, Y5, Y9   // z = C0*r + C1
	VMULPD Y5, Y5, Y10        // r2
	VMOVAPD Y25, Y11
	VFMADD231PD Y24, Y5, Y11  // y = C2*r + 1
	VFMADD231PD Y9, Y10, Y11  // y = z*r2 + y
	VMULPD Y7, Y11, Y11
	VCVTPD2PSY Y11, X2        // e
	VCMPPS $0x11, X28, X1, K3 // x < Underflow, or -Inf
	VMOVAPS X31, K3, X2

	VMOVAPS X27, X12
	VMOVAPS X2, K1, X12       // m
	VMOVAPS X2, X13
	VMOVAPS X27, K1, X13      // e
	VMOVUPS X12, (DI)
	VMOVUPS X13, (DX)
	VFMADD213PS X13, X12, X18 // sum = sum*m + e
	NEXTPOS
	JNZ  loop

done:
	MOVQ sums+48(FP), AX
	VMOVUPS X18, (AX)
	VZEROUPPER
	RET

DATA softmaxMask31<>+0(SB)/8, $31
GLOBL softmaxMask31<>(SB), RODATA|NOPTR, $8
DATA softmaxOne<>+0(SB)/4, $0x3f800000
GLOBL softmaxOne<>(SB), RODATA|NOPTR, $4

// softmax4AVX512's operations with AVX2, for CPUs without AVX-512: the
// same lanes, the masks as vectors (VBLENDVPS) instead of mask registers,
// and Expf's constants broadcast from ev at each use, since AVX2's sixteen
// registers cannot hold them all beside the loop's values.
// Registers: as softmax4AVX512 (SI, BX, R10, DI, DX, CX, R8), X15 scale,
// X14 the maxima, X13 the sums, X12 1.0.
// func softmax4AVX2(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[4]float32, ev *libm.ExpfVector)
TEXT ·softmax4AVX2(SB), NOSPLIT, $0-64
	MOVQ sc+0(FP), SI
	MOVQ hstride+8(FP), BX
	MOVQ np+16(FP), CX
	VBROADCASTSS scale+24(FP), X15
	MOVQ ms+32(FP), DI
	MOVQ vs+40(FP), DX
	MOVQ ev+56(FP), R8
	VBROADCASTSS softmaxOne<>(SB), X12
	MOVL $0xff800000, AX
	VMOVD AX, X14
	VPBROADCASTD X14, X14     // maxima: -Inf
	VXORPS X13, X13, X13      // sums: 0
	LEAQ (BX)(BX*2), R10
	TESTQ CX, CX
	JZ   done2

loop2:
	SCORES4
	VMULPS X15, X0, X0        // v
	VCMPPS $0x1e, X14, X0, X1 // v > max (ordered: false for a NaN)
	VSUBPS X14, X0, X2        // v - max
	VSUBPS X0, X14, X3        // max - v
	VBLENDVPS X1, X3, X2, X2  // x: max - v where v > max
	VBLENDVPS X1, X0, X14, X14 // max = v there

	VCVTPS2PD X2, Y3
	VBROADCASTSD 256(R8), Y4  // Shift
	VBROADCASTSD 264(R8), Y5  // InvLn2N
	VMOVAPD Y4, Y6
	VFMADD231PD Y5, Y3, Y6    // kd = InvLn2N*x + Shift
	VSUBPD Y4, Y6, Y7         // kd - Shift
	VFMSUB231PD Y5, Y3, Y7    // r = InvLn2N*x - kd
	VPBROADCASTQ softmaxMask31<>(SB), Y8
	VPAND Y8, Y6, Y8          // ki % 32
	VPCMPEQD Y9, Y9, Y9
	VPGATHERQQ Y9, (R8)(Y8*8), Y10
	VPSLLQ $47, Y6, Y11
	VPADDQ Y11, Y10, Y10      // s
	VBROADCASTSD 272(R8), Y4  // C0
	VBROADCASTSD 280(R8), Y5  // C1
	VFMADD213PD Y5, Y7, Y4    // z = C0*r + C1
	VMULPD Y7, Y7, Y11        // r2
	VBROADCASTSD 288(R8), Y5  // C2
	VBROADCASTSD 296(R8), Y6  // 1.0
	VFMADD213PD Y6, Y7, Y5    // y = C2*r + 1
	VFMADD231PD Y4, Y11, Y5   // y = z*r2 + y
	VMULPD Y10, Y5, Y5
	VCVTPD2PSY Y5, X5         // e
	VBROADCASTSS 304(R8), X6  // Underflow
	VCMPPS $0x11, X6, X2, X6  // x < Underflow, or -Inf
	VANDNPS X5, X6, X5        // 0 there

	VBLENDVPS X1, X5, X12, X6 // m
	VBLENDVPS X1, X12, X5, X7 // e
	VMOVUPS X6, (DI)
	VMOVUPS X7, (DX)
	VFMADD213PS X7, X6, X13   // sum = sum*m + e
	NEXTPOS
	JNZ  loop2

done2:
	MOVQ sums+48(FP), AX
	VMOVUPS X13, (AX)
	VZEROUPPER
	RET

// SoftmaxFactors8 with AVX-512: softmax4AVX512's operations for eight
// heads in the eight lanes of one vector (Expf's float64 steps in a
// 512-bit vector), so that a position's pass of the loop serves eight
// heads. The scores of a position are gathered from the eight heads'
// rows (Y19: their byte offsets, multiples of hstride); Expf's table is
// read with two-table permutes from registers (Z10-Z13) instead of a
// gather. The factors of heads 0-3 go to ms/vs as softmax4AVX512 writes
// them and those of heads 4-7 R15 = 16*np bytes on (MadRowsF16Heads8's
// layout).
// Registers: SI head 0's score at the position, DI/DX the position's
// ms/vs, CX positions left; Y16 scale, Y17 the maxima, Y18 the sums,
// Z20-Z25 Expf's constants, Z26 16 (the table half's bit), Y27 1.0,
// Y28 Underflow, Y31 zero.
// func softmax8AVX512(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[8]float32, ev *libm.ExpfVector)
TEXT ·softmax8AVX512(SB), NOSPLIT, $0-64
	MOVQ sc+0(FP), SI
	MOVQ np+16(FP), CX
	MOVQ CX, R15
	SHLQ $4, R15
	VBROADCASTSS scale+24(FP), Y16
	MOVQ ms+32(FP), DI
	MOVQ vs+40(FP), DX
	MOVQ ev+56(FP), R8
	VMOVDQU64 0(R8), Z10
	VMOVDQU64 64(R8), Z11
	VMOVDQU64 128(R8), Z12
	VMOVDQU64 192(R8), Z13
	VBROADCASTSD 256(R8), Z20 // Shift
	VBROADCASTSD 264(R8), Z21 // InvLn2N
	VBROADCASTSD 272(R8), Z22 // C0
	VBROADCASTSD 280(R8), Z23 // C1
	VBROADCASTSD 288(R8), Z24 // C2
	VBROADCASTSD 296(R8), Z25 // 1.0
	VBROADCASTSS 304(R8), Y28 // Underflow
	MOVQ $16, AX
	VPBROADCASTQ AX, Z26
	MOVL $0x3f800000, AX
	VPBROADCASTD AX, Y27
	VPXORD Y31, Y31, Y31
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Y17      // maxima: -Inf
	VXORPS Y18, Y18, Y18      // sums: 0
	MOVQ hstride+8(FP), AX
	VPBROADCASTD AX, Y19
	VPMULLD softmaxIota<>(SB), Y19, Y19
	TESTQ CX, CX
	JZ   s8done

s8loop:
	KXNORB K2, K2, K2
	VGATHERDPS (SI)(Y19*1), K2, Y0
	VMULPS Y16, Y0, Y0        // v
	VCMPPS $0x1e, Y17, Y0, K1 // v > max (ordered: false for a NaN)
	VSUBPS Y17, Y0, Y1        // x = v - max
	VSUBPS Y0, Y17, K1, Y1    // or max - v where v > max
	VMOVAPS Y0, K1, Y17       // max = v there

	VCVTPS2PD Y1, Z3
	VMOVAPD Z20, Z4
	VFMADD231PD Z21, Z3, Z4   // kd = InvLn2N*x + Shift
	VSUBPD Z20, Z4, Z5        // kd - Shift
	VFMSUB231PD Z21, Z3, Z5   // r = InvLn2N*x - kd
	VMOVDQA64 Z4, Z6
	VPERMI2Q Z11, Z10, Z6     // tab[ki%16] of entries 0-15
	VMOVDQA64 Z4, Z7
	VPERMI2Q Z13, Z12, Z7     // and of entries 16-31
	VPTESTMQ Z26, Z4, K3
	VMOVDQA64 Z7, K3, Z6      // tab[ki%32]
	VPSLLQ $47, Z4, Z8
	VPADDQ Z8, Z6, Z6         // s
	VMOVAPD Z23, Z9
	VFMADD231PD Z22, Z5, Z9   // z = C0*r + C1
	VMULPD Z5, Z5, Z14        // r2
	VMOVAPD Z25, Z15
	VFMADD231PD Z24, Z5, Z15  // y = C2*r + 1
	VFMADD231PD Z9, Z14, Z15  // y = z*r2 + y
	VMULPD Z6, Z15, Z15
	VCVTPD2PS Z15, Y2         // e
	VCMPPS $0x11, Y28, Y1, K3 // x < Underflow, or -Inf
	VMOVAPS Y31, K3, Y2

	VMOVAPS Y27, Y29
	VMOVAPS Y2, K1, Y29       // m
	VMOVAPS Y2, Y30
	VMOVAPS Y27, K1, Y30      // e
	VMOVUPS X29, (DI)
	VEXTRACTF32X4 $1, Y29, (DI)(R15*1)
	VMOVUPS X30, (DX)
	VEXTRACTF32X4 $1, Y30, (DX)(R15*1)
	VFMADD213PS Y30, Y29, Y18 // sum = sum*m + e
	ADDQ $4, SI
	ADDQ $16, DI
	ADDQ $16, DX
	DECQ CX
	JNZ  s8loop

s8done:
	MOVQ sums+48(FP), AX
	VMOVUPS Y18, (AX)
	VZEROUPPER
	RET

DATA softmaxIota<>+0(SB)/4, $0
DATA softmaxIota<>+4(SB)/4, $1
DATA softmaxIota<>+8(SB)/4, $2
DATA softmaxIota<>+12(SB)/4, $3
DATA softmaxIota<>+16(SB)/4, $4
DATA softmaxIota<>+20(SB)/4, $5
DATA softmaxIota<>+24(SB)/4, $6
DATA softmaxIota<>+28(SB)/4, $7
GLOBL softmaxIota<>(SB), RODATA|NOPTR, $32

// The fused kernel's two steps, as macros so that its software pipeline
// can place them. SMFACTORS is softmax8AVX512's loop body for the
// position at SI: the scores gathered, the maxima raised, the exponential
// (Expf's steps, its constants broadcast from R8), m in Y30 and e in Y31,
// the sums in Y18 updated, SI stepped. SMMAD is madRowsF16Heads8AVX512's
// for the position at R11 with m in Y8 and e in Y9: the scale by m where
// any head's is not 1 (skip labels the multiply-add after it), then the
// fused multiply-add of the value rows by e, each rounded to F16.
#define SMFACTORS \
	KXNORB K2, K2, K2; \
	VGATHERDPS (SI)(Y19*1), K2, Y24; \
	VMULPS Y16, Y24, Y24; \
	VCMPPS $0x1e, Y17, Y24, K1; \
	VSUBPS Y17, Y24, Y25; \
	VSUBPS Y24, Y17, K1, Y25; \
	VMOVAPS Y24, K1, Y17; \
	VCVTPS2PD Y25, Z26; \
	VBROADCASTSD 256(R8), Z27; \
	VFMADD231PD.BCST 264(R8), Z26, Z27; \
	VSUBPD.BCST 256(R8), Z27, Z28; \
	VFMSUB231PD.BCST 264(R8), Z26, Z28; \
	VMOVDQA64 Z27, Z29; \
	VPERMI2Q Z11, Z10, Z29; \
	VMOVDQA64 Z27, Z30; \
	VPERMI2Q Z13, Z12, Z30; \
	VPTESTMQ.BCST sm16<>(SB), Z27, K3; \
	VMOVDQA64 Z30, K3, Z29; \
	VPSLLQ $47, Z27, Z31; \
	VPADDQ Z31, Z29, Z29; \
	VBROADCASTSD 280(R8), Z4; \
	VFMADD231PD.BCST 272(R8), Z28, Z4; \
	VMULPD Z28, Z28, Z5; \
	VBROADCASTSD 296(R8), Z6; \
	VFMADD231PD.BCST 288(R8), Z28, Z6; \
	VFMADD231PD Z4, Z5, Z6; \
	VMULPD Z29, Z6, Z6; \
	VCVTPD2PS Z6, Y7; \
	VBROADCASTSS 304(R8), Y26; \
	VCMPPS $0x11, Y26, Y25, K3; \
	VXORPS Y7, Y7, K3, Y7; \
	VMOVAPS Y15, Y30; \
	VMOVAPS Y7, K1, Y30; \
	VMOVAPS Y7, Y31; \
	VMOVAPS Y15, K1, Y31; \
	VFMADD213PS Y31, Y30, Y18; \
	ADDQ $4, SI;

#define SMMAD(skip) \
	VCMPPS $4, Y15, Y8, K4; \
	KORTESTB K4, K4; \
	JZ   skip; \
	VPERMPS Z8, Z20, Z24; \
	VPERMPS Z8, Z21, Z25; \
	VPERMPS Z8, Z22, Z26; \
	VPERMPS Z8, Z23, Z27; \
	VMULPS Z24, Z0, Z0; \
	VMULPS Z25, Z1, Z1; \
	VMULPS Z26, Z2, Z2; \
	VMULPS Z27, Z3, Z3; \
	VCVTPS2PH $0, Z0, Y4; \
	VCVTPS2PH $0, Z1, Y5; \
	VCVTPS2PH $0, Z2, Y6; \
	VCVTPS2PH $0, Z3, Y7; \
	VCVTPH2PS Y4, Z0; \
	VCVTPH2PS Y5, Z1; \
	VCVTPH2PS Y6, Z2; \
	VCVTPH2PS Y7, Z3; \
	skip: \
	VPERMPS Z9, Z20, Z24; \
	VPERMPS Z9, Z21, Z25; \
	VPERMPS Z9, Z22, Z26; \
	VPERMPS Z9, Z23, Z27; \
	MOVQ 0(R14), R12; \
	MOVQ 8(R14), R13; \
	VMOVDQU (R11)(R12*1), X4; \
	VINSERTI128 $1, (R11)(R13*1), Y4, Y4; \
	MOVQ 16(R14), R12; \
	MOVQ 24(R14), R13; \
	VMOVDQU (R11)(R12*1), X5; \
	VINSERTI128 $1, (R11)(R13*1), Y5, Y5; \
	MOVQ 32(R14), R12; \
	MOVQ 40(R14), R13; \
	VMOVDQU (R11)(R12*1), X6; \
	VINSERTI128 $1, (R11)(R13*1), Y6, Y6; \
	MOVQ 48(R14), R12; \
	MOVQ 56(R14), R13; \
	VMOVDQU (R11)(R12*1), X7; \
	VINSERTI128 $1, (R11)(R13*1), Y7, Y7; \
	VCVTPH2PS Y4, Z4; \
	VCVTPH2PS Y5, Z5; \
	VCVTPH2PS Y6, Z6; \
	VCVTPH2PS Y7, Z7; \
	VFMADD231PS Z24, Z4, Z0; \
	VFMADD231PS Z25, Z5, Z1; \
	VFMADD231PS Z26, Z6, Z2; \
	VFMADD231PS Z27, Z7, Z3; \
	VCVTPS2PH $0, Z0, Y4; \
	VCVTPS2PH $0, Z1, Y5; \
	VCVTPS2PH $0, Z2, Y6; \
	VCVTPS2PH $0, Z3, Y7; \
	VCVTPH2PS Y4, Z0; \
	VCVTPH2PS Y5, Z1; \
	VCVTPH2PS Y6, Z2; \
	VCVTPH2PS Y7, Z3;

// softmaxMadHeads8AVX512: SoftmaxFactors8 and MadRowsF16Heads8 for eight
// heads of 8 values in one pass over the positions: softmax8AVX512's
// operations make the eight heads' factors m and e of a position
// (SMFACTORS, not stored) and madRowsF16Heads8AVX512's apply them to the
// running sums (SMMAD), the factors made one position ahead of their use.
// The value sums' chain (a fused multiply-add and an F16 rounding per
// position) is latency-bound and the softmax's steps are independent of
// it, so each fills the other's idle cycles: 8 heads over 35 positions,
// 483-503 ns against 572-610 for the two kernels apart. Made in the same
// iteration as their use, the factors' test for the scale waited on the
// exponential, and the kernel was slower than the two apart (830 ns).
// Registers: SI head 0's score at the position (Y19 the heads' byte
// offsets), R8 Expf's table and constants (Z10-Z13 the table; the
// constants read as broadcast operands), R11 the position's value rows
// (head h's at R11+offs[h], from R14), BX stride, CX positions left;
// Z0-Z3 the sums of heads (0,1), (2,3), (4,5), (6,7), Y15 1.0, Y16 scale,
// Y17 the maxima, Y18 the softmax sums, Z20-Z23 the factor spreads.
// func softmaxMadHeads8AVX512(acc, vals *uint16, stride uintptr, offs *[8]uintptr, sc *float32, hstride uintptr, np int, scale float32, sums *[8]float32, ev *libm.ExpfVector)
TEXT ·softmaxMadHeads8AVX512(SB), NOSPLIT, $0-80
	MOVQ np+48(FP), CX
	MOVQ acc+0(FP), DI
	VBROADCASTSS attn1<>(SB), Y15
	VMOVDQU16 (DI), Y0
	VMOVDQU16 32(DI), Y1
	VMOVDQU16 64(DI), Y2
	VMOVDQU16 96(DI), Y3
	VCVTPH2PS Y0, Z0
	VCVTPH2PS Y1, Z1
	VCVTPH2PS Y2, Z2
	VCVTPH2PS Y3, Z3
	VXORPS Y18, Y18, Y18      // sums: 0
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Y17      // maxima: -Inf
	TESTQ CX, CX
	JZ   smdone
	MOVQ vals+8(FP), R11
	MOVQ stride+16(FP), BX
	MOVQ offs+24(FP), R14
	MOVQ sc+32(FP), SI
	VBROADCASTSS scale+56(FP), Y16
	MOVQ ev+72(FP), R8
	VMOVDQU64 0(R8), Z10
	VMOVDQU64 64(R8), Z11
	VMOVDQU64 128(R8), Z12
	VMOVDQU64 192(R8), Z13
	VMOVDQU32 smidx<>+0(SB), Z20
	VMOVDQU32 smidx<>+64(SB), Z21
	VMOVDQU32 smidx<>+128(SB), Z22
	VMOVDQU32 smidx<>+192(SB), Z23
	MOVQ hstride+40(FP), AX
	VPBROADCASTD AX, Y19
	VPMULLD smiota<>(SB), Y19, Y19

	// Software-pipelined: the factors of the next position are made
	// before the value sums take this one's, so that the test of this
	// position's factors (and its branch) does not wait on their making.
	SMFACTORS
	VMOVAPS Y30, Y8
	VMOVAPS Y31, Y9
	DECQ CX
	JZ   smlast

smloop:
	SMFACTORS
	SMMAD(smskip1)
	VMOVAPS Y30, Y8
	VMOVAPS Y31, Y9
	ADDQ BX, R11
	DECQ CX
	JNZ  smloop

smlast:
	SMMAD(smskip2)

smdone:
	VCVTPS2PH $0, Z0, (DI)
	VCVTPS2PH $0, Z1, 32(DI)
	VCVTPS2PH $0, Z2, 64(DI)
	VCVTPS2PH $0, Z3, 96(DI)
	MOVQ sums+64(FP), AX
	VMOVUPS Y18, (AX)
	VZEROUPPER
	RET

DATA attn1<>+0(SB)/4, $0x3f800000
GLOBL attn1<>(SB), RODATA|NOPTR, $4
DATA sm16<>+0(SB)/8, $16
GLOBL sm16<>(SB), RODATA|NOPTR, $8
DATA smiota<>+0(SB)/4, $0
DATA smiota<>+4(SB)/4, $1
DATA smiota<>+8(SB)/4, $2
DATA smiota<>+12(SB)/4, $3
DATA smiota<>+16(SB)/4, $4
DATA smiota<>+20(SB)/4, $5
DATA smiota<>+24(SB)/4, $6
DATA smiota<>+28(SB)/4, $7
GLOBL smiota<>(SB), RODATA|NOPTR, $32
DATA smidx<>+0(SB)/8, $0x0000000000000000
DATA smidx<>+8(SB)/8, $0x0000000000000000
DATA smidx<>+16(SB)/8, $0x0000000000000000
DATA smidx<>+24(SB)/8, $0x0000000000000000
DATA smidx<>+32(SB)/8, $0x0000000100000001
DATA smidx<>+40(SB)/8, $0x0000000100000001
DATA smidx<>+48(SB)/8, $0x0000000100000001
DATA smidx<>+56(SB)/8, $0x0000000100000001
DATA smidx<>+64(SB)/8, $0x0000000200000002
DATA smidx<>+72(SB)/8, $0x0000000200000002
DATA smidx<>+80(SB)/8, $0x0000000200000002
DATA smidx<>+88(SB)/8, $0x0000000200000002
DATA smidx<>+96(SB)/8, $0x0000000300000003
DATA smidx<>+104(SB)/8, $0x0000000300000003
DATA smidx<>+112(SB)/8, $0x0000000300000003
DATA smidx<>+120(SB)/8, $0x0000000300000003
DATA smidx<>+128(SB)/8, $0x0000000400000004
DATA smidx<>+136(SB)/8, $0x0000000400000004
DATA smidx<>+144(SB)/8, $0x0000000400000004
DATA smidx<>+152(SB)/8, $0x0000000400000004
DATA smidx<>+160(SB)/8, $0x0000000500000005
DATA smidx<>+168(SB)/8, $0x0000000500000005
DATA smidx<>+176(SB)/8, $0x0000000500000005
DATA smidx<>+184(SB)/8, $0x0000000500000005
DATA smidx<>+192(SB)/8, $0x0000000600000006
DATA smidx<>+200(SB)/8, $0x0000000600000006
DATA smidx<>+208(SB)/8, $0x0000000600000006
DATA smidx<>+216(SB)/8, $0x0000000600000006
DATA smidx<>+224(SB)/8, $0x0000000700000007
DATA smidx<>+232(SB)/8, $0x0000000700000007
DATA smidx<>+240(SB)/8, $0x0000000700000007
DATA smidx<>+248(SB)/8, $0x0000000700000007
GLOBL smidx<>(SB), RODATA|NOPTR, $256
