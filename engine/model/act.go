package model

import (
	"sync"

	"github.com/llmsql/llmsql/engine/libm"
	"github.com/llmsql/llmsql/engine/quant"
)

// geluF16 is ggml's GELU table: for every F16 value x, GELU(x) in its tanh
// form, 0.5x(1 + tanh(sqrt(2/pi)·x·(1 + 0.044715x²))), rounded to F16.
// ggml-cpu computes GELU of an F32 value by rounding it to F16 and looking
// it up (GGML_GELU_FP16), so its activations are this table's values. The
// expression is ggml_gelu_f32's as GCC compiles it, 1 + 0.044715x·x fused
// into one multiply-add; the whole table equals the one
// node-llama-cpp 3.21.1's ggml-cpu builds (compared entry by entry;
// TestGeluTable holds its checksum).
var geluF16 = sync.OnceValue(func() *[1 << 16]uint16 {
	const (
		coefA       = float32(0.044715)
		sqrt2OverPi = float32(0.79788456080286535587989211986876)
	)
	var t [1 << 16]uint16
	for i := range t {
		x := quant.FP16ToFP32(uint16(i))
		inner := libm.Fmaf(coefA*x, x, 1)
		t[i] = quant.FP32ToFP16(0.5 * x * (1 + libm.Tanhf(sqrt2OverPi*x*inner)))
	}
	return &t
})

// geglu writes gate = gelu(gate) * up for the values [lo, hi) of one row,
// as ggml_vec_geglu_f32: 0 at or below -10, the identity at or above 10,
// the F16 table between.
func geglu(gate, up []float32, lo, hi int) {
	t := geluF16()
	for i := lo; i < hi; i++ {
		switch g := gate[i]; {
		case g <= -10:
			gate[i] = 0
		case g >= 10:
			gate[i] = g * up[i]
		default:
			gate[i] = quant.FP16ToFP32(t[quant.FP32ToFP16(g)]) * up[i]
		}
	}
}
