#include "textflag.h"

// func expf8AVX512(dst, src *float32, n int, tab *[32]uint64, consts *[6]float64) (special bool)
//
// Per lane, as Expf (expf.go):
//   kd = fma(InvLn2N, x, Shift); ki = bits(kd); kd -= Shift
//   r  = fma(InvLn2N, x, -kd)
//   s  = frombits(tab[ki%32] + ki<<47)
//   z  = fma(C0, r, C1); r2 = r*r; y = fma(C2, r, 1); y = fma(z, r2, y)
//   result = float32(y*s)
TEXT ·expf8AVX512(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ tab+24(FP), R8
	MOVQ consts+32(FP), R9
	VBROADCASTSD 0(R9), Z20  // Shift
	VBROADCASTSD 8(R9), Z21  // InvLn2N
	VBROADCASTSD 16(R9), Z22 // C0
	VBROADCASTSD 24(R9), Z23 // C1
	VBROADCASTSD 32(R9), Z24 // C2
	VBROADCASTSD 40(R9), Z25 // 1
	MOVQ $31, AX
	VPBROADCASTQ AX, Z26     // ki%32 mask
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Y27     // |x| mask
	MOVL $0x42b00000, AX     // abstop12(x) >= 0x42b: |x| >= 88, Inf, NaN
	VPBROADCASTD AX, Y28
	VPXORD Y29, Y29, Y29     // special lanes seen (any nonzero lane)

loop:
	VMOVUPS (SI), Y0
	VPANDD Y27, Y0, Y1
	VPCMPUD $5, Y28, Y1, K2  // not less than: abs >= threshold
	VPMOVM2D K2, Y1
	VPORD Y1, Y29, Y29

	VCVTPS2PD Y0, Z1         // x as float64
	VMOVAPD Z20, Z2
	VFMADD231PD Z21, Z1, Z2  // kd = x*InvLn2N + Shift
	VSUBPD Z20, Z2, Z3       // kd - Shift
	VFMSUB231PD Z21, Z1, Z3  // r = x*InvLn2N - kd
	VPANDQ Z26, Z2, Z5       // ki % 32
	KXNORB K1, K1, K1
	VPGATHERQQ (R8)(Z5*8), K1, Z6
	VPSLLQ $47, Z2, Z7
	VPADDQ Z7, Z6, Z6        // s
	VMOVAPD Z23, Z8
	VFMADD231PD Z22, Z3, Z8  // z = r*C0 + C1
	VMULPD Z3, Z3, Z9        // r2
	VMOVAPD Z25, Z10
	VFMADD231PD Z24, Z3, Z10 // y = r*C2 + 1
	VFMADD231PD Z8, Z9, Z10  // y = r2*z + y
	VMULPD Z6, Z10, Z10      // y*s
	VCVTPD2PS Z10, Y11
	VMOVUPS Y11, (DI)

	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  loop

	VPTESTMD Y29, Y29, K3
	KMOVB K3, AX
	TESTB AL, AL
	SETNE special+40(FP)
	VZEROUPPER
	RET
