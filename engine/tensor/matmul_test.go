package tensor

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
)

func randomMatrix(rng interface{ Uint32() uint32 }, typ gguf.GGMLType, rows, cols int) Matrix {
	r := newRand(uint64(rng.Uint32()))
	var data []byte
	for i := 0; i < rows; i++ {
		data = append(data, randomRow(r, typ, cols, false)...)
	}
	return Matrix{Type: typ, Rows: rows, Cols: cols, Data: data}
}

// TestMatMul compares MatMul, at every level, for 1 and 7 tokens and 1 and
// 2 threads, with float64 sums over the dequantized weights and the
// activations as converted for the weight type.
func TestMatMul(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		rng := newRand(8)
		for _, threads := range []int{1, 2} {
			p := NewPool(threads)
			defer p.Close()
			for _, typ := range allTypes {
				cols := 512
				if formats[typ].block == 1 {
					cols = 172 // ragged: not a multiple of any vector width
				}
				const rows = 77
				m := randomMatrix(rng, typ, rows, cols)
				w := make([][]float64, rows)
				for r := range w {
					w[r] = dequantRow(t, typ, m.Row(r), cols)
				}
				for _, nTok := range []int{1, 7} {
					x := randomAct(rng, nTok*cols, false)
					out := make([]float32, nTok*rows+1)
					out[nTok*rows] = 42 // must stay untouched
					p.MatMul(out[:nTok*rows], m, x, nTok)
					if out[nTok*rows] != 42 {
						t.Fatalf("%s: MatMul wrote past its output", typ)
					}
					for tok := 0; tok < nTok; tok++ {
						v, _ := NewVec(typ, x[tok*cols:(tok+1)*cols])
						av := actValues(v.im.act, v.buf, cols)
						for r := 0; r < rows; r++ {
							want, mag := refDot(w[r], av)
							tol := 1e-5*mag + q8_1Slack(typ, m.Row(r), v.buf, cols) + 1e-30
							if got := float64(out[tok*rows+r]); math.Abs(got-want) > tol {
								t.Fatalf("%s threads=%d nTok=%d: out[%d][%d] = %g, want %g (tol %g)", typ, threads, nTok, tok, r, got, want, tol)
							}
						}
					}
				}
			}
		}
	})
}

// TestMatMulShapes: whatever the number of rows and tokens, and so
// whichever tiles handled them, MatMul's results equal single-row dot
// products bit for bit: a token's result does not depend on the batch it
// came in.
func TestMatMulShapes(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		p := NewPool(2)
		defer p.Close()
		rng := newRand(9)
		for _, typ := range allTypes {
			cols := 256
			if formats[typ].block == 1 {
				cols = 77
			}
			for _, rows := range []int{1, 2, 3, 5, 64, 65, 300} {
				m := randomMatrix(rng, typ, rows, cols)
				for _, nTok := range []int{1, 2, 3, 4, 5, 9} {
					x := randomAct(rng, nTok*cols, false)
					out := make([]float32, nTok*rows)
					p.MatMul(out, m, x, nTok)
					for tok := 0; tok < nTok; tok++ {
						v, _ := NewVec(typ, x[tok*cols:(tok+1)*cols])
						for r := 0; r < rows; r++ {
							want := v.Dot(m.Row(r))
							if got := out[tok*rows+r]; math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%s %dx%d nTok=%d: [%d][%d] = %g, single-row dot %g", typ, rows, cols, nTok, tok, r, got, want)
							}
						}
					}
				}
			}
		}
	})
}

func TestMatMulBadShapesPanic(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	m := Matrix{Type: gguf.TypeQ4_0, Rows: 2, Cols: 32, Data: make([]byte, 36)}
	for name, f := range map[string]func(){
		"short x":   func() { p.MatMul(make([]float32, 2), m, make([]float32, 31), 1) },
		"short out": func() { p.MatMul(make([]float32, 1), m, make([]float32, 32), 1) },
		"short data": func() {
			p.MatMul(make([]float32, 2), Matrix{Type: gguf.TypeQ4_0, Rows: 3, Cols: 32, Data: m.Data}, make([]float32, 32), 1)
		},
		"ragged": func() {
			p.MatMul(make([]float32, 2), Matrix{Type: gguf.TypeQ4_0, Rows: 1, Cols: 33, Data: m.Data}, make([]float32, 33), 1)
		},
		"bad type": func() {
			p.MatMul(make([]float32, 2), Matrix{Type: gguf.TypeIQ2_XXS, Rows: 1, Cols: 256, Data: make([]byte, 66)}, make([]float32, 256), 1)
		},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "tensor: ") {
					t.Errorf("%s: recovered %v, want a tensor: panic", name, r)
				}
			}()
			f()
		}()
	}
}

func TestMatMulNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := newRand(10)
	m := randomMatrix(rng, gguf.TypeQ8_0, 256, 256)
	x := randomAct(rng, 8*256, false)
	out := make([]float32, 8*256)
	p.MatMul(out, m, x, 8)
	if a := testing.AllocsPerRun(20, func() { p.MatMul(out, m, x, 8); p.MatMul(out, m, x, 1) }); a != 0 {
		t.Errorf("MatMul allocates %v times per run", a)
	}
}

func TestParallel(t *testing.T) {
	for _, threads := range []int{1, 2, 5} {
		p := NewPool(threads)
		if p.Threads() != threads {
			t.Fatalf("Threads() = %d", p.Threads())
		}
		for _, n := range []int{1, 7, 100, 1000} {
			for _, grain := range []int{0, 1, 3, 64, 5000} {
				seen := make([]atomic.Int32, n)
				p.Parallel(n, grain, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				})
				for i := range seen {
					if seen[i].Load() != 1 {
						t.Fatalf("threads=%d n=%d grain=%d: index %d ran %d times", threads, n, grain, i, seen[i].Load())
					}
				}
			}
		}
		p.Close()
		p.Close()
		ran := 0
		p.Parallel(10, 1, func(lo, hi int) { ran += hi - lo })
		if ran != 10 {
			t.Fatalf("after Close, Parallel ran %d of 10", ran)
		}
	}
}

func TestParallelPanicReachesCaller(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "boom") {
			t.Fatalf("recovered %v", r)
		}
		// The pool still works after a panic.
		n := atomic.Int32{}
		p.Parallel(100, 1, func(lo, hi int) { n.Add(int32(hi - lo)) })
		if n.Load() != 100 {
			t.Fatalf("pool broken after panic: %d", n.Load())
		}
	}()
	p.Parallel(100, 1, func(lo, hi int) {
		// The range holding index 57: a member claims several chunks at
		// a time, so 57 need not start one.
		if lo <= 57 && 57 < hi {
			panic("boom")
		}
	})
}

// TestParallelUsesWorkers: two chunks on two threads run at the same time
// (the first waits for the second to start), so the pool really hands
// work to its worker.
func TestParallelUsesWorkers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	started := make(chan struct{})
	var overlapped atomic.Bool
	p.Parallel(2, 1, func(lo, hi int) {
		if lo == 1 {
			close(started)
			return
		}
		select {
		case <-started:
			overlapped.Store(true)
		case <-time.After(time.Minute): // only a pool without a worker waits this long
		}
	})
	if !overlapped.Load() {
		t.Fatal("the second chunk did not run while the first was waiting")
	}
}

// TestDecodeBatchedEqualsAlone: a decode token gives the same bits in a
// batch of decode tokens as alone, for every weight format, packed or
// not, at every level, with batches past the point where some formats
// switch to their wide kernels (Q8_0 at AVX-512 from eight tokens).
func TestDecodeBatchedEqualsAlone(t *testing.T) {
	rng := newRand(33)
	forLevels(t, func(t *testing.T, lvl string) {
		for typ := range formats {
			const rows, cols = 40, 512
			m := randomMatrix(rng, typ, rows, cols)
			for _, mat := range []Matrix{m, packMatrix(m)} {
				for _, nTok := range []int{7, 8, 13} {
					x := randomAct(rng, nTok*cols, false)
					p := NewPool(2)
					batched := make([]float32, nTok*rows)
					p.MatMulMixed(batched, mat, x, nTok, nTok)
					for tok := 0; tok < nTok; tok++ {
						alone := make([]float32, rows)
						p.MatMulMixed(alone, mat, x[tok*cols:(tok+1)*cols], 1, 1)
						for r, v := range alone {
							if w := batched[tok*rows+r]; math.Float32bits(v) != math.Float32bits(w) {
								t.Fatalf("%s (packed %v), %d decode tokens: token %d row %d = %v batched, %v alone", typ, mat.Packed, nTok, tok, r, w, v)
							}
						}
					}
					p.Close()
				}
			}
		}
	})
}
