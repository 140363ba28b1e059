package sqlfuncs

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/engine"
)

// A memo holds the answers of generate() calls for the rows of one query
// execution, so that every evaluation of a call on a row returns the same
// text however often go-mysql-server evaluates it (a sort evaluates its
// keys on every comparison; WHERE and SELECT may repeat an expression) and
// so that the batching iterator can compute answers before the row's
// evaluation asks for them.
//
// Rows are told apart by identity: go-mysql-server hands the same row slice
// from the iterator that produced it to the nodes above (a sort buffers the
// slices themselves), so the address of a row's first element names the
// row. An answer is only ever returned for the exact request (model,
// prompt, options) that the evaluation computed from the row, so a mistaken
// identity can at worst return a different sample of the same request,
// never another row's text.
type memo struct {
	mu   sync.Mutex
	rows map[rowKey]*rowSet
	// retainAll keeps every row's answers until the query ends. Set when a
	// node sharing the memo buffers its input (sort, group by, window), or
	// when a buffering node (a sort, a join) sits between two that share
	// it: a row is then evaluated long after the iterator emitted it.
	// Otherwise a row's answers are dropped when the next row is emitted.
	retainAll bool
	prog      atomic.Pointer[queryProgress]

	// byRequest holds, with retainAll, the first call made for each
	// request. A node above a grouping evaluates calls on rows the
	// grouping made, which no iterator has seen; their answers are found
	// by request instead.
	byRequest map[string]*genCall
	rewrites  int // nodes bound to this memo, counted while building
}

func newMemo() *memo { return &memo{rows: map[rowKey]*rowSet{}, byRequest: map[string]*genCall{}} }

// rowKey names a row by the address of its backing array and its length.
// The batching iterator gives each row without columns an address of its
// own (see distinctEmptyRow).
type rowKey struct {
	data *any
	n    int
}

func keyOf(row sql.Row) rowKey { return rowKey{unsafe.SliceData(row), len(row)} }

// rowSet is the answers of one row, by request key.
type rowSet struct {
	calls   map[string]*genCall
	counted bool  // the row is counted in rows_submitted
	row     int64 // the row's number in the statement, 0 if not known
}

func newRowSet() *rowSet { return &rowSet{calls: map[string]*genCall{}} }

// genCall is one generation: started once, awaited by any number of
// evaluations.
type genCall struct {
	req    Request
	row    int64 // the row's number in the statement, 0 if not known
	done   chan struct{}
	res    engine.GenResult
	val    any // an embedding call's value (a vector or a score)
	err    error
	warned atomic.Bool // its warnings were added
}

func newCall(req Request, row int64) *genCall {
	return &genCall{req: req, row: row, done: make(chan struct{})}
}

// run performs the call on b and releases its waiters.
func (c *genCall) run(ctx *sql.Context, b Backend, prog *queryProgress) {
	if c.req.Embed != nil {
		c.val, c.err = embedAnswer(ctx, b, c.req.Model, c.req.Embed)
	} else {
		c.res, c.err = runCall(ctx, b, c.req, prog)
	}
	close(c.done)
}

// wait waits until the call has run, or returns the context's error if
// that ends first.
func (c *genCall) wait(ctx context.Context) error {
	select {
	case <-c.done:
	case <-ctx.Done():
		select {
		case <-c.done:
		default:
			return ctx.Err()
		}
	}
	return nil
}

// answer is the call's SQL value for an evaluation by the call named name
// (req's Policy decides what is returned); the call's warnings are added by
// the first evaluation that asks.
func (c *genCall) answer(ctx *sql.Context, name string, req Request) (any, error) {
	if req.Embed != nil {
		return embedValue(ctx, name, req, c.val, c.err, c.warned.CompareAndSwap(false, true), c.row)
	}
	return answer(ctx, name, req, c.res, c.err, c.warned.CompareAndSwap(false, true), c.row)
}

// lookup returns the call already made for request key k on row, if any.
func (m *memo) lookup(row sql.Row, k string) *genCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.rows[keyOf(row)]; s != nil {
		return s.calls[k]
	}
	return nil
}

// lookupDerived is lookup for a row that may have been made from rows seen
// below (by a grouping, a join): without an answer under the row itself, it
// takes the query's answer to the same request.
func (m *memo) lookupDerived(row sql.Row, k string) *genCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.rows[keyOf(row)]; s != nil {
		if c := s.calls[k]; c != nil {
			return c
		}
	}
	return m.byRequest[k]
}

// record notes a new call for lookupDerived.
func (m *memo) record(k string, c *genCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recordLocked(k, c)
}

func (m *memo) recordLocked(k string, c *genCall) {
	if m.retainAll && m.byRequest[k] == nil {
		m.byRequest[k] = c
	}
}

// install publishes set as row's answers when the iterator emits row, and
// returns the set now installed (with retainAll, set is merged into what
// the row already had).
func (m *memo) install(row sql.Row, set *rowSet) *rowSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(row)
	old := m.rows[k]
	if !m.retainAll || old == nil {
		m.rows[k] = set
		return set
	}
	for rk, c := range set.calls {
		if old.calls[rk] == nil {
			old.calls[rk] = c
		}
	}
	old.counted = old.counted || set.counted
	return old
}

// evict drops row's answers once the node above has moved past row, unless
// the memo retains everything or another iterator has installed its own.
func (m *memo) evict(row sql.Row, set *rowSet) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retainAll {
		return
	}
	k := keyOf(row)
	if m.rows[k] == set {
		delete(m.rows, k)
	}
}

// get returns the call answering req (with key k) on row, once it has run,
// running it here if no one has started it.
func (m *memo) get(ctx *sql.Context, b Backend, row sql.Row, req Request, k string) (*genCall, error) {
	m.mu.Lock()
	rk := keyOf(row)
	set := m.rows[rk]
	if set == nil {
		set = newRowSet()
		m.rows[rk] = set
	}
	c := set.calls[k]
	fresh := c == nil
	countRow := false
	if fresh {
		c = newCall(req, set.row)
		set.calls[k] = c
		m.recordLocked(k, c)
		if !set.counted {
			set.counted, countRow = true, true
		}
	}
	m.mu.Unlock()
	if fresh {
		prog := m.prog.Load()
		if countRow {
			prog.rowSubmitted()
		}
		c.run(ctx, b, prog)
		if countRow {
			prog.rowDone()
		}
	}
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c, nil
}
