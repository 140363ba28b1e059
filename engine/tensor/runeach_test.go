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

// TestRunEach: every member runs its own part at the same time, each on a
// team of one (ID 0, N 1), and MatMuls in the parts, which convert their
// activations at the same moment, each into its own scratch, give what
// the whole team gives.
func TestRunEach(t *testing.T) {
	const rows, cols, nTok = 48, 256, 6
	rng := newRand(71)
	m := randomMatrix(rng, gguf.TypeQ8_0, rows, cols) // activations converted to Q8_0
	xs := [2][]float32{randomAct(rng, nTok*cols, false), randomAct(rng, nTok*cols, false)}
	p := NewPool(2)
	defer p.Close()
	var want [2][]float32
	for i := range want {
		want[i] = make([]float32, nTok*rows)
		p.MatMulMixed(want[i], m, xs[i], nTok, 2)
	}
	var got [2][]float32
	for i := range got {
		got[i] = make([]float32, nTok*rows)
	}
	var seen [2]atomic.Int32
	started := make(chan struct{})
	var overlapped atomic.Bool
	for range 50 {
		p.RunEach(func(i int, w *Worker) {
			seen[i].Add(1)
			if w.ID() != 0 || w.N() != 1 {
				panic(fmt.Sprintf("member %d: a worker %d of %d", i, w.ID(), w.N()))
			}
			w.MatMul(xs[i], nTok, 2, Product{Out: got[i], M: m})
			w.Sync() // a team of one does not wait
			if !overlapped.Load() {
				if i == 1 {
					select {
					case <-started:
					default:
						close(started)
					}
				} else {
					select {
					case <-started:
						overlapped.Store(true)
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
		})
		for i := range got {
			for j := range got[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("part %d, value %d: %v, the team %v", i, j, got[i][j], want[i][j])
				}
			}
		}
	}
	if seen[0].Load() != 50 || seen[1].Load() != 50 {
		t.Fatalf("parts ran %d and %d times, want 50", seen[0].Load(), seen[1].Load())
	}
	if !overlapped.Load() {
		t.Fatal("the parts never ran at the same time")
	}
}

// TestRunEachPanic: a part's panic reaches RunEach's caller once both
// parts are done, and the pool works after it; a closed pool runs the
// parts on the caller, one after the other.
func TestRunEachPanic(t *testing.T) {
	p := NewPool(2)
	var other atomic.Bool
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "boom") {
				t.Fatalf("recovered %v", r)
			}
		}()
		p.RunEach(func(i int, w *Worker) {
			if i == 1 {
				panic("boom")
			}
			time.Sleep(20 * time.Millisecond)
			other.Store(true)
		})
	}()
	if !other.Load() {
		t.Fatal("RunEach returned before the other part finished")
	}
	var n atomic.Int32
	p.RunEach(func(i int, w *Worker) { n.Add(int32(i + 1)) })
	if n.Load() != 3 {
		t.Fatalf("after a panic, parts added %d, want 3", n.Load())
	}
	p.Close()
	var order []int
	p.RunEach(func(i int, w *Worker) { order = append(order, i) })
	if fmt.Sprint(order) != "[0 1]" {
		t.Fatalf("closed pool ran parts %v", order)
	}
}
