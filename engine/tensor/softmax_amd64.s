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
