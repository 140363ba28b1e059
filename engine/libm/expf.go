package libm

import "math"

// expf's table-driven algorithm: e^x = 2^(k/32) * 2^(r/32) with integer k
// and |r| <= 1/2, 2^(k/32) taken from a 32-entry table of 2^(i/32) whose
// exponent field is patched with floor(k/32), and 2^(r/32) by a cubic
// polynomial.
const (
	expTableBits = 5
	expN         = 1 << expTableBits

	// Adding 1.5*2^52 rounds a double of magnitude below 2^51 to an integer
	// (ties to even) and leaves that integer in the low mantissa bits.
	expShift      = 0x1.8p+52
	expInvLn2N    = 0x1.71547652b82fep+0 * expN
	expC0         = 0x1.c6af84b912394p-5 / expN / expN / expN
	expC1         = 0x1.ebfce50fac4f3p-3 / expN / expN
	expC2         = 0x1.62e42ff0c52d6p-1 / expN
	expOverflow   = 0x1.62e42ep6  // above this, e^x rounds to +Inf
	expUnderflow  = -0x1.9fe368p6 // below this, e^x rounds to 0
	expSubnormMin = -0x1.9d1d9ep6 // below this (and above expUnderflow), 2^-149
	smallestFloat = 0x1p-149      // the smallest subnormal float32
	top12Of88     = 0x42b         // abstop12(88)
	top12OfInf    = 0x7f8         // abstop12(+Inf)
	float32NegInf = 0xff800000    // bits of -Inf
)

// expTab[i] is the encoding of 2^(i/32) minus i<<47, so that adding k<<47
// for k ≡ i (mod 32) yields 2^(k/32) with the exponent already adjusted.
var expTab = [expN]uint64{
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
}

// Expf returns e**x rounded to float32 exactly as glibc 2.36's expf does on
// x86-64 with FMA (the libm that llama.cpp's CPU backend calls in softmax
// and flash attention), so that attention weights match llama.cpp bit for
// bit. float32(math.Exp(float64(x))) differs from it for about 8e-5 of
// inputs, because glibc's result is not always the correctly rounded one.
//
// Special cases are glibc's: Expf(+Inf) = +Inf, Expf(-Inf) = 0, a NaN is
// returned quieted with its payload kept, results beyond float32's range
// are +Inf or 0.
func Expf(x float32) float32 {
	xd := float64(x)
	if abstop := abstop12(x); abstop >= top12Of88 {
		// |x| >= 88 or x is NaN: the cases where the result may leave
		// float32's range; the others fall through to the common path.
		switch {
		case math.Float32bits(x) == float32NegInf:
			return 0
		case x != x:
			return quiet(x)
		case abstop >= top12OfInf:
			return x // +Inf
		case x > expOverflow:
			return float32(math.Inf(1))
		case x < expUnderflow:
			return 0
		case x < expSubnormMin:
			// glibc returns a computed tiny value here to raise the
			// underflow flag; it rounds to the smallest subnormal.
			return smallestFloat
		}
	}

	// x*32/ln2 = k + r. glibc's FMA build contracts the product into the
	// shift addition and again into the subtraction computing r, so the
	// product InvLn2N*x is never rounded on its own.
	kd := math.FMA(expInvLn2N, xd, expShift)
	ki := math.Float64bits(kd)
	kd -= expShift
	r := math.FMA(expInvLn2N, xd, -kd)

	// 2^(k/32) from the table with k's integer part added to the exponent.
	s := math.Float64frombits(expTab[ki%expN] + ki<<(52-expTableBits))

	z := math.FMA(expC0, r, expC1)
	r2 := r * r
	y := math.FMA(expC2, r, 1)
	y = math.FMA(z, r2, y)
	return float32(y * s)
}
