package libm

import "math"

// Fmaf is x*y+z rounded once to float32, like C's fmaf and the FMA
// instructions (llama.cpp's kernels use them, and GCC fuses a*b+c into
// them). math.FMA rounded to float32 would round twice. The product is exact in float64; the sum is
// computed with its exact error (TwoSum) and rounded to odd in float64,
// which makes the final rounding to float32 correct (53 >= 2*24+2 bits).
func Fmaf(x, y, z float32) float32 {
	p := float64(x) * float64(y)
	zz := float64(z)
	s := p + zz
	bb := s - p
	e := (p - (s - bb)) + (zz - bb)
	if e != 0 && !math.IsInf(s, 0) && !math.IsNaN(e) {
		b := math.Float64bits(s)
		if b&1 == 0 {
			if (e > 0) == (s > 0) {
				b++
			} else {
				b--
			}
			s = math.Float64frombits(b)
		}
	}
	return float32(s)
}
