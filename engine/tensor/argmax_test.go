package tensor

import (
	"fmt"
	"math"
	"testing"
)

// TestArgMax: ArgMax finds what the plain loop finds, at every level, for
// lengths around the vectors' and the unrolled loop's edges and a real
// vocabulary's, with ties (values drawn from a few), NaNs anywhere and at
// 0, infinities, -0 beside +0, and all-NaN or all -Inf rows.
func TestArgMax(t *testing.T) {
	rng := newRand(91)
	negZero := float32(math.Copysign(0, -1))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	kinds := []struct {
		name string
		gen  func(i, n int) float32
	}{
		{"random", func(i, n int) float32 { return float32(rng.NormFloat64()) }},
		{"ties", func(i, n int) float32 { return float32(rng.IntN(4)) }},
		{"nans", func(i, n int) float32 {
			if rng.IntN(3) == 0 {
				return nan
			}
			return float32(rng.IntN(5))
		}},
		{"nan-first", func(i, n int) float32 {
			if i == 0 {
				return nan
			}
			return float32(rng.IntN(5))
		}},
		{"zeros", func(i, n int) float32 {
			if rng.IntN(2) == 0 {
				return negZero
			}
			return -float32(rng.IntN(3))
		}},
		{"infs", func(i, n int) float32 { return []float32{inf, -inf, 1, nan}[rng.IntN(4)] }},
		{"one-max-nans", func(i, n int) float32 {
			switch {
			case i == n/3:
				return 100
			case rng.IntN(2) == 0:
				return nan
			}
			return float32(rng.NormFloat64())
		}},
		// The largest early, NaNs last in every lane of the vectors: a
		// maximum that let a NaN replace it would lose it.
		{"nans-last", func(i, n int) float32 {
			switch {
			case i == 1:
				return 100
			case i >= n-40:
				return nan
			}
			return float32(rng.NormFloat64())
		}},
		{"all-nan", func(i, n int) float32 { return nan }},
		{"all-neg-inf", func(i, n int) float32 { return -inf }},
		{"max-last", func(i, n int) float32 {
			if i == n-1 {
				return 2
			}
			return 1
		}},
	}
	lengths := []int{1, 2, 7, 8, 9, 15, 16, 31, 32, 33, 39, 40, 63, 64, 65, 100, 1000, 151936}
	forLevels(t, func(t *testing.T, lvl string) {
		for _, k := range kinds {
			for _, n := range lengths {
				for rep := 0; rep < 4; rep++ {
					x := make([]float32, n)
					for i := range x {
						x[i] = k.gen(i, n)
					}
					if got, want := ArgMax(x), argMaxGo(x); got != want {
						t.Fatalf("%s, %d values: %d (%v), the loop %d (%v)", k.name, n, got, x[got], want, x[want])
					}
				}
			}
		}
	})
	if ArgMax(nil) != 0 {
		t.Fatal("ArgMax of nothing is not 0")
	}
}

// BenchmarkArgMax: greedy sampling's cost over Qwen's vocabulary.
func BenchmarkArgMax(b *testing.B) {
	x := randomAct(newRand(5), 151936, false)
	benchLevels(b, func(b *testing.B) {
		for b.Loop() {
			ArgMax(x)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, fmt.Sprintf("us/%dvalues", len(x)))
	})
}
