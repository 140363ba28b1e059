package tensor

import "github.com/llmsql/llmsql/engine/libm"

// Attention's eight-head kernels (heads8_amd64.s).

//go:noescape
func scoresF16Heads8AVX512(out *float32, ostride uintptr, keys *uint16, stride uintptr, np8 int, q *uint16, n int, offs *[8]uintptr, rem int)

//go:noescape
func softmax8AVX512(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[8]float32, ev *libm.ExpfVector)

//go:noescape
func madRowsF16Heads8AVX512(acc, vals *uint16, stride uintptr, n int, offs *[8]uintptr, ms, vs *float32, np int)

//go:noescape
func softmaxMadHeads8AVX512(acc, vals *uint16, stride uintptr, offs *[8]uintptr, sc *float32, hstride uintptr, np int, scale float32, sums *[8]float32, ev *libm.ExpfVector)

// softmax8With is SoftmaxFactors8's AVX-512 kernel behind the vecFuncs
// signature (called directly: through a function value the sums would
// escape to the heap).
func softmax8With(sc []float32, n int, scale float32, ms, vs []float32) (sums [8]float32) {
	softmax8AVX512(&sc[0], uintptr(4*n), n, scale, &ms[0], &vs[0], &sums, libm.ExpfVectorData())
	return sums
}
