package tensor

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Pool is a persistent team of threads that runs a whole computation (a
// forward pass) together, as ggml's thread pool does: Run hands every
// member the same function, each member walks the same list of ops,
// takes its share of each (Range for a fixed split, Chunks for a
// contiguous share that the others help finish: see Chunker) and meets
// the others at a barrier (Sync)
// where the next op needs what this one wrote. A step wakes the team once,
// not once per op, and no op goes through a coordinator.
//
// Waiting members spin briefly and then park: the database shares these
// cores, and Go code that spins unboundedly collapses under GC and when
// the cores are oversubscribed. A Pool of one thread synchronises nothing:
// Run calls the function and Sync returns at once.
//
// One Run at a time: concurrent callers take turns.
type Pool struct {
	threads int
	mu      sync.Mutex // one Run at a time; guards closed
	closed  bool

	fn      func(w *Worker)
	members []*Worker // members[0] is the caller's

	runGen  atomic.Uint64 // advanced to start a run
	running atomic.Int32  // members of the current run not yet done
	broken  atomic.Bool   // a member panicked: barriers stop waiting
	quit    atomic.Bool
	perrMu  sync.Mutex
	perr    any

	bar barrier
	// ctr are the chunk counters of ops claimed dynamically: op number s
	// uses ctr[s&1], and member 0 clears the other at the start of op s
	// (its previous user, op s-1, ended at a barrier everyone has passed).
	ctr [2]paddedCounter
	// shares are the members' parts of the current op claimed by Chunks
	// (see Chunker), one per member.
	shares []share

	act []byte // activation scratch of MatMul, grown between barriers

	// Parallel's and MatMul's single-op runs: their arguments and the
	// method values that run them, bound once.
	legacy   legacyJob
	legacyFn func(w *Worker)
	single   singleMatMul
	singleFn func(w *Worker)

	// RunEach's function, the method value that runs it, and the teams of
	// one it hands each member.
	each   func(i int, w *Worker)
	eachFn func(w *Worker)
	solos  []*Worker
}

type paddedCounter struct {
	n atomic.Int64
	_ [56]byte
}

// Worker is one member of a Pool during a Run.
type Worker struct {
	id, n int
	p     *Pool
	seq   uint64 // dynamically claimed ops seen (see Pool.ctr)
	park  parker
	plan  mmPlan // the current MatMul
	// solo marks a team of one that runs beside others (RunEach): its
	// MatMul converts activations into act, its own, where a team
	// shares the Pool's.
	solo bool
	act  []byte
	_    [64]byte // keep members' hot fields on separate lines
}

// ID is the member's index, 0 for the caller of Run.
func (w *Worker) ID() int { return w.id }

// N is the number of members.
func (w *Worker) N() int { return w.n }

// Pool is the team w belongs to.
func (w *Worker) Pool() *Pool { return w.p }

// parker parks a goroutine until another wakes it, without losing a wake
// that comes between the decision to park and the parking.
type parker struct {
	parked atomic.Bool
	ch     chan struct{}
}

// spinRounds bounds how long a waiting member polls before parking: about
// 400 us idle (each 256th round yields the P to the database's
// goroutines, so they run meanwhile), longer than the pause between
// steps when the caller samples and the database runs. At 4,096 rounds
// (25 us) a member parked between almost every two steps of a batched
// SELECT on stories260K, and the next step's wake reached it through the
// Go scheduler 150 us late on average (0.36 s over 2,300 steps), while
// the caller ran its part and then waited; at 65,536 the delay fell to
// 60 us and the statement from 84 to 66 ms. An idle pool parks after
// one such spin.
const spinRounds = 1 << 16

// syncSpinRounds bounds the polling at a barrier inside a run instead
// (Sync): about 75 us. The 20 us of spinRounds were too short there: on
// this project's 2-vCPU machine a quarter of a decode step's barriers
// outlasted them (a member preempted for a moment, an op's tail), and
// each such wait became a park and a futex wake-up, 45 context switches a
// token (TinyLlama Q4_0, 2 threads: 12,000 a 128-token run, now 2,600,
// and generation 64-70 -> 72-76 t/s). Inside a run the others will come
// soon: waiting longer there costs nothing the step does not already wait
// for.
const syncSpinRounds = 1 << 14

// waitFor returns once done() holds, spinning then parking; wake is what
// the goroutine that makes done() true calls.
func (k *parker) waitFor(done func() bool) { k.waitSpinning(spinRounds, done) }

// waitSpinning is waitFor polling up to rounds times before parking.
func (k *parker) waitSpinning(rounds int, done func() bool) {
	for i := 0; i < rounds; i++ {
		if done() {
			return
		}
		if i&255 == 255 {
			runtime.Gosched() // let the database's goroutines have the P
		}
	}
	for {
		k.parked.Store(true)
		if done() {
			if !k.parked.Swap(false) {
				<-k.ch // a waker took the flag and is sending
			}
			return
		}
		<-k.ch
		if done() { // wakes may come for other reasons: check again
			return
		}
	}
}

// wake releases k if it parked (or is about to).
func (k *parker) wake() {
	if k.parked.Swap(false) {
		k.ch <- struct{}{}
	}
}

// barrier is a reusable meeting point for a Pool's members.
type barrier struct {
	count atomic.Int32
	gen   atomic.Uint32
	_     [56]byte
}

// NewPool starts a team of threads members, the caller of Run being one
// of them (threads <= 0: runtime.NumCPU()).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, shares: make([]share, threads)}
	p.legacyFn, p.singleFn, p.eachFn = p.runLegacy, p.runSingle, p.runEach
	for i := 0; i < threads; i++ {
		w := &Worker{id: i, n: threads, p: p, park: parker{ch: make(chan struct{}, 1)}}
		p.members = append(p.members, w)
		p.solos = append(p.solos, &Worker{n: 1, p: p, solo: true})
		if i > 0 {
			go p.member(w)
		}
	}
	return p
}

// Threads is the number of members, the caller included.
func (p *Pool) Threads() int { return p.threads }

// Close stops the members. Later runs still work, on the caller alone.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.quit.Store(true)
	p.runGen.Add(1)
	for _, w := range p.members[1:] {
		w.park.wake()
	}
}

func (p *Pool) member(w *Worker) {
	// Ops read weights mapped from a model file: a fault there (the file
	// shrank under the mapping) panics, and runMember hands the panic to
	// Run's caller, instead of killing the process.
	debug.SetPanicOnFault(true)
	seen := uint64(0)
	for {
		w.park.waitFor(func() bool { return p.runGen.Load() != seen })
		seen = p.runGen.Load()
		if p.quit.Load() {
			return
		}
		p.runMember(w)
		if p.running.Add(-1) == 0 {
			p.members[0].park.wake()
		}
	}
}

// runMember runs the current function on w, turning a panic into the
// run's error and releasing the others from barriers.
func (p *Pool) runMember(w *Worker) {
	defer func() {
		if r := recover(); r != nil {
			p.perrMu.Lock()
			if p.perr == nil {
				p.perr = r
			}
			p.perrMu.Unlock()
			p.broken.Store(true)
			p.bar.gen.Add(1)
			for _, m := range p.members {
				if m != w {
					m.park.wake()
				}
			}
		}
	}()
	p.fn(w)
}

// Run calls fn on every member at once, the caller being member 0, and
// returns when all have returned. Members must make the same sequence of
// Sync, Chunks and MatMul calls. A panic in any member ends the others'
// waits at barriers and is re-raised here once all have returned.
func (p *Pool) Run(fn func(w *Worker)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run(fn)
}

// RunAlone is Run with the caller as the only member: for a computation
// too small to pay for waking the others and meeting them at every
// barrier. fn sees a Worker of one (N() == 1).
func (p *Pool) RunAlone(fn func(w *Worker)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runAlone(fn)
}

// RunEach calls fn(i, w) on every member i at once, the caller being
// member 0, and returns when all have returned: each w a team of one
// (ID 0, N 1: Sync returns at once, Chunks and MatMul do all the work on
// the calling thread), so the members share nothing and never wait for
// one another. It is for work that splits into independent parts, each
// part's data staying on one core: on this project's 2-vCPU machine a
// cache line's round trip between the cores takes 0.2-1 us (the host
// places the vCPUs), so ops that hand small matrices between members at
// every barrier can spend more time moving them than computing (see
// engine/model/split.go). A panic in any member is re-raised here once
// all have returned, as in Run.
func (p *Pool) RunEach(fn func(i int, w *Worker)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.each = fn
	defer func() { p.each = nil }()
	if p.closed || p.threads == 1 {
		for i := range p.threads {
			p.runSolo(i)
		}
		return
	}
	p.run(p.eachFn)
}

func (p *Pool) runEach(w *Worker) { p.runSolo(w.id) }

// runSolo runs RunEach's function for member i on its team of one.
func (p *Pool) runSolo(i int) {
	sw := p.solos[i]
	sw.seq = 0
	p.each(i, sw)
}

// runAlone runs fn on the caller as a team of one: no barriers, counters
// or wakes (Sync sees n == 1). p.mu is held.
func (p *Pool) runAlone(fn func(w *Worker)) {
	me := p.members[0]
	me.seq, me.n = 0, 1
	defer func() { me.n = p.threads }()
	fn(me)
}

// run is Run with p.mu held.
func (p *Pool) run(fn func(w *Worker)) {
	if p.closed || p.threads == 1 {
		p.runAlone(fn)
		return
	}
	me := p.members[0]
	p.fn = fn
	for _, w := range p.members {
		w.seq = 0
	}
	p.ctr[0].n.Store(0)
	p.ctr[1].n.Store(0)
	for i := range p.shares {
		p.shares[i].v.Store(packShare(shareStale, 0, 0))
	}
	p.running.Store(int32(p.threads - 1))
	p.runGen.Add(1)
	for _, w := range p.members[1:] {
		w.park.wake()
	}
	p.runMember(me)
	me.park.waitFor(func() bool { return p.running.Load() == 0 })
	p.fn = nil
	if p.broken.Load() {
		p.broken.Store(false)
		p.bar.count.Store(0)
		perr := p.perr
		p.perr = nil
		panic(fmt.Sprintf("tensor: parallel op panicked: %v", perr))
	}
}

// Sync waits until every member has reached it: what each wrote before
// is then visible to all.
func (w *Worker) Sync() {
	if w.n == 1 {
		return
	}
	p := w.p
	b := &p.bar
	g := b.gen.Load()
	if b.count.Add(1) == int32(w.n) {
		b.count.Store(0)
		b.gen.Add(1)
		for _, m := range p.members {
			if m != w {
				m.park.wake()
			}
		}
		return
	}
	w.park.waitSpinning(syncSpinRounds, func() bool { return b.gen.Load() != g || p.broken.Load() })
}

// Range is member w's part of [0, n) in a fixed split: contiguous, in
// member order, sizes differing by at most one.
func (w *Worker) Range(n int) (lo, hi int) {
	return n * w.id / w.n, n * (w.id + 1) / w.n
}

// Chunker hands out chunks of an op's index range.
//
// Each member owns a contiguous share of the chunks (its Range of them)
// and claims its own from the front, in order (see claim); a member whose
// share is done takes the others' remaining chunks from their back ends.
// So a member streams through adjacent rows of a matrix, as one thread
// would (the hardware prefetcher follows it, and no cache line bounces
// between cores on every claim), and a member that is late or descheduled
// still has its work done by the others. With one shared counter, as
// before, two threads decoding a cold Q4_0 matrix read 30-33 GB/s; with
// shares, 49.5, as fast as two threads on separate matrices.
type Chunker struct {
	p        *Pool // nil when alone
	id       int
	tag      uint64
	n, grain int
	chunks   int           // ceil(n / grain)
	victim   int           // the member whose share this member takes chunks from
	local    int           // the next index when alone
	ctr      *atomic.Int64 // the one shared counter of an op too large for shares
}

// A share is one member's unclaimed chunks [lo, hi) in one op, packed
// with the op's tag so that a share left from an earlier op is known to
// be stale: whoever meets a stale share first (its owner or a thief)
// fills it with the owner's Range for this op. Every member that finishes
// an op has looked at every share, so no share is older than the last op
// when the next begins, and a tag cannot come round again unnoticed.
type share struct {
	v atomic.Uint64
	_ [56]byte
}

const (
	shareBits  = 24 // lo and hi
	shareMask  = 1<<shareBits - 1
	shareStale = 1<<16 - 1 // a tag no op has: set on every share when a run starts
)

// maxShareChunks is the most chunks shares can hold (a variable so that
// a test can reach the fallback without 16 million chunks).
var maxShareChunks = shareMask

func packShare(tag uint64, lo, hi int) uint64 {
	return tag<<(2*shareBits) | uint64(lo)<<shareBits | uint64(hi)
}

// Chunks starts an op whose [0, n) is claimed in chunks of grain by
// the members: iterate with Next, then Sync before anything reads the
// results (and before the next Chunks). Next may hand out several chunks
// at once: a range that starts on a chunk boundary and ends on one or at n.
func (w *Worker) Chunks(n, grain int) Chunker {
	grain = max(grain, 1)
	if w.n == 1 {
		return Chunker{n: n, grain: grain}
	}
	s := w.seq
	w.seq++
	chunks := (n + grain - 1) / grain
	if chunks > maxShareChunks {
		// Too many chunks to pack: one shared counter, claimed in order.
		if w.id == 0 {
			w.p.ctr[(s+1)&1].n.Store(0)
		}
		return Chunker{n: n, grain: grain, ctr: &w.p.ctr[s&1].n}
	}
	return Chunker{p: w.p, id: w.id, tag: s % shareStale, n: n, grain: grain, chunks: chunks, victim: w.id}
}

// Next returns the next unclaimed chunk, or ok false when none is left.
func (c *Chunker) Next() (lo, hi int, ok bool) {
	switch {
	case c.ctr != nil:
		lo = int(c.ctr.Add(int64(c.grain))) - c.grain
	case c.p == nil:
		lo = c.local
		c.local += c.grain
	default:
		ci, k, ok := c.claim()
		if !ok {
			return 0, 0, false
		}
		return ci * c.grain, min((ci+k)*c.grain, c.n), true
	}
	if lo >= c.n {
		return 0, 0, false
	}
	return lo, min(lo+c.grain, c.n), true
}

// claim takes the next chunks of this member's share, or the last of the
// next member's that has any left: the first chunk and how many. An owner
// takes an eighth of what is left of its share at a time (at least one
// chunk), so that an op of many small chunks costs a few atomic
// operations, not one per chunk, while the others can still take most of
// the share of a member that stops; others take one chunk at a time.
func (c *Chunker) claim() (int, int, bool) {
	n := len(c.p.shares)
	for tries := 0; tries < n; tries++ {
		sh := &c.p.shares[c.victim].v
		own := c.victim == c.id
		for {
			v := sh.Load()
			if v>>(2*shareBits) != c.tag {
				lo, hi := c.chunks*c.victim/n, c.chunks*(c.victim+1)/n
				sh.CompareAndSwap(v, packShare(c.tag, lo, hi))
				continue
			}
			lo, hi := int(v>>shareBits&shareMask), int(v&shareMask)
			if lo >= hi {
				break
			}
			if own {
				k := max(1, (hi-lo)/8)
				if sh.CompareAndSwap(v, packShare(c.tag, lo+k, hi)) {
					return lo, k, true
				}
			} else if sh.CompareAndSwap(v, packShare(c.tag, lo, hi-1)) {
				return hi - 1, 1, true
			}
		}
		c.victim++
		if c.victim == n {
			c.victim = 0
		}
	}
	return 0, 0, false
}

// legacyJob is Parallel's function and shape.
type legacyJob struct {
	f        func(lo, hi int)
	n, grain int
}

// Parallel runs fn(lo, hi) over [0,n) in chunks of grain elements claimed
// by the members, and returns when all are done: a Run of one op. fn must
// not call back into the same Pool. A panic in fn is re-raised in the
// caller.
func (p *Pool) Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if n <= grain || p.threads == 1 {
		fn(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.legacy = legacyJob{fn, n, grain}
	p.run(p.legacyFn)
	p.legacy = legacyJob{}
}

func (p *Pool) runLegacy(w *Worker) {
	j := p.legacy
	c := w.Chunks(j.n, j.grain)
	for lo, hi, ok := c.Next(); ok; lo, hi, ok = c.Next() {
		j.f(lo, hi)
	}
}
