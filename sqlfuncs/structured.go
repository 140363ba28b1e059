package sqlfuncs

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
)

// JudgeName is judge()'s name, as SQL sees it.
const JudgeName = "judge"

// valueConverter is a model call whose SQL value is not the reply's text
// (judge's BOOLEAN).
type valueConverter interface {
	convertValue(ctx *sql.Context, text string) (any, error)
}

// structuredOptions reads an optional options argument over base; the
// grammar options are refused (the function sets the grammar).
func structuredOptions(ctx *sql.Context, c *call, row sql.Row, i int, base engine.GenerateOptions) (engine.GenerateOptions, error) {
	if len(c.args) <= i {
		return base, nil
	}
	text, ok, err := c.text(ctx, row, i, "options")
	if err != nil || !ok {
		return base, err
	}
	o, p, err := parseOptions(text, base)
	if err != nil {
		return base, c.errorf("%w", err)
	}
	if len(p.set) > 0 {
		return base, c.errorf("option %s does not apply to %s()", p.set[0], c.name)
	}
	if o.Grammar != base.Grammar {
		return base, c.errorf("%s() sets the grammar itself: options grammar, json_schema and json do not apply", c.name)
	}
	return o, nil
}

// Judge is judge(model, question, text [, options_json]): whether the
// model answers yes to the question about the text, as a BOOLEAN (usable
// in WHERE). The reply is constrained to yes or no. Greedy by default.
type Judge struct {
	call
}

func newJudge(_ *sql.Context, b Backend, args []sql.Expression) sql.Expression {
	return &Judge{newCallAt(JudgeName, args, b)}
}

// Type is BOOLEAN.
func (j *Judge) Type(*sql.Context) sql.Type { return types.Boolean }

// Description implements sql.FunctionExpression.
func (j *Judge) Description() string {
	return "returns whether a registered model answers yes to a question about a text"
}

// WithChildren implements sql.Expression.
func (j *Judge) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	n, err := j.withArgs(children)
	if err != nil {
		return nil, err
	}
	return &Judge{n}, nil
}

// judgeGrammar is the answers judge() allows.
const judgeGrammar = `root ::= "yes" | "no" | "Yes" | "No"`

// Arguments evaluates the call's arguments for row.
func (j *Judge) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	model, ok, err := j.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return Request{}, false, err
	}
	question, ok, err := j.text(ctx, row, 1, "question")
	if !ok || err != nil {
		return Request{}, false, err
	}
	input, ok, err := j.text(ctx, row, 2, "text")
	if !ok || err != nil {
		return Request{}, false, err
	}
	base := engine.DefaultGenerateOptions()
	base.Temperature, base.MaxTokens = 0, 4
	opts, err := structuredOptions(ctx, &j.call, row, 3, base)
	if err != nil {
		return Request{}, false, err
	}
	opts.Grammar = judgeGrammar
	prompt := question + "\n\nText:\n" + input + "\n\nAnswer yes or no."
	return Request{Model: model, Prompt: prompt, Options: opts}, true, nil
}

// Eval implements sql.Expression.
func (j *Judge) Eval(ctx *sql.Context, row sql.Row) (any, error) { return evalModelCall(ctx, j, row) }

func (j *Judge) convertValue(_ *sql.Context, text string) (any, error) {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "yes":
		return int8(1), nil
	case "no":
		return int8(0), nil
	}
	return nil, j.errorf("the reply %q is neither yes nor no", text)
}

var (
	_ modelCall      = (*Judge)(nil)
	_ valueConverter = (*Judge)(nil)
)
