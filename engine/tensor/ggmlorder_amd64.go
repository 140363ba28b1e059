package tensor

import "unsafe"

// dotF16x64AVX512 is ggml_vec_dot_f16's whole steps of 64 (n a positive
// multiple of 64) on one pair of rows.
func dotF16x64AVX512(a, b *uint16, n int) float32 {
	var out float32
	dotF16RowsAVX512(unsafe.Pointer(a), 0, 1, n, unsafe.Pointer(b), unsafe.Pointer(&out))
	return out
}

//go:noescape
func dotF16x64AVX2(a, b *uint16, n int) float32

//go:noescape
func dotF16RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

//go:noescape
func dotF16F32RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

//go:noescape
func dotF32RowsAVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

//go:noescape
func dotF32Rows4AVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

// rowsFn is a one-token row kernel: nRows rows wStride bytes apart
// against the activations at a, one float32 result per row at out.
type rowsFn = func(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

// fourThenOne runs four, a kernel that takes rows four at a time, on the
// whole fours and one, its row-at-a-time twin, on the rest.
func fourThenOne(four, one rowsFn) rowsFn {
	return func(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer) {
		n4 := nRows &^ 3
		if n4 > 0 {
			four(w, wStride, n4, n, a, out)
		}
		if n4 < nRows {
			one(unsafe.Add(w, uintptr(n4)*wStride), wStride, nRows-n4, n, a, unsafe.Add(out, 4*n4))
		}
	}
}

// dotF32RowsQuadAVX512 is dotF32RowsAVX512 with the rows four at a time
// (dotF32Rows4AVX512), then the rest one by one.
var dotF32RowsQuadAVX512 = fourThenOne(dotF32Rows4AVX512, dotF32RowsAVX512)

//go:noescape
func dotF16Rows4AVX512(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

// dotF16RowsQuadAVX512 is dotF16RowsAVX512 with the rows four at a time
// (dotF16Rows4AVX512), then the rest one by one: for attention's scores.
// Not for decoding F16 weights: there four weight streams a thread slowed
// generation by a fifth (TinyLlama F16, 17 against 21 t/s), as two streams
// did with Q4_0's paired groups.
var dotF16RowsQuadAVX512 = fourThenOne(dotF16Rows4AVX512, dotF16RowsAVX512)

//go:noescape
func dotF32RowsAVX2(w unsafe.Pointer, wStride uintptr, nRows, n int, a, out unsafe.Pointer)

// rowTiles runs a one-token row kernel for each of T tokens.
func rowTiles(rows rowsFn) [4]tileFn {
	var ts [4]tileFn
	for T := 1; T <= 4; T++ {
		ts[T-1] = func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
			for t := 0; t < T; t++ {
				rows(w, wStride, nRows, n, unsafe.Add(a, uintptr(t)*aStride), unsafe.Add(out, uintptr(t)*oStride))
			}
		}
	}
	return ts
}

// f16DecodeTiles runs dotF16F32RowsAVX512 for each of T tokens: the F16
// decode kernel for rows whose length is a multiple of 64, on activations
// widened once (actF32 rounded to F16).
func f16DecodeTiles() [4]tileFn { return rowTiles(dotF16F32RowsAVX512) }
