package sqlfuncs

import (
	"context"
	"fmt"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/iters"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// EnableBatching makes eng run the generate() calls of many rows at once.
//
// go-mysql-server evaluates expressions one row at a time, so a query over
// a table would hand the model one prompt after another. EnableBatching
// hooks the executable-tree builder (chaining to any hook already there, as
// Dolt installs one) and, under every node whose expressions call
// generate() (projections, filters, sorts, groupings, windows, UPDATE ...
// SET), places an iterator that reads up to @@llm_batch_size rows ahead,
// works out each row's generate() requests and starts them all, so that the
// engine's scheduler decodes them together. The node above then finds each
// row's answers ready. Rows keep their order; LIMIT reads at most
// @@llm_batch_size rows beyond what it returns, and their calls are
// cancelled when the query ends.
//
// Every evaluation of a call on a row returns the same text, so a sampled
// ORDER BY generate(...) sorts by the text it shows. tracker (may be nil)
// records the progress of running queries for llm.progress, also shown in
// SHOW PROCESSLIST, whose State the hook keeps to one line.
func EnableBatching(eng *sqle.Engine, tracker *Tracker) error {
	if eng == nil || eng.Analyzer == nil || eng.Analyzer.ExecBuilder == nil {
		return fmt.Errorf("sqlfuncs: the engine has no executable-tree builder to hook")
	}
	RegisterVariables()
	base := eng.Analyzer.ExecBuilder
	if _, done := base.PriorityBuilder.(*batchBuilder); done {
		return fmt.Errorf("sqlfuncs: batching is already enabled on this engine")
	}
	base.PriorityBuilder = &batchBuilder{prev: base.PriorityBuilder, base: base, tracker: tracker}
	return nil
}

// batchBuilder is the hook: asked about every node before the built-in
// builders.
type batchBuilder struct {
	prev    sql.NodeExecBuilder // the hook that was there before (Dolt's)
	base    *rowexec.BaseBuilder
	tracker *Tracker
}

func (b *batchBuilder) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	if _, ok := n.(*plan.ShowProcessList); ok {
		return showProcessList(ctx), nil
	}
	if memoFrom(ctx) != nil && !underBuffer(ctx) && !streams(n) {
		// Rows reaching the nodes below may be held here before a node
		// above evaluates them: build the subtree knowing that.
		return b.base.Build(markUnderBuffer(ctx), n, row)
	}
	if l, ok := n.(*plan.Limit); ok && !l.CalcFoundRows {
		if c := l.Child; oneToOne(c) && rowCap(ctx, c) == 0 {
			if lim, err := iters.GetInt64Value(ctx, l.Limit); err == nil && lim >= 0 {
				return b.base.Build(withRowCap(ctx, c, int(min(lim, MaxBatchSize))), n, row)
			}
		}
	}
	if gb, ok := n.(*plan.GroupBy); ok {
		bound, batch, err := bindAggregates(ctx, gb, b.tracker)
		if err != nil {
			return nil, err
		}
		if bound != nil {
			// Build the bound node through the full builder; this hook
			// sees it again, its aggregates bound, and carries on.
			iter, err := b.base.Build(ctx, bound, row)
			if err != nil {
				batch.close()
				return nil, err
			}
			return &aggIter{RowIter: iter, batch: batch}, nil
		}
	}
	rewritten, bn, err := b.rewrite(ctx, n)
	if err != nil {
		return nil, err
	}
	if rewritten != nil {
		// Build the rewritten node through the full builder; this hook sees
		// it again and passes it on, since its child is now a batchNode.
		before := bn.memo.rewrites
		iter, err := b.base.Build(withMemo(ctx, bn.memo), rewritten, row)
		if err != nil {
			return nil, err
		}
		bn.hasBelow = bn.memo.rewrites > before
		if _, ok := rewritten.(*plan.Project); ok {
			return &linkIter{RowIter: iter, bn: bn}, nil
		}
		return iter, nil
	}
	if b.prev != nil {
		return b.prev.Build(ctx, n, row)
	}
	return nil, nil
}

// streams reports whether n passes each row up before reading the next
// (or makes rows without reading any), so a row's answers are needed only
// until the next row.
func streams(n sql.Node) bool {
	switch n.(type) {
	case *plan.Project, *plan.Filter, *plan.Having, *plan.Limit, *plan.Offset,
		*plan.UpdateSource, *plan.Update, *plan.InsertInto, *plan.TableAlias,
		*plan.SubqueryAlias, *plan.Distinct, *plan.OrderedDistinct, *batchNode:
		return true
	}
	return len(n.Children()) == 0
}

// oneToOne reports whether n turns each child row into exactly one row, so
// a LIMIT above it bounds the rows it reads.
func oneToOne(n sql.Node) bool {
	switch n.(type) {
	case *plan.Project, *plan.UpdateSource:
		return true
	}
	return false
}

// buffers reports whether a node reads all (or many) of its rows before
// evaluating them late: the memo must then keep every row's answers.
func buffers(n sql.Node) bool {
	switch n.(type) {
	case *plan.Sort, *plan.TopN, *plan.GroupBy, *plan.Window:
		return true
	}
	return false
}

// rewrite returns n with its generate() calls bound to the query's memo and
// a batchNode between it and its child, or nil if n is not a node whose
// expressions are evaluated on its child's rows or calls no generate().
func (b *batchBuilder) rewrite(ctx *sql.Context, n sql.Node) (sql.Node, *batchNode, error) {
	switch n.(type) {
	case *plan.Project, *plan.Filter, *plan.Having, *plan.Sort, *plan.TopN,
		*plan.GroupBy, *plan.Window, *plan.UpdateSource:
	default:
		return nil, nil, nil
	}
	children := n.Children()
	if len(children) != 1 {
		return nil, nil, nil
	}
	if _, done := children[0].(*batchNode); done {
		return nil, nil, nil
	}
	ex, ok := n.(sql.Expressioner)
	if !ok || !anyGenerate(ex.Expressions()) {
		return nil, nil, nil
	}
	m := memoFrom(ctx)
	if m == nil {
		m = newMemo()
	}
	if buffers(n) || underBuffer(ctx) {
		m.retainAll = true
	}
	m.rewrites++
	// The sampling calls so far of a SELECT list or an UPDATE's
	// assignments, in order: each is a draw of its own (memoCall.key).
	var sampled []*memoCall
	_, drawsApart := n.(*plan.Project)
	if _, ok := n.(*plan.UpdateSource); ok {
		drawsApart = true
	}
	exprs, _, err := transform.Exprs(ctx, ex.Expressions(), func(ctx *sql.Context, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		if bound, changed := bindMemo(e, m); changed {
			if mc, ok := asMemo(bound); ok && mc.sampled() && drawsApart {
				mc.earlier = append([]*memoCall(nil), sampled...)
				sampled = append(sampled, mc)
			}
			return bound, transform.NewTree, nil
		}
		return e, transform.SameTree, nil
	})
	if err != nil {
		return nil, nil, err
	}
	withExprs, err := ex.WithExpressions(ctx, exprs...)
	if err != nil {
		return nil, nil, err
	}
	bn := &batchNode{child: children[0], memo: m, exprs: exprs, tracker: b.tracker, rowCap: rowCap(ctx, n)}
	out, err := withExprs.WithChildren(ctx, bn)
	if err != nil {
		return nil, nil, err
	}
	if p, ok := out.(*plan.Project); ok {
		// A deferred projection is evaluated by the server's spooling
		// goroutine, hundreds of rows behind the iterator; keep evaluation
		// in step with the rows.
		out = p.WithCanDefer(false)
	}
	return out, bn, nil
}

type (
	memoCtxKey   struct{}
	bufferCtxKey struct{}
	capCtxKey    struct{}
)

// rowCapOf is a LIMIT's bound on the rows a one-to-one node will read.
type rowCapOf struct {
	node sql.Node
	cap  int
}

func withRowCap(ctx *sql.Context, n sql.Node, cap int) *sql.Context {
	return ctx.WithContext(context.WithValue(ctx.Context, capCtxKey{}, rowCapOf{n, cap}))
}

// rowCap returns the LIMIT bound set for n itself (not for its
// descendants, where filters may drop rows), or 0.
func rowCap(ctx *sql.Context, n sql.Node) int {
	if c, ok := ctx.Value(capCtxKey{}).(rowCapOf); ok && c.node == n {
		return max(c.cap, 1)
	}
	return 0
}

func markUnderBuffer(ctx *sql.Context) *sql.Context {
	return ctx.WithContext(context.WithValue(ctx.Context, bufferCtxKey{}, true))
}

// underBuffer reports whether a node above, below the query's first
// generate() node, may hold rows back (a sort, a join, a cache).
func underBuffer(ctx *sql.Context) bool {
	v, _ := ctx.Value(bufferCtxKey{}).(bool)
	return v
}

// withMemo passes m to the builds below, so that nodes further down the
// same query (a sort under a projection) share it: a row then gets one
// answer for its sort key and for the text shown.
func withMemo(ctx *sql.Context, m *memo) *sql.Context {
	if memoFrom(ctx) == m {
		return ctx
	}
	return ctx.WithContext(context.WithValue(ctx.Context, memoCtxKey{}, m))
}

func memoFrom(ctx *sql.Context) *memo {
	m, _ := ctx.Value(memoCtxKey{}).(*memo)
	return m
}
