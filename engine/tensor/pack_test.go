package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestPackedMatchesUnpacked checks packed matrices at every level:
// the packed kernels equal their pure-Go twin bit for bit, and agree with
// the unpacked kernels to float32 rounding (they sum the blocks in another
// order); a decode token gives the same bits alone or batched. (Packed
// Q4_K prompt tokens in a whole group of four take ggml's gemm order, the
// others its gemv order, as llama.cpp's repacked kernels do.)
func TestPackedMatchesUnpacked(t *testing.T) {
	for typ := range packedFormats {
		// 40 rows: chunks of one group of eight. 136 rows: chunks of
		// several groups, even and odd in number (the AVX-512 Q4_0 kernel
		// takes two groups at a time, then a last one alone).
		for _, shape := range []struct{ rows, threads int }{{40, 2}, {136, 1}, {136, 2}} {
			t.Run(fmt.Sprintf("%s/%dx%d", typ, shape.rows, shape.threads), func(t *testing.T) {
				checkPacked(t, typ, shape.rows, shape.threads)
			})
		}
	}
}

func checkPacked(t *testing.T, typ gguf.GGMLType, rows, threads int) {
	rng := newRand(21)
	const cols, nTok = 1024, 9 // parts of 9 tokens take the wide kernels, of 3 and 6 the narrow
	m := randomMatrix(rng, typ, rows, cols)
	pm := packMatrix(m)
	if !pm.Packed {
		t.Fatal("not packed")
	}
	x := randomAct(rng, nTok*cols, false)
	p := NewPool(threads)
	defer p.Close()

	restore, _ := SetLevel("go")
	nds := []int{0, 3, nTok}
	wants := make([][]float32, len(nds))
	for i, nd := range nds {
		wants[i] = make([]float32, nTok*rows)
		p.MatMulMixed(wants[i], pm, x, nTok, nd)
	}
	want := wants[0]
	unpacked := make([]float32, nTok*rows)
	p.MatMul(unpacked, m, x, nTok)
	restore()

	w := make([][]float64, rows)
	for r := range w {
		w[r] = dequantRow(t, typ, m.Row(r), cols)
	}
	forLevels(t, func(t *testing.T, lvl string) {
		for k, nd := range nds {
			got := make([]float32, nTok*rows)
			p.MatMulMixed(got, pm, x, nTok, nd)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(wants[k][i]) {
					t.Fatalf("%d decode tokens, token %d row %d: %v, pure Go %v", nd, i/rows, i%rows, got[i], wants[k][i])
				}
			}
		}
		for tok := 0; tok < nTok; tok++ {
			alone := make([]float32, rows)
			p.MatMulMixed(alone, pm, x[tok*cols:(tok+1)*cols], 1, 1)
			for r := range alone {
				if math.Float32bits(alone[r]) != math.Float32bits(wants[2][tok*rows+r]) {
					t.Fatalf("decode token %d row %d: %v alone, %v batched", tok, r, alone[r], wants[2][tok*rows+r])
				}
			}
		}
		for tok := 0; tok < nTok; tok++ {
			v, _ := NewVec(typ, x[tok*cols:(tok+1)*cols])
			av := actValues(v.im.act, v.buf, cols)
			for r := 0; r < rows; r++ {
				ref, mag := refDot(w[r], av)
				if got := float64(want[tok*rows+r]); math.Abs(got-ref) > 1e-5*mag {
					t.Fatalf("token %d row %d: %g, float64 %g", tok, r, got, ref)
				}
				if d := math.Abs(float64(want[tok*rows+r] - unpacked[tok*rows+r])); d > 1e-5*mag {
					t.Fatalf("token %d row %d: packed %g, unpacked %g", tok, r, want[tok*rows+r], unpacked[tok*rows+r])
				}
			}
		}
	})
}

func TestPackKeepsOddShapes(t *testing.T) {
	rng := newRand(22)
	m := randomMatrix(rng, gguf.TypeQ4_0, 12, 64)
	if packMatrix(m).Packed {
		t.Error("12 rows were packed; only whole groups of eight can be")
	}
	f := randomMatrix(rng, gguf.TypeF16, 16, 64)
	if packMatrix(f).Packed {
		t.Error("F16 has no packed layout")
	}
	pm := packMatrix(randomMatrix(rng, gguf.TypeQ4_0, 16, 64))
	defer func() {
		if recover() == nil {
			t.Error("Row of a packed matrix did not panic")
		}
	}()
	pm.Row(0)
}
