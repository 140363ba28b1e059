package tensor

import "math"

// RMSNorm writes dst = RMSNorm(src)·w for rows rows of d values, in
// llama.cpp's order: each row's sum of squares in float64, the products
// rounded to float32 and added in order; mean and scale in float32; then
// (x·scale)·w, two roundings. dst may be src.
//
// A row's sum is a chain of dependent float64 adds, which one row cannot
// shorten. Where the level has it, eight rows go side by side instead,
// the lanes of one vector (rmsSums8): each row's chain is the same adds,
// eight chains for the latency of one. A batch's rows, a prompt's
// tokens, or a token's heads (QK norm) fill the lanes.
func RMSNorm(dst, src, w []float32, d, rows int, eps float32) {
	if rows <= 0 || d <= 0 {
		return
	}
	_, _, _ = dst[rows*d-1], src[rows*d-1], w[d-1]
	v := vecs()
	r := 0
	if v.rmsSums8 && d%8 == 0 {
		var sums [8]float64
		for ; r+8 <= rows; r += 8 {
			rmsSums8AVX512(&src[r*d], d, &sums)
			for k, sum := range sums {
				rmsApply(v, dst[(r+k)*d:(r+k+1)*d], src[(r+k)*d:(r+k+1)*d], w, sum, eps)
			}
		}
	}
	for ; r < rows; r++ {
		x := src[r*d : (r+1)*d]
		var sum float64
		for _, v := range x {
			sum += float64(float32(v * v))
		}
		rmsApply(v, dst[r*d:(r+1)*d], x, w, sum, eps)
	}
}

// rmsApply scales x by its row's sum of squares and multiplies by w.
func rmsApply(v *vecFuncs, y, x, w []float32, sum float64, eps float32) {
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	v.scaleMul(y, x, w, scale)
}

func scaleMulGo(y, x, w []float32, scale float32) {
	w = w[:len(x)]
	y = y[:len(x)]
	for i, v := range x {
		y[i] = float32(v*scale) * w[i]
	}
}
