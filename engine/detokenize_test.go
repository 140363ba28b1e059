package engine

import (
	"context"
	"testing"
)

// TestDetokenizeRoundTrip: Detokenize(Tokenize(x)) is x where llama.cpp's
// detokenizer gives back x from x's tokens (recorded with node-llama-cpp on
// stories260K: a leading space survives, a BOS in front is not text).
func TestDetokenizeRoundTrip(t *testing.T) {
	ctx := context.Background()
	p := NewPool(PoolConfig{})
	defer p.Close()
	if _, err := p.Register("tiny", tiny(t)); err != nil {
		t.Fatal(err)
	}
	check := func(model string, texts ...string) {
		t.Helper()
		for _, x := range texts {
			ids, err := p.Tokenize(ctx, model, x)
			if err != nil {
				t.Fatal(err)
			}
			back, err := p.Detokenize(ctx, model, ids)
			if err != nil || back != x {
				t.Errorf("%s: Detokenize(Tokenize(%q)) = %q, %v", model, x, back, err)
			}
		}
	}
	check("tiny", "Once upon a time", "a dog ran")
	if _, err := p.Register("stories", stories(t)); err != nil {
		t.Fatal(err)
	}
	check("stories", "Hello world", " leading space", "emoji 😀 ok", "a\nb")
	// Without BOS, as llama.cpp's detokenizer.
	if got, err := p.Detokenize(ctx, "stories", []int32{346, 306, 414, 263, 304, 341}); err != nil || got != "Hello world" {
		t.Errorf("without BOS: %q, %v", got, err)
	}
}
