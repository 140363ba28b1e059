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

// TestChunksShares: each member claims its own share of an op's chunks
// from the front, in order, and others take what is left of it from the
// back; a member that is late to an op has its whole share done by the
// others and gets nothing; shares left from an earlier op or run are
// never handed out again.
func TestChunksShares(t *testing.T) {
	const threads, n = 3, 200 // shares of 66: owners claim several chunks at once
	p := NewPool(threads)
	defer p.Close()
	for run := 0; run < 30; run++ {
		late := run % (threads + 1) // threads: nobody is late
		var claimed [threads][]int
		var finished atomic.Int32
		release := make(chan struct{})
		p.Run(func(w *Worker) {
			if w.ID() == late {
				<-release
			}
			c := w.Chunks(n, 1)
			for lo, hi, ok := c.Next(); ok; lo, hi, ok = c.Next() {
				for ci := lo; ci < hi; ci++ {
					claimed[w.ID()] = append(claimed[w.ID()], ci)
				}
			}
			if late < threads && finished.Add(1) == threads-1 {
				close(release)
			}
			w.Sync()
			// A second op at once: its shares start fresh.
			c = w.Chunks(5, 2)
			for lo, _, ok := c.Next(); ok; lo, _, ok = c.Next() {
				claimed[w.ID()] = append(claimed[w.ID()], n+lo)
			}
		})
		owner := make([]int, n+100)
		for i := range owner {
			owner[i] = -1
		}
		for id, cs := range claimed {
			for _, ci := range cs {
				if owner[ci] != -1 {
					t.Fatalf("run %d: chunk %d claimed by members %d and %d", run, ci, owner[ci], id)
				}
				owner[ci] = id
			}
		}
		for _, ci := range []int{n, n + 2, n + 4} {
			if owner[ci] == -1 {
				t.Fatalf("run %d: second op's chunk %d never claimed", run, ci-n)
			}
		}
		for id := 0; id < threads; id++ {
			lo, hi := n*id/threads, n*(id+1)/threads
			// The owner's claims are a prefix of its share, in order.
			i := lo
			for _, ci := range claimed[id] {
				if ci >= lo && ci < hi {
					if ci != i {
						t.Fatalf("run %d: member %d claimed %d of its share [%d,%d) after %d", run, id, ci, lo, hi, i-1)
					}
					i++
				}
			}
			for ci := lo; ci < hi; ci++ {
				if owner[ci] == -1 {
					t.Fatalf("run %d: chunk %d never claimed", run, ci)
				}
				if (ci < i) != (owner[ci] == id) {
					t.Fatalf("run %d: chunk %d of member %d's share [%d,%d) went to member %d (its own claims end at %d)", run, ci, id, lo, hi, owner[ci], i)
				}
			}
			if id == late && len(claimed[id]) > 0 && claimed[id][0] < n {
				t.Fatalf("run %d: late member %d claimed %v", run, id, claimed[id])
			}
		}
	}
}

// TestChunksCounter: an op with more chunks than shares can hold is
// handed out from one counter, every index once.
func TestChunksCounter(t *testing.T) {
	defer func(m int) { maxShareChunks = m }(maxShareChunks)
	maxShareChunks = 10
	p := NewPool(3)
	defer p.Close()
	seen := make([]atomic.Int32, 100)
	for run := 0; run < 5; run++ {
		p.Run(func(w *Worker) {
			for _, n := range []int{100, 11, 10} {
				c := w.Chunks(n, 1)
				for lo, _, ok := c.Next(); ok; lo, _, ok = c.Next() {
					seen[lo].Add(1)
				}
				w.Sync()
			}
		})
	}
	for i := range seen {
		want := int32(5)
		if i < 10 {
			want = 15
		} else if i < 11 {
			want = 10
		}
		if seen[i].Load() != want {
			t.Fatalf("index %d claimed %d times, want %d", i, seen[i].Load(), want)
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
