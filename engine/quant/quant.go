package quant

import (
	"errors"
	"fmt"

	"github.com/llmsql/llmsql/engine/gguf"
)

// ErrUnsupported is returned (wrapped) for a type this package cannot
// convert.
var ErrUnsupported = errors.New("quant: unsupported type")

type format struct {
	quantize   func(dst []byte, src []float32)
	dequantize func(dst []float32, src []byte)
	validate   func(src []byte) error // nil: nothing can be invalid
}

var formats = map[gguf.GGMLType]format{
	gguf.TypeF32:  {quantizeF32, dequantizeF32, validateF32},
	gguf.TypeF16:  {quantizeF16, dequantizeF16, validateF16},
	gguf.TypeBF16: {quantizeBF16, dequantizeBF16, validateBF16},
	gguf.TypeQ4_0: {quantizeQ4_0, dequantizeQ4_0, validateScales(18, 0)},
	gguf.TypeQ4_1: {quantizeQ4_1, dequantizeQ4_1, validateScales(20, 0, 2)},
	gguf.TypeQ5_0: {quantizeQ5_0, dequantizeQ5_0, validateScales(22, 0)},
	gguf.TypeQ5_1: {quantizeQ5_1, dequantizeQ5_1, validateScales(24, 0, 2)},
	gguf.TypeQ8_0: {quantizeQ8_0, dequantizeQ8_0, validateScales(34, 0)},
	gguf.TypeQ8_1: {quantizeQ8_1, dequantizeQ8_1, validateScales(36, 0, 2)},
	gguf.TypeQ2_K: {quantizeQ2_K, dequantizeQ2_K, validateScales(84, 80, 82)},
	gguf.TypeQ3_K: {quantizeQ3_K, dequantizeQ3_K, validateScales(110, 108)},
	gguf.TypeQ4_K: {quantizeQ4_K, dequantizeQ4_K, validateScales(144, 0, 2)},
	gguf.TypeQ5_K: {quantizeQ5_K, dequantizeQ5_K, validateScales(176, 0, 2)},
	gguf.TypeQ6_K: {quantizeQ6_K, dequantizeQ6_K, validateScales(210, 208)},
	gguf.TypeQ8_K: {quantizeQ8_K, dequantizeQ8_K, validateQ8_K},
}

// Supported reports whether Quantize and Dequantize handle t.
func Supported(t gguf.GGMLType) bool {
	_, ok := formats[t]
	return ok
}

func lookup(t gguf.GGMLType) (format, gguf.TypeInfo, error) {
	f, ok := formats[t]
	if !ok {
		return format{}, gguf.TypeInfo{}, fmt.Errorf("%w %s", ErrUnsupported, t)
	}
	ti, _ := t.Info()
	return f, ti, nil
}

// Quantize encodes src as type t into dst, bit-exactly like ggml's
// quantize_row_*_ref. len(src) must be a multiple of t's block size and
// len(dst) must be t.RowSize(len(src)). It does not allocate.
func Quantize(t gguf.GGMLType, dst []byte, src []float32) error {
	f, ti, err := lookup(t)
	if err != nil {
		return err
	}
	if len(src)%ti.BlockSize != 0 {
		return fmt.Errorf("quant: %d values is not a multiple of %s's block size %d", len(src), ti.Name, ti.BlockSize)
	}
	if want := len(src) / ti.BlockSize * ti.TypeSize; len(dst) != want {
		return fmt.Errorf("quant: %d values of %s need %d bytes, dst has %d", len(src), ti.Name, want, len(dst))
	}
	f.quantize(dst, src)
	return nil
}

// Dequantize decodes src, holding len(dst) values of type t, into dst,
// bit-exactly like ggml's dequantize_row_*. It does not allocate.
func Dequantize(t gguf.GGMLType, dst []float32, src []byte) error {
	f, ti, err := lookup(t)
	if err != nil {
		return err
	}
	if len(dst)%ti.BlockSize != 0 {
		return fmt.Errorf("quant: %d values is not a multiple of %s's block size %d", len(dst), ti.Name, ti.BlockSize)
	}
	if want := len(dst) / ti.BlockSize * ti.TypeSize; len(src) != want {
		return fmt.Errorf("quant: %d values of %s need %d bytes, src has %d", len(dst), ti.Name, want, len(src))
	}
	f.dequantize(dst, src)
	return nil
}

// Validate reports the first non-finite value or scale in data of type t,
// the check ggml_validate_row_data makes before llama.cpp loads or writes a
// tensor. len(data) must be a whole number of blocks.
func Validate(t gguf.GGMLType, data []byte) error {
	f, ti, err := lookup(t)
	if err != nil {
		return err
	}
	if len(data)%ti.TypeSize != 0 {
		return fmt.Errorf("quant: %d bytes is not a whole number of %s blocks (%d bytes)", len(data), ti.Name, ti.TypeSize)
	}
	if f.validate == nil {
		return nil
	}
	return f.validate(data)
}
