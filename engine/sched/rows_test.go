package sched

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/llmsql/llmsql/engine/sample"
)

// TestRowsApartMatch: a pass's rows worked out on both members (sampling
// at a temperature with seeds, greedily, and scoring prompt tokens) give
// the results they give on the scheduler's goroutine alone, and both
// ways really ran.
func TestRowsApartMatch(t *testing.T) {
	reqs := func() []Request {
		var rs []Request
		for i, p := range prompts {
			params := sample.Params{Temperature: 0.9, TopP: 1, Seed: uint64(10 + i)}
			if i%2 == 1 {
				params = sample.Params{}
			}
			rs = append(rs, Request{Prompt: p, MaxTokens: 12, Sampler: sample.New(params)})
			if len(p) > 3 {
				rs = append(rs, Request{Prompt: p, ScoreFrom: 2, Sampler: sample.New(sample.Params{})})
			}
		}
		return rs
	}
	run := func(apart int) ([]Result, [][]int32, int64) {
		f := newFixtureThreads(t, 8, 2, 256, Config{})
		f.s.rowsApart = apart
		rs := reqs()
		toks := make([][]int32, len(rs))
		for i := range rs {
			rs[i].OnToken = func(tok int32) (bool, error) {
				toks[i] = append(toks[i], tok)
				return false, nil
			}
		}
		res := f.s.RunAll(context.Background(), rs)
		return res, toks, f.s.rowsApartPasses.Load()
	}
	alone, aloneToks, aloneApart := run(math.MaxInt)
	apart, apartToks, apartApart := run(0)
	if aloneApart != 0 || apartApart == 0 {
		t.Fatalf("passes whose rows went apart: %d and %d", aloneApart, apartApart)
	}
	for i := range alone {
		a, b := alone[i], apart[i]
		if a.Err != nil || b.Err != nil {
			t.Fatalf("request %d: %v, %v", i, a.Err, b.Err)
		}
		if fmt.Sprint(aloneToks[i]) != fmt.Sprint(apartToks[i]) || a.Reason != b.Reason {
			t.Fatalf("request %d: tokens %v (%s) alone, %v (%s) apart", i, aloneToks[i], a.Reason, apartToks[i], b.Reason)
		}
		if len(a.LogProbs) != len(b.LogProbs) {
			t.Fatalf("request %d: %d log-probabilities alone, %d apart", i, len(a.LogProbs), len(b.LogProbs))
		}
		for j := range a.LogProbs {
			if math.Float64bits(a.LogProbs[j]) != math.Float64bits(b.LogProbs[j]) {
				t.Fatalf("request %d: log-probability %d is %v alone, %v apart", i, j, a.LogProbs[j], b.LogProbs[j])
			}
		}
	}
}

// TestSharedSamplerRefused: a generation whose sampler another sequence
// in flight draws with is refused with ErrSamplerShared (two threads
// would draw with it at once), while the first runs; once that one has
// ended the sampler serves the next.
func TestSharedSamplerRefused(t *testing.T) {
	f := newFixtureThreads(t, 4, 2, 256, Config{})
	smp := sample.New(sample.Params{})
	other := sample.New(sample.Params{})
	res := f.s.RunAll(context.Background(), []Request{
		{Prompt: prompts[0], MaxTokens: 4, Sampler: smp},
		{Prompt: prompts[1], MaxTokens: 4, Sampler: other},
		{Prompt: prompts[2], MaxTokens: 4, Sampler: smp},
	})
	if res[0].Err != nil || res[1].Err != nil || res[0].Generated != 4 {
		t.Fatalf("the first two: %+v, %+v", res[0], res[1])
	}
	if res[2].Err != ErrSamplerShared {
		t.Fatalf("the third, sharing the first's sampler: %v", res[2].Err)
	}
	if r := f.s.Run(context.Background(), Request{Prompt: prompts[2], MaxTokens: 4, Sampler: smp}); r.Err != nil || r.Generated != 4 {
		t.Fatalf("the sampler after its sequence ended: %+v", r)
	}
}
