package libm

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFmaf checks Fmaf against exact rational arithmetic rounded once.
func TestFmaf(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 0))
	check := func(x, y, z float32) {
		want := exactFMA32(x, y, z)
		if got := Fmaf(x, y, z); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("Fmaf(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	for i := 0; i < 100000; i++ {
		x := float32(rng.NormFloat64())
		y := float32(rng.NormFloat64())
		z := float32(rng.NormFloat64())
		if i%3 == 0 { // near-cancellation and tiny addends, where double rounding bites
			z = -x * y * (1 + float32(rng.NormFloat64())*1e-6)
		}
		if i%5 == 0 {
			z = x * y * 0x1p-25
		}
		check(x, y, z)
	}
	// A case where rounding the float64 sum to float32 rounds twice.
	check(1+0x1p-23, 1+0x1p-23, 0x1p-48)
	check(1, 1, 0x1p-24+0x1p-60)
}

func exactFMA32(x, y, z float32) float32 {
	bx, by, bz := new(big.Float).SetFloat64(float64(x)), new(big.Float).SetFloat64(float64(y)), new(big.Float).SetFloat64(float64(z))
	r := new(big.Float).SetPrec(2000).Mul(bx, by)
	r.Add(r, bz)
	f, _ := r.Float32()
	return f
}
