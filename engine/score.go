package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/llmsql/llmsql/engine/sample"
	"github.com/llmsql/llmsql/engine/sched"
)

// Score returns the log-probability of each candidate continuation given
// the prompt: the sum over its tokens of log p(token | prompt, the tokens
// before it). The prompt runs once; then every candidate runs in the same
// forward passes, each in its own cache slot starting from a copy of the
// prompt's positions. Nothing is sampled, and the kernels treat each row
// alike whatever else is in the batch, so the scores are the same every
// time and whatever else the model is doing.
func (m *Model) Score(ctx context.Context, prompt []int32, candidates [][]int32) ([]float64, error) {
	if !m.Net.CanGenerate() {
		return nil, fmt.Errorf("model is a %s embedding model without an output head: it cannot score text", m.Net.Arch)
	}
	if len(prompt) == 0 {
		return nil, errors.New("score: empty prompt")
	}
	for i, c := range candidates {
		if len(c) == 0 {
			return nil, fmt.Errorf("score: candidate %d is empty", i)
		}
		if len(prompt)+len(c) >= m.cfg.Context {
			return nil, &PromptTooLongError{Tokens: len(prompt) + len(c), Context: m.cfg.Context}
		}
	}
	// The prompt first, so the candidates find its positions in a cache
	// slot to copy (its last position runs again with each candidate, to
	// give the first candidate token's probability).
	if r := m.sched.Run(ctx, sched.Request{Prompt: prompt, Sampler: greedySampler()}); r.Err != nil {
		return nil, r.Err
	}
	// The candidates together, so that they join the same forward pass
	// (as far as there are cache slots for them).
	reqs := make([]sched.Request, len(candidates))
	for i, c := range candidates {
		ids := append(append(make([]int32, 0, len(prompt)+len(c)), prompt...), c...)
		reqs[i] = sched.Request{Prompt: ids, ScoreFrom: len(prompt), Sampler: greedySampler()}
	}
	out := make([]float64, len(candidates))
	for i, r := range m.sched.RunAll(ctx, reqs) {
		if r.Err != nil {
			return nil, r.Err
		}
		if len(r.LogProbs) != len(candidates[i]) {
			return nil, fmt.Errorf("score: %d log-probabilities for %d tokens", len(r.LogProbs), len(candidates[i]))
		}
		var sum float64
		for _, lp := range r.LogProbs {
			sum += lp
		}
		out[i] = sum
	}
	return out, nil
}

// ScoreText scores continuations of a text prompt: each continuation's
// tokens are those the tokenizer gives prompt+continuation after the
// prompt's own tokens (so a continuation that merges with the prompt's
// last characters is scored as the model would write it), or, where the
// two tokenizations part before the prompt ends, the continuation
// tokenized alone.
func (m *Model) ScoreText(ctx context.Context, prompt string, continuations []string) ([]float64, error) {
	p := m.Tok.Encode(prompt, true, false)
	cands := make([][]int32, len(continuations))
	for i, c := range continuations {
		full := m.Tok.Encode(prompt+c, true, false)
		if len(full) > len(p) && equalPrefix(full, p) {
			cands[i] = full[len(p):]
		} else {
			cands[i] = m.Tok.Encode(c, false, false)
		}
		if len(cands[i]) == 0 {
			return nil, fmt.Errorf("score: continuation %q has no tokens", c)
		}
	}
	return m.Score(ctx, p, cands)
}

func equalPrefix(a, prefix []int32) bool {
	if len(a) < len(prefix) {
		return false
	}
	for i := range prefix {
		if a[i] != prefix[i] {
			return false
		}
	}
	return true
}

func greedySampler() *sample.Sampler { return sample.New(sample.Params{}) }
