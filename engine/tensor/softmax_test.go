package tensor

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
		if got := SoftmaxSum(s, ms, vs); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("SoftmaxSum(%g, %g, %g) = %g, want %g", s, ms, vs, got, want)
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

// softmaxScoreKinds are the scores the softmax tests give their kernels:
// every kind attention can give them (gaussian, wide, rising so that the
// maximum moves at every position, falling, spreads that push the
// exponentials' arguments through Expf's subnormal and underflow ranges)
// and some it should never (Inf, NaN, the largest float).
func softmaxScoreKinds(rng *rand.Rand) []func(p int) float32 {
	return []func(p int) float32{
		func(int) float32 { return float32(rng.NormFloat64()) },
		func(int) float32 { return float32(rng.NormFloat64() * 40) },
		func(p int) float32 { return float32(p) * 0.37 },             // rising: a new maximum every time
		func(p int) float32 { return -float32(p) * 3.1 },             // falling
		func(int) float32 { return -87 - float32(rng.Float64())*18 }, // arguments through [-105, -87]
		func(p int) float32 { return -103.1 - float32(p)*0.003 },     // and densely over Expf's last subnormal
		func(int) float32 {
			switch rng.IntN(8) {
			case 0:
				return float32(math.Inf(1))
			case 1:
				return float32(math.Inf(-1))
			case 2:
				return math.Float32frombits(0x7fc01234 | uint32(rng.IntN(2))<<31) // a NaN with a payload
			case 3:
				return math.MaxFloat32
			}
			return float32(rng.NormFloat64() * 1e3)
		},
	}
}

// checkSoftmaxHeads holds a many-head online softmax (run, over heads
// heads of n scores one head after another) to SoftmaxFactors one head at
// a time, bit for bit, at every level: factors, weights and sums, over
// softmaxScoreKinds from a few positions to hundreds, with a softcap
// (which takes the scalar path) and without. Each four heads' factors
// are interleaved by position (ms[4p+h]), the second four after the
// first's (MadRowsF16Heads4's and MadRowsF16Heads8's layouts).
func checkSoftmaxHeads(t *testing.T, rng *rand.Rand, heads int, run func(sc []float32, n int, scale, softcap float32, ms, vs []float32) []float32) {
	kinds := softmaxScoreKinds(rng)
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{1, 2, 3, 7, 24, 61, 300} {
			for k := range kinds {
				for _, softcap := range []float32{0, 30} {
					sc := make([]float32, heads*n)
					for h := 0; h < heads; h++ {
						kind := kinds[(k+h)%len(kinds)]
						if h == 1 && k%2 == 0 {
							kind = kinds[k] // not only mixes: two heads of one kind too
						}
						for p := 0; p < n; p++ {
							sc[h*n+p] = kind(p)
						}
					}
					if k == 4 || k == 5 {
						// Put the maximum first so that every later
						// argument is the spread itself.
						for h := 0; h < heads; h++ {
							sc[h*n] = 0
						}
					}
					scale := float32(1)
					if k == 0 {
						scale = 0.125
					}
					ms, vs := make([]float32, heads*n), make([]float32, heads*n)
					sums := run(sc, n, scale, softcap, ms, vs)
					for h := 0; h < heads; h++ {
						base := h / 4 * 4 * n // the first of the head's four's factors
						wm, wv := make([]float32, heads*n), make([]float32, heads*n)
						want := SoftmaxFactors(sc[h*n:(h+1)*n], scale, softcap, wm[base+h%4:], wv[base+h%4:], 4)
						if math.Float32bits(sums[h]) != math.Float32bits(want) {
							t.Fatalf("n %d kind %d softcap %g head %d: sum %v (%#x), want %v (%#x)", n, k, softcap, h, sums[h], math.Float32bits(sums[h]), want, math.Float32bits(want))
						}
						for p := 0; p < n; p++ {
							i := base + 4*p + h%4
							if math.Float32bits(ms[i]) != math.Float32bits(wm[i]) || math.Float32bits(vs[i]) != math.Float32bits(wv[i]) {
								t.Fatalf("n %d kind %d softcap %g head %d position %d (score %v): factors %v, %v, want %v, %v", n, k, softcap, h, p, sc[h*n+p], ms[i], vs[i], wm[i], wv[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestSoftmaxFactors4 holds the four-head online softmax to four
// SoftmaxFactors calls (checkSoftmaxHeads).
func TestSoftmaxFactors4(t *testing.T) {
	checkSoftmaxHeads(t, rand.New(rand.NewPCG(23, 5)), 4, func(sc []float32, n int, scale, softcap float32, ms, vs []float32) []float32 {
		sums := SoftmaxFactors4(sc, n, scale, softcap, ms, vs)
		return sums[:]
	})
}

// TestSoftmaxFactors8 holds the eight-head online softmax to eight
// SoftmaxFactors calls (checkSoftmaxHeads), each head's factors where
// MadRowsF16Heads8 reads them.
func TestSoftmaxFactors8(t *testing.T) {
	checkSoftmaxHeads(t, rand.New(rand.NewPCG(29, 6)), 8, func(sc []float32, n int, scale, softcap float32, ms, vs []float32) []float32 {
		sums := SoftmaxFactors8(sc, n, scale, softcap, ms, vs)
		return sums[:]
	})
}

// TestSoftmaxMadHeads8 holds the fused eight-head softmax and value sums
// to SoftmaxFactors and MadRowsF16 one head at a time in pure Go, bit for
// bit, at every level, over softmaxScoreKinds; heads sharing value rows
// and apart.
func TestSoftmaxMadHeads8(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 8))
	kinds := softmaxScoreKinds(rng)
	half := func() uint16 { return floatToHalf(float32(rng.NormFloat64())) }
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{1, 2, 9, 37} {
			for k := range kinds {
				for _, offs := range [][8]int{{0, 0, 8, 8, 16, 16, 24, 24}, {24, 0, 16, 8, 8, 16, 0, 24}} {
					const stride = 40
					sc := make([]float32, 8*n)
					for h := 0; h < 8; h++ {
						kind := kinds[(k+h)%len(kinds)]
						if h%2 == 0 {
							kind = kinds[k]
						}
						for p := 0; p < n; p++ {
							sc[h*n+p] = kind(p)
						}
					}
					vals := make([]uint16, n*stride)
					for i := range vals {
						vals[i] = half()
					}
					acc := make([]uint16, 64)
					for i := range acc {
						acc[i] = half()
					}
					want := append([]uint16(nil), acc...)
					scale := float32(0.35)
					ms, vs := make([]float32, 8*n), make([]float32, 8*n)
					sums := SoftmaxMadHeads8(acc, vals, stride, offs, sc, scale, 0, ms, vs)
					for h := 0; h < 8; h++ {
						hm, hv := make([]float32, n), make([]float32, n)
						wsum := SoftmaxFactors(sc[h*n:(h+1)*n], scale, 0, hm, hv, 1)
						if math.Float32bits(sums[h]) != math.Float32bits(wsum) && !(sums[h] != sums[h] && wsum != wsum) {
							t.Fatalf("n %d kind %d head %d: sum %v, want %v", n, k, h, sums[h], wsum)
						}
						vecAt[levelGo].madRowsF16(want[h*8:(h+1)*8], vals[offs[h]:], stride, hm, hv)
					}
					for i := range acc {
						if acc[i] != want[i] && !(halfToFloat(acc[i]) != halfToFloat(acc[i]) && halfToFloat(want[i]) != halfToFloat(want[i])) {
							t.Fatalf("n %d kind %d offsets %v: head %d acc[%d] = %#x, want %#x", n, k, offs, i/8, i%8, acc[i], want[i])
						}
					}
				}
			}
		}
	})
}
