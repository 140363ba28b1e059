package tensor

//go:noescape
func maxF32AVX2(x *float32, n int) float32

//go:noescape
func indexF32AVX2(x *float32, n int, v float32) int

// argMaxVec is argMaxGo in two vector passes over the whole vectors of
// eight: the largest value other than NaN, then the first index holding
// it (an equal compare, so -0 finds +0 and the reverse).
func argMaxVec(x []float32) int {
	if x[0] != x[0] {
		return 0 // nothing is larger than a NaN at 0
	}
	n := len(x) &^ 7
	m := x[0]
	if n > 0 {
		m = max(m, maxF32AVX2(&x[0], n)) // x[0] is no NaN, so neither is m
	}
	for _, l := range x[n:] {
		if l > m {
			m = l
		}
	}
	if n > 0 {
		if i := indexF32AVX2(&x[0], n, m); i >= 0 {
			return i
		}
	}
	for i, l := range x[n:] {
		if l == m {
			return n + i
		}
	}
	return 0 // not reached: m is one of x's values
}
