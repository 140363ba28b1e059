package tensor

//go:noescape
func rmsSums8AVX512(x *float32, d int, sums *[8]float64)

//go:noescape
func scaleMulAVX2(y, x, w *float32, n int, scale float32)

// scaleMulVec is scaleMulGo with AVX2 for the whole vectors of eight.
func scaleMulVec(y, x, w []float32, scale float32) {
	n := len(x) &^ 7
	if n > 0 {
		_, _ = y[n-1], w[n-1]
		scaleMulAVX2(&y[0], &x[0], &w[0], n, scale)
	}
	if n < len(x) {
		scaleMulGo(y[n:], x[n:], w[n:], scale)
	}
}
