package tensor

import "math"

// The conversions here follow the x86 instructions ggml-cpu uses when the
// CPU has them (F16C's VCVTPS2PH with round-to-nearest-even, AVX512-BF16's
// rounding), which are also what ggml's portable C code computes for every
// finite input.

// halfTable holds the float32 value of every half: the pure-Go kernels look
// scales up rather than decode bits.
var halfTable = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = halfToFloatBits(uint16(i))
	}
	return &t
}()

// halfToFloat widens an IEEE half to float32 (exact).
func halfToFloat(h uint16) float32 { return halfTable[h] }

func halfToFloatBits(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN: the payload moves up, as VCVTPH2PS does
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default: // subnormal half: a normal float
		e := uint32(113)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
}

// floatToHalf rounds a float32 to the nearest half, ties to even; overflow
// gives Inf and NaNs stay NaN (quiet), like VCVTPS2PH with imm8 0.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): shift the full significand into place
		// and round on the bits that fall off.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - e)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 != 0) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 != 0) {
		h++ // may carry into the exponent, up to Inf: still correct
	}
	return sign | uint16(h)
}

// roundHalf returns f rounded to half precision, as a float32.
func roundHalf(f float32) float32 { return halfTable[floatToHalf(f)] }

// bf16ToFloat widens a bfloat16 (exact).
func bf16ToFloat(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// floatToBF16 rounds to bfloat16, ties to even, keeping NaNs quiet, like
// ggml_compute_fp32_to_bf16.
func floatToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
