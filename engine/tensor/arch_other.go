//go:build !amd64

package tensor

import "github.com/llmsql/llmsql/engine/libm"

// registerArch is called once by the package's init: other architectures
// run the pure-Go kernels.
func registerArch() {}

// rmsSums8AVX512 is never called here (vecFuncs.rmsSums8 is false).
func rmsSums8AVX512(x *float32, d int, sums *[8]float64) { panic("tensor: no AVX-512") }

// scoresF16Heads8AVX512 is never called here (vecFuncs.scoresHeads8 is
// false).
func scoresF16Heads8AVX512(out *float32, ostride uintptr, keys *uint16, stride uintptr, np8 int, q *uint16, n int, offs *[8]uintptr, rem int) {
	panic("tensor: no AVX-512")
}

// softmaxMadHeads8AVX512 is never called here (vecFuncs.softmaxMad8 is
// false).
func softmaxMadHeads8AVX512(acc, vals *uint16, stride uintptr, offs *[8]uintptr, sc *float32, hstride uintptr, np int, scale float32, sums *[8]float32, ev *libm.ExpfVector) {
	panic("tensor: no AVX-512")
}

// madRowsF16Heads8AVX512 is never called here (vecFuncs.heads8 is nil).
func madRowsF16Heads8AVX512(acc, vals *uint16, stride uintptr, n int, offs *[8]uintptr, ms, vs *float32, np int) {
	panic("tensor: no AVX-512")
}
