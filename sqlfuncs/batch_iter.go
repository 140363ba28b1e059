package sqlfuncs

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dolthub/go-mysql-server/sql"
)

// batchIter reads rows ahead of the node above, starts their generate()
// calls all at once, and hands each row up when its calls have finished.
// It keeps a sliding window: as each row leaves, the next one is read and
// its calls start, so the engine always has work for a full batch.
type batchIter struct {
	node   *batchNode
	child  sql.RowIter
	window int // rows read ahead; 0 = none (calls run when evaluated)
	// limit is the most rows a LIMIT above will take (0 = no bound): no
	// row beyond it is read, so none is generated for.
	limit int
	read  int

	queue    []*pendingRow
	childErr error // io.EOF or the child's error, returned once the queue is empty

	lastRow sql.Row // emitted last; its answers are dropped at the next Next
	lastSet *rowSet

	started bool
	runCtx  *sql.Context // the calls' context: ends with the query or Close
	cancel  context.CancelFunc
	prog    *queryProgress
	// release gives prog back, once: at Close, or when the query ends
	// (a killed statement is not always closed: Dolt's UPDATE).
	release     sync.Once
	stopRelease func() bool
}

// pendingRow is a row read ahead, with the calls it waits for.
type pendingRow struct {
	row       sql.Row
	set       *rowSet
	waits     []*genCall
	remaining atomic.Int32 // calls this iterator started that are still running
}

func newBatchIter(ctx *sql.Context, n *batchNode, child sql.RowIter) *batchIter {
	return &batchIter{node: n, child: child, window: batchSize(ctx), limit: n.rowCap}
}

func (it *batchIter) start(ctx *sql.Context) {
	it.started = true
	c, cancel := context.WithCancel(ctx)
	it.runCtx, it.cancel = ctx.WithContext(c), cancel
	it.prog = it.node.tracker.acquire(ctx)
	if it.prog != nil {
		it.node.memo.prog.CompareAndSwap(nil, it.prog)
		it.stopRelease = context.AfterFunc(ctx, it.releaseProgress)
	}
}

// releaseProgress gives the query's progress record back to the tracker.
func (it *batchIter) releaseProgress() {
	it.release.Do(func() {
		if it.prog != nil {
			it.node.tracker.release(it.prog)
		}
	})
}

func (it *batchIter) Next(ctx *sql.Context) (sql.Row, error) {
	if !it.started {
		it.start(ctx)
	}
	if it.lastSet != nil {
		it.node.memo.evict(it.lastRow, it.lastSet)
		it.lastRow, it.lastSet = nil, nil
	}
	for it.childErr == nil && len(it.queue) < max(it.window, 1) {
		if it.limit > 0 && it.read >= it.limit && len(it.queue) > 0 {
			break
		}
		row, err := it.child.Next(ctx)
		if err != nil {
			it.childErr = err
			break
		}
		it.read++
		if len(row) == 0 && !isDistinctEmptyRow(row) {
			row = distinctEmptyRow()
		}
		it.queue = append(it.queue, it.prepare(ctx, row))
	}
	if len(it.queue) == 0 {
		return nil, it.childErr
	}
	p := it.queue[0]
	for _, c := range p.waits {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	it.queue[0] = nil
	it.queue = it.queue[1:]
	it.lastRow, it.lastSet = p.row, it.node.memo.install(p.row, p.set)
	return p.row, nil
}

// prepare works out the calls that evaluating row will make, takes those
// already answered (a node below evaluated the same call on this row) and
// starts the rest.
func (it *batchIter) prepare(ctx *sql.Context, row sql.Row) *pendingRow {
	p := &pendingRow{row: row, set: newRowSet()}
	p.set.row = int64(it.read)
	var calls []*memoCall
	for _, e := range it.node.exprs {
		calls = certainCalls(ctx, e, row, calls)
	}
	type start struct {
		c *genCall
		b Backend
	}
	var started []start
	for _, w := range calls {
		req, ok, err := w.c.Arguments(ctx, row)
		if err != nil || !ok {
			continue // NULL, or an error the evaluation will report
		}
		k := w.key(ctx, row, req)
		if p.set.calls[k] != nil {
			continue
		}
		lookup := it.node.memo.lookup
		if it.node.hasBelow {
			lookup = it.node.memo.lookupDerived
		}
		if c := lookup(row, k); c != nil {
			p.set.calls[k] = c
			p.waits = append(p.waits, c)
			continue
		}
		if it.window == 0 {
			continue
		}
		c := newCall(req, p.set.row)
		it.node.memo.record(k, c)
		p.set.calls[k] = c
		p.waits = append(p.waits, c)
		started = append(started, start{c, w.c.callBackend()})
	}
	if len(started) == 0 {
		return p
	}
	p.set.counted = true
	p.remaining.Store(int32(len(started)))
	it.prog.rowSubmitted()
	runCtx, prog := it.runCtx, it.prog
	for _, s := range started {
		go func() {
			s.c.run(runCtx, s.b, prog)
			if p.remaining.Add(-1) == 0 {
				prog.rowDone()
			}
		}()
	}
	return p
}

// distinctEmptyRow returns a row without columns whose address is its own.
// Rows without columns (a query that reads no column) would otherwise all
// share one address, and with it their answers; its capacity of 0 makes
// any append copy, so no one can write through it.
func distinctEmptyRow() sql.Row {
	return make(sql.Row, 1)[:0:0]
}

// zeroBase is where Go points every zero-sized allocation.
var zeroBase = unsafe.SliceData(make(sql.Row, 0))

// isDistinctEmptyRow reports whether row came from distinctEmptyRow (an
// iterator further down gave it its address): it keeps it, and the
// answers found under it.
func isDistinctEmptyRow(row sql.Row) bool {
	p := unsafe.SliceData(row)
	return cap(row) == 0 && p != nil && p != zeroBase
}

// Close cancels the calls still running (rows read ahead that LIMIT or an
// error left unused) and closes the child.
func (it *batchIter) Close(ctx *sql.Context) error {
	if it.cancel != nil {
		it.cancel()
	}
	if it.lastSet != nil {
		it.node.memo.evict(it.lastRow, it.lastSet)
		it.lastRow, it.lastSet = nil, nil
	}
	it.queue = nil
	if it.stopRelease != nil {
		it.stopRelease()
	}
	it.releaseProgress()
	return it.child.Close(ctx)
}
