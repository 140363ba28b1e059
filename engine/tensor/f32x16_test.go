package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestPackedF32MatchesRowMajor: the transposed F32 layout gives the bits
// of the row-major kernels' pure-Go twins (ggml's orders) at every level,
// for decode and prompt tokens, rows that end in a partial group, rows
// shorter than one step of 64, with leftovers of every kind (runs of eight
// and a fused tail), and values that reach infinity and NaN.
func TestPackedF32MatchesRowMajor(t *testing.T) {
	shapes := []struct{ rows, cols int }{
		{16, 64}, {64, 172}, {172, 64}, {5, 48}, {40, 8}, {33, 200}, {16, 130}, {48, 512}, {20, 67},
	}
	for _, sh := range shapes {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%dx%d/%d", sh.rows, sh.cols, threads), func(t *testing.T) {
				checkPackedF32(t, sh.rows, sh.cols, threads)
			})
		}
	}
}

func checkPackedF32(t *testing.T, rows, cols, threads int) {
	rng := newRand(uint64(rows*1000 + cols))
	const nTok = 9
	m := randomMatrix(rng, gguf.TypeF32, rows, cols)
	// Extreme values: a product that overflows, an infinity meeting its
	// negative (NaN), and NaN weights.
	wf := func(r, c int, v float32) {
		putF32(m.Data[4*(r*cols+c):], v)
	}
	wf(0, 0, 3e38)
	wf(1%rows, cols-1, float32(math.Inf(1)))
	wf(2%rows, 0, float32(math.Inf(-1)))
	wf(2%rows, cols-1, float32(math.Inf(1)))
	wf(rows-1, cols/2, float32(math.NaN()))
	// A row of -0 weights: against token 1's zero activations every
	// product is -0, which ggml's first step (a fused multiply-add into a
	// zeroed sum) turns to +0 and a plain multiply would keep.
	for c := 0; c < cols; c++ {
		wf(3%rows, c, float32(math.Copysign(0, -1)))
	}
	pm := packMatrix(m)
	if !pm.Packed {
		t.Fatal("not packed")
	}
	if err := pm.Check(); err != nil {
		t.Fatal(err)
	}
	x := randomAct(rng, nTok*cols, false)
	x[0] = 1e30 // 3e38 * 1e30 overflows
	clear(x[cols : 2*cols])
	p := NewPool(threads)
	defer p.Close()

	restore, _ := SetLevel("go")
	nds := []int{0, 4, nTok}
	wants := make([][]float32, len(nds))
	for i, nd := range nds {
		wants[i] = make([]float32, nTok*rows)
		p.MatMulMixed(wants[i], m, x, nTok, nd)
	}
	restore()
	forLevels(t, func(t *testing.T, lvl string) {
		for k, nd := range nds {
			got := make([]float32, nTok*rows+3)
			for i := range got {
				got[i] = -7 // a store past the rows would show
			}
			p.MatMulMixed(got[:nTok*rows], pm, x, nTok, nd)
			for i, g := range got[:nTok*rows] {
				if math.Float32bits(g) != math.Float32bits(wants[k][i]) && !(g != g && wants[k][i] != wants[k][i]) {
					t.Fatalf("%d decode tokens, token %d row %d: packed %v, row-major %v", nd, i/rows, i%rows, g, wants[k][i])
				}
			}
			for _, g := range got[nTok*rows:] {
				if g != -7 {
					t.Fatalf("%d decode tokens: wrote past the last row", nd)
				}
			}
		}
	})
}

// TestPackF32Shapes: F32 packs any number of rows (the last group
// padded) up to f32PackMaxCols columns, and PackedBytes says what Pack
// allocates.
func TestPackF32Shapes(t *testing.T) {
	rng := newRand(23)
	for _, sh := range []struct {
		rows, cols int
		packs      bool
	}{{172, 64, true}, {5, 512, true}, {16, 513, false}, {64, 2048, false}} {
		m := randomMatrix(rng, gguf.TypeF32, sh.rows, sh.cols)
		pm := Pack(m)
		want := sh.packs && Packs(gguf.TypeF32)
		if pm.Packed != want {
			t.Errorf("%dx%d: packed %v, want %v", sh.rows, sh.cols, pm.Packed, want)
		}
		if got := PackedBytes(gguf.TypeF32, sh.rows, sh.cols); want && got != int64(len(pm.Data)) || !want && got != 0 {
			t.Errorf("%dx%d: PackedBytes %d, Pack allocated %d (packed %v)", sh.rows, sh.cols, got, len(pm.Data), pm.Packed)
		}
	}
}
