package libm

import "math"

// sincosCoeffs holds the reduction constants and the polynomials shared by
// Sinf and Cosf. The second table negates the cosine polynomial, which
// gives the sign flip of quadrants 2 and 3 without a multiplication.
type sincosCoeffs struct {
	sign               [4]float64 // sign of the sine in quadrants 0..3
	hpiInv             float64    // 2/pi scaled by 2^24 (see reduceFast)
	hpi                float64    // pi/2
	c0, c1, c2, c3, c4 float64    // cosine polynomial
	s1, s2, s3         float64    // sine polynomial beyond x
}

var sincosTab = [2]sincosCoeffs{
	{
		sign:   [4]float64{1, -1, -1, 1},
		hpiInv: 0x1.45f306dc9c883p+23,
		hpi:    0x1.921fb54442d18p0,
		c0:     0x1p0,
		c1:     -0x1.ffffffd0c621cp-2,
		c2:     0x1.55553e1068f19p-5,
		c3:     -0x1.6c087e89a359dp-10,
		c4:     0x1.99343027bf8c3p-16,
		s1:     -0x1.555545995a603p-3,
		s2:     0x1.1107605230bc4p-7,
		s3:     -0x1.994eb3774cf24p-13,
	},
	{
		sign:   [4]float64{1, -1, -1, 1},
		hpiInv: 0x1.45f306dc9c883p+23,
		hpi:    0x1.921fb54442d18p0,
		c0:     -0x1p0,
		c1:     0x1.ffffffd0c621cp-2,
		c2:     -0x1.55553e1068f19p-5,
		c3:     0x1.6c087e89a359dp-10,
		c4:     -0x1.99343027bf8c3p-16,
		s1:     -0x1.555545995a603p-3,
		s2:     0x1.1107605230bc4p-7,
		s3:     -0x1.994eb3774cf24p-13,
	},
}

// invPio4 is 4/pi to 192 bits. Entry i holds the 32 bits starting 8*i bits
// in, so reduceLarge can load any 8-bit-aligned window with aligned reads.
var invPio4 = [24]uint32{
	0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e,
	0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
	0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
	0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
	0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599,
	0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
}

const (
	pi63 = 0x1.921fb54442d18p-62 // 2*pi / 2^64: scales reduceLarge's fixed point

	// Input classes, by abstop12.
	top12OfPio4     = 0x3f4 // |x| < pi/4: no reduction
	top12Of2pm12    = 0x398 // |x| < 2^-12: sin x = x, cos x = 1 in float32
	top12Of120      = 0x42f // |x| < 120: reduceFast is accurate enough
	top12OfInfinity = 0x7f8
)

// Sinf returns sin(x) rounded to float32 exactly as glibc 2.36's sinf does
// on x86-64 with FMA (the libm llama.cpp's CPU backend uses to build RoPE
// tables), so that rotary embeddings match llama.cpp bit for bit;
// float32(math.Sin(float64(x))) differs from it for about 1% of RoPE
// angles, because glibc's result is not always the correctly rounded one.
//
// Special cases are glibc's: ±0 and subnormals are returned unchanged,
// Sinf(±Inf) is the x86 default NaN (sign bit set), a NaN is returned
// quieted with its payload kept.
func Sinf(x float32) float32 {
	top := abstop12(x)
	switch {
	case top < top12OfPio4:
		if top < top12Of2pm12 {
			return x
		}
		xd := float64(x)
		return sincosPoly(xd, xd*xd, &sincosTab[0], 0)
	case top < top12Of120:
		r, n := reduceFast(float64(x))
		return sincosPoly(r*sincosTab[0].sign[n&3], r*r, &sincosTab[(n>>1)&1], n)
	case top < top12OfInfinity:
		ix := math.Float32bits(x)
		r, n := reduceLarge(ix)
		// reduceLarge works on |x|. Adding x's sign bit to the quadrant that
		// picks the signs negates the result in every quadrant: for even n
		// through the sign applied to r, for odd n through the choice of
		// the negated cosine table.
		q := n + int(ix>>31)
		return sincosPoly(r*sincosTab[0].sign[q&3], r*r, &sincosTab[(q>>1)&1], n)
	}
	return invalid(x)
}

// Cosf returns cos(x) rounded to float32 exactly as glibc 2.36's cosf does
// on x86-64 with FMA (the libm llama.cpp's CPU backend uses to build RoPE
// tables), so that rotary embeddings match llama.cpp bit for bit;
// float32(math.Cos(float64(x))) differs from it for about 1% of RoPE angles,
// because glibc's result is not always the correctly rounded one.
//
// Special cases are glibc's: Cosf(±Inf) is the x86 default NaN (sign bit
// set), a NaN is returned quieted with its payload kept.
func Cosf(x float32) float32 {
	top := abstop12(x)
	switch {
	case top < top12OfPio4:
		if top < top12Of2pm12 {
			return 1
		}
		xd := float64(x)
		return sincosPoly(xd, xd*xd, &sincosTab[0], 1)
	case top < top12Of120:
		r, n := reduceFast(float64(x))
		return sincosPoly(r*sincosTab[0].sign[n&3], r*r, &sincosTab[(n>>1)&1], n^1)
	case top < top12OfInfinity:
		ix := math.Float32bits(x)
		r, n := reduceLarge(ix)
		q := n + int(ix>>31) // as in Sinf; the result comes out unchanged, cos being even
		return sincosPoly(r*sincosTab[0].sign[q&3], r*r, &sincosTab[(q>>1)&1], n^1)
	}
	return invalid(x)
}

// invalid is glibc's result for sin and cos of ±Inf and NaN: (x-x)/(x-x)
// evaluated by x86 SSE.
func invalid(x float32) float32 {
	if x != x {
		return quiet(x)
	}
	return math.Float32frombits(defaultNaN)
}

// reduceFast returns x - n*pi/2 for the integer n nearest x*2/pi, and n.
// Scaling by 2^24 before the conversion to int32 makes the truncation's
// direction (toward zero, wrong for negative x) irrelevant: it moves the
// value by less than 2^-24 of a quadrant. Adding half a quadrant and
// shifting then rounds to the nearest quadrant. Valid for |x| < 120, where
// pi/2 as a double is precise enough. glibc's FMA build fuses n*pi/2 into
// the subtraction, which matters where x is close to a multiple of pi/2.
func reduceFast(x float64) (float64, int) {
	p := &sincosTab[0]
	n := (int32(x*p.hpiInv) + 0x800000) >> 24
	return math.FMA(-float64(n), p.hpi, x), int(n)
}

// reduceLarge reduces |x| for 120 <= |x| < Inf, given x's encoding, exactly
// in 2.62-bit fixed point: the 24-bit mantissa times the 96 bits of 4/pi
// selected by x's exponent (higher bits would only add whole turns). It
// returns the remainder in [-pi/4, pi/4] as a double and the quadrant n in
// 0..3.
func reduceLarge(ix uint32) (float64, int) {
	arr := invPio4[(ix>>26)&15:]
	shift := (ix >> 23) & 7
	m := (ix&0xffffff | 0x800000) << shift

	// Only the low 32 bits of the top product survive the 2^64 wrap-around.
	res0 := uint64(m * arr[0])
	res1 := uint64(m) * uint64(arr[4])
	res2 := uint64(m) * uint64(arr[8])
	res0 = res2>>32 | res0<<32
	res0 += res1

	n := (res0 + 1<<61) >> 62
	res0 -= n << 62
	return float64(int64(res0)) * pi63, int(n)
}

// sincosPoly evaluates sin(x) for even n or cos(x) for odd n, on the reduced
// argument x with x2 = x*x, using the coefficients p, and rounds the double
// result to float32. Every product feeding a sum is fused exactly where
// GCC fused it in glibc's FMA build; the powers of x are plain products.
func sincosPoly(x, x2 float64, p *sincosCoeffs, n int) float32 {
	if n&1 == 0 {
		x3 := x * x2
		s1 := math.FMA(x2, p.s3, p.s2)
		x7 := x3 * x2
		s := math.FMA(x3, p.s1, x)
		return float32(math.FMA(s1, x7, s))
	}
	x4 := x2 * x2
	c2 := math.FMA(x2, p.c4, p.c3)
	c1 := math.FMA(x2, p.c1, p.c0)
	x6 := x4 * x2
	c := math.FMA(x4, p.c2, c1)
	return float32(math.FMA(c2, x6, c))
}
