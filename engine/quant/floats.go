package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Float formats are "quantized" by plain conversion, as ggml_quantize_chunk
// does for F16 and BF16.

func quantizeF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func dequantizeF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func quantizeF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func dequantizeF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = fp16Table[binary.LittleEndian.Uint16(src[2*i:])]
	}
}

func quantizeBF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

func dequantizeBF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = BF16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// The validators test several values per 64-bit word: adding one to an
// exponent field (within its lane, so no carry leaks) reaches the lane's
// top bit only when the exponent is all ones, that is Inf or NaN. The
// per-value loop then names the culprit.

func validateF32(src []byte) error {
	const exp, one, top = 0x7f8000007f800000, 0x0080000000800000, 0x8000000080000000
	i := 0
	for ; i+8 <= len(src); i += 8 {
		if (binary.LittleEndian.Uint64(src[i:])&exp+one)&top != 0 {
			break
		}
	}
	for ; i+4 <= len(src); i += 4 {
		if binary.LittleEndian.Uint32(src[i:])&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("quant: value %d is %v", i/4, math.Float32frombits(binary.LittleEndian.Uint32(src[i:])))
		}
	}
	return nil
}

func validateF16(src []byte) error {
	const exp, one, top = 0x7c007c007c007c00, 0x0400040004000400, 0x8000800080008000
	i := 0
	for ; i+8 <= len(src); i += 8 {
		if (binary.LittleEndian.Uint64(src[i:])&exp+one)&top != 0 {
			break
		}
	}
	for ; i+2 <= len(src); i += 2 {
		if h := binary.LittleEndian.Uint16(src[i:]); h&0x7c00 == 0x7c00 {
			return fmt.Errorf("quant: value %d is %v", i/2, FP16ToFP32(h))
		}
	}
	return nil
}

func validateBF16(src []byte) error {
	const exp, one, top = 0x7f807f807f807f80, 0x0080008000800080, 0x8000800080008000
	i := 0
	for ; i+8 <= len(src); i += 8 {
		if (binary.LittleEndian.Uint64(src[i:])&exp+one)&top != 0 {
			break
		}
	}
	for ; i+2 <= len(src); i += 2 {
		if h := binary.LittleEndian.Uint16(src[i:]); h&0x7f80 == 0x7f80 {
			return fmt.Errorf("quant: value %d is %v", i/2, BF16ToFP32(h))
		}
	}
	return nil
}

// validateScales checks the half-precision scales found at the given byte
// offsets of every block of blockBytes bytes.
func validateScales(blockBytes int, offsets ...int) func([]byte) error {
	return func(src []byte) error {
		for b := 0; b+blockBytes <= len(src); b += blockBytes {
			for _, o := range offsets {
				if h := binary.LittleEndian.Uint16(src[b+o:]); h&0x7c00 == 0x7c00 {
					return fmt.Errorf("quant: block %d has scale %v", b/blockBytes, FP16ToFP32(h))
				}
			}
		}
		return nil
	}
}
