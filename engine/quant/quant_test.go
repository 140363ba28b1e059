package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

var allTypes = []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ4_0, gguf.TypeQ4_1,
	gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeQ8_0, gguf.TypeQ8_1, gguf.TypeQ2_K, gguf.TypeQ3_K,
	gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K, gguf.TypeQ8_K}

// maxRelRMSE bounds the round-trip error of N(0,1) data, as RMS error over
// RMS value. The bounds sit about 1.5x above what the formats achieve, so a
// broken scale search or bit layout fails them.
var maxRelRMSE = map[gguf.GGMLType]float64{
	gguf.TypeF32: 0, gguf.TypeF16: 0.0004, gguf.TypeBF16: 0.003,
	gguf.TypeQ8_0: 0.008, gguf.TypeQ8_1: 0.008, gguf.TypeQ8_K: 0.01,
	gguf.TypeQ6_K: 0.026, gguf.TypeQ5_1: 0.055, gguf.TypeQ5_0: 0.06, gguf.TypeQ5_K: 0.05,
	gguf.TypeQ4_1: 0.11, gguf.TypeQ4_0: 0.12, gguf.TypeQ4_K: 0.1,
	gguf.TypeQ3_K: 0.21, gguf.TypeQ2_K: 0.42,
}

func gaussian(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func roundTrip(t *testing.T, typ gguf.GGMLType, x []float32) ([]byte, []float32) {
	t.Helper()
	q := make([]byte, typ.RowSize(len(x)))
	if err := Quantize(typ, q, x); err != nil {
		t.Fatal(err)
	}
	d := make([]float32, len(x))
	if err := Dequantize(typ, d, q); err != nil {
		t.Fatal(err)
	}
	return q, d
}

func TestRoundTripError(t *testing.T) {
	x := gaussian(256*64, 1)
	for _, typ := range allTypes {
		_, d := roundTrip(t, typ, x)
		var se, sx float64
		for i := range x {
			e := float64(d[i] - x[i])
			se += e * e
			sx += float64(x[i]) * float64(x[i])
		}
		rel := math.Sqrt(se / sx)
		t.Logf("%-5s relative RMSE %.5f", typ, rel)
		if rel > maxRelRMSE[typ] {
			t.Errorf("%s: relative RMSE %.5f above %.5f", typ, rel, maxRelRMSE[typ])
		}
	}
}

// TestBlockErrorBounds checks the per-value error the symmetric formats
// guarantee: half a step (Q8), or one step where the top level is clipped
// (Q4_0, Q5_0), plus the half-precision rounding of the step (up to 2^-11
// relative, times the number of steps).
func TestBlockErrorBounds(t *testing.T) {
	x := gaussian(32*512, 2)
	for _, c := range []struct {
		typ   gguf.GGMLType
		steps float64 // levels on each side
		slack float64 // allowed error in steps
	}{{gguf.TypeQ8_0, 127, 0.57}, {gguf.TypeQ4_0, 8, 1.01}, {gguf.TypeQ5_0, 16, 1.01}} {
		_, d := roundTrip(t, c.typ, x)
		for b := 0; b < len(x)/32; b++ {
			var amax float64
			for _, v := range x[b*32 : b*32+32] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			step := amax / c.steps
			for i := b * 32; i < b*32+32; i++ {
				if e := math.Abs(float64(d[i] - x[i])); e > c.slack*step {
					t.Fatalf("%s: value %d: error %g above %g steps of %g", c.typ, i, e, c.slack, step)
				}
			}
		}
	}
}

func TestDeterministicAndNoAlloc(t *testing.T) {
	x := gaussian(1024, 3)
	for _, typ := range allTypes {
		q1, _ := roundTrip(t, typ, x)
		q2 := make([]byte, len(q1))
		allocs := testing.AllocsPerRun(5, func() {
			if err := Quantize(typ, q2, x); err != nil {
				t.Fatal(err)
			}
		})
		if string(q1) != string(q2) {
			t.Errorf("%s: two runs differ", typ)
		}
		if allocs != 0 {
			t.Errorf("%s: Quantize allocates %v times", typ, allocs)
		}
		d := make([]float32, len(x))
		if a := testing.AllocsPerRun(5, func() { _ = Dequantize(typ, d, q1) }); a != 0 {
			t.Errorf("%s: Dequantize allocates %v times", typ, a)
		}
	}
}

func TestEdgeBlocks(t *testing.T) {
	const n = 512
	fill := func(v float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = v
		}
		return x
	}
	for _, typ := range allTypes {
		// All zero decodes to exact zeros.
		_, d := roundTrip(t, typ, fill(0))
		for i, v := range d {
			if v != 0 {
				t.Fatalf("%s: zero block decodes to %g at %d", typ, v, i)
			}
		}
		// A constant block decodes close to the constant. (Much smaller
		// constants push Q6_K's scale, c/4096, into half-precision
		// subnormals, in ggml too.)
		for _, c := range []float32{1, -2.5, 0.05} {
			_, d := roundTrip(t, typ, fill(c))
			for i, v := range d {
				if math.Abs(float64(v-c)) > 0.02*math.Abs(float64(c)) {
					t.Fatalf("%s: constant %g decodes to %g at %d", typ, c, v, i)
				}
			}
		}
		// Large values within half range stay finite and close.
		x := gaussian(n, 4)
		for i := range x {
			x[i] *= 1000
		}
		_, d = roundTrip(t, typ, x)
		for i, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: large input decodes to %g at %d", typ, v, i)
			}
		}
	}
}

func TestNoNaNOnRandomInput(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, typ := range allTypes {
		for trial := 0; trial < 20; trial++ {
			x := make([]float32, 512)
			scale := math.Ldexp(1, r.IntN(40)-30)
			for i := range x {
				switch r.IntN(4) {
				case 0:
					x[i] = 0
				case 1:
					x[i] = float32(r.Float64() * scale)
				default:
					x[i] = float32(r.NormFloat64() * scale)
				}
			}
			q, d := roundTrip(t, typ, x)
			if err := Validate(typ, q); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			for i, v := range d {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s trial %d: value %d decodes to %g", typ, trial, i, v)
				}
			}
		}
	}
}

func TestBadLengths(t *testing.T) {
	for _, typ := range allTypes {
		bs := typ.BlockSize()
		good := typ.RowSize(2 * bs)
		cases := []struct {
			n, nb int
		}{{2*bs + 1, good}, {2 * bs, good - 1}, {2 * bs, good + 1}, {bs - 1, 0}, {2 * bs, 0}}
		if bs == 1 { // any count is a whole number of blocks
			cases = cases[1:3]
		}
		for _, c := range cases {
			if err := Quantize(typ, make([]byte, c.nb), make([]float32, c.n)); err == nil {
				t.Errorf("%s: Quantize(%d values, %d bytes) succeeded", typ, c.n, c.nb)
			}
			if err := Dequantize(typ, make([]float32, c.n), make([]byte, c.nb)); err == nil {
				t.Errorf("%s: Dequantize(%d values, %d bytes) succeeded", typ, c.n, c.nb)
			}
		}
		if err := Quantize(typ, nil, nil); err != nil {
			t.Errorf("%s: empty input: %v", typ, err)
		}
	}
	for _, typ := range []gguf.GGMLType{gguf.TypeIQ2_XXS, gguf.TypeQ1_0, gguf.GGMLType(999)} {
		if Supported(typ) {
			t.Errorf("%s reported supported", typ)
		}
		if err := Quantize(typ, make([]byte, 64), make([]float32, 256)); err == nil {
			t.Errorf("%s: Quantize succeeded", typ)
		}
		if err := Dequantize(typ, make([]float32, 256), make([]byte, 64)); err == nil {
			t.Errorf("%s: Dequantize succeeded", typ)
		}
		if err := Validate(typ, make([]byte, 64)); err == nil {
			t.Errorf("%s: Validate succeeded", typ)
		}
	}
}

func TestValidate(t *testing.T) {
	x := gaussian(256, 6)
	x[7] = float32(math.Inf(1))
	for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_K, gguf.TypeQ8_K} {
		q := make([]byte, typ.RowSize(len(x)))
		if err := Quantize(typ, q, x); err != nil {
			t.Fatal(err)
		}
		if err := Validate(typ, q); err == nil {
			t.Errorf("%s: data quantized from an Inf validated", typ)
		}
	}
	if err := Validate(gguf.TypeQ8_0, make([]byte, 35)); err == nil {
		t.Error("partial block validated")
	}
}

// TestFastPathsMatchReference holds the Q8_0/Q8_1 fast paths to the literal
// translations of ggml's loops on blocks that take the fast path.
func TestFastPathsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 2000; trial++ {
		x := make([]float32, 32)
		scale := math.Ldexp(1, r.IntN(200)-110)
		for i := range x {
			x[i] = float32(r.NormFloat64() * scale)
			if r.IntN(8) == 0 { // exact ties at the rounding boundary
				x[i] = float32(float64(r.IntN(255)-127) / 2 * scale)
			}
		}
		var fast, ref [36]byte
		quantizeQ8_0(fast[:34], x)
		quantizeQ8_0Ref(ref[:34], x)
		if fast != ref {
			t.Fatalf("Q8_0 fast path differs on %v", x)
		}
		quantizeQ8_1(fast[:], x)
		quantizeQ8_1Ref(ref[:], x)
		if fast != ref {
			t.Fatalf("Q8_1 fast path differs on %v", x)
		}
	}
}

func TestFP16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := FP16ToFP32(uint16(h))
		if f != f {
			if FP32ToFP16(f)&0x7fff != 0x7E00 {
				t.Fatalf("NaN %#x converts back to %#x", h, FP32ToFP16(f))
			}
			continue
		}
		if back := FP32ToFP16(f); back != uint16(h) {
			t.Fatalf("half %#x -> %g -> %#x", h, f, back)
		}
	}
	cases := []struct {
		f float32
		h uint16
	}{
		{65504, 0x7BFF}, {65520, 0x7C00}, {65519.996, 0x7BFF}, {float32(math.Inf(-1)), 0xFC00},
		{0x1p-24, 0x0001}, {0x1p-25, 0x0000}, {0x1.8p-25, 0x0001}, {-0x1p-26, 0x8000},
		{1 + 0x1p-11, 0x3C00}, {1 + 0x3p-11, 0x3C02}, // ties to even
	}
	for _, c := range cases {
		if got := FP32ToFP16(c.f); got != c.h {
			t.Errorf("FP32ToFP16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{1, 0x3F80}, {math.Float32frombits(0x3F808000), 0x3F80}, {math.Float32frombits(0x3F818000), 0x3F82},
		{math.Float32frombits(0x3F808001), 0x3F81}, {math.Float32frombits(0x7F800001), 0x7FC0},
		{math.Float32frombits(0x00008000), 0x0000}, {math.Float32frombits(0x00018000), 0x0002},
	}
	for _, c := range cases {
		if got := FP32ToBF16(c.f); got != c.h {
			t.Errorf("FP32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(c.f), got, c.h)
		}
	}
	for h := 0; h < 1<<16; h++ {
		if f := BF16ToFP32(uint16(h)); f == f && FP32ToBF16(f) != uint16(h) {
			t.Fatalf("bf16 %#x does not round-trip", h)
		}
	}
}

func FuzzQuantize(f *testing.F) {
	f.Add(uint8(8), []byte{1, 2, 3, 4}, 32, 34)
	f.Add(uint8(12), make([]byte, 1024), 256, 144)
	f.Fuzz(func(t *testing.T, ty uint8, raw []byte, n, nb int) {
		typ := gguf.GGMLType(ty)
		if n < 0 || n > 4096 || nb < 0 || nb > 8192 {
			return
		}
		x := make([]float32, n)
		for i := range x {
			if 4*i+4 <= len(raw) {
				x[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
			}
		}
		dst := make([]byte, nb)
		err := Quantize(typ, dst, x)
		if err == nil && (!Supported(typ) || nb != typ.RowSize(n)) {
			t.Fatalf("Quantize(%s, %d bytes, %d values) accepted", typ, nb, n)
		}
		y := make([]float32, n)
		copy(dst, raw)
		_ = Dequantize(typ, y, dst)
		_ = Validate(typ, dst)
	})
}

func TestRoundSmall(t *testing.T) {
	check := func(f float32) {
		if got, want := roundSmall(f), roundf(f); got != want {
			t.Fatalf("roundSmall(%v) = %d, roundf gives %d", f, got, want)
		}
	}
	for k := -300; k <= 300; k++ {
		for _, base := range []float32{float32(k), float32(k) + 0.5} {
			check(base)
			check(math.Nextafter32(base, float32(math.Inf(1))))
			check(math.Nextafter32(base, float32(math.Inf(-1))))
		}
	}
	r := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < 100000; i++ {
		check(float32((r.Float64()*2 - 1) * math.Ldexp(1, r.IntN(30)-8)))
	}
	check(0)
	check(float32(math.Copysign(0, -1)))
}

// TestValidateEveryPosition puts one Inf or NaN at each position of rows
// of odd lengths, so both the word-at-a-time scan and the tail loop are
// exercised.
func TestValidateEveryPosition(t *testing.T) {
	for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16} {
		for _, n := range []int{1, 3, 5, 8, 13} {
			x := gaussian(n, uint64(n))
			q := make([]byte, typ.RowSize(n))
			if err := Quantize(typ, q, x); err != nil {
				t.Fatal(err)
			}
			if err := Validate(typ, q); err != nil {
				t.Fatalf("%s: finite data rejected: %v", typ, err)
			}
			for i := range x {
				for _, bad := range []float32{float32(math.Inf(-1)), float32(math.NaN())} {
					y := append([]float32(nil), x...)
					y[i] = bad
					if err := Quantize(typ, q, y); err != nil {
						t.Fatal(err)
					}
					if err := Validate(typ, q); err == nil {
						t.Errorf("%s: %v at %d of %d not caught", typ, bad, i, n)
					}
				}
			}
		}
	}
}

// TestAVXFastPath holds the AVX variants' fast path to their exact
// emulation on blocks near the fast path's edge.
func TestAVXFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for trial := 0; trial < 3000; trial++ {
		x := make([]float32, 32)
		scale := math.Ldexp(1, r.IntN(260)-130)
		for i := range x {
			x[i] = float32(r.NormFloat64() * scale)
			if r.IntN(6) == 0 {
				x[i] = float32(float64(r.IntN(255)-127) / 2 * scale)
			}
		}
		for _, withSum := range []bool{false, true} {
			var fast, slow [36]byte
			quantizeQ8x86Block(fast[:], x, withSum)
			quantizeQ8x86Slow(slow[:], x, withSum)
			if fast != slow {
				t.Fatalf("sum %v: fast path differs on %v", withSum, x)
			}
		}
	}
}
