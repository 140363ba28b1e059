// Package sched decodes many sequences together: continuous batching. One
// goroutine owns the model's forward pass. Every step it gathers one token
// from each sequence that is generating and a slice of prompt from those
// still reading theirs, runs them through the model in one pass, and samples
// each sequence's next token from its own logits. Sequences join between
// steps and leave as soon as they finish, so a long generation never holds
// up a short one.
//
// Each sequence computes exactly what it would alone: attention sees only
// its own cache slot, the kernels treat every token row the same whatever
// else is in the batch, and sampling uses the sequence's own random stream.
//
// Prompts that share a prefix with what a cache slot already holds (an
// instruction template, a system prompt, a repeated row) reuse those
// positions instead of recomputing them.
//
// Texts to embed (Request.Embed) are prompt-only sequences: each runs whole
// in one pass beside the generating sequences, many to a pass, takes no
// cache slot, and ends with its pooled vector.
package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/model"
	"github.com/llmsql/llmsql/engine/sample"
	"github.com/llmsql/llmsql/engine/tensor"
)

// Config sizes the scheduler.
type Config struct {
	// BatchTokens caps the tokens of one forward pass (decode tokens plus
	// prompt chunks). 0 = 512.
	BatchTokens int
	// MinPrefix is the shortest shared prefix worth copying from another
	// slot. 0 = 8.
	MinPrefix int
}

// Request is one sequence to run.
type Request struct {
	Prompt    []int32
	MaxTokens int
	// Sampler draws the tokens. It is the request's own: the scheduler
	// may call it on any of the pool's threads, beside other requests'
	// samplers (never two calls at once on one).
	Sampler *sample.Sampler
	// Stop reports whether tok ends the sequence before it is emitted
	// (end-of-generation tokens); nil never stops.
	Stop func(tok int32) bool
	// OnToken receives each generated token on the scheduler goroutine; it
	// must be quick. Returning done ends the sequence after this token;
	// an error ends it with that error.
	OnToken func(tok int32) (done bool, err error)
	// WantLogits asks for a copy of the logits after the prompt.
	WantLogits bool
	// Embed asks for the prompt's pooled embedding instead of a
	// generation: the prompt runs whole in one pass (so it may be up to
	// the context long) in no cache slot; MaxTokens, Sampler, Stop and
	// OnToken are unused.
	Embed bool
	// ScoreFrom, when above 0, asks for the log-probability of each prompt
	// token from ScoreFrom on given the tokens before it (Result.LogProbs):
	// scoring a continuation instead of generating one.
	ScoreFrom int
}

// Result says how a sequence ended.
type Result struct {
	Generated    int
	Reason       string // "eos", "done" (OnToken said so), "length", "context"
	PromptLogits []float32
	// LogProbs are log p(Prompt[i] | Prompt[:i]) for i from ScoreFrom on.
	LogProbs     []float64
	ReusedPrefix int // prompt positions taken from the cache
	// Embedding is the pooled vector of an Embed request.
	Embedding []float32
	Err       error
}

// Stats are running totals, for tests and progress reports.
type Stats struct {
	Passes          int64 // forward passes
	PromptTokens    int64 // prompt tokens computed (not reused)
	ReusedTokens    int64 // prompt tokens reused from the cache
	GeneratedTokens int64
	EmbeddedTexts   int64 // Embed requests completed
	// Waiting is the sequences submitted and not yet admitted to a pass
	// (a count now, not a total): those waiting for a slot, or for a
	// limit set with PassLimit to be lifted.
	Waiting int
}

type seq struct {
	req    Request
	ctx    context.Context
	done   chan Result
	slot   int
	fed    int     // prompt tokens in the cache
	pos    int     // next position to write
	next   int32   // token to feed at pos (after the prompt)
	inPass int     // tokens of this sequence in the current pass
	tokens []int32 // everything in the slot, for prefix matching
	res    Result
	index  int // in RunAll's requests
}

// Scheduler runs sequences on one model.
type Scheduler struct {
	cfg   Config
	st    *model.State
	kv    *kvcache.Cache
	vocab int

	mu      sync.Mutex
	waiting []*seq
	wake    chan struct{}
	closed  bool

	// Owned by the loop goroutine.
	active    []*seq
	slotToks  [][]int32 // what each slot's cache holds (kept after a sequence ends)
	slotBusy  []bool
	batch     model.Batch
	logitRows []*seq
	embedRows []*seq  // the Embed requests of the pass, in span order
	scorePos  []int32 // for each logits row: the position a scoring row is for, -1 for a sampling row
	// Each logits row's result, worked out before the rows are taken in
	// order (rows.go): a sampling row's token and error, a scoring row's
	// log-probability.
	rowTok    []int32
	rowErr    []error
	rowLP     []float64
	rowLogits []float32
	rowsFn    func(i int, w *tensor.Worker) // s.rowsPart, bound once
	// rowsApart: passes whose rows times vocabulary reach this work out
	// their rows on every member of the pool (rowsApartValues; tests
	// change it).
	rowsApart       int
	rowsApartPasses atomic.Int64 // passes whose rows went apart, for tests

	stats struct{ passes, prompt, reused, generated, embedded atomic.Int64 }
	limit atomic.Int64 // PassLimit's limit; -1: none
	quit  chan struct{}
	exit  chan struct{}
}

// New starts a scheduler over st and kv; Close stops it.
func New(st *model.State, kv *kvcache.Cache, vocab int, cfg Config) *Scheduler {
	if cfg.BatchTokens <= 0 {
		cfg.BatchTokens = 512
	}
	if cfg.MinPrefix <= 0 {
		cfg.MinPrefix = 8
	}
	slots := kv.Config().Slots
	s := &Scheduler{cfg: cfg, st: st, kv: kv, vocab: vocab,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), exit: make(chan struct{}),
		slotToks: make([][]int32, slots), slotBusy: make([]bool, slots)}
	s.limit.Store(-1)
	s.rowsFn, s.rowsApart = s.rowsPart, rowsApartValues
	for i := range s.slotToks {
		// A slot holds at most a context of tokens: room for all of them
		// now, so that recording a step's tokens never allocates.
		s.slotToks[i] = make([]int32, 0, kv.Config().Context)
	}
	go s.loop()
	return s
}

// ErrClosed is returned for sequences submitted to, or cut off by, a
// closed scheduler.
var ErrClosed = errors.New("sched: scheduler closed")

// Run submits r and waits for it to finish. Cancelling ctx ends the
// sequence at the next step and frees its slot.
func (s *Scheduler) Run(ctx context.Context, r Request) Result {
	return s.RunAll(ctx, []Request{r})[0]
}

// RunAll submits rs together, so that they join the same step when there
// are slots for all (as llama-batched-bench starts its sequences), and
// waits for all of them; results are in the order of rs.
func (s *Scheduler) RunAll(ctx context.Context, rs []Request) []Result {
	res := make([]Result, len(rs))
	qs := make([]*seq, 0, len(rs))
	for i, r := range rs {
		switch {
		case len(r.Prompt) == 0:
			res[i] = Result{Err: errors.New("sched: empty prompt")}
		case len(r.Prompt) >= s.kv.Config().Context && !(r.Embed && len(r.Prompt) == s.kv.Config().Context):
			// A generation needs a position after its prompt; a text to
			// embed may fill the context.
			res[i] = Result{Err: fmt.Errorf("sched: prompt of %d tokens does not fit the context of %d", len(r.Prompt), s.kv.Config().Context)}
		default:
			qs = append(qs, &seq{req: r, ctx: ctx, done: make(chan Result, 1), slot: -1, index: i})
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		for _, q := range qs {
			res[q.index] = Result{Err: ErrClosed}
		}
		return res
	}
	s.waiting = append(s.waiting, qs...)
	s.mu.Unlock()
	s.poke()
	for _, q := range qs {
		res[q.index] = <-q.done
	}
	return res
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stats returns the running totals.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	waiting := len(s.waiting)
	s.mu.Unlock()
	return Stats{Passes: s.stats.passes.Load(), PromptTokens: s.stats.prompt.Load(),
		ReusedTokens: s.stats.reused.Load(), GeneratedTokens: s.stats.generated.Load(),
		EmbeddedTexts: s.stats.embedded.Load(), Waiting: waiting}
}

// PassLimit lets the loop run forward passes only while Stats.Passes is
// below n; n < 0 lifts the limit. At the limit the loop admits nothing
// and steps no sequence (a pass already running finishes): submitted
// sequences wait, counted in Stats.Waiting, and a cancelled one ends
// only once the limit moves. It is for tests, which need sequences to
// meet in the same passes whatever the load of the machine (goroutines
// reach the scheduler as the machine lets them, and a small model's
// passes take microseconds): hold with PassLimit(Stats().Passes), submit,
// wait for Stats().Waiting, then lift the limit or move it a few passes
// on.
func (s *Scheduler) PassLimit(n int64) {
	s.limit.Store(max(n, -1))
	s.poke()
}

// held reports whether PassLimit keeps the loop from its next pass.
func (s *Scheduler) held() bool {
	l := s.limit.Load()
	return l >= 0 && s.stats.passes.Load() >= l
}

// Close ends every sequence with ErrClosed and stops the loop.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.exit
}

func (s *Scheduler) loop() {
	defer close(s.exit)
	// Forward passes read weights mapped from the model file: a fault
	// there (the file shrank under the mapping) becomes a panic that
	// safeStep turns into an error for the pass, not a crash.
	debug.SetPanicOnFault(true)
	for {
		if s.held() {
			select {
			case <-s.wake:
				continue
			case <-s.quit:
				s.shutdown()
				return
			}
		}
		s.admit()
		s.dropCancelled()
		if len(s.active) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.quit:
				s.shutdown()
				return
			}
		}
		select {
		case <-s.quit:
			s.shutdown()
			return
		default:
		}
		if err := s.safeStep(); err != nil {
			// A failed pass leaves the batch's caches in an unknown state:
			// end every sequence in it with the error.
			for _, q := range s.active {
				q.res.Err = err
				s.finish(q)
			}
			s.active = s.active[:0]
		}
	}
}

func (s *Scheduler) shutdown() {
	for _, q := range s.active {
		q.res.Err = ErrClosed
		s.finish(q)
	}
	s.active = nil
	s.mu.Lock()
	for _, q := range s.waiting {
		q.done <- Result{Err: ErrClosed}
	}
	s.waiting = nil
	s.mu.Unlock()
}

// admit moves waiting sequences into free slots, reusing cached prefixes,
// in arrival order. Texts to embed need no slot and are admitted at once,
// even past generations that wait for one.
func (s *Scheduler) admit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.waiting[:0]
	full := false // a generation found no slot: later ones wait behind it
	for _, q := range s.waiting {
		switch {
		case q.ctx.Err() != nil:
			q.done <- Result{Err: q.ctx.Err()}
		case q.req.Embed:
			s.active = append(s.active, q)
		case q.req.MaxTokens > 0 && s.samplerInFlight(q.req.Sampler):
			q.done <- Result{Err: ErrSamplerShared}
		case !full && s.place(q):
			s.active = append(s.active, q)
		default:
			full = true
			kept = append(kept, q)
		}
	}
	clear(s.waiting[len(kept):])
	s.waiting = kept
}

// ErrSamplerShared is returned for a generation whose sampler a sequence
// in flight already draws with: a pass draws its rows' tokens on several
// threads at once (rows.go), and a sampler holds its own state.
var ErrSamplerShared = errors.New("sched: the request's sampler is in use by another sequence in flight")

// samplerInFlight reports whether an active generation draws with smp.
func (s *Scheduler) samplerInFlight(smp *sample.Sampler) bool {
	for _, q := range s.active {
		if !q.req.Embed && q.req.MaxTokens > 0 && q.req.Sampler == smp {
			return true
		}
	}
	return false
}

// place picks a slot for q: a free slot whose cache already starts with q's
// prompt if there is one, otherwise any free slot, copying a shared prefix
// from a busy slot when that saves at least MinPrefix positions.
func (s *Scheduler) place(q *seq) bool {
	prompt := q.req.Prompt
	limit := len(prompt) - 1 // the last prompt token must run to give logits
	if q.req.ScoreFrom > 0 {
		limit = min(limit, q.req.ScoreFrom-1) // and so must every scored one
	}
	bestFree, bestFreeLen := -1, -1
	bestBusy, bestBusyLen := -1, 0
	for slot, toks := range s.slotToks {
		n := commonPrefix(toks, prompt, limit)
		if s.slotBusy[slot] {
			if n > bestBusyLen {
				bestBusy, bestBusyLen = slot, n
			}
		} else if n > bestFreeLen {
			bestFree, bestFreeLen = slot, n
		}
	}
	if bestFree < 0 {
		return false
	}
	reuse := bestFreeLen
	if bestBusyLen >= s.cfg.MinPrefix && bestBusyLen > reuse {
		if err := s.kv.CopyPrefix(bestFree, bestBusy, bestBusyLen); err == nil {
			reuse = bestBusyLen
			s.slotToks[bestFree] = append(s.slotToks[bestFree][:0], prompt[:reuse]...)
		}
	}
	q.slot = bestFree
	s.slotBusy[bestFree] = true
	s.kv.SetLen(bestFree, reuse)
	s.slotToks[bestFree] = s.slotToks[bestFree][:reuse]
	q.fed, q.pos = reuse, reuse
	q.res.ReusedPrefix = reuse
	s.stats.reused.Add(int64(reuse))
	return true
}

// commonPrefix is the length of the shared start of a and b, at most limit.
func commonPrefix(a, b []int32, limit int) int {
	n := 0
	for n < len(a) && n < len(b) && n < limit && a[n] == b[n] {
		n++
	}
	return n
}

func (s *Scheduler) dropCancelled() {
	kept := s.active[:0]
	for _, q := range s.active {
		if err := q.ctx.Err(); err != nil {
			q.res.Err = err
			s.finish(q)
			continue
		}
		kept = append(kept, q)
	}
	s.active = kept
}

// finish releases q's slot (keeping its cache for prefix reuse) and
// delivers its result.
func (s *Scheduler) finish(q *seq) {
	if q.slot >= 0 {
		s.slotBusy[q.slot] = false
		if q.res.Err != nil {
			// The cache may hold positions never recorded; forget them.
			s.slotToks[q.slot] = s.slotToks[q.slot][:0]
			s.kv.Clear(q.slot)
		}
	}
	q.done <- q.res
}

// safeStep is step with a panic turned into an error: a bug reached by one
// request's input must end the requests in that pass, not the server.
func (s *Scheduler) safeStep() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sched: internal error in forward pass: %v", r)
		}
	}()
	return s.step()
}

// step runs one forward pass over every active sequence.
func (s *Scheduler) step() error {
	b := &s.batch
	b.Reset()
	s.logitRows = s.logitRows[:0]
	s.embedRows = s.embedRows[:0]
	s.scorePos = s.scorePos[:0]
	budget := s.cfg.BatchTokens
	// Decoding sequences first: one token each keeps generation moving.
	for _, q := range s.active {
		q.inPass = 0
		if !q.req.Embed && q.fed == len(q.req.Prompt) && budget > 0 {
			b.Add(q.next, int32(q.pos), int32(q.slot), true)
			s.logitRows = append(s.logitRows, q)
			s.scorePos = append(s.scorePos, -1)
			q.inPass = 1
			budget--
		}
	}
	b.Decode = b.Len()
	// Then prompt chunks and texts to embed, in arrival order, within what
	// is left. A text to embed goes whole: when it does not fit, the pass
	// ends there and the text leads the next one (so it cannot be passed
	// over for ever); one longer than a pass's budget goes alone (beside
	// the decode steps).
	for _, q := range s.active {
		if budget == 0 {
			break
		}
		if q.req.Embed {
			n := len(q.req.Prompt)
			if n > budget && b.Len() > b.Decode {
				break
			}
			b.AddEmbed(q.req.Prompt)
			s.embedRows = append(s.embedRows, q)
			q.inPass = n
			budget -= min(n, budget)
			continue
		}
		if q.fed == len(q.req.Prompt) {
			continue
		}
		n := min(len(q.req.Prompt)-q.fed, budget)
		if n < len(q.req.Prompt)-q.fed && n >= 4 {
			// A prompt cut short ends on a whole group of four, so that
			// its tokens meet the kernels in the groups they would meet
			// alone (see model.Batch). (A budget under four, which only
			// tests set, cuts anywhere.)
			n &^= 3
		}
		for i := 0; i < n; i++ {
			pos := q.fed + i
			last := pos == len(q.req.Prompt)-1
			score := q.req.ScoreFrom > 0 && pos >= q.req.ScoreFrom-1 && !last
			b.Add(q.req.Prompt[pos], int32(pos), int32(q.slot), last || score)
			if score {
				s.logitRows = append(s.logitRows, q)
				s.scorePos = append(s.scorePos, int32(pos))
			}
			if last {
				s.logitRows = append(s.logitRows, q)
				s.scorePos = append(s.scorePos, -1)
			}
		}
		q.inPass = n
		budget -= n
	}
	if b.Len() == 0 {
		return nil
	}
	logits, err := s.st.Forward(b, s.kv)
	if err != nil {
		return err
	}
	s.stats.passes.Add(1)

	// Record what each slot now holds.
	for i, tok := range b.Tokens {
		if slot := b.Seq[i]; slot >= 0 {
			s.slotToks[slot] = append(s.slotToks[slot], tok)
		}
	}
	// Texts embedded in this pass are done.
	ended := false
	if len(s.embedRows) > 0 {
		emb := s.st.Embeddings()
		d := len(emb) / len(s.embedRows)
		for k, q := range s.embedRows {
			q.res.Embedding = append([]float32(nil), emb[k*d:(k+1)*d]...)
			s.stats.prompt.Add(int64(q.inPass))
			s.stats.embedded.Add(1)
			s.finish(q)
			q.slot = -2 // finished; removed below
			ended = true
		}
	}
	// Advance each sequence by the tokens it had in the pass.
	for _, q := range s.active {
		if q.req.Embed {
			continue
		}
		if q.fed < len(q.req.Prompt) {
			q.fed += q.inPass
			s.stats.prompt.Add(int64(q.inPass))
		}
		q.pos += q.inPass
	}

	// Sample each sequence that got logits, and score each scored token:
	// the rows' work first (rows.go), then their effects in order.
	s.workRows(logits)
	for row, q := range s.logitRows {
		l := logits[row*s.vocab : (row+1)*s.vocab]
		if pos := s.scorePos[row]; pos >= 0 {
			q.res.LogProbs = append(q.res.LogProbs, s.rowLP[row])
			continue
		}
		if q.req.WantLogits && q.res.PromptLogits == nil {
			q.res.PromptLogits = append([]float32(nil), l...)
		}
		if s.advance(q, s.rowTok[row], s.rowErr[row]) {
			s.finish(q)
			q.slot = -2 // finished; removed below
			ended = true
		}
	}
	if ended {
		kept := s.active[:0]
		for _, q := range s.active {
			if q.slot != -2 {
				kept = append(kept, q)
			}
		}
		s.active = kept
	}
	return nil
}

// logProb is log softmax(l)[tok], summed in float64 in a fixed order.
func logProb(l []float32, tok int32) float64 {
	maxL := float64(l[0])
	for _, x := range l {
		maxL = max(maxL, float64(x))
	}
	var sum float64
	for _, x := range l {
		sum += math.Exp(float64(x) - maxL)
	}
	return float64(l[tok]) - maxL - math.Log(sum)
}

// advance takes q's next token, tok as its sampler drew it (or err) from
// q's logits (see sampleRow); it reports whether q is done.
func (s *Scheduler) advance(q *seq, tok int32, err error) bool {
	if q.res.Generated >= q.req.MaxTokens {
		q.res.Reason = "length"
		return true
	}
	if err != nil {
		q.res.Err = err
		return true
	}
	if q.req.Stop != nil && q.req.Stop(tok) {
		q.res.Reason = "eos"
		return true
	}
	// The sampler's grammar, if any, moves past the token; when it allows
	// nothing but end-of-generation after it, the sequence ends here
	// rather than spend a forward pass to find that end.
	grammarDone, err := q.req.Sampler.Advance(tok)
	if err != nil {
		q.res.Err = err
		return true
	}
	q.res.Generated++
	s.stats.generated.Add(1)
	if q.req.OnToken != nil {
		done, err := q.req.OnToken(tok)
		if err != nil {
			q.res.Err = err
			return true
		}
		if done {
			q.res.Reason = "done"
			return true
		}
	}
	if grammarDone {
		q.res.Reason = "eos"
		return true
	}
	if q.res.Generated >= q.req.MaxTokens {
		q.res.Reason = "length"
		return true
	}
	if q.pos >= s.kv.Config().Context {
		q.res.Reason = "context"
		return true
	}
	q.next = tok
	return false
}
