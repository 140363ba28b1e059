package tensor

import (
	"fmt"
	"math"
	"testing"
)

// TestRope: the vector rotations give the pure-Go twins' bits at every
// level, for halves of every size (vector chunks and scalar tails), heads
// further apart than the rotated part (partial rotary), and values where
// fusing the wrong product, or neither, changes the result.
func TestRope(t *testing.T) {
	rng := newRand(7)
	RopePairs(nil, 0, 0, nil, nil) // no heads or no rotary part: nothing to do
	RopeHalves(make([]float32, 8), 2, 4, nil, nil)
	for _, half := range []int{1, 2, 3, 4, 5, 8, 12, 16, 32} {
		for _, heads := range []int{1, 3, 8} {
			stride := 2*half + rng.IntN(3)*4
			x := make([]float32, heads*stride)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(40)-20))
			}
			cs, sn := make([]float32, half), make([]float32, half)
			for j := range cs {
				a := rng.Float64() * 1000
				cs[j], sn[j] = float32(math.Cos(a)), float32(math.Sin(a))
			}
			for _, layout := range []struct {
				name     string
				vec, ref func(x []float32, heads, stride int, cs, sn []float32)
			}{{"pairs", RopePairs, ropePairsGo}, {"halves", RopeHalves, ropeHalvesGo}} {
				want := append([]float32(nil), x...)
				layout.ref(want, heads, stride, cs, sn)
				t.Run(fmt.Sprintf("%s/half%d/heads%d", layout.name, half, heads), func(t *testing.T) {
					forLevels(t, func(t *testing.T, lvl string) {
						got := append([]float32(nil), x...)
						layout.vec(got, heads, stride, cs, sn)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
							}
						}
					})
				})
			}
		}
	}
}
