package sqlfuncs

import (
	"fmt"
	"slices"

	"github.com/dolthub/go-mysql-server/sql"
)

// memoCall is a model call (generate(), chat()) bound to a query's memo:
// the batching hook puts it in place of the call in the nodes it batches.
// It evaluates the arguments itself (cheap) and takes the answer from the
// memo, where the batching iterator has usually put it already.
type memoCall struct {
	inner sql.Expression // the call as the planner made it (sampling or not)
	c     modelCall
	m     *memo
	// earlier are the sampling calls before this one in its node's
	// expressions: among them, calls that ask the same of the model on a
	// row are separate draws.
	earlier []*memoCall
}

// bindMemo returns e (a model call) bound to m.
func bindMemo(e sql.Expression, m *memo) (sql.Expression, bool) {
	if _, bound := asMemo(e); bound {
		return e, false
	}
	c, ok := asModelCall(e)
	if !ok {
		return e, false
	}
	if nd, ok := e.(sql.NonDeterministicExpression); ok && nd.IsNonDeterministic() {
		return sampledMemoCall{&memoCall{inner: e, c: c, m: m}}, true
	}
	return &memoCall{inner: e, c: c, m: m}, true
}

func (e *memoCall) Resolved() bool                   { return e.inner.Resolved() }
func (e *memoCall) String() string                   { return e.inner.String() }
func (e *memoCall) Type(ctx *sql.Context) sql.Type   { return e.c.Type(ctx) }
func (e *memoCall) IsNullable(ctx *sql.Context) bool { return true }
func (e *memoCall) Children() []sql.Expression       { return e.inner.Children() }
func (e *memoCall) FunctionName() string             { return e.c.FunctionName() }
func (e *memoCall) Description() string              { return e.c.Description() }

func (e *memoCall) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

func (e *memoCall) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	inner, err := e.inner.WithChildren(ctx, children...)
	if err != nil {
		return nil, err
	}
	bound, _ := bindMemo(inner, e.m)
	if mc, ok := asMemo(bound); ok {
		mc.earlier = e.earlier
	}
	return bound, nil
}

// Eval answers from the memo: the same text for every evaluation of the
// same call on the same row.
func (e *memoCall) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	req, ok, err := e.c.Arguments(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	c, err := e.m.get(ctx, e.c.callBackend(), row, req, e.key(ctx, row, req))
	if err != nil {
		return nil, err
	}
	return converted(ctx, e.c, req)(c.answer(ctx, e.c.FunctionName(), req))
}

// key identifies what an evaluation asks of the model on a row: two
// evaluations share a generation only if their keys are equal. Greedy
// calls with the same request share one computation. Sampling calls that
// ask the same in the columns of a SELECT list or the assignments of an
// UPDATE (SELECT generate(p, 0.8), generate(p, 0.8)) are independent
// draws, as RAND(), RAND() are: the n-th of them is draw n (calls are told
// apart by where they were written: call.site). Elsewhere the planner
// copies calls (it turns LIKE into a range with the call on each side, and
// re-evaluates a selected call in ORDER BY, GROUP BY, WHERE): those share
// the first draw, so a row is filtered and sorted by the text it shows.
func (e *memoCall) key(ctx *sql.Context, row sql.Row, req Request) string {
	k := requestKey(req)
	if len(e.earlier) == 0 {
		return k
	}
	// Copies the planner made of one call (it turns LIKE into a range with
	// the call on each side) share a site, and share a draw.
	var sites []uint64
	for _, o := range e.earlier {
		site := o.c.callSite()
		if site == e.c.callSite() || slices.Contains(sites, site) {
			continue
		}
		if r, ok, err := o.c.Arguments(ctx, row); ok && err == nil && requestKey(r) == k {
			sites = append(sites, site)
		}
	}
	if len(sites) > 0 {
		k += fmt.Sprintf("\x00draw %d", len(sites))
	}
	return k
}

// sampled reports whether the call draws samples (the planner's view).
func (e *memoCall) sampled() bool {
	nd, ok := e.inner.(sql.NonDeterministicExpression)
	return ok && nd.IsNonDeterministic()
}

// requestKey identifies a generation: everything that shapes it (not the
// Policy, which only shapes what is returned).
func requestKey(r Request) string {
	r.Policy = Policy{}
	score := r.Score
	r.Score = nil // its address tells nothing: print what it holds
	embed := r.Embed
	r.Embed = nil
	k := fmt.Sprintf("%#v", r)
	if embed != nil {
		k += fmt.Sprintf("\x00%#v", *embed)
	}
	if score != nil {
		k += fmt.Sprintf("\x00score %#v", *score)
	}
	return k
}

// sampledMemoCall keeps the planner's view of a sampling call.
type sampledMemoCall struct {
	*memoCall
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledMemoCall) IsNonDeterministic() bool { return true }

var (
	_ sql.FunctionExpression         = (*memoCall)(nil)
	_ sql.CollationCoercible         = (*memoCall)(nil)
	_ sql.NonDeterministicExpression = sampledMemoCall{}
)

// asMemo returns the memo-bound call behind e, if e is one.
func asMemo(e sql.Expression) (*memoCall, bool) {
	switch x := e.(type) {
	case *memoCall:
		return x, true
	case sampledMemoCall:
		return x.memoCall, true
	}
	return nil, false
}
