package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomHalves(rng interface{ NormFloat64() float64 }, n int) []uint16 {
	h := make([]uint16, n)
	for i := range h {
		h[i] = floatToHalf(float32(rng.NormFloat64()))
	}
	return h
}

func randomFloats(rng interface{ NormFloat64() float64 }, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
	}
	return f
}

var vecLengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 128, 257}

// TestVecOps holds every level's vector helpers to the pure-Go versions:
// exactly for the element-wise ones (the same single roundings), within
// float32 summation error for the dot products.
func TestVecOps(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		rng := newRand(15)
		ref := vecAt[levelGo]
		for _, n := range vecLengths {
			a, b := randomHalves(rng, n), randomHalves(rng, n)
			fa, fb := randomFloats(rng, n), randomFloats(rng, n)
			v := float32(rng.NormFloat64())

			var mag16, mag32 float64
			for i := 0; i < n; i++ {
				mag16 += math.Abs(float64(halfToFloat(a[i]) * halfToFloat(b[i])))
				mag32 += math.Abs(float64(fa[i] * fb[i]))
			}
			if got, want := DotF16(a, b), ref.dotF16(a, b); math.Abs(float64(got-want)) > 1e-6*mag16 {
				t.Errorf("DotF16 n=%d: %g, want %g", n, got, want)
			}
			if got, want := DotF32(fa, fb), ref.dotF32(fa, fb); math.Abs(float64(got-want)) > 1e-6*mag32 {
				t.Errorf("DotF32 n=%d: %g, want %g", n, got, want)
			}

			y1, y2 := slices.Clone(a), slices.Clone(a)
			MadF16(y1, b, v)
			ref.madF16(y2, b, v)
			if !slices.Equal(y1, y2) {
				t.Errorf("MadF16 n=%d differs", n)
			}
			ScaleF16(y1, v)
			ref.scaleF16(y2, v)
			if !slices.Equal(y1, y2) {
				t.Errorf("ScaleF16 n=%d differs", n)
			}
			f1, f2 := slices.Clone(fa), slices.Clone(fa)
			MadF32(f1, b, v)
			ref.madF32(f2, b, v)
			if !slices.Equal(f1, f2) {
				t.Errorf("MadF32 n=%d differs", n)
			}
			Axpy(f1, fb, v)
			ref.axpy(f2, fb, v)
			if !slices.Equal(f1, f2) {
				t.Errorf("Axpy n=%d differs", n)
			}
			ScaleF32(f1, v)
			ref.scaleF32(f2, v)
			if !slices.Equal(f1, f2) {
				t.Errorf("ScaleF32 n=%d differs", n)
			}
		}
	})
}

// TestVecOpsValues checks the pure-Go helpers against float64 arithmetic.
func TestVecOpsValues(t *testing.T) {
	rng := newRand(16)
	ref := vecAt[levelGo]
	const n = 37
	a, b := randomHalves(rng, n), randomHalves(rng, n)
	var want float64
	for i := range a {
		want += float64(halfToFloat(a[i])) * float64(halfToFloat(b[i]))
	}
	if got := ref.dotF16(a, b); math.Abs(float64(got)-want) > 1e-5 {
		t.Errorf("dotF16 = %g, want %g", got, want)
	}
	y := slices.Clone(a)
	ref.madF16(y, b, 0.5)
	for i := range y {
		w := float64(halfToFloat(a[i])) + 0.5*float64(halfToFloat(b[i]))
		if got := float64(halfToFloat(y[i])); math.Abs(got-w) > math.Abs(w)*0x1p-11+0x1p-24 {
			t.Fatalf("madF16[%d] = %g, want %g", i, got, w)
		}
	}
	f := []float32{1, 2, 3}
	ref.axpy(f, []float32{1, 1, 1}, 2)
	ref.scaleF32(f, 0.5)
	if !slices.Equal(f, []float32{1.5, 2, 2.5}) {
		t.Errorf("axpy/scale gave %v", f)
	}
}

func TestVecOpsLengthChecks(t *testing.T) {
	for name, f := range map[string]func(){
		"DotF16": func() { DotF16(make([]uint16, 3), make([]uint16, 4)) },
		"DotF32": func() { DotF32(make([]float32, 3), make([]float32, 4)) },
		"MadF16": func() { MadF16(make([]uint16, 4), make([]uint16, 3), 1) },
		"Axpy":   func() { Axpy(make([]float32, 4), make([]float32, 3), 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with mismatched lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestWidenScaleHeads holds the widen-and-scale step to its Go loop, bit
// for bit, at every level: head sizes the kernel takes and others, scales
// of 0, 1 and others, halves of every kind (subnormal, infinite, NaN).
func TestWidenScaleHeads(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{8, 16, 24, 64, 12, 3} {
			for _, heads := range []int{1, 4, 8} {
				acc := make([]uint16, heads*n)
				for i := range acc {
					acc[i] = uint16(r.Uint32())
				}
				acc[0], acc[len(acc)-1] = 0x7c00, 0x0001
				inv := make([]float32, heads)
				for h := range inv {
					inv[h] = []float32{0, 1, float32(r.Float64()), 1 / float32(r.Float64()*1e4)}[h%4]
				}
				got, want := make([]float32, heads*n+1), make([]float32, heads*n+1)
				got[heads*n], want[heads*n] = 7, 7
				WidenScaleHeads(got, acc, inv)
				widenScaleGo(want, acc, inv)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
						t.Fatalf("n %d heads %d: out[%d] = %v, want %v", n, heads, i, got[i], want[i])
					}
				}
			}
		}
	})
}
