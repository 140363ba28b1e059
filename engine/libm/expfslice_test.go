package libm

import (
	"math"
	"testing"
)

// TestExpfSlice holds ExpfSlice to Expf bit for bit, on the vector path
// and without it: every 257th float32 encoding (all signs, exponents and
// the special values among them), the attention domain [-104, 0] densely,
// and slices of every length from 0 to 20 so that the tails are covered.
func TestExpfSlice(t *testing.T) {
	paths := []bool{false}
	if useVector {
		paths = append(paths, true)
	}
	for _, vec := range paths {
		old := useVector
		useVector = vec
		check := func(src []float32) {
			t.Helper()
			dst := make([]float32, len(src))
			ExpfSlice(dst, src)
			for i, x := range src {
				if want := Expf(x); math.Float32bits(dst[i]) != math.Float32bits(want) {
					t.Fatalf("vector %v: ExpfSlice(%v (%#x)) = %v (%#x), Expf %v (%#x)", vec, x, math.Float32bits(x),
						dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
				}
			}
		}
		const chunk = 1 << 16
		src := make([]float32, 0, chunk)
		for b := uint64(0); b < 1<<32; b += 257 {
			src = append(src, math.Float32frombits(uint32(b)))
			if len(src) == chunk {
				check(src)
				src = src[:0]
			}
		}
		check(src)
		src = src[:0]
		for b := math.Float32bits(-104); b > math.Float32bits(-1e-30); b -= 101 {
			src = append(src, math.Float32frombits(b))
			if len(src) == chunk {
				check(src)
				src = src[:0]
			}
		}
		check(src)
		specials := []float32{0, float32(math.Copysign(0, -1)), 88, -88, 87.99, -103.97, -103.98, -104, 89, float32(math.Inf(1)),
			float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc01234), 1e-40, -1e-40}
		for n := 0; n <= 20; n++ {
			in := make([]float32, n)
			for i := range in {
				in[i] = specials[(i*5+n)%len(specials)]
			}
			check(in)
		}
		useVector = old
	}
}

func BenchmarkExpfSlice(b *testing.B) {
	src := benchInputs(-30, 0)
	dst := make([]float32, len(src))
	for range b.N {
		ExpfSlice(dst, src)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/value")
}
