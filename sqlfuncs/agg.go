package sqlfuncs

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
)

// Aggregates over groups of rows: summarize_agg(model, text [,
// options_json]) and reduce_agg(model, text, instruction [,
// options_json]) answer for a whole group (or the whole table without
// GROUP BY): a summary of the group's texts, or the answer to an
// instruction about all of them. NULL texts are skipped; a group without
// texts gives NULL.
//
// Beyond the context window, by map-reduce. The group's texts, in the
// order the rows arrive, are packed into prompts that fit the model's
// context, leaving room for the task and the answer (max_tokens); tokens
// are counted with the model's tokenizer (agg_pack.go). A text longer
// than a prompt is cut into parts. Each prompt is answered (the map
// level); if there was more than one, the answers are packed the same way
// into prompts that combine them (the next level), until one answer
// remains. The prompts go through the chat template as chat()'s do
// (agg_prompt.go) with generate()'s options, so a json_schema holds at
// every level and reduce_agg() can return JSON. At temperature 0 the
// answer depends only on the rows and their order.
//
// Batching across groups. go-mysql-server gives each group an
// aggregation buffer, calls Update on it for each of the group's rows and,
// once every row has been read, Eval on each buffer in turn. Run at Eval,
// 500 groups would be 500 calls one after another. Instead the batching
// hook (EnableBatching) binds the aggregates of each GROUP BY it builds to
// an aggBatch (agg_batch.go), one per execution of the node:
//
//   - Update packs the group's texts as they come; a prompt that fills up
//     is submitted at once, so a large group's map level runs while the
//     table is still read.
//   - The first Eval of any group starts every group of the node: each
//     closes its last prompt and a goroutine per group waits for its
//     answers and runs its combine levels. Eval then waits for its own
//     group only; the others keep running meanwhile.
//   - All those prompts go to the engine's scheduler together, at most
//     @@llm_batch_size at a time per statement, so they share forward
//     passes as generate()'s rows do. @@llm_batch_size = 0, or an engine
//     without the hook, runs each group at its Eval, one prompt at a time:
//     the same answers, one after another.
//
// Order. The rows of a group are packed in the order the GROUP BY reads
// them, which is its input's order. go-mysql-server's parser takes ORDER BY
// inside a call only for GROUP_CONCAT, so summarize_agg(m, body ORDER BY
// created_at) is a syntax error; order the input instead, in a derived
// table:
//
//	SELECT product, summarize_agg('qwen', body)
//	FROM (SELECT product, body FROM reviews ORDER BY created_at, id) r
//	GROUP BY product;
//
// Errors follow the policy of model calls (policy.go): a group whose
// generation fails (the token budget, a prompt the model refuses) is NULL
// with a warning under @@llm_on_error = 'null', or fails the statement
// under 'error'; "details": true returns a JSON object with the answer,
// the counts of rows, prompts and levels, tokens and the error. KILL
// QUERY stops every prompt of the statement.
//
// Progress: llm.progress counts a statement's groups as rows, and its
// prompts (chunks) and the deepest level started.
type Aggregate struct {
	call
	kind aggKind
	id   sql.ColumnId
	// batch is set on the copies the batching hook makes for one
	// execution of a GROUP BY; nil runs each group at its Eval.
	batch *aggBatch
}

// aggKind tells the aggregates apart.
type aggKind int

const (
	aggSummarize aggKind = iota
	aggReduce
)

// Names of the aggregate functions.
const (
	SummarizeAggName = "summarize_agg"
	ReduceAggName    = "reduce_agg"
)

var aggNames = map[string]aggKind{SummarizeAggName: aggSummarize, ReduceAggName: aggReduce}

func init() {
	// The planner builds a call as an aggregate only if its name is on
	// go-mysql-server's list; extend it (the variable is there for this).
	// A name on the list that no catalog registers is still "function not
	// found", as before.
	prev := planbuilder.IsAggregateFunc
	planbuilder.IsAggregateFunc = func(ctx *sql.Context, name string) (bool, error) {
		if _, ok := aggNames[strings.ToLower(name)]; ok {
			return true, nil
		}
		return prev(ctx, name)
	}
}

// aggregateFunctions are the aggregates' entries in Functions.
func aggregateFunctions(b Backend) []sql.Function {
	return []sql.Function{
		sql.FunctionN{Name: SummarizeAggName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 2 || len(args) > 3 {
				return nil, sql.ErrInvalidArgumentNumber.New(SummarizeAggName, "2 or 3", len(args))
			}
			return newAggregate(ctx, &Aggregate{call: newCallAt(SummarizeAggName, args, b), kind: aggSummarize}), nil
		}},
		sql.FunctionN{Name: ReduceAggName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 3 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(ReduceAggName, "3 or 4", len(args))
			}
			return newAggregate(ctx, &Aggregate{call: newCallAt(ReduceAggName, args, b), kind: aggReduce}), nil
		}},
	}
}

// newAggregate returns a as it is when its options ask for temperature 0,
// else wrapped as a sampling call (see Generate on why the planner must
// know).
func newAggregate(ctx *sql.Context, a *Aggregate) sql.Expression {
	if a.greedy(ctx) {
		return a
	}
	return sampledAggregate{a}
}

// optionsArg is the index of the options argument, or -1.
func (a *Aggregate) optionsArg() int {
	i := 2
	if a.kind == aggReduce {
		i = 3
	}
	if i < len(a.args) {
		return i
	}
	return -1
}

// greedy reports whether the options argument is a constant asking for
// temperature 0.
func (a *Aggregate) greedy(ctx *sql.Context) bool {
	i := a.optionsArg()
	if i < 0 {
		return false
	}
	c := call{name: a.name, args: []sql.Expression{nil, nil, a.args[i]}}
	return greedyCall(ctx, &c)
}

// asAggregate returns the aggregate behind e, of either form.
func asAggregate(e sql.Expression) (*Aggregate, bool) {
	switch x := e.(type) {
	case *Aggregate:
		return x, true
	case sampledAggregate:
		return x.Aggregate, true
	}
	return nil, false
}

// Type is LONGTEXT.
func (a *Aggregate) Type(*sql.Context) sql.Type { return types.LongText }

// CollationCoercibility implements sql.CollationCoercible.
func (a *Aggregate) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

// Description implements sql.FunctionExpression.
func (a *Aggregate) Description() string {
	if a.kind == aggSummarize {
		return "summarizes the texts of a group of rows with a registered model, by map-reduce beyond its context"
	}
	return "answers an instruction about the texts of a group of rows with a registered model, by map-reduce beyond its context"
}

// Id implements sql.IdExpression.
func (a *Aggregate) Id() sql.ColumnId { return a.id }

// WithId implements sql.IdExpression.
func (a *Aggregate) WithId(id sql.ColumnId) sql.IdExpression {
	c := *a
	c.id = id
	return rewrap(a, &c)
}

// rewrap gives c the form (sampling or not) of the aggregate orig was.
func rewrap(orig, c *Aggregate) sql.IdExpression {
	if orig.greedy(nil) {
		return c
	}
	return sampledAggregate{c}
}

// WithChildren implements sql.Expression.
func (a *Aggregate) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	n, err := a.withArgs(children)
	if err != nil {
		return nil, err
	}
	c := *a
	c.call = n
	return newAggregate(ctx, &c), nil
}

// withBatch returns a copy of a bound to batch.
func (a *Aggregate) withBatch(batch *aggBatch) sql.Expression {
	c := *a
	c.batch = batch
	return rewrap(a, &c)
}

// Eval implements sql.Expression: an aggregate has no value per row.
func (a *Aggregate) Eval(*sql.Context, sql.Row) (any, error) {
	return nil, a.errorf("is an aggregate function: use it with GROUP BY, or over all rows without one, not with OVER")
}

// NewWindowFunction implements sql.WindowAdaptableExpression: the
// aggregates do not run over windows.
func (a *Aggregate) NewWindowFunction(*sql.Context) (sql.WindowFunction, error) {
	return nil, a.errorf("cannot be used as a window function (OVER)")
}

// WithWindow implements sql.WindowAdaptableExpression.
func (a *Aggregate) WithWindow(*sql.Context, *sql.WindowDefinition) sql.WindowAdaptableExpression {
	return a
}

// Window implements sql.WindowAdaptableExpression.
func (a *Aggregate) Window() *sql.WindowDefinition { return nil }

// NewBuffer implements sql.Aggregation: one buffer per group.
func (a *Aggregate) NewBuffer(ctx *sql.Context) (sql.AggregationBuffer, error) {
	g := &aggGroup{agg: a, batch: a.batch, done: make(chan struct{})}
	a.batch.register(g)
	return g, nil
}

// sampledAggregate is an aggregate whose prompts sample.
type sampledAggregate struct {
	*Aggregate
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledAggregate) IsNonDeterministic() bool { return true }

var (
	_ sql.Aggregation                = (*Aggregate)(nil)
	_ sql.FunctionExpression         = (*Aggregate)(nil)
	_ sql.CollationCoercible         = (*Aggregate)(nil)
	_ sql.Aggregation                = sampledAggregate{}
	_ sql.NonDeterministicExpression = sampledAggregate{}
)

// aggArgs are what a group's calls ask: the arguments other than the text,
// as the group's first row gave them.
type aggArgs struct {
	kind        aggKind
	model       string
	instruction string
	optionsText string // as given, to compare the next rows' with
	opts        engine.GenerateOptions
	prompt      promptOptions
}

// rowArgs evaluates the arguments other than the text on row. ok is false
// when the model or the instruction is NULL (the row is skipped).
func (a *Aggregate) rowArgs(ctx *sql.Context, row sql.Row, prev *aggArgs) (*aggArgs, bool, error) {
	model, ok, err := a.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return nil, false, err
	}
	args := &aggArgs{kind: a.kind, model: model}
	if a.kind == aggReduce {
		args.instruction, ok, err = a.text(ctx, row, 2, "instruction")
		if !ok || err != nil {
			return nil, false, err
		}
		if strings.TrimSpace(args.instruction) == "" {
			return nil, false, a.errorf("the instruction is empty")
		}
	}
	if i := a.optionsArg(); i >= 0 {
		v, err := a.arg(ctx, row, i)
		if err != nil {
			return nil, false, err
		}
		if v != nil {
			if s, isObject := optionsText(ctx, v); isObject {
				args.optionsText = s
			} else if t, err := toFloat(v); err == nil {
				args.optionsText = fmt.Sprintf(`{"temperature": %v}`, t)
			} else {
				return nil, false, a.errorf("options must be a JSON object such as {\"temperature\": 0, \"max_tokens\": 128}")
			}
		}
	}
	if prev != nil {
		switch {
		case args.model != prev.model:
			return nil, false, a.errorf("the model must be the same on every row of a group ('%s', then '%s')", prev.model, args.model)
		case args.instruction != prev.instruction:
			return nil, false, a.errorf("the instruction must be the same on every row of a group")
		case args.optionsText != prev.optionsText:
			return nil, false, a.errorf("the options must be the same on every row of a group")
		}
		return prev, true, nil
	}
	args.opts = engine.DefaultGenerateOptions()
	if args.optionsText != "" {
		opts, p, err := parseOptions(args.optionsText, args.opts)
		if err != nil {
			return nil, false, a.errorf("%w", err)
		}
		for _, k := range p.set {
			if k == "raw" || k == "parse_special" {
				return nil, false, a.errorf("option %s applies to generate() only: aggregates prompt through the chat template", k)
			}
		}
		if opts.Truncate != "" {
			return nil, false, a.errorf("option truncate does not apply: aggregates cut long texts into parts")
		}
		args.opts, args.prompt = opts, p
	}
	return args, true, nil
}
