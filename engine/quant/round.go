package quant

import "math"

// nearestInt is ggml's nearest_int: adding 1.5*2^23 leaves round-to-nearest-
// even of fval in the low mantissa bits. Valid for |fval| <= 4194303; like
// the C code, larger or non-finite inputs give whatever the bits say.
func nearestInt(fval float32) int32 {
	// The conversion keeps a product passed as fval from being fused
	// with this addition once inlined.
	val := float32(fval) + 12582912
	i := int32(math.Float32bits(val))
	return (i & 0x007fffff) - 0x00400000
}

// cvtt is C's float to int conversion as x86-64 executes it (cvttss2si):
// truncation toward zero, with NaN and out-of-range values giving
// math.MinInt32. C casts to narrower types keep the low bits of this.
func cvtt(f float32) int32 {
	f = float32(f)
	if f >= -2147483648 && f < 2147483648 {
		return int32(f)
	}
	return math.MinInt32
}

// roundf is C's roundf (half away from zero) followed by a conversion to
// int as x86-64 does it.
func roundf(f float32) int32 {
	return cvtt(float32(math.Round(float64(float32(f)))))
}

// roundSmall is roundf for |f| <= 4194303, the case of every block whose
// scale is a normal float. nearestInt rounds ties to even without a
// data-dependent branch; the rare exact tie that went toward zero is then
// moved away from it. (A branch on the sign instead would mispredict half
// the time on weights: five times slower on data that does not repeat.)
func roundSmall(f float32) int32 {
	f = float32(f)
	r := nearestInt(f)
	if d := f - float32(r); d == 0.5 && f > 0 {
		r++
	} else if d == -0.5 && f < 0 {
		r--
	}
	return r
}

// maxC is C's MAX macro (a > b ? a : b), whose NaN handling differs from
// math.Max.
func maxC(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func clampI(v, lo, hi int32) int32 {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}
