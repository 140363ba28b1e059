package tensor

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Pool is a persistent worker pool shared by all ops of a model. Workers
// sleep on channels between ops rather than spin: the database shares
// these cores, and spinning Go goroutines collapse under GC and when cores
// are oversubscribed. Ops on one Pool run one at a time.
type Pool struct {
	threads int
	mu      sync.Mutex // serializes ops; guards everything below
	wake    []chan struct{}
	done    chan any // one message per woken worker: nil or a recovered panic
	closed  bool

	job   runner
	n     int
	grain int
	next  atomic.Int64

	fn  funcJob
	mm  matmulJob
	act []byte // activation scratch for MatMul, grown on demand
}

// runner is a unit of parallel work; a pointer to a field of the Pool, so
// handing it to the workers allocates nothing.
type runner interface{ run(lo, hi int) }

type funcJob struct{ f func(lo, hi int) }

func (j *funcJob) run(lo, hi int) { j.f(lo, hi) }

// NewPool starts a pool of threads workers, the caller of each op being
// one of them (threads <= 0: runtime.NumCPU()).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, done: make(chan any, threads)}
	for i := 1; i < threads; i++ {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.worker(ch)
	}
	return p
}

// Threads is the number of threads ops use, the caller included.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. Later ops still work, on the caller alone.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.wake {
		close(ch)
	}
	p.wake = nil
}

func (p *Pool) worker(wake chan struct{}) {
	// Jobs read weights mapped from a model file: a fault there (the file
	// shrank under the mapping) panics, and runGuarded hands the panic to
	// the op's caller, instead of killing the process.
	debug.SetPanicOnFault(true)
	for range wake {
		p.done <- p.runGuarded()
	}
}

func (p *Pool) runGuarded() (perr any) {
	defer func() {
		if r := recover(); r != nil {
			perr = r
			p.next.Store(int64(p.n)) // let the others stop early
		}
	}()
	p.claim()
	return nil
}

// claim runs chunks of the current job until none are left.
func (p *Pool) claim() {
	n, g := int64(p.n), int64(p.grain)
	for {
		lo := p.next.Add(g) - g
		if lo >= n {
			return
		}
		p.job.run(int(lo), int(min(lo+g, n)))
	}
}

// Parallel runs fn(lo, hi) over [0,n) in chunks of grain elements, claimed
// from an atomic counter by the pool's workers and the caller, and returns
// when all are done. fn must not call back into the same Pool. A panic in
// fn is re-raised in the caller.
func (p *Pool) Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn.f = fn
	p.parallel(n, grain, &p.fn)
	p.fn.f = nil
}

// parallel runs job over [0,n); p.mu must be held.
func (p *Pool) parallel(n, grain int, job runner) {
	if grain < 1 {
		grain = 1
	}
	chunks := (n + grain - 1) / grain
	helpers := min(len(p.wake), chunks-1)
	if helpers <= 0 {
		job.run(0, n)
		return
	}
	p.job, p.n, p.grain = job, n, grain
	p.next.Store(0)
	for _, ch := range p.wake[:helpers] {
		ch <- struct{}{}
	}
	perr := p.runGuarded()
	for range helpers {
		if e := <-p.done; e != nil && perr == nil {
			perr = e
		}
	}
	p.job = nil
	if perr != nil {
		panic(fmt.Sprintf("tensor: parallel op panicked: %v", perr))
	}
}
