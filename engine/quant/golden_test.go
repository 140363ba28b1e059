package quant

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// testdata/golden.txt holds sha256s of what ggml itself (quantize_row_*_ref
// and dequantize_row_*, from a prebuilt libggml-base.so, see
// testdata/golden.py) produces on goldenInputs. goldenInputs must stay in
// step with golden.py's generator.

type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (r *splitmix) u24() int64 { return int64(r.next()>>40) - 1<<23 }

var goldenKinds = []string{"gauss", "uniform", "zero", "const", "negconst", "sparse", "huge",
	"tiny", "positive", "outliers", "grid", "subscales", "large", "hostile"}

const goldenBlocksPerKind = 4

type goldenInput struct {
	kind string
	x    []float32
}

// goldenInputs generates each kind's values exactly as golden.py does:
// integers times powers of two, computed in float64 (exact) and rounded
// once to float32.
func goldenInputs() []goldenInput {
	rng := &splitmix{20240611}
	var out []goldenInput
	for _, kind := range goldenKinds {
		x := make([]float32, 256*goldenBlocksPerKind)
		for j := range x {
			g := float64(rng.u24() + rng.u24() + rng.u24() + rng.u24())
			u := rng.u24()
			fu := float64(u)
			var v float64
			switch kind {
			case "gauss":
				v = g * 0x1p-29
			case "uniform":
				v = fu * 0x1p-23
			case "zero":
			case "const":
				v = 0.5
			case "negconst":
				v = -3.25
			case "sparse":
				if j%32 == 7 {
					v = fu * 0x1p-20
				}
			case "huge":
				v = fu * 0x1p90
			case "tiny":
				v = fu * 0x1p-150
			case "positive":
				v = float64(u+1<<23) * 0x1p-24
			case "outliers":
				v = g * 0x1p-29
				if j%50 == 3 {
					v *= 64
				}
			case "grid":
				v = float64(u>>20) * 0.25
			case "subscales":
				v = g * math.Ldexp(1, -29-(j/16)%8)
			case "large":
				v = fu * 0x1p-10
			case "hostile":
				v = g * 0x1p-29
				if j%37 == 0 {
					v = math.Inf(1)
				}
				if j%43 == 0 {
					v = math.Inf(-1)
				}
			}
			x[j] = float32(v)
			if kind == "hostile" && j%41 == 0 {
				bits := uint32(0xFFC00000)
				if j%2 == 1 {
					bits = 0x7FC00000
				}
				x[j] = math.Float32frombits(bits)
			}
		}
		out = append(out, goldenInput{kind, x})
	}
	return out
}

func readGolden(t *testing.T) map[string][2]string {
	t.Helper()
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		m[fs[0]+" "+fs[1]] = [2]string{fs[2], fs[3]}
	}
	return m
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func floatBytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestGoldenAgainstGGML(t *testing.T) {
	golden := readGolden(t)
	types := []gguf.GGMLType{gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ4_0, gguf.TypeQ4_1,
		gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeQ8_0, gguf.TypeQ8_1, gguf.TypeQ2_K,
		gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K, gguf.TypeQ8_K}
	inputs := goldenInputs()
	for _, typ := range types {
		for _, in := range inputs {
			key := typ.String() + " " + in.kind
			want, ok := golden[key]
			if !ok {
				t.Fatalf("no golden entry %q", key)
			}
			q := make([]byte, typ.RowSize(len(in.x)))
			if err := Quantize(typ, q, in.x); err != nil {
				t.Fatal(err)
			}
			if got := sha(q); got != want[0] {
				t.Errorf("%s: quantized bytes differ from ggml", key)
				continue
			}
			if want[1] == "-" {
				continue
			}
			d := make([]float32, len(in.x))
			if err := Dequantize(typ, d, q); err != nil {
				t.Fatal(err)
			}
			if got := sha(floatBytes(d)); got != want[1] {
				t.Errorf("%s: dequantized values differ from ggml", key)
			}
		}
	}
}

func TestGoldenConversions(t *testing.T) {
	golden := readGolden(t)
	all := make([]byte, 4*65536)
	for i := 0; i < 65536; i++ {
		binary.LittleEndian.PutUint32(all[4*i:], math.Float32bits(FP16ToFP32(uint16(i))))
	}
	if sha(all) != golden["fp16_to_fp32 all"][0] {
		t.Error("FP16ToFP32 differs from ggml on some half")
	}
	var pats []uint32
	for i := uint32(0); i < 1<<17; i++ {
		pats = append(pats, i*65521+i>>3)
	}
	pats = append(pats, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x00000001, 0x80000001,
		0x33000000, 0x33000001, 0x387FC000, 0x38800000, 0x477FE000, 0x477FF000, 0x477FEFFF)
	h16 := make([]byte, 2*len(pats))
	hb := make([]byte, 2*len(pats))
	for i, p := range pats {
		f := math.Float32frombits(p)
		binary.LittleEndian.PutUint16(h16[2*i:], FP32ToFP16(f))
		binary.LittleEndian.PutUint16(hb[2*i:], FP32ToBF16(f))
	}
	if sha(h16) != golden["fp32_to_fp16 stride"][0] {
		t.Error("FP32ToFP16 differs from ggml")
	}
	if sha(hb) != golden["fp32_to_bf16 stride"][0] {
		t.Error("FP32ToBF16 differs from ggml")
	}
}

// TestGoldenAVXActivations compares QuantizeQ8_0AVX and QuantizeQ8_1AVX
// with ggml-cpu's own AVX2 quantize_row_q8_0/q8_1.
func TestGoldenAVXActivations(t *testing.T) {
	golden := readGolden(t)
	for _, c := range []struct {
		name  string
		bytes int
		f     func([]byte, []float32) error
	}{{"Q8_0_AVX", 34, QuantizeQ8_0AVX}, {"Q8_1_AVX", 36, QuantizeQ8_1AVX}} {
		for _, in := range goldenInputs() {
			q := make([]byte, len(in.x)/32*c.bytes)
			if err := c.f(q, in.x); err != nil {
				t.Fatal(err)
			}
			if got, want := sha(q), golden[c.name+" "+in.kind][0]; got != want {
				t.Errorf("%s %s: differs from ggml-cpu", c.name, in.kind)
			}
		}
		if err := c.f(make([]byte, c.bytes), make([]float32, 31)); err == nil {
			t.Errorf("%s accepted 31 values", c.name)
		}
		if err := c.f(make([]byte, c.bytes-1), make([]float32, 32)); err == nil {
			t.Errorf("%s accepted a short dst", c.name)
		}
	}
}
