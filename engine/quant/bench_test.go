package quant

import "testing"

// Throughput is reported as float32 bytes (4 per value) per second.

func BenchmarkQuantize(b *testing.B) {
	x := gaussian(4096, 9)
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

func BenchmarkDequantize(b *testing.B) {
	x := gaussian(4096, 9)
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
