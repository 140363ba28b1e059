#include "textflag.h"

// The x16 F32 kernels (see f32x16.go): sixteen rows per vector, one
// activation value broadcast per column. Both take nRows rows in groups
// (gStride bytes apart, the last group possibly partial: its lanes past
// nRows are computed from the zero padding and not stored) and T tokens
// (1 to 4; aStride and oStride bytes apart), and store row r, token t at
// out + t*oStride + 4*r.

// GROUPMASK sets K1 to the lanes of the current group that are rows:
// all sixteen, or the low R9 when fewer than sixteen remain. Clobbers CX.
#define GROUPMASK \
	MOVQ $0xffff, CX; \
	CMPQ R9, $16; \
	JAE  2(PC); \
	BZHIQ R9, CX, CX; \
	KMOVW CX, K1

// The steps of one lane pair (i, i+8) of ggml_vec_dot_f32's four 16-lane
// accumulators, sixteen rows per vector: PAIRZERO clears the sums
// (Z0-Z3 lane i, Z4-Z7 lane i+8); PAIRSTEP adds one step of 64 columns
// (W the step's weights, A its activations; o4 = 4*i and o64 = 64*i, or
// 0 where W and A already point at column i), each activation broadcast
// (Z8-Z15); PAIRADD adds them pairwise as ggml does (sum0 += sum2, sum1
// += sum3, sum0 += sum1, per lane) and leaves t8_i = V_i+8 + V_i in U.
#define PAIRZERO \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VXORPS Z5, Z5, Z5; \
	VXORPS Z6, Z6, Z6; \
	VXORPS Z7, Z7, Z7

#define PAIRSTEP(A, W, o4, o64) \
	VBROADCASTSS o4+0(A), Z8; \
	VFMADD231PS o64+0(W), Z8, Z0; \
	VBROADCASTSS o4+32(A), Z9; \
	VFMADD231PS o64+512(W), Z9, Z4; \
	VBROADCASTSS o4+64(A), Z10; \
	VFMADD231PS o64+1024(W), Z10, Z1; \
	VBROADCASTSS o4+96(A), Z11; \
	VFMADD231PS o64+1536(W), Z11, Z5; \
	VBROADCASTSS o4+128(A), Z12; \
	VFMADD231PS o64+2048(W), Z12, Z2; \
	VBROADCASTSS o4+160(A), Z13; \
	VFMADD231PS o64+2560(W), Z13, Z6; \
	VBROADCASTSS o4+192(A), Z14; \
	VFMADD231PS o64+3072(W), Z14, Z3; \
	VBROADCASTSS o4+224(A), Z15; \
	VFMADD231PS o64+3584(W), Z15, Z7

#define PAIRADD(U) \
	VADDPS Z2, Z0, Z0; \
	VADDPS Z3, Z1, Z1; \
	VADDPS Z1, Z0, Z0; \
	VADDPS Z6, Z4, Z4; \
	VADDPS Z7, Z5, Z5; \
	VADDPS Z5, Z4, Z4; \
	VADDPS Z0, Z4, U

// For rows of one step of 64, lane pair by lane pair for all the tokens:
// PAIRW loads the pair's eight weight vectors (Z24-Z31) once for them all,
// where PAIRSTEP loads them again for each token (512-bit loads, one a
// cycle, were the bound: eight of them beside eight broadcasts for every
// eight multiplies). PAIRT is PAIRZERO, PAIRSTEP and PAIRADD for the token
// at DI with those weights: each sum a single product fused into a zeroed sum, as ggml's
// first step, the activation broadcast from memory, then PAIRADD.
#define PAIRW(o64) \
	VMOVUPS o64+0(SI), Z24; \
	VMOVUPS o64+512(SI), Z25; \
	VMOVUPS o64+1024(SI), Z26; \
	VMOVUPS o64+1536(SI), Z27; \
	VMOVUPS o64+2048(SI), Z28; \
	VMOVUPS o64+2560(SI), Z29; \
	VMOVUPS o64+3072(SI), Z30; \
	VMOVUPS o64+3584(SI), Z31

#define PAIRT(o4, U) \
	VXORPS Z0, Z0, Z0; \
	VFMADD231PS.BCST o4+0(DI), Z24, Z0; \
	VXORPS Z4, Z4, Z4; \
	VFMADD231PS.BCST o4+32(DI), Z25, Z4; \
	VXORPS Z1, Z1, Z1; \
	VFMADD231PS.BCST o4+64(DI), Z26, Z1; \
	VXORPS Z5, Z5, Z5; \
	VFMADD231PS.BCST o4+96(DI), Z27, Z5; \
	VXORPS Z2, Z2, Z2; \
	VFMADD231PS.BCST o4+128(DI), Z28, Z2; \
	VXORPS Z6, Z6, Z6; \
	VFMADD231PS.BCST o4+160(DI), Z29, Z6; \
	VXORPS Z3, Z3, Z3; \
	VFMADD231PS.BCST o4+192(DI), Z30, Z3; \
	VXORPS Z7, Z7, Z7; \
	VFMADD231PS.BCST o4+224(DI), Z31, Z7; \
	PAIRADD(U)

// T8TREE adds the eight t8 vectors at register base (t8_i at 64i(base)) as the rest
// of _mm512_reduce_add_ps's tree: t4_i = t8_i+4 + t8_i, then (t4_0 +
// t4_2) + (t4_1 + t4_3), to Z16. Clobbers Z17-Z19.
#define T8TREE(base) \
	VMOVUPS 256(base), Z16; \
	VMOVUPS 320(base), Z17; \
	VMOVUPS 384(base), Z18; \
	VMOVUPS 448(base), Z19; \
	VADDPS 0(base), Z16, Z16; \
	VADDPS 64(base), Z17, Z17; \
	VADDPS 128(base), Z18, Z18; \
	VADDPS 192(base), Z19, Z19; \
	VADDPS Z18, Z16, Z16; \
	VADDPS Z19, Z17, Z17; \
	VADDPS Z17, Z16, Z16

// PAIRTOKENS is lane pair i (o4 = 4i, o64 = 64i) for every token: its t8
// to the token's slot i, slot (t, i) at 768+512t+64i on the stack.
#define PAIRTOKENS(o4, o64, loop) \
	PAIRW(o64); \
	MOVQ a+32(FP), DI; \
	LEAQ (768+o4*16)(SP), R15; \
	MOVQ T+64(FP), BX; \
loop: \
	PAIRT(o4, Z8); \
	VMOVUPS Z8, (R15); \
	ADDQ $512, R15; \
	ADDQ aStride+40(FP), DI; \
	DECQ BX; \
	JNZ  loop

// func f32x16VecAVX512(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr, T int)
//
// ggml_vec_dot_f32's order (vecDotF32): for each of the eight lane pairs
// (i, i+8) of its four 16-lane accumulators, the steps of 64 in
// Z0-Z3 (lane i) and Z4-Z7 (lane i+8), added pairwise into V_i and
// V_i+8, then t8_i = V_i+8 + V_i, kept on the stack; then the rest of
// _mm512_reduce_add_ps's tree. The leftovers follow for the T tokens
// side by side (four chains of dependent adds, each weight vector loaded
// once): runs of eight added product by product, then the last n%8 fused.
//
// Frame: 0-511 the eight t8 vectors of the current token, 512-767 the
// tokens' results before the leftovers, 768-2815 the t8 vectors of every
// token for rows of one step (PAIRTOKENS).
TEXT ·f32x16VecAVX512(SB), 0, $2816-72
	MOVQ w+0(FP), SI
	MOVQ nRows+16(FP), R9
	MOVQ out+48(FP), R10
	TESTQ R9, R9
	JLE  vdone

vgroup:
	GROUPMASK
	MOVQ n+24(FP), AX
	SHRQ $6, AX
	CMPQ AX, $1
	JEQ  vone
	// The main part of each token.
	XORQ BX, BX                // token
	MOVQ a+32(FP), DI          // token's activations
vtoken:
	MOVQ n+24(FP), AX
	SHRQ $6, AX                // steps of 64
	VXORPS Z16, Z16, Z16
	JZ   vstoreres
	// Two steps or more (one went to vone).
	XORQ R15, R15              // 64*i: lane pair i, t8 slot
vpair:
	LEAQ (SI)(R15*1), R14      // weights of column i
	MOVQ R15, DX
	SHRQ $4, DX
	ADDQ DI, DX                // activation i
	PAIRZERO
	MOVQ AX, R8
vstep:
	PAIRSTEP(DX, R14, 0, 0)
	ADDQ $4096, R14
	ADDQ $256, DX
	DECQ R8
	JNZ  vstep
	PAIRADD(Z0)
	VMOVUPS Z0, (SP)(R15*1)
	ADDQ $64, R15
	CMPQ R15, $512
	JNE  vpair
	T8TREE(SP)
vstoreres:
	MOVQ BX, CX
	SHLQ $6, CX
	VMOVUPS Z16, 512(SP)(CX*1)
	ADDQ aStride+40(FP), DI
	INCQ BX
	CMPQ BX, T+64(FP)
	JNE  vtoken

	JMP  vleftovers

vone:
	// One step (rows of 64 to 127 values), lane pair by lane pair for
	// all the tokens, then each token's t8 added (T8TREE), its result to
	// 512+64t.
	PAIRTOKENS(0, 0, vone0)
	PAIRTOKENS(4, 64, vone1)
	PAIRTOKENS(8, 128, vone2)
	PAIRTOKENS(12, 192, vone3)
	PAIRTOKENS(16, 256, vone4)
	PAIRTOKENS(20, 320, vone5)
	PAIRTOKENS(24, 384, vone6)
	PAIRTOKENS(28, 448, vone7)
	XORQ BX, BX
	LEAQ 768(SP), R15
vonetree:
	T8TREE(R15)
	MOVQ BX, CX
	SHLQ $6, CX
	VMOVUPS Z16, 512(SP)(CX*1)
	ADDQ $512, R15
	INCQ BX
	CMPQ BX, T+64(FP)
	JNE  vonetree

vleftovers:
	// Leftovers, the tokens side by side. Tokens past T repeat token 0.
	MOVQ n+24(FP), CX
	MOVQ CX, AX
	ANDQ $-64, AX              // n64
	ANDQ $63, CX               // leftovers
	JZ   vstore
	MOVQ a+32(FP), DI
	LEAQ (DI)(AX*4), DI        // token 0's first leftover
	MOVQ DI, R11
	MOVQ DI, R12
	MOVQ DI, R13
	MOVQ aStride+40(FP), DX
	MOVQ T+64(FP), BX
	VMOVUPS 512(SP), Z24
	VMOVAPS Z24, Z25
	VMOVAPS Z24, Z26
	VMOVAPS Z24, Z27
	CMPQ BX, $2
	JB   vleft
	LEAQ (DI)(DX*1), R11
	VMOVUPS 576(SP), Z25
	CMPQ BX, $3
	JB   vleft
	LEAQ (R11)(DX*1), R12
	VMOVUPS 640(SP), Z26
	CMPQ BX, $4
	JB   vleft
	LEAQ (R12)(DX*1), R13
	VMOVUPS 704(SP), Z27
vleft:
	SHLQ $6, AX
	LEAQ (SI)(AX*1), R14       // weights of column n64
	MOVQ CX, R8
	ANDQ $7, R8                // fused
	SUBQ R8, CX                // plain
	JZ   vfusedstart
vplain:
	VMOVUPS (R14), Z8
	VBROADCASTSS (DI), Z9
	VBROADCASTSS (R11), Z10
	VBROADCASTSS (R12), Z11
	VBROADCASTSS (R13), Z12
	VMULPS Z9, Z8, Z9
	VMULPS Z10, Z8, Z10
	VMULPS Z11, Z8, Z11
	VMULPS Z12, Z8, Z12
	VADDPS Z9, Z24, Z24
	VADDPS Z10, Z25, Z25
	VADDPS Z11, Z26, Z26
	VADDPS Z12, Z27, Z27
	ADDQ $64, R14
	ADDQ $4, DI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	DECQ CX
	JNZ  vplain
vfusedstart:
	TESTQ R8, R8
	JZ   vleftdone
vfused:
	VMOVUPS (R14), Z8
	VBROADCASTSS (DI), Z9
	VBROADCASTSS (R11), Z10
	VBROADCASTSS (R12), Z11
	VBROADCASTSS (R13), Z12
	VFMADD231PS Z9, Z8, Z24
	VFMADD231PS Z10, Z8, Z25
	VFMADD231PS Z11, Z8, Z26
	VFMADD231PS Z12, Z8, Z27
	ADDQ $64, R14
	ADDQ $4, DI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	DECQ R8
	JNZ  vfused
vleftdone:
	VMOVUPS Z24, 512(SP)
	VMOVUPS Z25, 576(SP)
	VMOVUPS Z26, 640(SP)
	VMOVUPS Z27, 704(SP)

vstore:
	// The group's results, token by token, the rows only.
	MOVQ R10, DI
	XORQ BX, BX
vst:
	MOVQ BX, CX
	SHLQ $6, CX
	VMOVUPS 512(SP)(CX*1), Z16
	VMOVUPS Z16, K1, (DI)
	ADDQ oStride+56(FP), DI
	INCQ BX
	CMPQ BX, T+64(FP)
	JNE  vst

	ADDQ gStride+8(FP), SI
	ADDQ $64, R10
	SUBQ $16, R9
	JG   vgroup
vdone:
	VZEROUPPER
	RET

// func f32x16TinyAVX512(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr, T int)
//
// tinyBLAS's order (tinyDot), n a positive multiple of 16: accumulator j
// (Z0-Z15) takes the columns j, j+16, j+32, ... by fused multiply-adds;
// then _mm512_reduce_add_ps's tree between them.
TEXT ·f32x16TinyAVX512(SB), NOSPLIT, $0-72
	MOVQ w+0(FP), SI
	MOVQ nRows+16(FP), R9
	MOVQ out+48(FP), R10
	TESTQ R9, R9
	JLE  tdone

tgroup:
	GROUPMASK
	XORQ BX, BX
	MOVQ a+32(FP), DI
	MOVQ R10, R11
ttoken:
	MOVQ SI, R14
	MOVQ DI, DX
	MOVQ n+24(FP), R8
	SHRQ $4, R8
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
tchunk:
	VBROADCASTSS 0(DX), Z16
	VFMADD231PS 0(R14), Z16, Z0
	VBROADCASTSS 4(DX), Z17
	VFMADD231PS 64(R14), Z17, Z1
	VBROADCASTSS 8(DX), Z18
	VFMADD231PS 128(R14), Z18, Z2
	VBROADCASTSS 12(DX), Z19
	VFMADD231PS 192(R14), Z19, Z3
	VBROADCASTSS 16(DX), Z20
	VFMADD231PS 256(R14), Z20, Z4
	VBROADCASTSS 20(DX), Z21
	VFMADD231PS 320(R14), Z21, Z5
	VBROADCASTSS 24(DX), Z22
	VFMADD231PS 384(R14), Z22, Z6
	VBROADCASTSS 28(DX), Z23
	VFMADD231PS 448(R14), Z23, Z7
	VBROADCASTSS 32(DX), Z24
	VFMADD231PS 512(R14), Z24, Z8
	VBROADCASTSS 36(DX), Z25
	VFMADD231PS 576(R14), Z25, Z9
	VBROADCASTSS 40(DX), Z26
	VFMADD231PS 640(R14), Z26, Z10
	VBROADCASTSS 44(DX), Z27
	VFMADD231PS 704(R14), Z27, Z11
	VBROADCASTSS 48(DX), Z28
	VFMADD231PS 768(R14), Z28, Z12
	VBROADCASTSS 52(DX), Z29
	VFMADD231PS 832(R14), Z29, Z13
	VBROADCASTSS 56(DX), Z30
	VFMADD231PS 896(R14), Z30, Z14
	VBROADCASTSS 60(DX), Z31
	VFMADD231PS 960(R14), Z31, Z15
	ADDQ $1024, R14
	ADDQ $64, DX
	DECQ R8
	JNZ  tchunk
	// t8_i = acc_i+8 + acc_i; t4_i = t8_i+4 + t8_i;
	// (t4_0 + t4_2) + (t4_1 + t4_3).
	VADDPS Z0, Z8, Z0
	VADDPS Z1, Z9, Z1
	VADDPS Z2, Z10, Z2
	VADDPS Z3, Z11, Z3
	VADDPS Z4, Z12, Z4
	VADDPS Z5, Z13, Z5
	VADDPS Z6, Z14, Z6
	VADDPS Z7, Z15, Z7
	VADDPS Z0, Z4, Z0
	VADDPS Z1, Z5, Z1
	VADDPS Z2, Z6, Z2
	VADDPS Z3, Z7, Z3
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (R11)
	ADDQ aStride+40(FP), DI
	ADDQ oStride+56(FP), R11
	INCQ BX
	CMPQ BX, T+64(FP)
	JNE  ttoken

	ADDQ gStride+8(FP), SI
	ADDQ $64, R10
	SUBQ $16, R9
	JG   tgroup
tdone:
	VZEROUPPER
	RET
