package libm

import "math"

// Tanhf returns the hyperbolic tangent of x rounded to float32 exactly as
// glibc 2.36's tanhf does on x86-64: the classic fdlibm algorithm (from
// sysdeps/ieee754/flt-32), tanh(x) = -t/(t+2) with t = expm1(-2|x|) below
// 1 and 1 - 2/(expm1(2|x|)+2) from 1 to 22, in float32 arithmetic without
// fused multiply-adds (glibc has no FMA variant of it). llama.cpp calls it
// for Gemma 2's soft-capping of attention scores and logits, and in the
// table behind its GELU. Its result is not always the correctly rounded
// one: float32(math.Tanh(float64(x))) differs for about 3% of inputs.
func Tanhf(x float32) float32 {
	jx := math.Float32bits(x)
	ix := jx & 0x7fffffff
	if ix >= 0x7f800000 { // Inf or NaN
		if x != x {
			return quiet(x)
		}
		if int32(jx) >= 0 {
			return 1
		}
		return -1
	}
	var z float32
	switch {
	case ix == 0:
		return x // ±0
	case ix < 0x24000000: // |x| < 2^-55
		return x * (1 + x)
	case ix >= 0x41b00000: // |x| >= 22
		z = 1 // 1 - tiny, which rounds to 1
	case ix >= 0x3f800000: // |x| >= 1
		t := expm1f(2 * abs(x))
		z = 1 - 2/(t+2)
	default:
		t := expm1f(-2 * abs(x))
		z = -t / (t + 2)
	}
	if int32(jx) >= 0 {
		return z
	}
	return -z
}

func abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// expm1f is glibc's (fdlibm's) float e^x - 1, for the finite arguments
// Tanhf passes (|x| < 44). Products that fdlibm adds are written with
// explicit float32 conversions so that they round before the addition, as
// the C code compiled without FMA does.
func expm1f(x float32) float32 {
	const (
		ln2Hi  = float32(6.9313812256e-01) // 0x3f317180
		ln2Lo  = float32(9.0580006145e-06) // 0x3717f7d1
		invLn2 = float32(1.4426950216e+00) // 0x3fb8aa3b
		q1     = float32(-3.3333335072e-02)
		q2     = float32(1.5873016091e-03)
		q3     = float32(-7.9365076090e-05)
		q4     = float32(4.0082177293e-06)
		q5     = float32(-2.0109921195e-07)
	)
	hx := math.Float32bits(x)
	neg := hx&0x80000000 != 0
	hx &= 0x7fffffff
	if hx >= 0x4195b844 && neg { // x <= -27*ln2: -1 (tiny - 1)
		return -1
	}
	var hi, lo, c float32
	var k int32
	switch {
	case hx > 0x3eb17218: // |x| > ln2/2
		if hx < 0x3f851592 { // and |x| < 3*ln2/2
			if !neg {
				hi, lo, k = x-ln2Hi, ln2Lo, 1
			} else {
				hi, lo, k = x+ln2Hi, -ln2Lo, -1
			}
		} else {
			half := float32(0.5)
			if neg {
				half = -0.5
			}
			k = int32(float32(invLn2*x) + half)
			t := float32(k)
			hi = x - float32(t*ln2Hi) // t*ln2Hi is exact here
			lo = t * ln2Lo
		}
		x = hi - lo
		c = (hi - x) - lo
	case hx < 0x33000000: // |x| < 2^-25
		return x
	}
	hfx := float32(0.5) * x
	hxs := x * hfx
	r1 := 1 + float32(hxs*(q1+float32(hxs*(q2+float32(hxs*(q3+float32(hxs*(q4+float32(hxs*q5)))))))))
	t := 3 - float32(r1*hfx)
	e := hxs * ((r1 - t) / (6 - float32(x*t)))
	if k == 0 {
		return x - (float32(x*e) - hxs)
	}
	e = float32(x*(e-c)) - c
	e -= hxs
	if k == -1 {
		return float32(0.5)*(x-e) - 0.5
	}
	if k == 1 {
		if x < -0.25 {
			return -2 * (e - (x + 0.5))
		}
		return 1 + float32(2*(x-e))
	}
	if k <= -2 || k > 56 { // e^x - 1 is e^x to float32's precision
		y := 1 - (e - x)
		y = math.Float32frombits(math.Float32bits(y) + uint32(k<<23))
		return y - 1
	}
	var y float32
	if k < 23 {
		t := math.Float32frombits(uint32(0x3f800000 - (0x1000000 >> k))) // 1 - 2^-k
		y = t - (e - x)
	} else {
		t := math.Float32frombits(uint32((0x7f - k) << 23)) // 2^-k
		y = x - (e + t)
		y += 1
	}
	return math.Float32frombits(math.Float32bits(y) + uint32(k<<23))
}
