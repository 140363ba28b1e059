package sqlfuncs

import (
	"context"

	"github.com/llmsql/llmsql/engine"
)

// ResultBackend is a Backend that also reports what a generation cost.
// *engine.Pool implements it; the functions use it, when the Backend has
// it, to count generated tokens in llm.progress. A Backend without it still
// works: its calls count as rows without tokens.
type ResultBackend interface {
	GenerateResult(ctx context.Context, model, prompt string, opts engine.GenerateOptions) (engine.GenResult, error)
}

// generateResult runs one request on b, with token counts when b has them.
func generateResult(ctx context.Context, b Backend, req Request) (engine.GenResult, error) {
	if rb, ok := b.(ResultBackend); ok {
		return rb.GenerateResult(ctx, req.Model, req.Prompt, req.Options)
	}
	text, err := b.Generate(ctx, req.Model, req.Prompt, req.Options)
	return engine.GenResult{Text: text}, err
}
