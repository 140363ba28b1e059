package sched

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/sample"
)

// TestEmbedNeedsNoSlot: with the only slot held by a long generation,
// texts to embed still run (in the generation's passes, several to a
// pass), each equal to its embedding alone, and the slot's generation is
// unchanged by them.
func TestEmbedNeedsNoSlot(t *testing.T) {
	f := newFixture(t, 1, Config{BatchTokens: 64})
	ctx := context.Background()
	greedy := func() *sample.Sampler { return sample.New(sample.Params{}) }
	want := f.run(t, prompts[2], 60, greedy)

	texts := [][]int32{prompts[0], prompts[1], prompts[3], prompts[5], {1, 300, 301}}
	alone := make([][]float32, len(texts))
	for i, p := range texts {
		r := f.s.Run(ctx, Request{Prompt: p, Embed: true})
		if r.Err != nil || len(r.Embedding) != 64 {
			t.Fatalf("embed alone: %v, %d values", r.Err, len(r.Embedding))
		}
		alone[i] = r.Embedding
	}

	started := make(chan struct{})
	var got []int32
	var wg sync.WaitGroup
	wg.Go(func() {
		r := f.s.Run(ctx, Request{Prompt: prompts[2], MaxTokens: 60, Sampler: greedy(),
			OnToken: func(tok int32) (bool, error) {
				if len(got) == 0 {
					close(started)
				}
				got = append(got, tok)
				return false, nil
			}})
		if r.Err != nil {
			t.Error(r.Err)
		}
	})
	<-started
	reqs := make([]Request, len(texts))
	for i, p := range texts {
		reqs[i] = Request{Prompt: p, Embed: true}
	}
	results := f.s.RunAll(ctx, reqs)
	stillGenerating := f.s.Stats().GeneratedTokens < int64(2*len(want)) // the first run's 60 and this one's
	wg.Wait()
	for i, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for j := range r.Embedding {
			if r.Embedding[j] != alone[i][j] {
				t.Fatalf("text %d: embedding beside a generation differs from alone", i)
			}
		}
	}
	if !equal(got, want) {
		t.Fatalf("generation beside embeddings %v, alone %v", got, want)
	}
	if !stillGenerating {
		t.Log("the generation ended before the embeddings (a slow machine?); they did not need its slot either way")
	}
	if n := f.s.Stats().EmbeddedTexts; n != 2*int64(len(texts)) {
		t.Errorf("EmbeddedTexts %d", n)
	}
	// Submitted together, the five share one pass.
	before := f.s.Stats().Passes
	for _, r := range f.s.RunAll(ctx, reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if passes := f.s.Stats().Passes - before; passes != 1 {
		t.Errorf("5 short texts submitted together took %d passes, want 1", passes)
	}
}

// TestEmbedLongerThanBatch: a text longer than a pass's token budget runs
// whole in a pass of its own; one longer than the context is refused.
func TestEmbedLongerThanBatch(t *testing.T) {
	f := newFixture(t, 2, Config{BatchTokens: 16})
	ctx := context.Background()
	long := make([]int32, 200)
	for i := range long {
		long[i] = int32(260 + i%200)
	}
	long[0] = 1
	r := f.s.Run(ctx, Request{Prompt: long, Embed: true})
	if r.Err != nil || len(r.Embedding) != 64 {
		t.Fatalf("long text: %v", r.Err)
	}
	full := make([]int32, 256)
	copy(full, long)
	if r := f.s.Run(ctx, Request{Prompt: full, Embed: true}); r.Err != nil {
		t.Fatalf("a text filling the context: %v", r.Err)
	}
	if r := f.s.Run(ctx, Request{Prompt: append(full, 1), Embed: true}); r.Err == nil {
		t.Fatal("a text longer than the context was accepted")
	}
}

// TestEmbedCancelled: a cancelled embedding request ends with the
// context's error and the scheduler goes on.
func TestEmbedCancelled(t *testing.T) {
	f := newFixture(t, 1, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := f.s.Run(ctx, Request{Prompt: prompts[0], Embed: true}); r.Err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if r := f.s.Run(ctx2, Request{Prompt: prompts[0], Embed: true}); r.Err != nil {
		t.Fatal(r.Err)
	}
}
