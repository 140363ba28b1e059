package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// memoCall is a model call (generate(), chat()) bound to a query's memo:
// the batching hook puts it in place of the call in the nodes it batches.
// It evaluates the arguments itself (cheap) and takes the answer from the
// memo, where the batching iterator has usually put it already.
type memoCall struct {
	inner sql.Expression // the call as the planner made it (sampling or not)
	c     modelCall
	m     *memo
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
func (e *memoCall) Type(ctx *sql.Context) sql.Type   { return types.LongText }
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
	return bound, nil
}

// Eval answers from the memo: the same text for every evaluation of the
// same request on the same row.
func (e *memoCall) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	req, ok, err := e.c.Arguments(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	res, err := e.m.get(ctx, e.c.callBackend(), row, req)
	return generatedValue(ctx, req, res, err)
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
