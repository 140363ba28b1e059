// Package quant implements the GGUF weight formats bit-exactly with
// llama.cpp's ggml: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K,
// Q3_K, Q4_K, Q5_K, Q6_K and the activation formats Q8_1 and Q8_K; and
// llama-quantize's choice of type per tensor (Plan).
//
// Quantize reproduces ggml-quants.c's quantize_row_*_ref (what
// llama-quantize runs when no importance matrix is given), Dequantize
// reproduces dequantize_row_*. QuantizeQ8_0AVX and QuantizeQ8_1AVX
// reproduce instead what ggml-cpu runs on activations on x86 with AVX2.
// testdata/golden.txt holds ggml's own outputs for these (see golden.py).
//
// "Bit-exact" means the same float32 operations in the same order as ggml
// built without FMA contraction (ggml-base is compiled for baseline x86-64,
// so llama.cpp's released libraries match this). Go fuses x*y+z into an
// FMA on arm64 and on amd64 with GOAMD64=v3; every product that feeds a sum
// is therefore written as float32(x*y) + z, which the Go spec forbids
// fusing. Keep it that way in any edit, and run the golden tests with
// GOAMD64=v3 after one.
//
// Out-of-range float to integer conversions, which are undefined in C, follow
// what x86-64 does (cvttss2si: NaN and overflow give math.MinInt32, then the
// low bits are kept), so hostile inputs (Inf, NaN, subnormal scales) give
// the same bytes as llama.cpp on x86-64 rather than arbitrary ones.
package quant
