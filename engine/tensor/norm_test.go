package tensor

import (
	"fmt"
	"math"
	"testing"
)

// rmsNormRef is llama.cpp's RMSNorm one row at a time, as the model
// computed it before RMSNorm.
func rmsNormRef(dst, src, w []float32, d, rows int, eps float32) {
	for r := 0; r < rows; r++ {
		x, y := src[r*d:(r+1)*d], dst[r*d:(r+1)*d]
		var sum float64
		for _, v := range x {
			sum += float64(v * v)
		}
		mean := float32(sum / float64(d))
		scale := 1 / float32(math.Sqrt(float64(mean+eps)))
		for i, v := range x {
			y[i] = (v * scale) * w[i]
		}
	}
}

// TestRMSNorm: RMSNorm gives the one-row-at-a-time bits at every level,
// for whole groups of eight rows and the rows after them, widths that are
// and are not multiples of the vector, in place and not, and values whose
// sums depend on the order of the adds.
func TestRMSNorm(t *testing.T) {
	rng := newRand(8)
	for _, d := range []int{3, 8, 16, 64, 72, 2048} {
		for _, rows := range []int{1, 7, 8, 9, 19, 64} {
			src := make([]float32, rows*d)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(60)-30))
			}
			// Rows whose float64 sums land on a float32 tie or just past
			// it depending on the order of the adds (squares 4, 2^-22 and
			// 2^-50: 8 + 2^-21 is a tie for the mean of 8 values, 2^-49
			// more is not), so that a reordered chain changes the result.
			picks := []float32{2, -2, 0x1p-11, 0x1p-25, 0x1p-25, 0}
			for r := 0; r < rows; r += 2 {
				for i := range src[r*d : (r+1)*d] {
					src[r*d+i] = picks[rng.IntN(len(picks))]
				}
			}
			w := make([]float32, d)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			want := make([]float32, rows*d)
			rmsNormRef(want, src, w, d, rows, 1e-5)
			t.Run(fmt.Sprintf("d%d/rows%d", d, rows), func(t *testing.T) {
				forLevels(t, func(t *testing.T, lvl string) {
					got := make([]float32, rows*d)
					RMSNorm(got, src, w, d, rows, 1e-5)
					inPlace := append([]float32(nil), src...)
					RMSNorm(inPlace, inPlace, w, d, rows, 1e-5)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(inPlace[i]) != math.Float32bits(want[i]) {
							t.Fatalf("row %d value %d: %v (in place %v), want %v", i/d, i%d, got[i], inPlace[i], want[i])
						}
					}
				})
			})
		}
	}
}

// TestRMSSums8: the eight-row sums of squares equal each row's chain of
// float64 adds in column order, bit for bit (the float32 results of
// RMSNorm rarely show a reordered sum; the sums themselves do).
func TestRMSSums8(t *testing.T) {
	rng := newRand(9)
	forLevels(t, func(t *testing.T, lvl string) {
		v := vecs()
		if !v.rmsSums8 {
			t.Skip("rows one at a time at this level")
		}
		for _, d := range []int{8, 16, 64, 2048} {
			x := make([]float32, 8*d)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(80)-40))
			}
			var got [8]float64
			rmsSums8AVX512(&x[0], d, &got)
			for r := range got {
				var want float64
				for _, v := range x[r*d : (r+1)*d] {
					want += float64(v * v)
				}
				if math.Float64bits(got[r]) != math.Float64bits(want) {
					t.Fatalf("d=%d row %d: %v, want %v", d, r, got[r], want)
				}
			}
		}
	})
}
