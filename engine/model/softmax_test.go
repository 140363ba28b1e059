package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmsql/llmsql/engine/libm"
)

// TestSoftmaxSumMatchesFmaf: the online softmax's sum skips the fma when
// the scale is 1; it must give the fused result's bits either way, over
// the sums attention sees (positive, growing with the positions, down to
// subnormal terms) and some it never does (negative, zero, huge).
func TestSoftmaxSumMatchesFmaf(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 0))
	check := func(s, ms, vs float32) {
		t.Helper()
		want := libm.Fmaf(s, ms, vs)
		if got := softmaxSum(s, ms, vs); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("softmaxSum(%g, %g, %g) = %g, want %g", s, ms, vs, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		s := float32(rng.Float64() * math.Exp2(float64(rng.IntN(40)-10)))
		vs := float32(rng.Float64())
		switch i % 4 {
		case 1:
			vs = float32(math.Exp(-rng.Float64() * 104)) // down to subnormal
		case 2:
			s = -s
		case 3:
			s = float32(math.Ldexp(rng.Float64(), rng.IntN(250)-125))
		}
		check(s, 1, vs)
		check(s, float32(rng.Float64()), vs)
		check(s, float32(rng.Float64()), 1)
	}
	for _, s := range []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, float32(math.Inf(1)), 0x1p-149} {
		for _, vs := range []float32{0, 1, 0x1p-149, 0.5} {
			check(s, 1, vs)
		}
	}
}
