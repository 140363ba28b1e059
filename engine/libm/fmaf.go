package libm

import "math"

// Fmaf is x*y+z rounded once to float32, like C's fmaf and the FMA
// instructions (llama.cpp's kernels use them, and GCC fuses a*b+c into
// them).
//
// math.FMA in float64 (one instruction on most CPUs) then rounded to
// float32 rounds twice, which can differ from rounding once only when the
// first rounding lands exactly halfway between two float32s (or in
// float32's subnormal range, where the halfway bit sits elsewhere). Those
// rare cases take fmafExact.
func Fmaf(x, y, z float32) float32 {
	s := math.FMA(float64(x), float64(y), float64(z))
	b := math.Float64bits(s)
	if e := b >> 52 & 0x7ff; b&(1<<29-1) != 1<<28 && e > 1023-126 && e < 0x7ff {
		return float32(s)
	}
	return fmafExact(x, y, z)
}

// fmafExact computes the sum with its exact error (TwoSum) and rounds it
// to odd in float64, which makes the final rounding to float32 correct
// (53 >= 2*24+2 bits). The product is exact in float64.
func fmafExact(x, y, z float32) float32 {
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
