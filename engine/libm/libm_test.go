package libm

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

var funcs = map[string]func(float32) float32{
	"expf":  Expf,
	"sinf":  Sinf,
	"cosf":  Cosf,
	"tanhf": Tanhf,
}

// TestGolden compares against glibc results recorded by testdata/gen.c:
// special values, path boundaries, inputs where glibc is not the rounded
// double result (the cases package math cannot reproduce) and random ones.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	counts := map[string]int{}
	bad := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var name string
		var in, want uint32
		if _, err := fmt.Sscanf(text, "%s %x %x", &name, &in, &want); err != nil {
			t.Fatalf("line %d: %q: %v", line, text, err)
		}
		fn, ok := funcs[name]
		if !ok {
			t.Fatalf("line %d: unknown function %q", line, name)
		}
		counts[name]++
		x := math.Float32frombits(in)
		if got := math.Float32bits(fn(x)); got != want {
			bad++
			if bad <= 20 {
				t.Errorf("%s(%g [%08x]) = %08x (%g), glibc %08x (%g)", name, x, in,
					got, math.Float32frombits(got), want, math.Float32frombits(want))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d mismatches", bad)
	}
	for name := range funcs {
		if counts[name] < 1000 {
			t.Errorf("golden file has only %d %s cases", counts[name], name)
		}
	}
	t.Logf("checked %v", counts)
}

// TestSpecial pins the special cases independently of the golden file.
func TestSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		name    string
		in, out uint32
	}{
		{"expf", 0x7f800000, 0x7f800000}, // +Inf
		{"expf", 0xff800000, 0x00000000}, // -Inf
		{"expf", 0x42b17218, 0x7f800000}, // just above log(MaxFloat32)
		{"expf", 0xc2cff1b5, 0x00000000}, // just below log(2^-150)
		{"expf", 0xc2cff1b4, 0x00000001}, // log(2^-150) rounded: 2^-149
		{"expf", 0x7fa00000, 0x7fe00000}, // signalling NaN comes back quiet
		{"expf", 0x80000000, 0x3f800000},
		{"sinf", 0x80000000, 0x80000000},
		{"sinf", 0x00000001, 0x00000001},
		{"sinf", 0x7f800000, 0xffc00000}, // x86 default NaN
		{"sinf", 0xff800000, 0xffc00000},
		{"sinf", 0xff812345, 0xffc12345},
		{"cosf", 0x80000000, 0x3f800000},
		{"cosf", 0x7f800000, 0xffc00000},
		{"cosf", 0x7fc12345, 0x7fc12345},
	} {
		x := math.Float32frombits(c.in)
		if got := math.Float32bits(funcs[c.name](x)); got != c.out {
			t.Errorf("%s(%08x) = %08x, want %08x", c.name, c.in, got, c.out)
		}
	}
	if Expf(88.7) == inf || Expf(89) != inf {
		t.Errorf("Expf overflow threshold wrong")
	}
}

// benchInputs spreads inputs over the ranges llama.cpp uses: softmax
// arguments (x - max <= 0) and RoPE angles (position times frequency).
func benchInputs(lo, hi float32) []float32 {
	xs := make([]float32, 1024)
	for i := range xs {
		xs[i] = lo + (hi-lo)*float32(i)/float32(len(xs))
	}
	return xs
}

var sink float32

func bench(b *testing.B, fn func(float32) float32, xs []float32) {
	var s float32
	for i := 0; i < b.N; i++ {
		s += fn(xs[i%len(xs)])
	}
	sink = s
}

func BenchmarkExpf(b *testing.B) { bench(b, Expf, benchInputs(-30, 0)) }
func BenchmarkSinf(b *testing.B) { bench(b, Sinf, benchInputs(0, 4096)) }
func BenchmarkCosf(b *testing.B) { bench(b, Cosf, benchInputs(0, 4096)) }

// Package math rounded to float32, for comparison.
func BenchmarkMathExp(b *testing.B) {
	bench(b, func(x float32) float32 { return float32(math.Exp(float64(x))) }, benchInputs(-30, 0))
}

func BenchmarkMathCos(b *testing.B) {
	bench(b, func(x float32) float32 { return float32(math.Cos(float64(x))) }, benchInputs(0, 4096))
}
