package quant

import "testing"

// Throughput is reported as float32 bytes (4 per value) per second. The
// input is large enough (4 MiB) that branch predictors cannot learn it, as
// they would a small buffer quantized over and over.

func BenchmarkQuantize(b *testing.B) {
	x := gaussian(1<<20, 9)
	for _, typ := range allTypes {
		b.Run(typ.String(), func(b *testing.B) {
			q := make([]byte, typ.RowSize(len(x)))
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				_ = Quantize(typ, q, x)
			}
		})
	}
}

func BenchmarkQuantizeAVX(b *testing.B) {
	x := gaussian(1<<20, 9)
	for _, c := range []struct {
		name  string
		bytes int
		f     func([]byte, []float32) error
	}{{"Q8_0", 34, QuantizeQ8_0AVX}, {"Q8_1", 36, QuantizeQ8_1AVX}} {
		b.Run(c.name, func(b *testing.B) {
			q := make([]byte, len(x)/32*c.bytes)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				_ = c.f(q, x)
			}
		})
	}
}

func BenchmarkDequantize(b *testing.B) {
	x := gaussian(1<<20, 9)
	for _, typ := range allTypes {
		b.Run(typ.String(), func(b *testing.B) {
			q := make([]byte, typ.RowSize(len(x)))
			_ = Quantize(typ, q, x)
			d := make([]float32, len(x))
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				_ = Dequantize(typ, d, q)
			}
		})
	}
}
