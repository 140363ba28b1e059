#include "textflag.h"
#include "transpose_amd64.h"

// Attention's eight-head kernels with AVX-512, for heads under 64 values
// (a multiple of 8): the scores (ScoresF16Heads8), the online softmax
// (SoftmaxFactors8), the value sums (MadRowsF16Heads8), and the last two
// in one pass for heads of 8 values (SoftmaxMadHeads8). Each head gets
// exactly the operations of the one-head kernels in attn_amd64.s and
// softmax_amd64.s; eight at once fill the vector lanes and the latency of
// each head's chains that one or four left idle.

// SMSETUP loads what the softmax steps keep in registers: Y15 1.0, R8 and
// Z10-Z13 Expf's table (ev), Z14 16 (the bit that picks the table's upper
// half), Y16 the scale, Y17 the maxima (-Inf), Y18 the sums (0), Y19 the
// eight heads' byte offsets in the scores (multiples of hstride).
// Clobbers AX.
#define SMSETUP(ev, scale, hstride) \
	MOVL $0x3f800000, AX; \
	VPBROADCASTD AX, Y15; \
	MOVQ ev, R8; \
	VMOVDQU64 0(R8), Z10; \
	VMOVDQU64 64(R8), Z11; \
	VMOVDQU64 128(R8), Z12; \
	VMOVDQU64 192(R8), Z13; \
	MOVQ $16, AX; \
	VPBROADCASTQ AX, Z14; \
	VBROADCASTSS scale, Y16; \
	MOVL $0xff800000, AX; \
	VPBROADCASTD AX, Y17; \
	VXORPS Y18, Y18, Y18; \
	MOVQ hstride, AX; \
	VPBROADCASTD AX, Y19; \
	VPMULLD h8iota<>(SB), Y19, Y19

// SMFACTORS is softmax4AVX512's loop body (softmax_amd64.s, where its
// steps are spelled out) for eight heads, one per lane, at the position
// whose head-0 score is at SI: the scores gathered (Y24), scaled (v), the
// maxima raised where v is above them (K1), x = v - max or max - v, and
// Expf's common path in float64 lanes with its constants broadcast from
// the ExpfVector at R8 and its table read with two-table permutes from
// Z10-Z13 (entries 0-15, then 16-31 where bit 4 of the index is set).
// The factors go to Y30 (m) and Y31 (e), the sums in Y18 become
// fma(sum, m, e), and SI steps to the next position.
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
	VPTESTMQ Z14, Z27, K3; \
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
	ADDQ $4, SI

// H8SPREAD loads the indices that spread a position's eight factors over
// the four head pairs' lanes (Z20-Z23: lanes 0-7 of pair k take factor
// 2k, lanes 8-15 factor 2k+1).
#define H8SPREAD \
	VMOVDQU32 h8idx<>+0(SB), Z20; \
	VMOVDQU32 h8idx<>+64(SB), Z21; \
	VMOVDQU32 h8idx<>+128(SB), Z22; \
	VMOVDQU32 h8idx<>+192(SB), Z23

// SMMAD is one position of the value sums, heads 2k and 2k+1 in the
// halves of Zk (Z0-Z3), with the position's factors m in Y8 and e in Y9:
// where any head's m is not 1, every sum is multiplied by its m (exact
// for the others) and rounded to F16 (skip labels what follows); then
// each sum takes the fused multiply-add of its value row (head h's at
// R11+offs[h], offs at R14) by its e, rounded to F16. Rounding is
// VCVTPS2PH and back: the chain every position waits on, which converts
// sixteen values on Zen 4 as fast as eight, so two heads share it.
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
	VCVTPH2PS Y7, Z3

// H8SUMS adds head j's products of the transposed key chunk (Y8-Y15, one
// value per vector, the positions in its lanes) to its float64 sums Z:
// product d is the key value times query value d (float32, exact: both
// are F16 values), broadcast from the frame's queries at q(R8), widened
// and added in order d = 0, 1, ..., as ggml's dot product adds them.
#define H8SUMS(q, Z) \
	VMULPS.BCST (q+0)(R8), Y8, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+4)(R8), Y9, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+8)(R8), Y10, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+12)(R8), Y11, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+16)(R8), Y12, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+20)(R8), Y13, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+24)(R8), Y14, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z; \
	VMULPS.BCST (q+28)(R8), Y15, Y24; \
	VCVTPS2PD Y24, Z25; \
	VADDPD Z25, Z, Z

// H8HEAD is head j of a group and chunk, its sums in Z: the key rows of
// its KV head (byte offset offs[j], at R9) converted and transposed
// unless the previous head read the same ones (R15, its offset), then
// H8SUMS with its queries (32j bytes into the chunk's).
#define H8HEAD(j, Z, skip) \
	MOVQ (8*j)(R9), R14; \
	CMPQ R14, R15; \
	JEQ  skip; \
	MOVQ R14, R15; \
	ADDQ SI, R14; \
	ADDQ R11, R14; \
	CVTROWS8(R14); \
	TRANSPOSE8; \
skip: \
	H8SUMS(32*j, Z)

// H8STORE stores a head's eight sums (Z) as float32 scores at R14 through
// K3, and steps R14 to the next head's (AX bytes on).
#define H8STORE(Z) \
	VCVTPD2PS Z, Y24; \
	VMOVUPS Y24, K3, (R14); \
	ADDQ AX, R14

// scoresF16Heads8AVX512: scoresF16Small8AVX512 for eight query heads at
// once (ScoresF16Heads8). Each head's sums are the same chain as one
// head at a time (H8SUMS). What the eight heads share is the work before
// the products: a group of eight positions' key rows of a chunk of eight
// values is converted and transposed once for each run of heads that
// read the same KV head, instead of once per query head. The queries are
// first widened into the frame, chunk by chunk (chunk c's head j at
// 256c+32j), so that every product reads its query value at a fixed
// offset. A last group of rem (1-7) positions runs whole, as in
// scoresF16Small8AVX512, its sums stored through K1.
// Registers: DI the group's scores of head 0 (head j's AX*j bytes on), SI
// the group's first key row (rows BX apart; R12 = 3, R13 = 5, R10 = 7
// rows), R11 the chunk's byte offset in a row, R8 the chunk's queries in
// the frame, R9 offs, R14 a head's rows, R15 the previous head's offset,
// CX groups left, DX chunks left; Y0-Y15 the rows and their
// transposition, Z16-Z23 the eight heads' sums, Y24/Z25 a product.
// Frame: the queries in float32, 8 heads of at most 56 values.
// func scoresF16Heads8AVX512(out *float32, ostride uintptr, keys *uint16, stride uintptr, np8 int, q *uint16, n int, offs *[8]uintptr, rem int)
TEXT ·scoresF16Heads8AVX512(SB), 0, $1792-72
	// The queries: head j's chunk c (16 bytes of halves at q+2nj+16c)
	// to 256c+32j(SP).
	MOVQ q+40(FP), SI
	MOVQ n+48(FP), AX
	SHLQ $1, AX
	XORQ R9, R9
h8qhead:
	MOVQ SI, R10
	LEAQ (SP)(R9*1), DI
	MOVQ n+48(FP), CX
	SHRQ $3, CX
h8qchunk:
	VCVTPH2PS (R10), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, R10
	ADDQ $256, DI
	DECQ CX
	JNZ  h8qchunk
	ADDQ AX, SI
	ADDQ $32, R9
	CMPQ R9, $256
	JNE  h8qhead

	MOVQ out+0(FP), DI
	MOVQ ostride+8(FP), AX
	MOVQ keys+16(FP), SI
	MOVQ stride+24(FP), BX
	MOVQ np8+32(FP), CX
	MOVQ offs+56(FP), R9
	LEAQ (BX)(BX*2), R12
	LEAQ (BX)(BX*4), R13
	LEAQ (R12)(BX*4), R10
	// K1: the lanes the last group stores, all of them or rem.
	KXNORB K1, K1, K1
	MOVQ rem+64(FP), DX
	TESTQ DX, DX
	JZ   h8sgroups
	MOVQ CX, R11
	MOVQ DX, CX
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	MOVQ R11, CX
	KMOVB DX, K1
	INCQ CX
h8sgroups:
	TESTQ CX, CX
	JZ   h8sdone

h8sgroup:
	VXORPD Z16, Z16, Z16
	VXORPD Z17, Z17, Z17
	VXORPD Z18, Z18, Z18
	VXORPD Z19, Z19, Z19
	VXORPD Z20, Z20, Z20
	VXORPD Z21, Z21, Z21
	VXORPD Z22, Z22, Z22
	VXORPD Z23, Z23, Z23
	XORQ R11, R11
	LEAQ (SP), R8
	MOVQ n+48(FP), DX
	SHRQ $3, DX

h8schunk:
	MOVQ $-1, R15 // no key rows transposed yet
	H8HEAD(0, Z16, h8sh0)
	H8HEAD(1, Z17, h8sh1)
	H8HEAD(2, Z18, h8sh2)
	H8HEAD(3, Z19, h8sh3)
	H8HEAD(4, Z20, h8sh4)
	H8HEAD(5, Z21, h8sh5)
	H8HEAD(6, Z22, h8sh6)
	H8HEAD(7, Z23, h8sh7)
	ADDQ $16, R11
	ADDQ $256, R8
	DECQ DX
	JNZ  h8schunk

	// K3: every lane, or K1's for the last group.
	KXNORB K3, K3, K3
	CMPQ CX, $1
	JNE  h8sstore
	KMOVB K1, K3
h8sstore:
	MOVQ DI, R14
	H8STORE(Z16)
	H8STORE(Z17)
	H8STORE(Z18)
	H8STORE(Z19)
	H8STORE(Z20)
	H8STORE(Z21)
	H8STORE(Z22)
	H8STORE(Z23)
	ADDQ $32, DI
	LEAQ (SI)(BX*8), SI
	DECQ CX
	JNZ  h8sgroup

h8sdone:
	VZEROUPPER
	RET

// softmax8AVX512: SoftmaxFactors8, softmax4AVX512's operations for eight
// heads in the eight lanes of one vector (SMFACTORS), so that a position's
// pass of the loop serves eight heads. The factors of heads 0-3 go to
// ms/vs as softmax4AVX512 writes them and those of heads 4-7 R15 = 16*np
// bytes on (MadRowsF16Heads8's layout).
// Registers: SMSETUP's and SMFACTORS', SI head 0's score at the position,
// DI/DX the position's ms/vs, CX positions left.
// func softmax8AVX512(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[8]float32, ev *libm.ExpfVector)
TEXT ·softmax8AVX512(SB), NOSPLIT, $0-64
	SMSETUP(ev+56(FP), scale+24(FP), hstride+8(FP))
	MOVQ sc+0(FP), SI
	MOVQ np+16(FP), CX
	MOVQ CX, R15
	SHLQ $4, R15
	MOVQ ms+32(FP), DI
	MOVQ vs+40(FP), DX
	TESTQ CX, CX
	JZ   s8done

s8loop:
	SMFACTORS
	VMOVUPS X30, (DI)
	VEXTRACTF32X4 $1, Y30, (DI)(R15*1)
	VMOVUPS X31, (DX)
	VEXTRACTF32X4 $1, Y31, (DX)(R15*1)
	ADDQ $16, DI
	ADDQ $16, DX
	DECQ CX
	JNZ  s8loop

s8done:
	MOVQ sums+48(FP), AX
	VMOVUPS Y18, (AX)
	VZEROUPPER
	RET

// madRowsF16Heads8AVX512: MadRowsF16Heads8's eight heads' value sums,
// SMMAD at each position with the factors loaded from ms and vs, on
// chunks of eight values at a time.
// Registers: SMMAD's, DI the chunk's accumulators (heads AX = 2n bytes
// apart), R11 the position's value rows for the chunk, R8/R9 the
// position's ms/vs for heads 0-3 (R15 bytes on, heads 4-7's), BX stride,
// DX positions left, CX chunks left.
// func madRowsF16Heads8AVX512(acc, vals *uint16, stride uintptr, n int, offs *[8]uintptr, ms, vs *float32, np int)
TEXT ·madRowsF16Heads8AVX512(SB), NOSPLIT, $0-64
	MOVQ n+24(FP), CX
	MOVQ CX, AX
	SHLQ $1, AX
	SHRQ $3, CX
	JZ   m8done
	MOVQ np+56(FP), R15
	TESTQ R15, R15
	JZ   m8done
	SHLQ $4, R15
	MOVQ offs+32(FP), R14
	MOVQ stride+16(FP), BX
	MOVQ acc+0(FP), DI
	MOVL $0x3f800000, R12
	VPBROADCASTD R12, Y15
	H8SPREAD

m8chunk:
	// Z0-Z3 = heads (0,1), (2,3), (4,5), (6,7) of the chunk.
	LEAQ (DI)(AX*1), R12
	VMOVDQU (DI), X0
	VINSERTI128 $1, (R12), Y0, Y0
	VMOVDQU (DI)(AX*2), X1
	VINSERTI128 $1, (R12)(AX*2), Y1, Y1
	VMOVDQU (DI)(AX*4), X2
	VINSERTI128 $1, (R12)(AX*4), Y2, Y2
	LEAQ (AX)(AX*2), R13
	VMOVDQU (DI)(R13*2), X3
	VINSERTI128 $1, (R12)(R13*2), Y3, Y3
	VCVTPH2PS Y0, Z0
	VCVTPH2PS Y1, Z1
	VCVTPH2PS Y2, Z2
	VCVTPH2PS Y3, Z3
	MOVQ DI, R11
	SUBQ acc+0(FP), R11
	ADDQ vals+8(FP), R11
	MOVQ ms+40(FP), R8
	MOVQ vs+48(FP), R9
	MOVQ np+56(FP), DX

m8pos:
	VMOVUPS (R8), X8
	VINSERTF128 $1, (R8)(R15*1), Y8, Y8
	VMOVUPS (R9), X9
	VINSERTF128 $1, (R9)(R15*1), Y9, Y9
	SMMAD(m8mad)
	ADDQ BX, R11
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ DX
	JNZ  m8pos

	LEAQ (DI)(AX*1), R12
	LEAQ (AX)(AX*2), R13
	VCVTPS2PH $0, Z0, Y4
	VCVTPS2PH $0, Z1, Y5
	VCVTPS2PH $0, Z2, Y6
	VCVTPS2PH $0, Z3, Y7
	VMOVDQU X4, (DI)
	VEXTRACTI128 $1, Y4, (R12)
	VMOVDQU X5, (DI)(AX*2)
	VEXTRACTI128 $1, Y5, (R12)(AX*2)
	VMOVDQU X6, (DI)(AX*4)
	VEXTRACTI128 $1, Y6, (R12)(AX*4)
	VMOVDQU X7, (DI)(R13*2)
	VEXTRACTI128 $1, Y7, (R12)(R13*2)
	ADDQ $16, DI
	DECQ CX
	JNZ  m8chunk

m8done:
	VZEROUPPER
	RET

// softmaxMadHeads8AVX512: SoftmaxFactors8 and MadRowsF16Heads8 for eight
// heads of 8 values in one pass over the positions: SMFACTORS makes a
// position's factors (not stored) and SMMAD applies them to the running
// sums, the factors made one position ahead of their use. The value
// sums' chain (a fused multiply-add and an F16 rounding per position) is
// latency-bound and the softmax's steps are independent of it, so each
// fills the other's idle cycles: 8 heads over 35 positions, 483-503 ns
// against 572-610 for the two kernels apart. Made in the same iteration
// as their use, the factors' test for the scale waited on the
// exponential, and the kernel was slower than the two apart (830 ns).
// Registers: SMSETUP's, SMFACTORS' and SMMAD's; DI the accumulators (two
// heads per 32 bytes), BX stride, CX positions left.
// func softmaxMadHeads8AVX512(acc, vals *uint16, stride uintptr, offs *[8]uintptr, sc *float32, hstride uintptr, np int, scale float32, sums *[8]float32, ev *libm.ExpfVector)
TEXT ·softmaxMadHeads8AVX512(SB), NOSPLIT, $0-80
	SMSETUP(ev+72(FP), scale+56(FP), hstride+40(FP))
	MOVQ np+48(FP), CX
	MOVQ acc+0(FP), DI
	VMOVDQU16 (DI), Y0
	VMOVDQU16 32(DI), Y1
	VMOVDQU16 64(DI), Y2
	VMOVDQU16 96(DI), Y3
	VCVTPH2PS Y0, Z0
	VCVTPH2PS Y1, Z1
	VCVTPH2PS Y2, Z2
	VCVTPH2PS Y3, Z3
	TESTQ CX, CX
	JZ   smdone
	MOVQ vals+8(FP), R11
	MOVQ stride+16(FP), BX
	MOVQ offs+24(FP), R14
	MOVQ sc+32(FP), SI
	H8SPREAD

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

DATA h8iota<>+0(SB)/4, $0
DATA h8iota<>+4(SB)/4, $1
DATA h8iota<>+8(SB)/4, $2
DATA h8iota<>+12(SB)/4, $3
DATA h8iota<>+16(SB)/4, $4
DATA h8iota<>+20(SB)/4, $5
DATA h8iota<>+24(SB)/4, $6
DATA h8iota<>+28(SB)/4, $7
GLOBL h8iota<>(SB), RODATA|NOPTR, $32

// h8idx spreads a position's eight factors over the four pairs' lanes:
// lanes 0-7 of pair k take factor 2k, lanes 8-15 factor 2k+1.
DATA h8idx<>+0(SB)/8, $0x0000000000000000
DATA h8idx<>+8(SB)/8, $0x0000000000000000
DATA h8idx<>+16(SB)/8, $0x0000000000000000
DATA h8idx<>+24(SB)/8, $0x0000000000000000
DATA h8idx<>+32(SB)/8, $0x0000000100000001
DATA h8idx<>+40(SB)/8, $0x0000000100000001
DATA h8idx<>+48(SB)/8, $0x0000000100000001
DATA h8idx<>+56(SB)/8, $0x0000000100000001
DATA h8idx<>+64(SB)/8, $0x0000000200000002
DATA h8idx<>+72(SB)/8, $0x0000000200000002
DATA h8idx<>+80(SB)/8, $0x0000000200000002
DATA h8idx<>+88(SB)/8, $0x0000000200000002
DATA h8idx<>+96(SB)/8, $0x0000000300000003
DATA h8idx<>+104(SB)/8, $0x0000000300000003
DATA h8idx<>+112(SB)/8, $0x0000000300000003
DATA h8idx<>+120(SB)/8, $0x0000000300000003
DATA h8idx<>+128(SB)/8, $0x0000000400000004
DATA h8idx<>+136(SB)/8, $0x0000000400000004
DATA h8idx<>+144(SB)/8, $0x0000000400000004
DATA h8idx<>+152(SB)/8, $0x0000000400000004
DATA h8idx<>+160(SB)/8, $0x0000000500000005
DATA h8idx<>+168(SB)/8, $0x0000000500000005
DATA h8idx<>+176(SB)/8, $0x0000000500000005
DATA h8idx<>+184(SB)/8, $0x0000000500000005
DATA h8idx<>+192(SB)/8, $0x0000000600000006
DATA h8idx<>+200(SB)/8, $0x0000000600000006
DATA h8idx<>+208(SB)/8, $0x0000000600000006
DATA h8idx<>+216(SB)/8, $0x0000000600000006
DATA h8idx<>+224(SB)/8, $0x0000000700000007
DATA h8idx<>+232(SB)/8, $0x0000000700000007
DATA h8idx<>+240(SB)/8, $0x0000000700000007
DATA h8idx<>+248(SB)/8, $0x0000000700000007
GLOBL h8idx<>(SB), RODATA|NOPTR, $256
