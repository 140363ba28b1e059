package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

func stories(t testing.TB) string { return testutil.Shared(t, "models/stories260K.gguf") }

// tinySpec is the model of the tests that do not compare with llama.cpp:
// written in-process (internal/synth), so they run on a fresh clone.
var tinySpec = synth.Tiny()

func tiny(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(path, tinySpec); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinyParams is tinySpec's parameter count.
func tinyParams(nv int) uint64 {
	s := tinySpec
	hd := s.Embd / s.Heads
	qd, kvd := s.Heads*hd, s.KVHeads*hd
	layer := s.Embd + s.Embd*qd + 2*s.Embd*kvd + qd*s.Embd + s.Embd + 3*s.Embd*s.FF
	return uint64(2*s.Embd*nv + s.Embd + s.Layers*layer)
}

// asciiStop picks a two-letter stop string from the middle of text, and
// the text before its first occurrence.
func asciiStop(t *testing.T, text string) (stop, before string) {
	t.Helper()
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := len(text) / 3; i+1 < len(text); i++ {
		if isLetter(text[i]) && isLetter(text[i+1]) {
			stop = text[i : i+2]
			return stop, text[:strings.Index(text, stop)]
		}
	}
	t.Fatalf("no two letters in a row in %q", text)
	return "", ""
}

func greedy(n int) GenerateOptions {
	o := DefaultGenerateOptions()
	o.Temperature = 0
	o.MaxTokens = n
	return o
}

type greedyRef struct {
	Prompt       string  `json:"prompt"`
	PromptIDs    []int32 `json:"prompt_ids"`
	GeneratedIDs []int32 `json:"generated_ids"`
	Text         string  `json:"text"`
	EOGIndex     int     `json:"eog_index"`
}

// TestGenerateMatchesLlamaCppText runs the whole path, text in and text
// out, and compares with llama.cpp's recorded completions.
func TestGenerateMatchesLlamaCppText(t *testing.T) {
	var refs []greedyRef
	data, err := os.ReadFile(testutil.Shared(t, "ref/stories260K_greedy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &refs); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(stories(t), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, ref := range refs {
		opts := greedy(len(ref.GeneratedIDs))
		opts.IgnoreEOS = true // llama.cpp's runs did not stop at EOS
		var streamed strings.Builder
		res, err := m.Generate(context.Background(), Request{Prompt: ref.Prompt, Options: opts,
			OnText: func(s string) error { streamed.WriteString(s); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if !equalIDs(res.PromptIDs, ref.PromptIDs) {
			t.Errorf("%q: prompt ids %v, llama.cpp %v", ref.Prompt, res.PromptIDs, ref.PromptIDs)
		}
		if !equalIDs(res.GeneratedIDs, ref.GeneratedIDs) {
			t.Errorf("%q: generated %v, llama.cpp %v", ref.Prompt, res.GeneratedIDs, ref.GeneratedIDs)
		}
		if res.Text != ref.Text || streamed.String() != ref.Text {
			t.Errorf("%q: text %q (streamed %q), llama.cpp %q", ref.Prompt, res.Text, streamed.String(), ref.Text)
		}
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStopStringsAndLimits(t *testing.T) {
	path := tiny(t)
	m, err := LoadModel(path, LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	all := greedy(64)
	all.IgnoreEOS = true
	full, err := m.Generate(ctx, Request{Prompt: "Once upon a time", Options: all})
	if err != nil {
		t.Fatal(err)
	}
	// Stop at two letters from the middle: the text must end right
	// before their first occurrence.
	stop, want := asciiStop(t, full.Text)
	opts := all
	opts.Stop = []string{stop, "zzz"}
	var pieces []string
	res, err := m.Generate(ctx, Request{Prompt: "Once upon a time", Options: opts,
		OnText: func(s string) error { pieces = append(pieces, s); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != want || res.StopReason != "stop" || strings.Join(pieces, "") != want {
		t.Fatalf("stop: %q (%s), streamed %q; want %q", res.Text, res.StopReason, strings.Join(pieces, ""), want)
	}
	// max_tokens bounds the count exactly.
	three := all
	three.MaxTokens = 3
	res, err = m.Generate(ctx, Request{Prompt: "Once upon a time", Options: three})
	if err != nil || len(res.GeneratedIDs) != 3 || res.StopReason != "length" {
		t.Fatalf("max tokens: %v %v", res, err)
	}
	// A prompt longer than the context is refused with both numbers.
	small, err := LoadModel(path, LoadConfig{Context: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	_, err = small.Generate(ctx, Request{Prompt: strings.Repeat("Once upon a time ", 10), Options: greedy(4)})
	var tooLong *PromptTooLongError
	if !errors.As(err, &tooLong) || tooLong.Context != 16 || !strings.Contains(err.Error(), "16") {
		t.Fatalf("long prompt: %v", err)
	}
	// Generation that reaches the end of the context stops there.
	long := all
	long.MaxTokens = 100
	res, err = small.Generate(ctx, Request{Prompt: "Once upon a time", Options: long})
	if err != nil || res.StopReason != "context" || len(res.PromptIDs)+len(res.GeneratedIDs) > 17 {
		t.Fatalf("context end: %+v %v", res, err)
	}
	// A bad option is refused before any work, naming the option.
	bad := greedy(4)
	bad.TopP = 2
	if _, err := m.Generate(ctx, Request{Prompt: "x", Options: bad}); err == nil || !strings.Contains(err.Error(), "top_p") {
		t.Fatalf("bad option: %v", err)
	}
}

func TestSeededSamplingIsReproducible(t *testing.T) {
	m, err := LoadModel(tiny(t), LoadConfig{Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opts := DefaultGenerateOptions()
	opts.MaxTokens = 32
	opts.Seed, opts.HasSeed = 42, true
	var wg sync.WaitGroup
	texts := make([]string, 4)
	for i := range texts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := m.Generate(context.Background(), Request{Prompt: "The little dog", Options: opts})
			if err != nil {
				t.Error(err)
				return
			}
			texts[i] = res.Text
		}(i)
	}
	wg.Wait()
	for i := range texts {
		if texts[i] != texts[0] {
			t.Fatalf("seeded runs differ while sharing the model: %q vs %q", texts[i], texts[0])
		}
	}
	opts.Seed = 43
	other, err := m.Generate(context.Background(), Request{Prompt: "The little dog", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if other.Text == texts[0] {
		t.Log("seeds 42 and 43 gave the same text (possible on a tiny model, but unlikely)")
	}
}

func TestCancelStopsGeneration(t *testing.T) {
	m, err := LoadModel(tiny(t), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	opts := greedy(1000)
	opts.IgnoreEOS = true
	// Cancelled at the fifth token from OnToken, on the scheduler's
	// goroutine, so the cancellation surely lands before the next pass
	// (from OnText, the goroutine delivering text can lag so far behind
	// on a loaded machine that the tiny model reaches its context first).
	n := 0
	res, err := m.Generate(ctx, Request{Prompt: "Once upon a time", Options: opts, OnToken: func() {
		if n++; n == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled generation returned %v", err)
	}
	if res == nil || res.StopReason != "cancelled" || len(res.GeneratedIDs) != 5 {
		t.Fatalf("cancelled at the fifth token: %+v", res)
	}
	// The slot came back: the model still serves.
	if _, err := m.Generate(context.Background(), Request{Prompt: "Once", Options: greedy(2)}); err != nil {
		t.Fatal(err)
	}
}

func TestPoolRegistersLoadsAndUnloads(t *testing.T) {
	path := tiny(t)
	// A budget that holds one model and a half.
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	need, err := PlanMemory(f, LoadConfig{Slots: 2})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(PoolConfig{MaxSequences: 2, MemoryBudget: need.Total() * 3 / 2})
	defer p.Close()
	ctx := context.Background()
	if _, err := p.Generate(ctx, "nope", "x", greedy(1)); !errors.Is(err, ErrUnknownModel) ||
		err.Error() != "model 'nope' is not registered; see SELECT name FROM llm.models" {
		t.Fatalf("unknown model: %v", err)
	}
	info, err := p.Register("s", path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Architecture != "llama" || info.VocabSize != 512 || info.ContextLength != tinySpec.Context || info.Parameters != tinyParams(512) {
		t.Fatalf("info %+v (want %d parameters)", info, tinyParams(512))
	}
	if _, err := p.Register("s", path); err == nil {
		t.Fatal("registered a name twice")
	}
	if _, err := p.Register("bad name!", path); err == nil {
		t.Fatal("accepted a bad name")
	}
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00garbage"), 0o644)
	if _, err := p.Register("b", bad); err == nil || !strings.Contains(err.Error(), "at byte") {
		t.Fatalf("corrupt file: %v", err)
	}
	if _, err := p.Register("m", "/does/not/exist.gguf"); err == nil {
		t.Fatal("registered a missing file")
	}
	if p.Models()[0].Loaded {
		t.Fatal("loaded before first use")
	}
	// The pool answers what the model alone answers.
	alone, err := LoadModel(path, LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := alone.Generate(ctx, Request{Prompt: "Once upon a time", Options: greedy(8)})
	alone.Close()
	if err != nil {
		t.Fatal(err)
	}
	text, err := p.Generate(ctx, "s", "Once upon a time", greedy(8))
	if err != nil || text != want.Text {
		t.Fatalf("generate: %q %v, the model alone %q", text, err, want.Text)
	}
	// BOS, then the built-in vocabulary's whole words.
	ids, err := p.Tokenize(ctx, "s", "Once upon a time")
	if err != nil || len(ids) != 5 || ids[0] != 1 {
		t.Fatalf("tokenize: %v %v", ids, err)
	}
	back, err := p.Detokenize(ctx, "s", ids[1:])
	// llama.cpp drops the space SentencePiece put before the first word.
	if err != nil || back != "Once upon a time" {
		t.Fatalf("detokenize: %q %v", back, err)
	}
	if _, err := p.Detokenize(ctx, "s", []int32{99999}); err == nil {
		t.Fatal("detokenized an id outside the vocabulary")
	}
	// A second model over the budget unloads the idle first one.
	if _, err := p.Register("t", path); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(ctx, "t", "Once", greedy(1)); err != nil {
		t.Fatal(err)
	}
	for _, mi := range p.Models() {
		if mi.Name == "s" && mi.Loaded {
			t.Fatal("idle model s stayed loaded over the memory budget")
		}
	}
	if err := p.Unregister("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(ctx, "s", "x", greedy(1)); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("after unregister: %v", err)
	}
}

// TestPoolConcurrentCallsShareOneModel runs 8 generations at once over a
// pool limited to 2 sequences: all must finish with the right answer.
func TestPoolConcurrentCallsShareOneModel(t *testing.T) {
	p := NewPool(PoolConfig{MaxSequences: 2})
	defer p.Close()
	if _, err := p.Register("s", tiny(t)); err != nil {
		t.Fatal(err)
	}
	want, err := p.Generate(context.Background(), "s", "The little dog", greedy(16))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := p.Generate(ctx, "s", "The little dog", greedy(16))
			if err == nil && got != want {
				err = errors.New("got " + got + ", want " + want)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestResultCache(t *testing.T) {
	p := NewPool(PoolConfig{MaxSequences: 4})
	defer p.Close()
	if _, err := p.Register("s", tiny(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := p.Generate(ctx, "s", "The little dog", greedy(12))
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Generate(ctx, "s", "The little dog", greedy(12))
	if err != nil || again != first {
		t.Fatalf("cached answer %q, first %q (%v)", again, first, err)
	}
	if st := p.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 {
		t.Fatalf("after a repeat: %+v", st)
	}
	// Another option is another key.
	if _, err := p.Generate(ctx, "s", "The little dog", greedy(13)); err != nil {
		t.Fatal(err)
	}
	if st := p.CacheStats(); st.Misses != 2 {
		t.Fatalf("max_tokens did not change the key: %+v", st)
	}
	// Identical concurrent calls run the model once.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Generate(ctx, "s", "Lily and Ben", greedy(20)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := p.CacheStats(); st.Misses != 3 || st.Hits != 6 {
		t.Fatalf("six identical calls: %+v", st)
	}
	// Unseeded sampling is never cached; seeded sampling is.
	hot := DefaultGenerateOptions()
	hot.MaxTokens = 4
	p.Generate(ctx, "s", "x", hot)
	p.Generate(ctx, "s", "x", hot)
	if st := p.CacheStats(); st.Misses != 3 {
		t.Fatalf("unseeded sampling went through the cache: %+v", st)
	}
	hot.Seed, hot.HasSeed = 9, true
	a, _ := p.Generate(ctx, "s", "x", hot)
	b, _ := p.Generate(ctx, "s", "x", hot)
	if st := p.CacheStats(); st.Misses != 4 || a != b {
		t.Fatalf("seeded sampling: %+v %q %q", st, a, b)
	}
	u := p.Usage()
	if len(u) != 1 || u[0].Calls != 13 || u[0].CacheHits != 7 || u[0].GeneratedTokens == 0 {
		t.Fatalf("usage %+v", u)
	}
	p.SetResultCache(false)
	p.Generate(ctx, "s", "The little dog", greedy(12))
	if st := p.CacheStats(); st.Enabled || st.Entries != 0 || st.Hits != 7 {
		t.Fatalf("after turning off: %+v", st)
	}
}

// TestLoadConfigOptions: every LoadConfig field does what it says. A
// small BatchSize splits a prompt over several forward passes without
// changing the answer; KVF32 doubles the cache; NoPack keeps the file's
// layout and gives the same tokens; Slots defaults to DefaultSlots.
func TestLoadConfigOptions(t *testing.T) {
	spec := tinySpec
	spec.Type = gguf.TypeQ4_0
	path := filepath.Join(t.TempDir(), "q4.gguf")
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	run := func(cfg LoadConfig) (*Model, *Result) {
		t.Helper()
		m, err := LoadModel(path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		opts := greedy(12)
		opts.IgnoreEOS = true
		res, err := m.Generate(context.Background(), Request{Prompt: "Once upon a time there was a little dog", Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		return m, res
	}
	base, want := run(LoadConfig{})
	if base.kv.Config().Slots != DefaultSlots {
		t.Errorf("default slots %d, want %d", base.kv.Config().Slots, DefaultSlots)
	}
	if base.Net.Blocks[0].Up.Packed != tensor.Packs(gguf.TypeQ4_0) {
		t.Errorf("Q4_0 weights packed: %v, this level packs: %v", base.Net.Blocks[0].Up.Packed, tensor.Packs(gguf.TypeQ4_0))
	}
	small, got := run(LoadConfig{BatchSize: 3})
	if small.SchedStats().Passes < base.SchedStats().Passes+3 || !equalIDs(got.GeneratedIDs, want.GeneratedIDs) {
		t.Errorf("BatchSize 3: %d passes (default %d), ids %v, want %v", small.SchedStats().Passes, base.SchedStats().Passes, got.GeneratedIDs, want.GeneratedIDs)
	}
	f32, _ := run(LoadConfig{KVF32: true})
	if !f32.kv.IsF32() || f32.kv.Bytes() != 2*base.kv.Bytes() {
		t.Errorf("KVF32: F32 %v, %d bytes (F16 %d)", f32.kv.IsF32(), f32.kv.Bytes(), base.kv.Bytes())
	}
	unpacked, got := run(LoadConfig{NoPack: true})
	if unpacked.Net.Blocks[0].Up.Packed || !equalIDs(got.GeneratedIDs, want.GeneratedIDs) {
		t.Errorf("NoPack: packed %v, ids %v, want %v", unpacked.Net.Blocks[0].Up.Packed, got.GeneratedIDs, want.GeneratedIDs)
	}
}
