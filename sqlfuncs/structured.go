package sqlfuncs

import (
	"encoding/json"
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

// structuredOptions reads a structured call's optional options argument
// (argument i) over base: generate()'s options, of the prompt options only
// on_error, details and think, and with instruction the "instruction" key
// (returned). The grammar options are refused: the function sets the
// grammar.
func structuredOptions(ctx *sql.Context, c *call, row sql.Row, i int, base engine.GenerateOptions, instruction string) (engine.GenerateOptions, promptOptions, string, error) {
	var p promptOptions
	if len(c.args) <= i {
		return base, p, "", nil
	}
	text, ok, err := c.text(ctx, row, i, "options")
	if err != nil || !ok {
		return base, p, "", err
	}
	instr := ""
	if instruction != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(text), &obj); err == nil {
			if raw, ok := obj[instruction]; ok {
				delete(obj, instruction)
				var s *string
				if err := json.Unmarshal(raw, &s); err != nil || (s != nil && strings.TrimSpace(*s) == "") {
					return base, p, "", c.errorf("option %s must be a non-empty string", instruction)
				}
				if s != nil {
					instr = *s
				}
				rest, err := json.Marshal(obj)
				if err != nil {
					return base, p, "", c.errorf("%v", err)
				}
				text = string(rest)
			}
		}
	}
	o, p, err := parseOptions(text, base)
	if err != nil {
		return base, p, "", c.errorf("%w", err)
	}
	for _, k := range p.set {
		switch k {
		case "on_error", "details", "think":
		default:
			return base, p, "", c.errorf("option %s does not apply to %s()", k, c.name)
		}
	}
	if o.Grammar != base.Grammar {
		return base, p, "", c.errorf("%s() sets the grammar itself: options grammar, json_schema and json do not apply", c.name)
	}
	return o, p, instr, nil
}

// Judge is judge(model, question, text [, options_json]): whether the
// model answers yes to the question about the text, as a BOOLEAN (usable
// in WHERE). The reply is constrained to yes or no. Greedy by default.
type Judge struct {
	call
}

func newJudge(ctx *sql.Context, b Backend, args []sql.Expression) sql.Expression {
	j := &Judge{newCallAt(JudgeName, args, b)}
	if structuredGreedy(ctx, &j.call, 3) {
		return j
	}
	return sampledJudge{j}
}

// sampledJudge is a judge() call that samples (its options set a
// temperature above 0, or are not a constant).
type sampledJudge struct {
	*Judge
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledJudge) IsNonDeterministic() bool { return true }

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
	return newJudge(ctx, n.backend, n.args), nil
}

// judgeGrammar is the answers judge() allows.
const judgeGrammar = `root ::= "yes" | "no" | "Yes" | "No"`

// Arguments evaluates the call's arguments for row.
func (j *Judge) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	args, ok, err := j.texts(ctx, row, "model", "question", "text")
	if !ok || err != nil {
		return Request{}, false, err
	}
	model, question, input := args[0], args[1], args[2]
	base := engine.DefaultGenerateOptions()
	base.Temperature, base.MaxTokens = 0, 4
	opts, p, _, err := structuredOptions(ctx, &j.call, row, 3, base, "")
	if err != nil {
		return Request{}, false, err
	}
	if p.policy.Details {
		return Request{}, false, j.errorf("option details does not apply to judge(), whose value is a BOOLEAN")
	}
	opts.Grammar = judgeGrammar
	prompt := question + "\n\nText:\n" + input + "\n\nAnswer yes or no."
	return Request{Model: model, Prompt: prompt, Template: noThinking(p), Options: opts, Policy: p.policy}, true, nil
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
