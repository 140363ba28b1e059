package engine

import "context"

// PromptTokens returns how many tokens req's prompt takes on the model, as
// Generate would tokenize it (a conversation rendered with the model's
// chat template, its BOS included).
func (m *Model) PromptTokens(req Request) (int, error) {
	ids, _, _, err := m.tokens(req)
	return len(ids), err
}

// PromptTokens returns how many tokens req's prompt takes on the named
// model, as Run would tokenize it. Callers that must fit prompts into the
// context (the SQL aggregates pack rows into prompts) measure with it.
func (p *Pool) PromptTokens(ctx context.Context, model string, req Request) (int, error) {
	m, release, err := p.Acquire(ctx, model)
	if err != nil {
		return 0, err
	}
	defer release()
	return m.PromptTokens(req)
}

// ContextSize returns the positions one sequence of the named model may
// use (PoolConfig.Context, or the default from its training context): a
// prompt and its reply together must fit in it.
func (p *Pool) ContextSize(ctx context.Context, model string) (int, error) {
	m, release, err := p.Acquire(ctx, model)
	if err != nil {
		return 0, err
	}
	defer release()
	return m.Context(), nil
}
