package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
)

// containsGenerate reports whether e makes a model call (generate(),
// chat()) anywhere.
func containsGenerate(e sql.Expression) bool {
	if e == nil {
		return false
	}
	if _, ok := asModelCall(e); ok {
		return true
	}
	for _, c := range e.Children() {
		if containsGenerate(c) {
			return true
		}
	}
	return false
}

func anyGenerate(es []sql.Expression) bool {
	for _, e := range es {
		if containsGenerate(e) {
			return true
		}
	}
	return false
}

// certainCalls appends to out the generate() calls in e that evaluating e
// on row is sure to make, and whose arguments hold no other generate()
// (those need the inner answer first and run when evaluated). Branches that
// the row does not take are left out, so that
//
//	CASE WHEN needs_summary THEN generate(...) END
//	WHERE kind = 'x' AND generate(...) = 'yes'
//
// prefetch only for the rows that will ask. A guard is evaluated here only
// when it calls no generate() itself; otherwise the walk stops there and
// the calls behind it run when evaluated.
func certainCalls(ctx *sql.Context, e sql.Expression, row sql.Row, out []*memoCall) []*memoCall {
	if e == nil || !containsGenerate(e) {
		return out
	}
	if m, ok := asMemo(e); ok {
		args := m.Children()
		for _, a := range args {
			if containsGenerate(a) {
				// Nested: only the model argument is sure to be evaluated.
				return certainCalls(ctx, args[0], row, out)
			}
		}
		return append(out, m)
	}
	switch x := e.(type) {
	case *expression.And:
		out = certainCalls(ctx, x.LeftChild, row, out)
		if guardIs(ctx, x.LeftChild, row, func(v any) bool { return v == nil || isTrue(ctx, v) }) {
			out = certainCalls(ctx, x.RightChild, row, out)
		}
		return out
	case *expression.Or:
		out = certainCalls(ctx, x.LeftChild, row, out)
		if guardIs(ctx, x.LeftChild, row, func(v any) bool { return v == nil || !isTrue(ctx, v) }) {
			out = certainCalls(ctx, x.RightChild, row, out)
		}
		return out
	case *function.If:
		c := x.Children() // condition, then, else
		out = certainCalls(ctx, c[0], row, out)
		if !containsGenerate(c[1]) && !containsGenerate(c[2]) {
			return out
		}
		if guardIs(ctx, c[0], row, func(v any) bool { return v != nil && isTrue(ctx, v) }) {
			return certainCalls(ctx, c[1], row, out)
		}
		if guardIs(ctx, c[0], row, func(v any) bool { return v == nil || !isTrue(ctx, v) }) {
			return certainCalls(ctx, c[2], row, out)
		}
		return out
	case *function.IfNull:
		out = certainCalls(ctx, x.LeftChild, row, out)
		if guardIs(ctx, x.LeftChild, row, func(v any) bool { return v == nil }) {
			out = certainCalls(ctx, x.RightChild, row, out)
		}
		return out
	case *function.Coalesce:
		for _, a := range x.Children() {
			out = certainCalls(ctx, a, row, out)
			if !guardIs(ctx, a, row, func(v any) bool { return v == nil }) {
				return out
			}
		}
		return out
	case *expression.Case:
		return caseCalls(ctx, x, row, out)
	}
	for _, c := range e.Children() {
		out = certainCalls(ctx, c, row, out)
	}
	return out
}

func caseCalls(ctx *sql.Context, c *expression.Case, row sql.Row, out []*memoCall) []*memoCall {
	out = certainCalls(ctx, c.Expr, row, out)
	if containsGenerate(c.Expr) {
		return out
	}
	for _, b := range c.Branches {
		out = certainCalls(ctx, b.Cond, row, out)
		if containsGenerate(b.Cond) {
			return out
		}
		cond := b.Cond
		if c.Expr != nil {
			cond = expression.NewEquals(c.Expr, b.Cond)
		}
		res, err := sql.EvaluateCondition(ctx, cond, row)
		if err != nil {
			return out
		}
		if sql.IsTrue(res) {
			return certainCalls(ctx, b.Value, row, out)
		}
	}
	return certainCalls(ctx, c.Else, row, out)
}

// guardIs evaluates a guard that calls no generate() and applies want to
// its value; a guard that calls generate() or fails counts as not known,
// and then nothing behind it is prefetched.
func guardIs(ctx *sql.Context, guard sql.Expression, row sql.Row, want func(any) bool) bool {
	if containsGenerate(guard) {
		return false
	}
	v, err := guard.Eval(ctx, row)
	if err != nil {
		return false
	}
	return want(v)
}

func isTrue(ctx *sql.Context, v any) bool {
	b, err := sql.ConvertToBool(ctx, v)
	return err == nil && b
}
