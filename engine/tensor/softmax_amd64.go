package tensor

import "github.com/llmsql/llmsql/engine/libm"

//go:noescape
func softmax4AVX512(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[4]float32, ev *libm.ExpfVector)

//go:noescape
func softmax4AVX2(sc *float32, hstride uintptr, np int, scale float32, ms, vs *float32, sums *[4]float32, ev *libm.ExpfVector)

// softmax4AVX2With is SoftmaxFactors4's AVX2 kernel behind the vecFuncs
// signature. It and softmax4With each call their kernel directly: through
// a function value the sums would escape to the heap, an allocation per
// call that TestDecodeAllocatesNothing forbids.
func softmax4AVX2With(sc []float32, n int, scale float32, ms, vs []float32) (sums [4]float32) {
	softmax4AVX2(&sc[0], uintptr(4*n), n, scale, &ms[0], &vs[0], &sums, libm.ExpfVectorData())
	return sums
}

// softmax4With is SoftmaxFactors4's AVX-512 kernel behind the vecFuncs
// signature.
func softmax4With(sc []float32, n int, scale float32, ms, vs []float32) (sums [4]float32) {
	softmax4AVX512(&sc[0], uintptr(4*n), n, scale, &ms[0], &vs[0], &sums, libm.ExpfVectorData())
	return sums
}
