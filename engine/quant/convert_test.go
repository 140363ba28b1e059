package quant

import (
	"bytes"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

func TestConvertRowsMatchesQuantize(t *testing.T) {
	const rowLen, rows = 512, 37
	x := gaussian(rowLen*rows, 10)
	f16 := make([]byte, gguf.TypeF16.RowSize(len(x)))
	if err := Quantize(gguf.TypeF16, f16, x); err != nil {
		t.Fatal(err)
	}
	xf := make([]float32, len(x))
	if err := Dequantize(gguf.TypeF16, xf, f16); err != nil {
		t.Fatal(err)
	}
	for _, to := range []gguf.GGMLType{gguf.TypeQ8_0, gguf.TypeQ4_K, gguf.TypeQ6_K, gguf.TypeBF16, gguf.TypeF16} {
		want := make([]byte, to.RowSize(len(x)))
		if err := Quantize(to, want, xf); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{0, 1, 3, 64} {
			got := make([]byte, len(want))
			if err := ConvertRows(got, to, f16, gguf.TypeF16, rowLen, threads); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("F16 -> %s with %d threads differs from converting in one call", to, threads)
			}
		}
	}
}

func TestConvertRowsErrors(t *testing.T) {
	src := make([]byte, gguf.TypeF32.RowSize(256*3))
	cases := []struct {
		name     string
		dst      int
		to, from gguf.GGMLType
		rowLen   int
	}{
		{"unsupported source", 3 * 144, gguf.TypeQ4_K, gguf.TypeIQ2_XXS, 256},
		{"unsupported target", 3 * 144, gguf.TypeIQ4_NL, gguf.TypeF32, 256},
		{"row does not fit target", 3 * 144, gguf.TypeQ4_K, gguf.TypeF32, 128},
		{"zero row", 0, gguf.TypeQ4_K, gguf.TypeF32, 0},
		{"src not whole rows", 3 * 144, gguf.TypeQ4_K, gguf.TypeF32, 512},
		{"dst too small", 3*144 - 1, gguf.TypeQ4_K, gguf.TypeF32, 256},
	}
	for _, c := range cases {
		if err := ConvertRows(make([]byte, c.dst), c.to, src, c.from, c.rowLen, 2); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if err := ConvertRows(nil, gguf.TypeQ4_K, nil, gguf.TypeF32, 256, 2); err != nil {
		t.Errorf("no rows: %v", err)
	}
}
