package engine

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTruncateAndFinishReasons: options.Truncate fits a long prompt to the
// context from either side; every result says why it ended, also when
// answered from the result cache; OnToken counts the tokens as they come.
func TestTruncateAndFinishReasons(t *testing.T) {
	p := NewPool(PoolConfig{})
	defer p.Close()
	if _, err := p.Register("m", tiny(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	long := strings.Repeat("Once upon a time there was a dog. ", 40) // > 256 tokens
	opts := greedy(8)
	var pt *PromptTooLongError
	if _, err := p.Run(ctx, "m", Request{Prompt: long, Options: opts}); !errors.As(err, &pt) {
		t.Fatalf("long prompt without truncate: %v", err)
	}
	ids, _ := p.Tokenize(ctx, "m", long)
	for _, where := range []string{TruncateStart, TruncateEnd} {
		o := opts
		o.Truncate = where
		res, err := p.Run(ctx, "m", Request{Prompt: long, Options: o})
		if err != nil {
			t.Fatalf("truncate %s: %v", where, err)
		}
		// 256 - 1 - 8 tokens kept.
		if res.PromptTokens != 247 || res.Truncated != len(ids)-247 || res.FinishReason != FinishLength {
			t.Errorf("truncate %s: %+v (prompt was %d tokens)", where, res, len(ids))
		}
	}
	if kept := truncate([]int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 8, 100, TruncateStart, 1); len(kept) != 4 || kept[0] != 1 || kept[1] != 8 {
		t.Errorf("truncate start keeps BOS and half the context: %v", kept)
	}
	if kept := truncate([]int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 8, 2, TruncateEnd, 1); len(kept) != 5 || kept[4] != 5 {
		t.Errorf("truncate end keeps room for max_tokens: %v", kept)
	}

	var tokens atomic.Int64
	o := greedy(5)
	res, err := p.Run(ctx, "m", Request{Prompt: "Once", Options: o, OnToken: func() { tokens.Add(1) }})
	if err != nil || res.FinishReason != FinishLength || res.Cached || tokens.Load() != 5 || res.AnswerGeneratedTokens != 5 {
		t.Fatalf("max_tokens: %+v, %v, %d tokens seen", res, err, tokens.Load())
	}
	again, err := p.Run(ctx, "m", Request{Prompt: "Once", Options: o})
	if err != nil || !again.Cached || again.FinishReason != FinishLength || again.AnswerGeneratedTokens != 5 ||
		again.AnswerPromptTokens != res.AnswerPromptTokens || again.GeneratedTokens != 0 || again.Text != res.Text {
		t.Fatalf("from the cache: %+v, %v (first %+v)", again, err, res)
	}
	// Filling the context.
	o = greedy(1000)
	o.IgnoreEOS = true
	if res, err := p.Run(ctx, "m", Request{Prompt: "Once", Options: o}); err != nil || res.FinishReason != FinishContext {
		t.Fatalf("context: %+v, %v", res, err)
	}
	// A stop string.
	o = greedy(40)
	o.IgnoreEOS = true
	full, _ := p.Run(ctx, "m", Request{Prompt: "Once", Options: o})
	stop, _ := asciiStop(t, full.Text)
	o.Stop = []string{stop}
	if res, err := p.Run(ctx, "m", Request{Prompt: "Once", Options: o}); err != nil || res.FinishReason != FinishStopString {
		t.Fatalf("stop string: %+v, %v", res, err)
	}
	o = greedy(1)
	o.Truncate = "middle"
	var oe *OptionError
	if _, err := p.Run(ctx, "m", Request{Prompt: "Once", Options: o}); !errors.As(err, &oe) || oe.Name != "truncate" {
		t.Fatalf("truncate middle: %v", err)
	}
}
