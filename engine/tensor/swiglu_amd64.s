#include "textflag.h"

// SwiGLU on runs of 16 with ggml_v_expf's operations (see swiglu.go):
// per value x of gate, e = expf(-x) as ggml_v_expf computes it, then
// gate = x/(1+e) * up.

DATA swC<>+0(SB)/4, $0x4b400000  // r = 0x1.8p23
DATA swC<>+4(SB)/4, $0x3fb8aa3b  // 0x1.715476p+0 (log2 e)
DATA swC<>+8(SB)/4, $0x3f317200  // 0x1.62e4p-1 (ln 2, high part)
DATA swC<>+12(SB)/4, $0x35bfbe8e // 0x1.7f7d1cp-20 (ln 2, low part)
DATA swC<>+16(SB)/4, $0x3c072010 // 0x1.0e4020p-7
DATA swC<>+20(SB)/4, $0x3d2b9f17 // 0x1.573e2ep-5
DATA swC<>+24(SB)/4, $0x3e2aaf33 // 0x1.555e66p-3
DATA swC<>+28(SB)/4, $0x3efffedb // 0x1.fffdb6p-2
DATA swC<>+32(SB)/4, $0x3f7ffff6 // 0x1.ffffecp-1
DATA swC<>+36(SB)/4, $0x3f800000 // 1
DATA swC<>+40(SB)/4, $0x43400000 // 192
DATA swC<>+44(SB)/4, $0x7fffffff // abs mask
DATA swC<>+48(SB)/4, $0x7f800000 // +Inf
DATA swC<>+52(SB)/4, $0x0000007f // 127 (exponent bias, AVX2 only)
DATA swC<>+56(SB)/4, $0xc2fc0000 // -126 (AVX2 only)
DATA swC<>+60(SB)/4, $0x42fe0000 // 127 (AVX2 only)
DATA swC<>+64(SB)/4, $0xc3400000 // -192 (AVX2 only)
GLOBL swC<>(SB), RODATA|NOPTR, $68

// func swiglu16AVX512(gate, up *float32, n int)
TEXT ·swiglu16AVX512(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   done512
	VBROADCASTSS swC<>+0(SB), Z16
	VBROADCASTSS swC<>+4(SB), Z17
	VBROADCASTSS swC<>+8(SB), Z18
	VBROADCASTSS swC<>+12(SB), Z19
	VBROADCASTSS swC<>+16(SB), Z20
	VBROADCASTSS swC<>+20(SB), Z21
	VBROADCASTSS swC<>+24(SB), Z22
	VBROADCASTSS swC<>+28(SB), Z23
	VBROADCASTSS swC<>+32(SB), Z24
	VBROADCASTSS swC<>+36(SB), Z25
	VBROADCASTSS swC<>+40(SB), Z26
	VPBROADCASTD swC<>+44(SB), Z27
	VBROADCASTSS swC<>+48(SB), Z28
	VPXORD Z29, Z29, Z29

loop512:
	VMOVUPS (DI), Z0
	VSUBPS  Z0, Z29, Z1          // -x
	VMOVAPS Z16, Z2
	VFMADD231PS Z17, Z1, Z2      // z = -x*log2e + r
	VSUBPS  Z16, Z2, Z3          // n = z - r
	VMOVAPS Z1, Z4
	VFNMADD231PS Z18, Z3, Z4     // b = -x - n*ln2hi
	VFNMADD231PS Z19, Z3, Z4     // b -= n*ln2lo
	VMULPS  Z4, Z4, Z5           // u = b*b
	VMOVAPS Z21, Z6
	VFMADD231PS Z20, Z4, Z6      // c5*b + c4
	VMOVAPS Z23, Z7
	VFMADD231PS Z22, Z4, Z7      // c3*b + c2
	VFMADD231PS Z6, Z5, Z7       // (c5*b+c4)*u + (c3*b+c2)
	VMOVAPS Z25, Z8
	VFMADD231PS Z24, Z4, Z8      // c1*b + 1
	VFMADD231PS Z7, Z5, Z8       // j
	VSCALEFPS Z3, Z8, Z9         // e = j * 2^n
	VPANDD  Z27, Z3, Z10
	VCMPPS  $0x1e, Z26, Z10, K1  // |n| > 192
	KORTESTW K1, K1
	JZ      normal512
	VCMPPS  $0x12, Z29, Z3, K2   // n <= 0
	VBLENDMPS Z29, Z28, K2, Z11  // 0 where n <= 0, +Inf elsewhere
	VMOVAPS Z11, K1, Z9

normal512:
	VADDPS  Z25, Z9, Z9          // 1 + e
	VDIVPS  Z9, Z0, Z0           // x / (1 + e)
	VMULPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	DECQ CX
	JNZ  loop512

done512:
	VZEROUPPER
	RET

// The same per value in eight lanes. AVX2 has no VSCALEFPS: 2^n is
// applied as two multiplies by powers of two within float range. That can
// round twice only where e is subnormal, and then 1+e is exactly 1 either
// way, so SwiGLU's result is the same; past ggml's |n| > 192 cut-off the
// products overflow to +Inf or vanish just as its special case does.
// func swiglu16AVX2(gate, up *float32, n int)
TEXT ·swiglu16AVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done2
	VBROADCASTSS swC<>+0(SB), Y15
	VBROADCASTSS swC<>+36(SB), Y14

loop2:
	VMOVUPS (DI), Y0
	VXORPS  Y1, Y1, Y1
	VSUBPS  Y0, Y1, Y1           // -x
	VMOVAPS Y15, Y2
	VBROADCASTSS swC<>+4(SB), Y12
	VFMADD231PS Y12, Y1, Y2      // z
	VSUBPS  Y15, Y2, Y3          // n
	VMOVAPS Y1, Y4
	VBROADCASTSS swC<>+8(SB), Y12
	VFNMADD231PS Y12, Y3, Y4
	VBROADCASTSS swC<>+12(SB), Y12
	VFNMADD231PS Y12, Y3, Y4     // b
	VMULPS  Y4, Y4, Y5           // u
	VBROADCASTSS swC<>+20(SB), Y6
	VBROADCASTSS swC<>+16(SB), Y12
	VFMADD231PS Y12, Y4, Y6
	VBROADCASTSS swC<>+28(SB), Y7
	VBROADCASTSS swC<>+24(SB), Y12
	VFMADD231PS Y12, Y4, Y7
	VFMADD231PS Y6, Y5, Y7
	VMOVAPS Y14, Y8
	VBROADCASTSS swC<>+32(SB), Y12
	VFMADD231PS Y12, Y4, Y8
	VFMADD231PS Y7, Y5, Y8       // j
	// 2^n1 with n1 = clamp(n, -126, 127), then 2^n2, n2 = clamp(n-n1, -126, 127)
	VBROADCASTSS swC<>+56(SB), Y11
	VBROADCASTSS swC<>+60(SB), Y13
	VMAXPS  Y11, Y3, Y9
	VMINPS  Y13, Y9, Y9          // n1
	VSUBPS  Y9, Y3, Y10
	VMAXPS  Y11, Y10, Y10
	VMINPS  Y13, Y10, Y10        // n2
	VPBROADCASTD swC<>+52(SB), Y12
	VCVTPS2DQ Y9, Y9
	VPADDD  Y12, Y9, Y9
	VPSLLD  $23, Y9, Y9          // 2^n1
	VMULPS  Y9, Y8, Y8
	VCVTPS2DQ Y10, Y10
	VPADDD  Y12, Y10, Y10
	VPSLLD  $23, Y10, Y10        // 2^n2
	VMULPS  Y10, Y8, Y8          // e
	// ggml's cut-off: e = 0 below n = -192, +Inf above 192.
	VBROADCASTSS swC<>+64(SB), Y11
	VCMPPS  $0x11, Y11, Y3, Y9   // n < -192
	VANDNPS Y8, Y9, Y8
	VBROADCASTSS swC<>+40(SB), Y11
	VCMPPS  $0x1e, Y11, Y3, Y9   // n > 192
	VBROADCASTSS swC<>+48(SB), Y11
	VBLENDVPS Y9, Y11, Y8, Y8
	VADDPS  Y14, Y8, Y8
	VDIVPS  Y8, Y0, Y0
	VMULPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ  loop2

done2:
	VZEROUPPER
	RET
