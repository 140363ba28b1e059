package sqlfuncstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/llmsql/llmsql/engine"
)

// EmbedDim is the length of the Fake's embeddings.
const EmbedDim = 8

// Embed implements sqlfuncs.EmbedBackend: a vector of EmbedDim values,
// value i counting the text's bytes b with b%8 == i, plus one; unit length
// when opts.Normalize. A text longer than 64 bytes is an error unless
// opts.Truncate (then its first 64 bytes count). BlockPrefix and
// MeetPrefix work as for Generate.
func (f *Fake) Embed(ctx context.Context, model, text string, opts engine.EmbedOptions) ([]float32, error) {
	f.embeds.Add(1)
	if err := f.check(model); err != nil {
		return nil, err
	}
	release, err := f.enter(ctx, text)
	if err != nil {
		return nil, err
	}
	defer release()
	if len(text) > 64 {
		if !opts.Truncate {
			return nil, &engine.TextTooLongError{Tokens: len(text), Limit: 64}
		}
		text = text[:64]
	}
	v := make([]float32, EmbedDim)
	for i := range v {
		v[i] = 1
	}
	for i := 0; i < len(text); i++ {
		v[text[i]%EmbedDim]++
	}
	if opts.Normalize {
		engine.Normalize(v)
	}
	return v, nil
}

// Rerank implements sqlfuncs.EmbedBackend: the number of the query's
// words found in the document, or an error for a model whose name does
// not contain "rerank".
func (f *Fake) Rerank(ctx context.Context, model, query, document string, truncate bool) (float32, error) {
	f.embeds.Add(1)
	if err := f.check(model); err != nil {
		return 0, err
	}
	if !strings.Contains(model, "rerank") {
		return 0, fmt.Errorf("model is not a reranker")
	}
	release, err := f.enter(ctx, query)
	if err != nil {
		return 0, err
	}
	defer release()
	n := 0
	for _, w := range strings.Fields(query) {
		if strings.Contains(document, w) {
			n++
		}
	}
	return float32(n), nil
}

// EmbedDim implements sqlfuncs.EmbedBackend.
func (f *Fake) EmbedDim(model string) (int, error) {
	if err := f.check(model); err != nil {
		return 0, err
	}
	return EmbedDim, nil
}

// Embeds is the number of Embed and Rerank calls so far.
func (f *Fake) Embeds() int64 { return f.embeds.Load() }

// enter counts a call in flight and honours BlockPrefix and MeetPrefix in
// control; release ends it.
func (f *Fake) enter(ctx context.Context, control string) (release func(), err error) {
	f.mu.Lock()
	f.inFlight++
	f.maxPar = max(f.maxPar, f.inFlight)
	f.mu.Unlock()
	release = func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}
	if strings.HasPrefix(control, BlockPrefix) {
		f.blocked.Add(1)
		defer f.blocked.Add(-1)
		<-ctx.Done()
		release()
		return nil, ctx.Err()
	}
	if rest, ok := strings.CutPrefix(control, MeetPrefix); ok {
		nStr, _, _ := strings.Cut(rest, ":")
		n, err := strconv.Atoi(nStr)
		if err != nil {
			release()
			return nil, fmt.Errorf("fake: bad meet text %q", control)
		}
		for f.MaxParallel() < n {
			select {
			case <-ctx.Done():
				release()
				return nil, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	if err := ctx.Err(); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// FakeVector is the Fake's unnormalized embedding of text, for tests.
func FakeVector(text string) []float32 {
	v := make([]float32, EmbedDim)
	for i := range v {
		v[i] = 1
	}
	for i := 0; i < len(text) && i < 64; i++ {
		v[text[i]%EmbedDim]++
	}
	return v
}
