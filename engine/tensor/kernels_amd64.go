package tensor

//go:generate go run ./internal/asmgen

import (
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
	"golang.org/x/sys/cpu"
)

// The AVX2 level needs FMA and F16C too; AVX-512 adds BW, VL and VNNI
// (the kernels use EVEX forms of 256-bit instructions and VPDPBUSD), and
// uses VDPBF16PS for BF16 weights when the CPU has AVX512-BF16.
// registerArch is called once by the package's init.
func registerArch() {
	if registerAMD64() {
		registerVecAMD64()
	}
}

func registerAMD64() bool {
	x := cpu.X86
	if !(x.HasAVX2 && x.HasFMA && x.HasF16C) {
		return false
	}
	cpuLevel = levelAVX2
	if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VNNI {
		cpuLevel = levelAVX512
	}
	q := func(k actKind, t1, t2, t3, t4 tileFn, dot func(w, a []byte, n int) float32) *impl {
		return &impl{act: k, tiles: [4]tileFn{t1, t2, t3, t4}, chunk: 1, dot: dot}
	}
	avx2 := map[gguf.GGMLType]*impl{
		gguf.TypeQ8_0: q(actQ8_0, q8_0AVX2x1, q8_0AVX2x2, q8_0AVX2x3, q8_0AVX2x4, dotQ8_0),
		gguf.TypeQ4_0: q(actQ8_0, q4_0LanesAVX2x1, q4_0LanesAVX2x2, q4_0LanesAVX2x3, q4_0LanesAVX2x4, dotQ4_0),
		gguf.TypeQ5_0: q(actQ8_0, q5_0AVX2x1, q5_0AVX2x2, q5_0AVX2x3, q5_0AVX2x4, dotQ5_0),
		gguf.TypeQ4_1: q(actQ8_1, q4_1AVX2x1, q4_1AVX2x2, q4_1AVX2x3, q4_1AVX2x4, dotQ4_1),
		gguf.TypeQ5_1: q(actQ8_1, q5_1AVX2x1, q5_1AVX2x2, q5_1AVX2x3, q5_1AVX2x4, dotQ5_1),
		gguf.TypeQ2_K: q(actQ8_K, q2_KAVX2x1, q2_KAVX2x2, q2_KAVX2x3, q2_KAVX2x4, dotQ2_K),
		gguf.TypeQ3_K: q(actQ8_K, q3_KAVX2x1, q3_KAVX2x2, q3_KAVX2x3, q3_KAVX2x4, dotQ3_K),
		gguf.TypeQ4_K: q(actQ8_K, q4_KAVX2x1, q4_KAVX2x2, q4_KAVX2x3, q4_KAVX2x4, dotQ4_K),
		gguf.TypeQ5_K: q(actQ8_K, q5_KAVX2x1, q5_KAVX2x2, q5_KAVX2x3, q5_KAVX2x4, dotQ5_K),
		gguf.TypeQ6_K: q(actQ8_K, q6_KAVX2x1, q6_KAVX2x2, q6_KAVX2x3, q6_KAVX2x4, dotQ6_K),
		gguf.TypeF32:  {act: actF32, tiles: [4]tileFn{f32AVX2x1, f32AVX2x2, f32AVX2x3, f32AVX2x4}, chunk: 16, dot: dotF32},
		gguf.TypeBF16: {act: actF32, tiles: [4]tileFn{bf16AVX2x1, bf16AVX2x2, bf16AVX2x3, bf16AVX2x4}, chunk: 16, dot: dotBF16},
		gguf.TypeF16:  {act: actF32, tiles: [4]tileFn{f16AVX2x1, f16AVX2x2, f16AVX2x3, f16AVX2x4}, chunk: 16, dot: dotF16},
	}
	for t, im := range avx2 {
		register(t, levelAVX2, im)
	}
	// Decode steps read every weight once: kernels that walk one row at a
	// time stream memory better than the eight-row lane kernels, which win
	// when a prompt gives each weight load several tokens to serve.
	registerDecode(gguf.TypeQ4_0, levelAVX2, q(actQ8_0, q4_0AVX2x1, q4_0AVX2x2, q4_0AVX2x3, q4_0AVX2x4, dotQ4_0))
	// Packed Q4_K in llama.cpp's repacked order (gemv, and gemm for whole
	// groups of four prompt tokens).
	packedFormats[gguf.TypeQ4_K].impls[levelAVX2] = &impl{act: actQ8_K, chunk: 1, tiles: q4KPromptTiles(q4_Kx8GemvAVX2x1, q4_Kx8GemmAVX2x4)}
	packedFormats[gguf.TypeQ4_K].decode[levelAVX2] = &impl{act: actQ8_K, chunk: 1, tiles: q4KDecodeTiles(q4_Kx8GemvAVX2x1)}
	// F32 decode rows (ggml_vec_dot_f32's order, leftovers included) in
	// one call per token.
	registerDecode(gguf.TypeF32, levelAVX2, &impl{act: actF32, tiles: rowTiles(dotF32RowsAVX2), chunk: 1, dot: dotF32Decode})
	if cpuLevel < levelAVX512 {
		return true
	}
	avx512 := map[gguf.GGMLType]*impl{
		gguf.TypeQ8_0: {act: actQ8_0L, chunk: 1, dot: dotQ8_0L, tiles: rowGroupTiles(
			[4]tileFn{q8_0x8VNNIx1, q8_0x8VNNIx2, q8_0x8VNNIx3, q8_0x8VNNIx4},
			[4]tileFn{q8_0VNNIx1, q8_0VNNIx2, q8_0VNNIx3, q8_0VNNIx4})},
		gguf.TypeQ4_0: q(actQ8_0, q4_0LanesVNNIx1, q4_0LanesVNNIx2, q4_0LanesVNNIx3, q4_0LanesVNNIx4, dotQ4_0),
		gguf.TypeQ5_0: q(actQ8_0, q5_0VNNIx1, q5_0VNNIx2, q5_0VNNIx3, q5_0VNNIx4, dotQ5_0),
		gguf.TypeQ4_K: q(actQ8_K, q4_KLanesVNNIx1, q4_KLanesVNNIx2, q4_KLanesVNNIx3, q4_KLanesVNNIx4, dotQ4_K),
		gguf.TypeQ6_K: q(actQ8_K, q6_KPairsAVX512, q6_KAVX2x2, q6_KAVX2x3, q6_KAVX2x4, dotQ6_K),
		gguf.TypeF32:  {act: actF32, tiles: [4]tileFn{f32AVX512x1, f32AVX512x2, f32AVX512x3, f32AVX512x4}, chunk: 32, dot: dotF32},
		gguf.TypeF16:  {act: actF32, tiles: [4]tileFn{f16WideAVX512x1, f16WideAVX512x2, f16WideAVX512x3, f16WideAVX512x4}, chunk: 32, dot: dotF16},
	}
	if x.HasAVX512BF16 {
		avx512[gguf.TypeBF16] = &impl{act: actBF16, tiles: [4]tileFn{bf16AVX512x1, bf16AVX512x2, bf16AVX512x3, bf16AVX512x4}, chunk: 64, dot: dotBF16BF16}
	}
	for t, im := range avx512 {
		register(t, levelAVX512, im)
	}
	// Q8_0 decode rows one at a time (the eight-row tiles are for
	// prompts), which streams the weights best; from eight decode tokens
	// on (a batch of sequences) arithmetic is the bound instead, and the
	// eight-row tiles, which sum each row in the same order (one Go twin,
	// dotQ8_0L, serves both), take them.
	q8dec := q(actQ8_0L, q8_0VNNIx1, q8_0VNNIx2, q8_0VNNIx3, q8_0VNNIx4, dotQ8_0L)
	q8dec.wide, q8dec.wideFrom = avx512[gguf.TypeQ8_0].tiles, 8
	registerDecode(gguf.TypeQ8_0, levelAVX512, q8dec)
	registerDecode(gguf.TypeQ4_0, levelAVX512, q(actQ8_0, q4_0VNNIx1, q4_0VNNIx2, q4_0VNNIx3, q4_0VNNIx4, dotQ4_0))
	// F16 decode rows of whole steps of 64 in one call (no leftovers to
	// add in float64); other lengths go row by row through dotF16Decode.
	registerDecode(gguf.TypeF16, levelAVX512, &impl{act: actF32, tiles: f16DecodeTiles(), chunk: 64, dot: dotF16DecodeF32})
	registerDecode(gguf.TypeF32, levelAVX512, &impl{act: actF32, tiles: rowTiles(dotF32RowsQuadAVX512), chunk: 1, dot: dotF32Decode})
	q40 := q(actQ8_0, q4_0x8VNNIx1, q4_0x8VNNIx2, q4_0x8VNNIx3, q4_0x8VNNIx4, nil)
	// Sixteen rows at a time from eight tokens on (see asmgen's packed.go).
	q40.wide, q40.wideFrom = [4]tileFn{q4_0x16VNNIx1, q4_0x16VNNIx2, q4_0x16VNNIx3, q4_0x16VNNIx4}, 8
	packedFormats[gguf.TypeQ4_0].impls[levelAVX512] = q40
	packedFormats[gguf.TypeQ4_K].impls[levelAVX512] = &impl{act: actQ8_K, chunk: 1, tiles: q4KPromptTiles(q4_Kx8GemvVNNIx1, q4_Kx8GemmVNNIx4)}
	packedFormats[gguf.TypeQ4_K].decode[levelAVX512] = &impl{act: actQ8_K, chunk: 1, tiles: q4KDecodeTilesPair(q4_Kx8GemvVNNIx1, q4_Kx8GemvPairVNNIx2)}
	registerDecode(gguf.TypeQ4_K, levelAVX512, avx2[gguf.TypeQ4_K])
	// Short F32 rows transposed in groups of sixteen (f32x16.go).
	packedFormats[gguf.TypeF32].impls[levelAVX512] = &impl{act: actF32, chunk: 1, tiles: f32x16Tiles(f32x16TinyAVX512)}
	packedFormats[gguf.TypeF32].decode[levelAVX512] = &impl{act: actF32, chunk: 1, tiles: f32x16Tiles(f32x16VecAVX512)}
	return true
}

// rowGroupTiles runs the kernels wide, which take rows in groups of eight,
// on the whole groups and the row kernels narrow on the rows left over.
// Both compute each (row, token) the same way.
func rowGroupTiles(wide, narrow [4]tileFn) [4]tileFn {
	var ts [4]tileFn
	for i := range ts {
		wt, nt := wide[i], narrow[i]
		ts[i] = func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
			g := nRows &^ 7
			if g > 0 {
				wt(w, wStride, g, n, a, aStride, out, oStride)
			}
			if g < nRows {
				nt(unsafe.Add(w, uintptr(g)*wStride), wStride, nRows-g, n, a, aStride, unsafe.Add(out, 4*g), oStride)
			}
		}
	}
	return ts
}
