package engine

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/llmsql/llmsql/engine/sample"
	"github.com/llmsql/llmsql/engine/sched"
)

// BatchedBenchResult is what BenchSequences measured: totals across the
// sequences, as llama-batched-bench reports them.
type BatchedBenchResult struct {
	Sequences      int
	PromptTPS      float64 // all sequences' prompt tokens / the time to process them
	GenTPS         float64 // all sequences' generated tokens / the time to generate them
	AllocsPerToken float64 // per generated token
}

// BenchSequences times seqs sequences decoding together, as
// llama-batched-bench does: first the seqs prompts of p tokens together
// (PromptTPS = seqs*p over that time), then n decode steps in which every
// sequence generates a token, continuing after its prompt (GenTPS =
// seqs*n over those steps). The model needs seqs slots of p+n+2
// positions. Token ids are arbitrary (each sequence's own) and sampling is
// greedy: speed does not depend on them.
func (m *Model) BenchSequences(ctx context.Context, seqs, p, n int) (BatchedBenchResult, error) {
	r := BatchedBenchResult{Sequences: seqs}
	if seqs < 1 || p < 1 || n < 1 {
		return r, fmt.Errorf("bench: want at least one sequence, one prompt token and one generated token")
	}
	if seqs > m.kv.Config().Slots || p+n+2 > m.cfg.Context {
		return r, fmt.Errorf("bench: %d sequences of %d+%d tokens need %d slots of %d positions; the model has %d of %d",
			seqs, p, n, seqs, p+n+2, m.kv.Config().Slots, m.cfg.Context)
	}
	vocab := m.Net.Vocab
	salt := int(time.Now().UnixNano() % int64(vocab))
	prompts := make([][]int32, seqs)
	for s := range prompts {
		prompts[s] = make([]int32, p)
		for i := range prompts[s] {
			prompts[s][i] = int32((i*7919 + s*104729 + salt + 1) % vocab)
		}
		// A distinct first token per sequence keeps the prefix cache from
		// sharing positions between them.
		prompts[s][0] = int32((salt + s) % vocab)
	}
	reqs := make([]sched.Request, seqs)

	// The prompts, all at once.
	for s := range reqs {
		reqs[s] = sched.Request{Prompt: prompts[s], MaxTokens: 0, Sampler: sample.New(sample.Params{})}
	}
	start := time.Now()
	for _, res := range m.sched.RunAll(ctx, reqs) {
		if res.Err != nil {
			return r, res.Err
		}
	}
	r.PromptTPS = float64(seqs*p) / time.Since(start).Seconds()

	// The same prompts again: each slot holds its prompt, so only the last
	// prompt token runs (the step that gives every sequence its first
	// token); the clock starts when all have it and stops after n more
	// steps.
	var before, after runtime.MemStats
	var t0 time.Time
	got := 0
	onToken := func(int32) (bool, error) {
		// The scheduler calls this on its goroutine, one call at a time.
		if got++; got == seqs {
			runtime.ReadMemStats(&before)
			t0 = time.Now()
		}
		return false, nil
	}
	for s := range reqs {
		reqs[s] = sched.Request{Prompt: prompts[s], MaxTokens: n + 1, Sampler: sample.New(sample.Params{}), OnToken: onToken}
	}
	for _, res := range m.sched.RunAll(ctx, reqs) {
		if res.Err != nil {
			return r, res.Err
		}
		if res.ReusedPrefix != p-1 {
			return r, fmt.Errorf("bench: a sequence reused %d prompt positions, not %d", res.ReusedPrefix, p-1)
		}
	}
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&after)
	r.GenTPS = float64(seqs*n) / elapsed.Seconds()
	r.AllocsPerToken = float64(after.Mallocs-before.Mallocs) / float64(seqs*n)
	return r, nil
}
