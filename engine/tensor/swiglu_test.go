package tensor

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSwiGLU16 holds every level to the pure-Go twin bit for bit: random
// activations, and the edges of ggml_v_expf (exponents past ±126 and its
// ±192 cut-off, infinities, NaN).
func TestSwiGLU16(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var gate, up []float32
	for i := 0; i < 1<<16; i++ {
		gate = append(gate, float32(r.NormFloat64()*4))
		up = append(up, float32(r.NormFloat64()))
	}
	for _, g := range []float32{0, -0.0, 1e-30, -1e-30, 80, -80, 87, -87, 88, -88, 89, -89, 100, -100,
		103, -103, 104, -104, 130, -130, 133, -133, 140, -140, 1e4, -1e4, 3e38, -3e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		for k := 0; k < 16; k++ {
			gate = append(gate, g*(1+float32(k)/1024))
			up = append(up, 1.5)
		}
	}
	for len(gate)%16 != 0 {
		gate, up = append(gate, 1), append(up, 1)
	}
	want := append([]float32(nil), gate...)
	swiglu16Go(want, up)
	forLevels(t, func(t *testing.T, lvl string) {
		got := append([]float32(nil), gate...)
		SwiGLU16(got, up)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("gate %g up %g: %g (%#x), pure Go %g (%#x)", gate[i], up[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	})
}

var long = flag.Bool("long", false, "run the exhaustive tests")

// TestSwiGLU16Exhaustive runs every float32 gate value (with up = 1)
// through each assembly level; it takes minutes, so only with -long.
func TestSwiGLU16Exhaustive(t *testing.T) {
	if !*long {
		t.Skip("run with -long")
	}
	const chunk = 1 << 16
	g, ref, got, up := make([]float32, chunk), make([]float32, chunk), make([]float32, chunk), make([]float32, chunk)
	for i := range up {
		up[i] = 1
	}
	forLevels(t, func(t *testing.T, lvl string) {
		if lvl == "go" {
			t.Skip("the reference itself")
		}
		for base := uint64(0); base < 1<<32; base += chunk {
			for i := range g {
				g[i] = math.Float32frombits(uint32(base) + uint32(i))
			}
			copy(ref, g)
			swiglu16Go(ref, up)
			copy(got, g)
			SwiGLU16(got, up)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) && !(got[i] != got[i] && ref[i] != ref[i]) {
					t.Fatalf("gate %#x: %#x, pure Go %#x", math.Float32bits(g[i]), math.Float32bits(got[i]), math.Float32bits(ref[i]))
				}
			}
		}
	})
}
