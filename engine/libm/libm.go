// Package libm reproduces, bit for bit, the single-precision exponential,
// sine, cosine and hyperbolic tangent of glibc 2.36 on x86-64 CPUs with FMA
// and AVX2.
//
// llama.cpp's CPU backend calls expf (softmax, flash attention), sinf/cosf
// (RoPE tables) and tanhf (soft-capping, the GELU table) from the C
// library. To match its numbers exactly the engine needs the same
// roundings, and rounding the float64 results of package math to float32
// is not enough: that differs from glibc's expf for about 8e-5 of inputs,
// from cosf for about 1% of RoPE angles and from tanhf for 3% of inputs.
// (Tanhf is fdlibm's algorithm, which glibc builds without FMA; see
// tanhf.go.)
//
// The algorithms are those of glibc's sysdeps/ieee754/flt-32 (from ARM's
// optimized-routines). On x86-64 glibc picks, through an ifunc, a variant
// compiled with -mfma -mavx2, in which GCC contracted every a*b+c into a
// fused multiply-add. Each such contraction is written here as math.FMA; the
// remaining products and sums must stay separately rounded. The choice of
// contractions was read from the disassembly of Debian 12's libm.so.6 and
// checked against it over all 2^32 inputs (see testdata/gen.c). Over all
// inputs only the fusions in the argument reductions change any result (2
// inputs of expf, 12 of sinf, 22 of cosf); the polynomials' fusions never
// do, but are kept to mirror glibc rather than rely on that.
package libm

import "math"

// NaN results are built from bits rather than by arithmetic, because the
// NaN an invalid operation produces differs between CPU architectures and
// glibc's answer is the x86-64 one.
const (
	quietBit   = 0x00400000 // set by x86 when an operation passes a NaN through
	defaultNaN = 0xffc00000 // x86's "real indefinite": the NaN of inf-inf
)

// quiet returns the NaN x with its quiet bit set, as an x86 arithmetic
// operation on x would.
func quiet(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) | quietBit)
}

// abstop12 returns the top 12 bits of x's encoding without the sign: the
// exponent and the leading mantissa bit. glibc classifies inputs by it.
func abstop12(x float32) uint32 {
	return math.Float32bits(x) >> 20 & 0x7ff
}
