package tensor

import "unsafe"

// The x16 F32 kernels (f32x16_amd64.s) for T tokens.

//go:noescape
func f32x16VecAVX512(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr, T int)

//go:noescape
func f32x16TinyAVX512(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr, T int)

// f32x16Tiles binds kernel to each token count.
func f32x16Tiles(kernel func(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr, T int)) [4]tileFn {
	var ts [4]tileFn
	for T := 1; T <= 4; T++ {
		ts[T-1] = func(w unsafe.Pointer, gStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
			kernel(w, gStride, nRows, n, a, aStride, out, oStride, T)
		}
	}
	return ts
}
