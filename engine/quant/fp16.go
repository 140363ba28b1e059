package quant

import "math"

// fp16Table holds every half's float32 value: a lookup is cheaper than the
// bit arithmetic in the dequantization loops.
var fp16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = fp16ToFP32Compute(uint16(i))
	}
	return &t
}()

// FP16ToFP32 converts an IEEE half to float32 exactly, like ggml's
// GGML_FP16_TO_FP32.
func FP16ToFP32(h uint16) float32 { return fp16Table[h] }

// fp16ToFP32Compute is ggml_compute_fp16_to_fp32: it builds the float from
// the half's bits with two exact float32 operations, so NaN payloads come
// out the way ggml produces them.
func fp16ToFP32Compute(h uint16) float32 {
	w := uint32(h) << 16
	sign := w & 0x80000000
	twoW := w + w
	const expOffset = uint32(0xE0) << 23
	const expScale = float32(0x1.0p-112)
	normalized := math.Float32frombits((twoW>>4)+expOffset) * expScale
	const magicMask = uint32(126) << 23
	const magicBias = float32(0.5)
	denormalized := math.Float32frombits((twoW>>17)|magicMask) - magicBias
	const denormCutoff = uint32(1) << 27
	var bits uint32
	if twoW < denormCutoff {
		bits = math.Float32bits(denormalized)
	} else {
		bits = math.Float32bits(normalized)
	}
	return math.Float32frombits(sign | bits)
}

// FP32ToFP16 rounds a float32 to the nearest half (ties to even), like
// ggml's GGML_FP32_TO_FP16: overflow gives Inf, tiny values become
// subnormal halves or zero, and any NaN becomes the quiet NaN 0x7E00 with
// its sign kept.
func FP32ToFP16(f float32) uint16 {
	const scaleToInf = float32(0x1.0p+112)
	const scaleToZero = float32(0x1.0p-110)
	base := float32(float32(abs32(f)*scaleToInf) * scaleToZero)
	w := math.Float32bits(f)
	shl1W := w + w
	sign := w & 0x80000000
	bias := shl1W & 0xFF000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = math.Float32frombits((bias>>1)+0x07800000) + base
	bits := math.Float32bits(base)
	expBits := (bits >> 13) & 0x00007C00
	mantBits := bits & 0x00000FFF
	if shl1W > 0xFF000000 {
		return uint16(sign>>16) | 0x7E00
	}
	return uint16(sign>>16) | uint16(expBits+mantBits)
}

// BF16ToFP32 widens a bfloat16 to float32 (exact).
func BF16ToFP32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// FP32ToBF16 rounds a float32 to bfloat16 with ties to even, like
// ggml_compute_fp32_to_bf16: NaNs are kept (made quiet), subnormals are
// rounded, not flushed.
func FP32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + (0x7fff + ((u >> 16) & 1))) >> 16)
}

func abs32(f float32) float32 {
	return math.Float32frombits(math.Float32bits(f) &^ 0x80000000)
}
