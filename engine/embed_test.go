package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// goldenCases reads the llama.cpp embeddings of one model of
// testdata/embed_golden.json (see engine/model's TestEmbeddingGoldens).
func goldenCases(t *testing.T, name string) []struct {
	Text       string    `json:"text"`
	Tokens     []int32   `json:"tokens"`
	NativeFAOn []float64 `json:"native_fa_on"`
} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "testdata", "embed_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Models map[string]struct {
			Cases []struct {
				Text       string    `json:"text"`
				Tokens     []int32   `json:"tokens"`
				NativeFAOn []float64 `json:"native_fa_on"`
			} `json:"cases"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	m, ok := g.Models[name]
	if !ok {
		t.Fatalf("no golden model %s", name)
	}
	return m.Cases
}

// embedPool registers the named synthetic embedding models in a new pool.
func embedPool(t *testing.T, cfg PoolConfig, names ...string) *Pool {
	t.Helper()
	p := NewPool(cfg)
	t.Cleanup(p.Close)
	for _, n := range names {
		path := filepath.Join(t.TempDir(), n+".gguf")
		if err := synth.Write(path, synth.EmbeddingModels()[n]); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Register(n, path); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func cos64(a []float32, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * b[i]
		aa += float64(a[i]) * float64(a[i])
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// TestPoolEmbedMatchesLlamaCpp embeds the golden texts from text through
// the pool (tokenizer, scheduler, forward pass, pooling) and compares with
// llama.cpp: raw vectors to a cosine of 0.99999, normalized ones of unit
// length pointing the same way, reranker scores to 1e-3.
func TestPoolEmbedMatchesLlamaCpp(t *testing.T) {
	ctx := context.Background()
	names := []string{"bert-mean-f16", "bert-cls-f32", "nomic-bert-f16", "qwen3-last-f16", "bert-rank-f16", "qwen3-rank-f16"}
	p := embedPool(t, PoolConfig{}, names...)
	for _, name := range names {
		for _, c := range goldenCases(t, name) {
			if q, d, pair := strings.Cut(c.Text, "\t"); pair {
				s, err := p.Rerank(ctx, name, q, d, false)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(float64(s)-c.NativeFAOn[0]) > 1e-3 {
					t.Errorf("%s: rerank(%q, %q) = %.6f, llama.cpp %.6f", name, q, d, s, c.NativeFAOn[0])
				}
				if again, err := p.Rerank(ctx, name, q, d, false); err != nil || again != s {
					t.Errorf("%s: rerank again: %v, %v; first %v", name, again, err, s)
				}
				continue
			}
			raw, err := p.Embed(ctx, name, c.Text, EmbedOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if cs := cos64(raw, c.NativeFAOn); cs < 0.99999 {
				t.Errorf("%s: %q: cosine %.8f with llama.cpp", name, c.Text, cs)
			}
			unit, err := p.Embed(ctx, name, c.Text, EmbedOptions{Normalize: true})
			if err != nil {
				t.Fatal(err)
			}
			var norm float64
			for i, v := range unit {
				norm += float64(v) * float64(v)
				if want := float64(raw[i]) / math.Sqrt(dot(raw, raw)); math.Abs(float64(v)-want) > 1e-6 {
					t.Fatalf("%s: normalized[%d] = %g, want %g", name, i, v, want)
				}
			}
			if math.Abs(norm-1) > 1e-5 {
				t.Errorf("%s: normalized vector has squared length %g", name, norm)
			}
		}
	}
	// The second round of the same texts came from the cache.
	for _, u := range p.Usage() {
		if u.CacheHits == 0 || u.PromptTokens == 0 {
			t.Errorf("usage %+v: want cache hits and prompt tokens", u)
		}
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestEmbedManyTextsSharePasses embeds texts from many goroutines at once
// (as the SQL read-ahead does) and checks they share forward passes and
// each equals its embedding alone, bit for bit.
func TestEmbedManyTextsSharePasses(t *testing.T) {
	ctx := context.Background()
	p := embedPool(t, PoolConfig{ResultCacheBytes: -1}, "bert-mean-f32")
	var texts []string
	for i := range 48 {
		texts = append(texts, strings.Repeat(fmt.Sprintf("the little dog %d was in a world of text ", i), 1+i%4))
	}
	alone := make([][]float32, len(texts))
	for i, tx := range texts {
		v, err := p.Embed(ctx, "bert-mean-f32", tx, EmbedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = v
	}
	st, _ := p.SchedStats("bert-mean-f32")
	before := st.Passes
	// Goroutines reach the scheduler as the machine lets them (on a busy
	// one each text can run alone before the next arrives): hold the
	// scheduler until all wait, so that they surely meet.
	p.PassLimit("bert-mean-f32", before)
	got := make([][]float32, len(texts))
	var wg sync.WaitGroup
	for i, tx := range texts {
		wg.Go(func() {
			v, err := p.Embed(ctx, "bert-mean-f32", tx, EmbedOptions{})
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if st, _ := p.SchedStats("bert-mean-f32"); st.Waiting == len(texts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the texts never all reached the scheduler")
		}
	}
	p.PassLimit("bert-mean-f32", -1)
	wg.Wait()
	for i := range texts {
		for j := range alone[i] {
			if got[i][j] != alone[i][j] {
				t.Fatalf("text %d: batched embedding differs from alone at %d", i, j)
			}
		}
	}
	st, _ = p.SchedStats("bert-mean-f32")
	t.Logf("%d texts in %d passes", len(texts), st.Passes-before)
	// 48 texts of 10 to 40 tokens: a few passes of 512 tokens.
	if passes := st.Passes - before; passes > int64(len(texts))/4 {
		t.Errorf("%d texts took %d passes; want them packed together", len(texts), passes)
	}
	if st.EmbeddedTexts != int64(2*len(texts)) {
		t.Errorf("embedded %d texts, want %d", st.EmbeddedTexts, 2*len(texts))
	}
}

// TestEmbedBesideGeneration embeds while a decoder generates: the
// generation is unchanged and both finish.
func TestEmbedBesideGeneration(t *testing.T) {
	ctx := context.Background()
	p := embedPool(t, PoolConfig{ResultCacheBytes: -1}, "qwen3-last-f32")
	want, err := p.Generate(ctx, "qwen3-last-f32", "Once upon a time", greedy(40))
	if err != nil {
		t.Fatal(err)
	}
	vec, err := p.Embed(ctx, "qwen3-last-f32", "hello world", EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		got, err := p.Generate(ctx, "qwen3-last-f32", "Once upon a time", greedy(40))
		if err != nil || got != want {
			t.Errorf("generation beside embeddings: %q, %v; alone %q", got, err, want)
		}
	})
	for range 20 {
		v, err := p.Embed(ctx, "qwen3-last-f32", "hello world", EmbedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j := range v {
			if v[j] != vec[j] {
				t.Fatal("embedding beside a generation differs")
			}
		}
	}
	wg.Wait()
}

// TestEmbedErrors: texts too long (and truncated on request), a model
// that cannot rerank or generate, an unknown model.
func TestEmbedErrors(t *testing.T) {
	ctx := context.Background()
	p := embedPool(t, PoolConfig{ResultCacheBytes: -1}, "bert-cls-f32", "bert-rank-f32")
	long := strings.Repeat("the dog ", 100) // 200 words; bert-cls takes 96 positions
	_, err := p.Embed(ctx, "bert-cls-f32", long, EmbedOptions{})
	var tl *TextTooLongError
	if !errors.As(err, &tl) || tl.Tokens != 202 || tl.Limit != 96 || !strings.Contains(err.Error(), "202 tokens") {
		t.Fatalf("long text: %v", err)
	}
	cut, err := p.Embed(ctx, "bert-cls-f32", long, EmbedOptions{Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	// Truncation keeps the start and [SEP]: the same as embedding the
	// first 94 words' tokens.
	m, release, err := p.Acquire(ctx, "bert-cls-f32")
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := m.EmbedTokens(long, true)
	release()
	if len(ids) != 96 || ids[0] != 101 || ids[95] != 102 {
		t.Fatalf("truncated ids %v", ids)
	}
	prefix, err := p.Embed(ctx, "bert-cls-f32", strings.Repeat("the dog ", 47), EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cut {
		if cut[i] != prefix[i] {
			t.Fatal("a truncated text differs from its kept prefix")
		}
	}
	if _, err := p.Rerank(ctx, "bert-cls-f32", "a", "b", false); err == nil || !strings.Contains(err.Error(), "not a reranker") {
		t.Errorf("rerank on an embedder: %v", err)
	}
	if _, err := p.Rerank(ctx, "bert-rank-f32", "query", long, false); !errors.As(err, &tl) {
		t.Errorf("long rerank pair: %v", err)
	}
	if _, err := p.Rerank(ctx, "bert-rank-f32", "query", long, true); err != nil {
		t.Errorf("truncated rerank pair: %v", err)
	}
	if _, err := p.Generate(ctx, "bert-cls-f32", "hello", greedy(4)); err == nil || !strings.Contains(err.Error(), "cannot generate") {
		t.Errorf("generate on an encoder: %v", err)
	}
	if _, err := p.Embed(ctx, "nope", "x", EmbedOptions{}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
}

// TestRerankPromptTruncate: a Qwen3-Reranker pair too long for the model
// is an error naming its length, or with truncate is cut in the document,
// keeping the prompt's start and everything after {document}.
func TestRerankPromptTruncate(t *testing.T) {
	ctx := context.Background()
	p := embedPool(t, PoolConfig{ResultCacheBytes: -1}, "qwen3-rank-f32")
	m, release, err := p.Acquire(ctx, "qwen3-rank-f32")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	long := strings.Repeat("the dog ", m.EmbedLimit())
	var tl *TextTooLongError
	if _, err := m.RerankTokens("query", long, false); !errors.As(err, &tl) || tl.Limit != m.EmbedLimit() || tl.Tokens <= tl.Limit {
		t.Fatalf("long pair: %v", err)
	}
	ids, err := m.RerankTokens("query", long, true)
	if err != nil {
		t.Fatal(err)
	}
	full := m.Tok.Encode(strings.ReplaceAll(strings.ReplaceAll(synth.Qwen3RerankPrompt, "{query}", "query"), "{document}", long), true, true)
	_, after, _ := strings.Cut(synth.Qwen3RerankPrompt, "{document}")
	tail := m.Tok.Encode(after, false, true)
	if len(ids) != m.EmbedLimit() || !equalIDs(ids[:len(ids)-len(tail)], full[:len(ids)-len(tail)]) || !equalIDs(ids[len(ids)-len(tail):], tail) {
		t.Fatalf("truncated pair: %d ids, want %d: the prompt's start and its %d tail tokens", len(ids), m.EmbedLimit(), len(tail))
	}
	s, err := p.Rerank(ctx, "qwen3-rank-f32", "query", long, true)
	if err != nil || s <= 0 || s >= 1 {
		t.Fatalf("truncated rerank: %v, %v; want a probability", s, err)
	}
}

// TestEmbedSpecialTokenText: text that spells a special token is text, as
// node-llama-cpp's getEmbeddingFor tokenizes it: "[SEP]" inside a text is
// not BERT's separator, and only the affixes are special.
func TestEmbedSpecialTokenText(t *testing.T) {
	ctx := context.Background()
	p := embedPool(t, PoolConfig{ResultCacheBytes: -1}, "bert-cls-f32")
	m, release, err := p.Acquire(ctx, "bert-cls-f32")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ids, err := m.EmbedTokens("hello [SEP] world", false)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]int32{101}, m.Tok.Encode("hello [SEP] world", false, false)...), 102)
	if !equalIDs(ids, want) || len(ids) <= 4 {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	for _, id := range ids[1 : len(ids)-1] {
		if id == 101 || id == 102 {
			t.Fatalf("ids %v: special token text became a special token", ids)
		}
	}
}
