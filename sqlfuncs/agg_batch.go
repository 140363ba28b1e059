package sqlfuncs

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/llmsql/llmsql/engine"
)

// aggBatch runs the prompts of the aggregates of one execution of a GROUP
// BY (see Aggregate): every group registers with it when its buffer is
// made; the first Eval starts them all; their prompts run at most
// @@llm_batch_size at a time, on a context that ends with the statement.
// A nil *aggBatch (an engine without the batching hook) or one without a
// semaphore (@@llm_batch_size = 0) runs each group at its Eval, one prompt
// at a time.
type aggBatch struct {
	tracker *Tracker
	base    *sql.Context // the statement's context, as the node was built
	runCtx  *sql.Context // the prompts' context: ends with the statement or Close
	cancel  context.CancelFunc
	sem     chan struct{} // prompts running; nil = one group at a time, at Eval

	mu      sync.Mutex
	pending []*aggGroup // registered, not started
	groups  int64

	progOnce    sync.Once
	prog        *queryProgress
	stopRelease func() bool
	release     sync.Once
}

func newAggBatch(ctx *sql.Context, tracker *Tracker) *aggBatch {
	c, cancel := context.WithCancel(ctx)
	b := &aggBatch{tracker: tracker, base: ctx, runCtx: ctx.WithContext(c), cancel: cancel}
	if n := batchSize(ctx); n > 0 {
		b.sem = make(chan struct{}, n)
	}
	return b
}

// register numbers a new group and keeps it for start.
func (b *aggBatch) register(g *aggGroup) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.groups++
	g.index = b.groups
	b.pending = append(b.pending, g)
}

// concurrent reports whether groups run together (else each at its Eval).
func (b *aggBatch) concurrent() bool { return b != nil && b.sem != nil }

// start starts every group registered and not started yet.
func (b *aggBatch) start() {
	b.mu.Lock()
	gs := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, g := range gs {
		if g.started {
			continue
		}
		g.started = true
		if g.hasRows() {
			b.groupStarted()
		}
		go g.finish(b.runCtx)
	}
}

// progress returns the statement's progress record, acquired on first use.
func (b *aggBatch) progress() *queryProgress {
	if b == nil || b.tracker == nil {
		return nil
	}
	b.progOnce.Do(func() {
		b.prog = b.tracker.acquire(b.base)
		// A killed statement is not always closed: give the record back
		// when the statement ends, too.
		b.stopRelease = context.AfterFunc(b.base, b.releaseProgress)
	})
	return b.prog
}

func (b *aggBatch) releaseProgress() {
	b.release.Do(func() {
		if b.prog != nil {
			b.tracker.release(b.prog)
		}
	})
}

// close stops the prompts still running and gives progress back.
func (b *aggBatch) close() {
	b.cancel()
	b.progOnce.Do(func() {}) // no record after this
	if b.stopRelease != nil {
		b.stopRelease()
	}
	b.releaseProgress()
}

func (b *aggBatch) groupStarted() { b.progress().rowSubmitted() }
func (b *aggBatch) groupDone()    { b.progress().rowDone() }

// chunkCall is one prompt of a group, or an answer passed on as it is.
type chunkCall struct {
	req   Request
	level int
	b     Backend
	lazy  bool // run by the first wait, on its context
	once  sync.Once
	done  chan struct{}
	res   engine.GenResult
	err   error
}

// answered is an entry that goes on to the next level unchanged.
func answered(text string) *chunkCall {
	c := &chunkCall{done: make(chan struct{}), res: engine.GenResult{Text: text}}
	close(c.done)
	return c
}

// submit hands a prompt of g to the statement's prompts: started now
// when groups run together, else when first awaited.
func (b *aggBatch) submit(g *aggGroup, req Request, level int) *chunkCall {
	c := &chunkCall{req: req, level: level, b: g.agg.backend, done: make(chan struct{})}
	b.progress().chunkSubmitted(level)
	if !b.concurrent() {
		c.lazy = true
		return c
	}
	go func() {
		select {
		case b.sem <- struct{}{}:
			b.run(b.runCtx, c)
			<-b.sem
		case <-b.runCtx.Done():
			c.err = b.runCtx.Err()
			close(c.done)
		}
	}()
	return c
}

func (b *aggBatch) run(ctx *sql.Context, c *chunkCall) {
	prog := b.progress()
	c.res, c.err = runCall(ctx, c.b, c.req, prog)
	prog.chunkDone()
	close(c.done)
}

// wait returns c's outcome, running it here if it waits for that.
func (b *aggBatch) wait(ctx *sql.Context, c *chunkCall) (engine.GenResult, error) {
	if c.lazy {
		c.once.Do(func() { b.run(ctx, c) })
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return engine.GenResult{}, ctx.Err()
	}
	return c.res, c.err
}

// bindAggregates returns gb with its aggregates bound to a new aggBatch,
// or nil if it has none unbound.
func bindAggregates(ctx *sql.Context, gb *plan.GroupBy, tracker *Tracker) (sql.Node, *aggBatch, error) {
	found := false
	for _, e := range gb.SelectDeps {
		transform.InspectExpr(ctx, e, func(ctx *sql.Context, e sql.Expression) bool {
			if a, ok := asAggregate(e); ok && a.batch == nil {
				found = true
			}
			return found
		})
	}
	if !found {
		return nil, nil, nil
	}
	b := newAggBatch(ctx, tracker)
	deps, _, err := transform.Exprs(ctx, gb.SelectDeps, func(ctx *sql.Context, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		if a, ok := asAggregate(e); ok && a.batch == nil {
			return a.withBatch(b), transform.NewTree, nil
		}
		return e, transform.SameTree, nil
	})
	if err != nil {
		b.close()
		return nil, nil, err
	}
	n := *gb
	n.SelectDeps = deps
	return &n, b, nil
}

// aggIter is a GROUP BY's iterator with its aggregates' batch: closing it
// stops their prompts.
type aggIter struct {
	sql.RowIter
	batch *aggBatch
}

func (it *aggIter) Close(ctx *sql.Context) error {
	it.batch.close()
	return it.RowIter.Close(ctx)
}

// jsonText is v as JSON, without HTML escaping.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}
