#include "textflag.h"

DATA ropeDup<>+0(SB)/4, $0
DATA ropeDup<>+4(SB)/4, $0
DATA ropeDup<>+8(SB)/4, $1
DATA ropeDup<>+12(SB)/4, $1
DATA ropeDup<>+16(SB)/4, $2
DATA ropeDup<>+20(SB)/4, $2
DATA ropeDup<>+24(SB)/4, $3
DATA ropeDup<>+28(SB)/4, $3
GLOBL ropeDup<>(SB), RODATA|NOPTR, $32

// func ropePairsAVX2(x *float32, heads, stride, half int, cs, sn *float32)
//
// Four pairs per vector (half a multiple of 4), the angle vectors built
// once per chunk for all heads: with E the even lanes duplicated (x0 x0),
// O the odd ones (x1 x1), F = (cos, sin) and R = (-sin, cos) per pair,
// each lane is fma(E, F, O*R): fma(x0, cos, -(x1*sin)) in the even lane,
// fma(x0, sin, x1*cos) in the odd.
TEXT ·ropePairsAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ heads+8(FP), R8
	MOVQ stride+16(FP), R9
	SHLQ $2, R9
	MOVQ half+24(FP), CX
	SHRQ $2, CX
	MOVQ cs+32(FP), SI
	MOVQ sn+40(FP), DX
	VMOVUPS ropeDup<>(SB), Y15
	VXORPS Y14, Y14, Y14
pchunk:
	VMOVUPS (SI), X0
	VMOVUPS (DX), X1
	VPERMPS Y0, Y15, Y0        // c0 c0 c1 c1 ...
	VPERMPS Y1, Y15, Y1        // s0 s0 s1 s1 ...
	VSUBPS Y1, Y14, Y2         // -s
	VBLENDPS $0xaa, Y1, Y0, Y3 // F: cos even, sin odd
	VBLENDPS $0xaa, Y0, Y2, Y4 // R: -sin even, cos odd
	MOVQ DI, R10
	MOVQ R8, R11
phead:
	VMOVUPS (R10), Y5
	VMOVSHDUP Y5, Y6           // x1 x1
	VMOVSLDUP Y5, Y5           // x0 x0
	VMULPS Y4, Y6, Y6
	VFMADD231PS Y3, Y5, Y6
	VMOVUPS Y6, (R10)
	ADDQ R9, R10
	DECQ R11
	JNZ  phead
	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  pchunk
	VZEROUPPER
	RET

// func ropeHalvesAVX2(x *float32, heads, stride, half int, cs, sn *float32)
//
// Eight pairs per vector (half a multiple of 8): lo = x[j:j+8], hi =
// x[j+half:j+half+8]; lo' = fma(lo, cos, hi*-sin), hi' = fma(lo, sin,
// hi*cos).
TEXT ·ropeHalvesAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ heads+8(FP), R8
	MOVQ stride+16(FP), R9
	SHLQ $2, R9
	MOVQ half+24(FP), CX
	MOVQ CX, BX
	SHLQ $2, BX                // bytes to hi
	SHRQ $3, CX
	MOVQ cs+32(FP), SI
	MOVQ sn+40(FP), DX
	VXORPS Y14, Y14, Y14
hchunk:
	VMOVUPS (SI), Y0           // cos
	VMOVUPS (DX), Y1           // sin
	VSUBPS Y1, Y14, Y2         // -sin
	MOVQ DI, R10
	MOVQ R8, R11
hhead:
	VMOVUPS (R10), Y5          // lo
	VMOVUPS (R10)(BX*1), Y6    // hi
	VMULPS Y2, Y6, Y7          // hi*-sin
	VMULPS Y0, Y6, Y8          // hi*cos
	VFMADD231PS Y0, Y5, Y7
	VFMADD231PS Y1, Y5, Y8
	VMOVUPS Y7, (R10)
	VMOVUPS Y8, (R10)(BX*1)
	ADDQ R9, R10
	DECQ R11
	JNZ  hhead
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  hchunk
	VZEROUPPER
	RET
