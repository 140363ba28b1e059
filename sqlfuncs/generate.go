package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// Generate is generate(model, prompt), generate(model, prompt, temperature),
// generate(model, prompt, temperature, max_tokens) and
// generate(model, prompt, options_json). It returns the completion as text,
// or NULL when the model or the prompt is NULL. A NULL temperature,
// max_tokens or options argument keeps the defaults.
//
// A call whose temperature is a constant 0 (greedy decoding) is
// deterministic and is returned as a *Generate. Any other call is wrapped
// in a type that also implements sql.NonDeterministicExpression: the planner
// checks for that interface (not its result) when it decides whether it may
// cache a subquery's value or defer a projection, so sampling calls must
// carry it and greedy calls must not. Use AsGenerate to find either form.
type Generate struct {
	call
}

// Request is what one evaluation of generate() or chat() asks of the
// backend.
type Request struct {
	Model string
	// Prompt is generate()'s prompt. On a model with a chat template it
	// becomes the user's turn (after System, if set) unless Raw.
	Prompt string
	// Messages is chat()'s conversation.
	Messages []chattmpl.Message
	System   string
	// Raw sends Prompt as it is; ParseSpecial parses special-token text
	// in a raw prompt.
	Raw, ParseSpecial bool
	Template          engine.TemplateOptions
	Options           engine.GenerateOptions
	// Policy is what the call does with a row that fails and what it
	// returns (policy.go).
	Policy Policy
	// Embed, when set, asks for an embedding or a score instead of a
	// generation: embed(), similarity(), rerank() (embed.go).
	Embed *EmbedRequest
	// Score, when set, asks for scores instead of a generation: the
	// log-probability of each of its replies as the assistant's answer to
	// Messages (through a ScoreBackend), made into the answer's text as
	// Score says (classify(), choice.go).
	Score *Choice
	// Schema, when set, is a JSON Schema the reply must validate against
	// (extract(), jsoncheck.go): one that does not fails the row.
	Schema string
}

func newGenerate(ctx *sql.Context, b Backend, args []sql.Expression) sql.Expression {
	g := &Generate{newCallAt(GenerateName, args, b)}
	if g.greedy(ctx) {
		return g
	}
	return sampledGenerate{g}
}

// greedy reports whether the temperature (or options) argument is a
// constant asking for temperature 0. Only that argument is looked at: the
// others may be columns, which cannot be evaluated without a row.
func (g *Generate) greedy(ctx *sql.Context) bool { return greedyCall(ctx, &g.call) }

// greedyCall is greedy for generate() and chat(), which share their third
// argument's forms.
func greedyCall(ctx *sql.Context, g *call) bool {
	if len(g.args) < 3 {
		return false // the default temperature samples
	}
	lit, ok := g.args[2].(*expression.Literal)
	if !ok {
		return false
	}
	if ctx == nil {
		ctx = sql.NewEmptyContext()
	}
	v, err := lit.Eval(ctx, nil)
	if err != nil || v == nil {
		return false
	}
	if len(g.args) == 3 {
		if text, isObject := optionsText(ctx, v); isObject {
			o, err := ParseOptions(text, engine.DefaultGenerateOptions())
			return err == nil && o.Temperature == 0
		}
	}
	t, err := toFloat(v)
	return err == nil && t == 0
}

// AsGenerate returns the *Generate behind a generate() expression of either
// form, so that plan rewrites (for example batching) can recognise it.
func AsGenerate(e sql.Expression) (*Generate, bool) {
	switch g := e.(type) {
	case *Generate:
		return g, true
	case sampledGenerate:
		return g.Generate, true
	case *memoCall:
		inner, ok := g.c.(*Generate)
		return inner, ok
	case sampledMemoCall:
		inner, ok := g.c.(*Generate)
		return inner, ok
	}
	return nil, false
}

// Type is LONGTEXT.
func (g *Generate) Type(*sql.Context) sql.Type { return types.LongText }

// CollationCoercibility implements sql.CollationCoercible: generated text
// is a new value in the connection's collation, not derived from the
// arguments' collations.
func (g *Generate) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

// Description implements sql.FunctionExpression.
func (g *Generate) Description() string {
	return "generates text from a prompt with a registered model"
}

// WithChildren implements sql.Expression.
func (g *Generate) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := g.withArgs(children)
	if err != nil {
		return nil, err
	}
	// Re-decide determinism: a bound placeholder may have become a literal.
	return newGenerate(ctx, c.backend, c.args), nil
}

// Arguments evaluates the call's arguments for row. ok is false when the
// result is NULL without asking the backend.
func (g *Generate) Arguments(ctx *sql.Context, row sql.Row) (req Request, ok bool, err error) {
	args, ok, err := g.texts(ctx, row, "model", "prompt")
	if !ok || err != nil {
		return Request{}, false, err
	}
	model, prompt := args[0], args[1]
	opts, p, err := g.options(ctx, row)
	if err != nil {
		return Request{}, false, err
	}
	if p.raw && p.system != "" {
		return Request{}, false, g.errorf("option system needs the chat template; it cannot go with raw")
	}
	return Request{Model: model, Prompt: prompt, System: p.system, Raw: p.raw, ParseSpecial: p.parseSpecial,
		Template: p.template(), Options: opts, Policy: p.policy}, true, nil
}

// Eval implements sql.Expression. Backend errors (unknown model, prompt too
// long, cancellation) are returned unchanged so the client sees the
// engine's message.
func (g *Generate) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	return evalModelCall(ctx, g, row)
}

func (g *Generate) options(ctx *sql.Context, row sql.Row) (engine.GenerateOptions, promptOptions, error) {
	return callOptions(ctx, &g.call, row)
}

// callOptions reads the third and fourth arguments of generate() and
// chat(): a temperature and max_tokens, or one JSON object of options.
func callOptions(ctx *sql.Context, g *call, row sql.Row) (engine.GenerateOptions, promptOptions, error) {
	var p promptOptions
	opts, err := sampleOptions(ctx, g, row, &p)
	return opts, p, err
}

func sampleOptions(ctx *sql.Context, g *call, row sql.Row, p *promptOptions) (engine.GenerateOptions, error) {
	opts := engine.DefaultGenerateOptions()
	if len(g.args) < 3 {
		return opts, nil
	}
	third, err := g.arg(ctx, row, 2)
	if err != nil {
		return opts, err
	}
	if len(g.args) == 3 && third != nil {
		if text, isObject := optionsText(ctx, third); isObject {
			o, po, err := parseOptions(text, opts)
			if err != nil {
				return opts, g.errorf("%w", err)
			}
			*p = po
			return o, nil
		}
	}
	if third != nil {
		t, err := toFloat(third)
		if err != nil {
			return opts, g.errorf("temperature: %v; pass a number or a JSON object of options", err)
		}
		opts.Temperature = float32(t)
	}
	if len(g.args) == 4 {
		v, err := g.arg(ctx, row, 3)
		if err != nil {
			return opts, err
		}
		if v != nil {
			n, err := toInt(v)
			if err != nil {
				return opts, g.errorf("max_tokens: %v", err)
			}
			if n < -1<<31 || n > 1<<31-1 {
				n = -1 // out of any valid range; Validate names it
			}
			opts.MaxTokens = int(n)
		}
	}
	if err := opts.Validate(); err != nil {
		return opts, g.errorf("%w", err)
	}
	return opts, nil
}

// optionsText returns v as JSON text if it is a JSON value or text holding
// an object (v is unwrapped: see call.arg).
func optionsText(ctx *sql.Context, v any) (string, bool) {
	switch v.(type) {
	case sql.JSONWrapper:
		s, _, err := textOf(ctx, v)
		return s, err == nil
	case string, []byte:
		s, _, err := textOf(ctx, v)
		return s, err == nil && looksLikeJSONObject(s)
	}
	return "", false
}

// sampledGenerate is a generate() call that samples: the same arguments may
// give a different completion each time.
type sampledGenerate struct {
	*Generate
}

var (
	_ sql.FunctionExpression         = (*Generate)(nil)
	_ sql.CollationCoercible         = (*Generate)(nil)
	_ sql.FunctionExpression         = sampledGenerate{}
	_ sql.NonDeterministicExpression = sampledGenerate{}
)

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledGenerate) IsNonDeterministic() bool { return true }
