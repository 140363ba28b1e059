package tensor

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
)

var allTypes = []gguf.GGMLType{
	gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16,
	gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeQ8_0,
	gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
}

// scaleOffsets lists where each block keeps its F16 scales (d, dmin, m).
var scaleOffsets = map[gguf.GGMLType][]int{
	gguf.TypeQ4_0: {0}, gguf.TypeQ4_1: {0, 2}, gguf.TypeQ5_0: {0}, gguf.TypeQ5_1: {0, 2},
	gguf.TypeQ8_0: {0}, gguf.TypeQ2_K: {80, 82}, gguf.TypeQ3_K: {108},
	gguf.TypeQ4_K: {0, 2}, gguf.TypeQ5_K: {0, 2}, gguf.TypeQ6_K: {208},
}

// forLevels runs f once per kernel level this CPU supports.
func forLevels(t *testing.T, f func(t *testing.T, lvl string)) {
	for _, l := range Levels() {
		t.Run(l, func(t *testing.T) {
			restore, err := SetLevel(l)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t, l)
		})
	}
}

// randomRow returns n random values of type t: random bits everywhere
// except the scales, which are finite and modest. With exact set, every
// scale is the same power of two and float weights are small integers, so
// that every sum the kernels form is exact in float32.
func randomRow(rng *rand.Rand, t gguf.GGMLType, n int, exact bool) []byte {
	b := make([]byte, t.RowSize(n))
	switch t {
	case gguf.TypeF32:
		for i := 0; i < n; i++ {
			v := float32(rng.NormFloat64())
			if exact {
				v = float32(rng.IntN(17) - 8)
			}
			putF32(b[4*i:], v)
		}
		return b
	case gguf.TypeF16, gguf.TypeBF16:
		for i := 0; i < n; i++ {
			v := float32(rng.NormFloat64())
			if exact {
				v = float32(rng.IntN(17) - 8)
			}
			h := floatToHalf(v)
			if t == gguf.TypeBF16 {
				h = floatToBF16(v)
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
		return b
	}
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	bs := t.TypeSize()
	for blk := 0; blk < len(b)/bs; blk++ {
		for _, off := range scaleOffsets[t] {
			v := float32(0.0625)
			if !exact {
				v = float32((rng.Float64()*2 - 1) * 0.05)
			}
			binary.LittleEndian.PutUint16(b[blk*bs+off:], floatToHalf(v))
		}
	}
	return b
}

// randomAct returns n activations. With exact set they are multiples of
// 1/8 with one value of magnitude 127/8 per 32 (so ggml's activation
// scales come out as exact powers of two) and the rest small.
func randomAct(rng *rand.Rand, n int, exact bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		if exact {
			x[i] = float32(rng.IntN(15)-7) / 8
			if i%32 == 0 {
				x[i] = 127.0 / 8
				if rng.IntN(2) == 0 {
					x[i] = -x[i]
				}
			}
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

// dequantRow widens a weight row with the quant package's ggml-exact
// dequantizer, the independent reference for the kernels' decoding.
func dequantRow(t testing.TB, typ gguf.GGMLType, row []byte, n int) []float64 {
	t.Helper()
	f := make([]float32, n)
	if err := quant.Dequantize(typ, f, row); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n)
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// actValues decodes activations in layout k back to the values the kernels
// multiply.
func actValues(k actKind, a []byte, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		switch k {
		case actQ8_0, actQ8_1:
			blk := a[i/32*q8BlockBytes:]
			out[i] = float64(int8(blk[i%32])) * float64(getF32(blk[32:]))
		case actQ8_K:
			blk := a[i/256*q8KBlockBytes:]
			out[i] = float64(int8(blk[i%256])) * float64(getF32(blk[q8KD:]))
		case actQ8_0L:
			blk := a[i/32*q8LBlockBytes:]
			out[i] = float64(int8(blk[i%32])) * float64(getF32(blk[64:]))
		case actBF16:
			out[i] = float64(getBF16(a[2*i:]))
		case actF16:
			out[i] = float64(getHalf(a[2*i:]))
		default:
			out[i] = float64(getF32(a[4*i:]))
		}
	}
	return out
}

// refDot is the float64 dot product and the sum of the magnitudes of its
// terms (the scale against which float32 rounding is judged).
func refDot(w, a []float64) (dot, mag float64) {
	for i := range w {
		dot += w[i] * a[i]
		mag += math.Abs(w[i] * a[i])
	}
	return dot, mag
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func parseTypeForTest(name string) (gguf.GGMLType, bool) { return gguf.ParseGGMLType(name) }
