package sqlfuncs

import (
	"errors"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/engine"
)

// maxAggLevels bounds the levels of a group. Each level has fewer prompts
// than the one before (run checks it), and combining two answers a prompt
// at least halves them: more levels would mean a loop.
const maxAggLevels = 64

// aggGroup is the aggregation buffer of one group: it packs the group's
// texts into the map level's prompts as rows arrive and, once started,
// runs the levels until one answer remains.
type aggGroup struct {
	agg   *Aggregate
	batch *aggBatch // nil: the group runs at its Eval, one prompt at a time
	index int64     // the group's number in its GROUP BY (1 = first), 0 if not known

	args *aggArgs // from the first row with a text; nil until then
	rows int64    // texts aggregated
	// Level 0. With a PromptBackend, texts are packed as they come and
	// full prompts submitted (parts); without one, texts collects them
	// for one prompt.
	pk      *packer
	measure *backendMeasurer // pk's, measuring on the context at hand
	budget  int              // tokens a prompt may take
	parts   []*chunkCall
	texts   []string
	err     error // a failure while reading the rows; the group's answer

	started bool
	done    chan struct{} // closed when res/resErr are final
	res     engine.GenResult
	resErr  error
	stats   aggStats
	evaled  bool
	value   any
	valErr  error
}

// aggStats count what a group took.
type aggStats struct {
	prompts, levels               int
	promptTokens, generatedTokens int
}

// Update implements sql.AggregationBuffer: the row's text joins the group.
func (g *aggGroup) Update(ctx *sql.Context, row sql.Row) error {
	if g.started {
		return g.agg.errorf("a row arrived after the group's answer was started")
	}
	text, ok, err := g.agg.text(ctx, row, 1, "text")
	if err != nil || !ok {
		return err
	}
	args, ok, err := g.agg.rowArgs(ctx, row, g.args)
	if err != nil || !ok {
		return err
	}
	if g.err != nil {
		g.rows++
		return nil // the group has failed; its answer is that failure
	}
	if g.args == nil {
		g.args = args
		if err := g.prepare(ctx); err != nil {
			return err
		}
	}
	g.rows++
	if g.pk == nil {
		g.texts = append(g.texts, text)
		return nil
	}
	g.measure.ctx = ctx
	closed, err := g.pk.add(text)
	if err != nil {
		return g.fail(err)
	}
	for _, entries := range closed {
		g.parts = append(g.parts, g.batch.submit(g, chunkRequest(g.args, 0, entries), 0))
	}
	return nil
}

// prepare sizes the group's prompts on its first row.
func (g *aggGroup) prepare(ctx *sql.Context) error {
	pb, ok := g.agg.backend.(PromptBackend)
	if !ok {
		return nil // one prompt with every text
	}
	if _, ok := g.agg.backend.(ChatBackend); !ok {
		return g.agg.errorf("%w", errNoChat)
	}
	size, err := pb.ContextSize(ctx, g.args.model)
	if err != nil {
		return err
	}
	g.budget = size - g.args.opts.MaxTokens - 1
	if g.budget < 1 {
		return g.agg.errorf("max_tokens (%d) leaves no room for a prompt in the model's context of %d tokens", g.args.opts.MaxTokens, size)
	}
	g.measure, err = newMeasurer(ctx, g.agg.backend, pb, g.args, 0)
	if err != nil {
		return err
	}
	g.pk, err = newPacker(g.measure, g.budget, 1)
	if err != nil {
		return g.agg.errorf("%v", err)
	}
	return nil
}

// fail records a failure of the group: one that concerns its rows (a
// RowError) is the group's answer under the policy; any other fails the
// statement.
func (g *aggGroup) fail(err error) error {
	if rowLevel(err) {
		g.err = err
		return nil
	}
	return err
}

// hasRows reports whether a text reached the group (or its rows failed).
func (g *aggGroup) hasRows() bool { return g.args != nil || g.err != nil }

// Eval implements sql.AggregationBuffer: the group's answer.
func (g *aggGroup) Eval(ctx *sql.Context) (any, error) {
	if g.evaled {
		return g.value, g.valErr
	}
	if !g.hasRows() {
		g.evaled = true
		return nil, nil // no texts
	}
	if g.batch.concurrent() {
		g.batch.start()
		select {
		case <-g.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else if !g.started {
		g.started = true
		g.batch.groupStarted()
		g.finish(ctx)
	}
	g.evaled = true
	g.value, g.valErr = g.answer(ctx)
	return g.value, g.valErr
}

// Dispose implements sql.AggregationBuffer.
func (g *aggGroup) Dispose(*sql.Context) {}

// finish runs the group's levels to one answer, on ctx, and records it.
func (g *aggGroup) finish(ctx *sql.Context) {
	defer close(g.done)
	if !g.hasRows() {
		return // no texts: NULL
	}
	defer g.batch.groupDone()
	if g.err != nil {
		g.resErr = g.err
		return
	}
	g.res, g.resErr = g.run(ctx)
}

func (g *aggGroup) run(ctx *sql.Context) (engine.GenResult, error) {
	calls := g.parts
	if g.pk == nil {
		calls = append(calls, g.batch.submit(g, chunkRequest(g.args, 0, g.texts), 0))
		g.texts = nil
	} else {
		g.measure.ctx = ctx
		closed, err := g.pk.flush()
		if err != nil {
			return engine.GenResult{}, err
		}
		for _, entries := range closed {
			calls = append(calls, g.batch.submit(g, chunkRequest(g.args, 0, entries), 0))
		}
	}
	g.parts = nil
	for level := 0; ; level++ {
		g.stats.levels = level + 1
		answers := make([]string, len(calls))
		var last engine.GenResult
		for i, c := range calls {
			res, err := g.batch.wait(ctx, c)
			if err != nil {
				return engine.GenResult{}, err
			}
			if c.req.Messages != nil {
				g.stats.prompts++
				g.stats.promptTokens += tokensOr(res.AnswerPromptTokens, res.PromptTokens)
				g.stats.generatedTokens += tokensOr(res.AnswerGeneratedTokens, res.GeneratedTokens)
			}
			if res.Incomplete && len(calls) > 1 {
				return engine.GenResult{}, &RowError{fmt.Errorf("the answer for part %d of level %d was cut at max_tokens (%d) before its grammar was complete (raise max_tokens)",
					i+1, level+1, g.args.opts.MaxTokens)}
			}
			answers[i], last = res.Text, res
		}
		if len(calls) == 1 {
			return last, nil
		}
		if level+1 >= maxAggLevels {
			return engine.GenResult{}, fmt.Errorf("%s: no single answer after %d levels", g.agg.name, maxAggLevels)
		}
		next, err := g.combine(ctx, level+1, answers)
		if err != nil {
			return engine.GenResult{}, err
		}
		if len(next) >= len(calls) {
			return engine.GenResult{}, g.tooFew()
		}
		calls = next
	}
}

// combine packs the answers of a level into the prompts of the next.
func (g *aggGroup) combine(ctx *sql.Context, level int, answers []string) ([]*chunkCall, error) {
	pb := g.agg.backend.(PromptBackend) // more than one prompt: the backend measures
	m, err := newMeasurer(ctx, g.agg.backend, pb, g.args, level)
	if err != nil {
		return nil, err
	}
	pk, err := newPacker(m, g.budget, 2)
	if err != nil {
		return nil, g.agg.errorf("%v", err)
	}
	var prompts [][]string
	for _, a := range answers {
		closed, err := pk.add(a)
		if err != nil {
			return nil, g.packError(err)
		}
		prompts = append(prompts, closed...)
	}
	closed, err := pk.flush()
	if err != nil {
		return nil, g.packError(err)
	}
	prompts = append(prompts, closed...)
	calls := make([]*chunkCall, len(prompts))
	for i, entries := range prompts {
		if len(entries) == 1 {
			// A lone answer goes on to the next level as it is.
			calls[i] = answered(entries[0])
			continue
		}
		calls[i] = g.batch.submit(g, chunkRequest(g.args, level, entries), level)
	}
	return calls, nil
}

func (g *aggGroup) packError(err error) error {
	if errors.Is(err, errTooFewPerPrompt) {
		return g.tooFew()
	}
	return err
}

func (g *aggGroup) tooFew() error {
	return g.agg.errorf("the answers for the parts do not fit two to a prompt: the model's context leaves %d tokens for a prompt with max_tokens %d; lower max_tokens or raise the context",
		g.budget, g.args.opts.MaxTokens)
}

// answer turns the group's outcome into its SQL value under the policy.
func (g *aggGroup) answer(ctx *sql.Context) (any, error) {
	where := g.agg.name + "()"
	if g.index > 0 {
		where = fmt.Sprintf("%s for group %d", where, g.index)
	}
	policy := g.args.policyOrZero()
	if err := g.resErr; err != nil {
		if !rowLevel(err) || onError(ctx, policy) == OnErrorError {
			return nil, err
		}
		addWarning(ctx, warnRowFailed, fmt.Sprintf("%s: %v; the value is NULL (on_error 'null')", where, err))
		if policy.Details {
			msg := err.Error()
			return g.details(nil, &msg), nil
		}
		return nil, nil
	}
	if g.res.Incomplete {
		msg := fmt.Sprintf("the output was cut at max_tokens (%d) before its grammar was complete; the value is NULL (raise max_tokens)", g.args.opts.MaxTokens)
		addWarning(ctx, warnTruncated, where+": "+msg)
		if policy.Details {
			return g.details(nil, &msg), nil
		}
		return nil, nil
	}
	if g.res.FinishReason == engine.FinishContext {
		addWarning(ctx, warnTruncated, fmt.Sprintf("%s: the answer was cut off where the sequence filled the model's context", where))
	}
	if policy.Details {
		text := g.res.Text
		return g.details(&text, nil), nil
	}
	return g.res.Text, nil
}

// policyOrZero is the group's policy (the zero policy before any row).
func (a *aggArgs) policyOrZero() Policy {
	if a == nil {
		return Policy{}
	}
	return a.prompt.policy
}

// aggDetails is what "details": true returns for a group.
type aggDetails struct {
	Text            *string `json:"text"`
	FinishReason    *string `json:"finish_reason"`
	Rows            int64   `json:"rows"`
	Prompts         int     `json:"prompts"`
	Levels          int     `json:"levels"`
	PromptTokens    int     `json:"prompt_tokens"`
	GeneratedTokens int     `json:"generated_tokens"`
	Error           *string `json:"error"`
}

func (g *aggGroup) details(text, errMsg *string) string {
	d := aggDetails{Text: text, Rows: g.rows, Prompts: g.stats.prompts, Levels: g.stats.levels,
		PromptTokens: g.stats.promptTokens, GeneratedTokens: g.stats.generatedTokens, Error: errMsg}
	if text != nil && g.res.FinishReason != "" {
		r := g.res.FinishReason
		d.FinishReason = &r
	}
	return jsonText(d)
}
