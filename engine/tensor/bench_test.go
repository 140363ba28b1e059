package tensor

import (
	"fmt"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// benchLevels runs f per kernel level the CPU supports.
func benchLevels(b *testing.B, f func(b *testing.B)) {
	for _, l := range Levels() {
		b.Run(l, func(b *testing.B) {
			restore, err := SetLevel(l)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			f(b)
		})
	}
}

// BenchmarkDot4096: one 4096-element row dot product (ns/op).
func BenchmarkDot4096(b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		for _, typ := range allTypes {
			b.Run(typ.String(), func(b *testing.B) {
				rng := newRand(11)
				row := randomRow(rng, typ, 4096, false)
				v, _ := NewVec(typ, randomAct(rng, 4096, false))
				var s float32
				for b.Loop() {
					s += v.Dot(row)
				}
				_ = s
			})
		}
	})
}

// BenchmarkMatVec: decode, one token through a 5632x2048 matrix; MB/s is
// weight bytes read.
func BenchmarkMatVec(b *testing.B) {
	benchMatMul(b, 5632, 2048, 1)
}

// BenchmarkMatMul512: a 512-token prompt through a 2048x2048 matrix;
// GFLOP/s counts 2 flops per weight per token.
func BenchmarkMatMul512(b *testing.B) {
	benchMatMul(b, 2048, 2048, 512)
}

func benchMatMul(b *testing.B, rows, cols, nTok int) {
	benchLevels(b, func(b *testing.B) {
		for _, typ := range allTypes {
			m := randomMatrix(newRand(12), typ, rows, cols)
			x := randomAct(newRand(13), nTok*cols, false)
			out := make([]float32, nTok*rows)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/t%d", typ, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(int64(len(m.Data)))
					for b.Loop() {
						p.MatMul(out, m, x, nTok)
					}
					flops := 2 * float64(rows) * float64(cols) * float64(nTok)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	})
}

var _ = gguf.TypeF32
