package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// memoGenerate is a generate() call bound to a query's memo: the batching
// hook puts it in place of the call in the nodes it batches. It evaluates
// the arguments itself (cheap) and takes the answer from the memo, where
// the batching iterator has usually put it already.
type memoGenerate struct {
	inner sql.Expression // *Generate or sampledGenerate
	g     *Generate
	m     *memo
}

// bindMemo returns e (a generate() expression) bound to m.
func bindMemo(e sql.Expression, m *memo) (sql.Expression, bool) {
	if _, bound := asMemo(e); bound {
		return e, false
	}
	g, ok := AsGenerate(e)
	if !ok {
		return e, false
	}
	if _, sampled := e.(sampledGenerate); sampled {
		return sampledMemoGenerate{&memoGenerate{inner: e, g: g, m: m}}, true
	}
	return &memoGenerate{inner: e, g: g, m: m}, true
}

func (e *memoGenerate) Resolved() bool                   { return e.inner.Resolved() }
func (e *memoGenerate) String() string                   { return e.inner.String() }
func (e *memoGenerate) Type(ctx *sql.Context) sql.Type   { return types.LongText }
func (e *memoGenerate) IsNullable(ctx *sql.Context) bool { return true }
func (e *memoGenerate) Children() []sql.Expression       { return e.inner.Children() }
func (e *memoGenerate) FunctionName() string             { return GenerateName }
func (e *memoGenerate) Description() string              { return e.g.Description() }

func (e *memoGenerate) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return e.g.CollationCoercibility(ctx)
}

func (e *memoGenerate) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	inner, err := e.inner.WithChildren(ctx, children...)
	if err != nil {
		return nil, err
	}
	bound, _ := bindMemo(inner, e.m)
	return bound, nil
}

// Eval answers from the memo: the same text for every evaluation of the
// same request on the same row.
func (e *memoGenerate) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	req, ok, err := e.g.Arguments(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	return e.m.get(ctx, e.g.backend, row, req)
}

// sampledMemoGenerate keeps the planner's view of a sampling call.
type sampledMemoGenerate struct {
	*memoGenerate
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledMemoGenerate) IsNonDeterministic() bool { return true }

var (
	_ sql.FunctionExpression         = (*memoGenerate)(nil)
	_ sql.CollationCoercible         = (*memoGenerate)(nil)
	_ sql.NonDeterministicExpression = sampledMemoGenerate{}
)

// asMemo returns the memo-bound call behind e, if e is one.
func asMemo(e sql.Expression) (*memoGenerate, bool) {
	switch x := e.(type) {
	case *memoGenerate:
		return x, true
	case sampledMemoGenerate:
		return x.memoGenerate, true
	}
	return nil, false
}
