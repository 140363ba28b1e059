package tensor

import "math"

// SwiGLU16 sets gate[i] = silu(gate[i]) * up[i], silu(x) = x/(1+e^-x),
// computing e^-x the way ggml_v_expf does in llama.cpp's AVX-512 build
// (ggml_vec_swiglu_f32 runs of 16). len(gate) must be a multiple of 16;
// ggml sends a row's last len%16 values through libm's expf instead, which
// differs in the last bits, so callers do those themselves.
func SwiGLU16(gate, up []float32) {
	if len(gate)%16 != 0 || len(up) < len(gate) {
		panic("tensor: SwiGLU16 wants a multiple of 16 values and as many up values")
	}
	vecs().swiglu16(gate, up[:len(gate)])
}

func swiglu16Go(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + vExpf(-g)) * up[i]
	}
}

// VExpf is e^x as ggml_v_expf computes it in llama.cpp's AVX-512 build,
// for ops that follow its vectorised loops elsewhere (the softmax of a
// mixture-of-experts router).
func VExpf(x float32) float32 { return vExpf(x) }

// vExpf is ggml_v_expf for AVX-512 (after ARM's optimized routines): a
// degree-5 polynomial on the reduced argument, scaled by 2^n.
func vExpf(x float32) float32 {
	const r = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, r)
	n := z - r
	b := fma32(-n, 0x1.7f7d1cp-20, fma32(-n, 0x1.62e4p-1, x))
	u := b * b
	j := fma32(fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u,
		fma32(0x1.ffffecp-1, b, 1))
	if n > 192 {
		return float32(math.Inf(1))
	}
	if n < -192 {
		return 0
	}
	return float32(math.Ldexp(float64(j), int(n)))
}
