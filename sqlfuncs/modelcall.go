package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
)

// modelCall is a SQL function whose answer is one model call per row:
// generate(), chat(), judge() and extract() (a generation), classify()
// (a scoring request, Request.Score), embed(), similarity() and rerank()
// (Request.Embed: a vector or a score). The batching machinery (read-ahead, memo,
// progress) works on any of them: it binds each call to the query's memo
// (memoCall), works out a row's requests with Arguments, and runs them on
// the call's backend.
type modelCall interface {
	sql.FunctionExpression
	// Arguments evaluates the call's arguments for row; ok is false when
	// the answer is NULL without asking the backend.
	Arguments(ctx *sql.Context, row sql.Row) (req Request, ok bool, err error)
	callBackend() Backend
	callSite() uint64
}

// asModelCall returns the call behind e if e is a model call of any form
// (plain, sampling, bound to a memo).
func asModelCall(e sql.Expression) (modelCall, bool) {
	switch x := e.(type) {
	case *Generate:
		return x, true
	case sampledGenerate:
		return x.Generate, true
	case *Chat:
		return x, true
	case sampledChat:
		return x.Chat, true
	case *Judge:
		return x, true
	case *Embed:
		return x, true
	case *Similarity:
		return x, true
	case *Rerank:
		return x, true
	case sampledJudge:
		return x.Judge, true
	case *Classify:
		return x, true
	case *Extract:
		return x, true
	case sampledExtract:
		return x.Extract, true
	case *memoCall:
		return x.c, true
	case sampledMemoCall:
		return x.c, true
	}
	return nil, false
}

// evalModelCall is the Eval of a model call not bound to a memo.
func evalModelCall(ctx *sql.Context, c modelCall, row sql.Row) (any, error) {
	req, ok, err := c.Arguments(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	if req.Embed != nil {
		v, err := embedAnswer(ctx, c.callBackend(), req.Model, req.Embed)
		return embedValue(ctx, c.FunctionName(), req, v, err, true, 0)
	}
	res, err := runCall(ctx, c.callBackend(), req, nil)
	return converted(ctx, c, req)(answer(ctx, c.FunctionName(), req, res, err, true, 0))
}

// converted returns a function that turns a model call's answer into the
// call's own type (judge's BOOLEAN): the text of an answer, not NULL and
// not the details object.
func converted(ctx *sql.Context, c modelCall, req Request) func(any, error) (any, error) {
	return func(v any, err error) (any, error) {
		conv, ok := c.(valueConverter)
		if !ok || err != nil || v == nil || req.Policy.Details {
			return v, err
		}
		s, isText := v.(string)
		if !isText {
			return v, nil
		}
		return conv.convertValue(ctx, s)
	}
}
