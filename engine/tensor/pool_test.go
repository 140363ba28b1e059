package tensor

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestRunSync: between two barriers every member sees what every other
// member wrote before the first, over many rounds and team sizes.
func TestRunSync(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := NewPool(threads)
		slots := make([]int, threads)
		bad := atomic.Int32{}
		for run := 0; run < 50; run++ {
			p.Run(func(w *Worker) {
				if w.N() != threads {
					bad.Add(1)
				}
				for round := 0; round < 20; round++ {
					slots[w.ID()] = run*1000 + round*10 + w.ID()
					w.Sync()
					for i, v := range slots {
						if v != run*1000+round*10+i {
							bad.Add(1)
						}
					}
					w.Sync()
				}
			})
		}
		p.Close()
		if bad.Load() != 0 {
			t.Fatalf("threads %d: %d stale reads across barriers", threads, bad.Load())
		}
	}
}

// TestRunChunks: consecutive dynamically claimed ops hand out every index
// exactly once, whatever the sizes, and Range splits a range exactly.
func TestRunChunks(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads)
		sizes := []int{0, 1, 7, 64, 1000, 3}
		seen := make([][]atomic.Int32, len(sizes))
		for i, n := range sizes {
			seen[i] = make([]atomic.Int32, n)
		}
		ranged := make([]atomic.Int32, 10)
		for run := 0; run < 20; run++ {
			p.Run(func(w *Worker) {
				for i, n := range sizes {
					c := w.Chunks(n, i+1)
					for lo, hi, ok := c.Next(); ok; lo, hi, ok = c.Next() {
						for j := lo; j < hi; j++ {
							seen[i][j].Add(1)
						}
					}
					w.Sync()
				}
				lo, hi := w.Range(len(ranged))
				for j := lo; j < hi; j++ {
					ranged[j].Add(1)
				}
			})
		}
		p.Close()
		for i := range seen {
			for j := range seen[i] {
				if seen[i][j].Load() != 20 {
					t.Fatalf("threads %d: op %d index %d claimed %d times in 20 runs", threads, i, j, seen[i][j].Load())
				}
			}
		}
		for j := range ranged {
			if ranged[j].Load() != 20 {
				t.Fatalf("threads %d: Range index %d done %d times in 20 runs", threads, j, ranged[j].Load())
			}
		}
	}
}

// TestRunPanic: a member that panics while the others wait at a barrier
// releases them; the caller gets the panic and the team works afterwards.
func TestRunPanic(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for _, who := range []int{0, 2} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "boom") {
					t.Fatalf("member %d: recovered %v", who, r)
				}
			}()
			p.Run(func(w *Worker) {
				w.Sync()
				if w.ID() == who {
					panic("boom")
				}
				w.Sync()
				w.Sync()
			})
		}()
		n := atomic.Int32{}
		p.Run(func(w *Worker) {
			w.Sync()
			n.Add(1)
			w.Sync()
		})
		if n.Load() != 3 {
			t.Fatalf("after a panic in member %d, %d of 3 members ran", who, n.Load())
		}
	}
}

func TestRunNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := newRand(3)
	m := randomMatrix(rng, gguf.TypeQ4_0, 64, 256)
	k := randomMatrix(rng, gguf.TypeQ8_0, 32, 256)
	x := randomAct(rng, 3*256, false)
	o1, o2 := make([]float32, 3*64), make([]float32, 3*32)
	fn := func(w *Worker) {
		w.Sync()
		c := w.Chunks(100, 7)
		for _, _, ok := c.Next(); ok; _, _, ok = c.Next() {
		}
		w.Sync()
		w.MatMul(x, 3, 1, Product{o1, m}, Product{o2, k})
	}
	p.Run(fn)
	if a := testing.AllocsPerRun(50, func() { p.Run(fn) }); a != 0 {
		t.Errorf("a run allocates %v times", a)
	}
}

// TestFusedMatMul: one MatMul over several products of the same input
// (types that share an activation format and types that do not, packed
// and not, decode and prompt tokens) gives each product exactly what it
// gets alone.
func TestFusedMatMul(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		rng := newRand(12)
		const cols, nTok, nDecode = 512, 6, 2
		sets := [][]gguf.GGMLType{
			{gguf.TypeQ4_0, gguf.TypeQ4_0, gguf.TypeQ4_0},
			{gguf.TypeQ4_K, gguf.TypeQ4_K, gguf.TypeQ6_K},
			{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeF16},
			{gguf.TypeQ5_0, gguf.TypeQ8_0},
		}
		for _, threads := range []int{1, 2, 3} {
			p := NewPool(threads)
			for _, set := range sets {
				for _, pack := range []bool{false, true} {
					x := randomAct(rng, nTok*cols, false)
					var ps []Product
					var want [][]float32
					for i, typ := range set {
						m := randomMatrix(rng, typ, 40+8*i, cols)
						if pack {
							m = packMatrix(m)
						}
						alone := make([]float32, nTok*m.Rows)
						p.MatMulMixed(alone, m, x, nTok, nDecode)
						want = append(want, alone)
						ps = append(ps, Product{Out: make([]float32, nTok*m.Rows), M: m})
					}
					p.Run(func(w *Worker) { w.MatMul(x, nTok, nDecode, ps...) })
					for i := range ps {
						for j, v := range ps[i].Out {
							if math.Float32bits(v) != math.Float32bits(want[i][j]) {
								t.Fatalf("threads %d, %v packed %v: product %d value %d is %v fused, %v alone", threads, set, pack, i, j, v, want[i][j])
							}
						}
					}
				}
			}
			p.Close()
		}
	})
}
