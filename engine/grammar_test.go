package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/grammar"
	"github.com/llmsql/llmsql/engine/jsonschema"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// grammarGolden is what testdata/grammar_golden.mjs records: llama.cpp's
// constrained greedy decoding (node-llama-cpp's LlamaGrammar).
type grammarGolden struct {
	N        int               `json:"n"` // tokens at most
	Grammars map[string]string `json:"grammars"`
	Cases    []struct {
		Grammar      string  `json:"grammar"`
		Prompt       string  `json:"prompt"`
		PromptIDs    []int32 `json:"prompt_ids"`
		GeneratedIDs []int32 `json:"generated_ids"`
		EOG          bool    `json:"eog"`
	} `json:"cases"`
}

// qwen3GrammarSpec is the synthetic Qwen3 model (the full 151,936-token
// vocabulary) the qwen3 grammar goldens were recorded on.
var qwen3GrammarSpec = synth.Spec{Arch: "qwen3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 1, Tied: false, Type: gguf.TypeF16}

func TestGrammarMatchesLlamaCpp(t *testing.T) {
	for _, c := range []struct{ golden, model string }{
		{"grammar_stories260K.json", "models/stories260K.gguf"},
		{"grammar_stories260K-q8_0.json", "models/stories260K-q8_0.gguf"},
		{"grammar_stories260K-q4_0.json", "models/stories260K-q4_0.gguf"},
		{"grammar_qwen3_synth.json", ""},
	} {
		t.Run(c.golden, func(t *testing.T) {
			var path string
			if c.model != "" {
				path = testutil.Shared(t, c.model)
			} else {
				spec := qwen3GrammarSpec
				spec.Vocab = testutil.Shared(t, "vocab/ggml-vocab-qwen3.gguf")
				path = filepath.Join(t.TempDir(), "qwen3.gguf")
				if err := synth.Write(path, spec); err != nil {
					t.Fatal(err)
				}
			}
			var g grammarGolden
			b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "testdata", c.golden))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			m, err := LoadModel(path, LoadConfig{Slots: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			// All cases at once: the scheduler decodes them together, each
			// with its own grammar state, and each must still equal
			// llama.cpp's (one sequence at a time).
			var wg sync.WaitGroup
			errs := make([]string, len(g.Cases))
			for i, gc := range g.Cases {
				wg.Add(1)
				go func() {
					defer wg.Done()
					opts := greedy(g.N)
					opts.Grammar = g.Grammars[gc.Grammar]
					res, err := m.Generate(context.Background(), Request{PromptIDs: gc.PromptIDs, Options: opts})
					if err != nil {
						errs[i] = err.Error()
						return
					}
					if !equalIDs(res.GeneratedIDs, gc.GeneratedIDs) {
						errs[i] = "generated " + idList(res.GeneratedIDs) + ", llama.cpp " + idList(gc.GeneratedIDs)
					}
				}()
			}
			wg.Wait()
			for i, e := range errs {
				if e != "" {
					t.Errorf("%s / %q: %s", g.Cases[i].Grammar, g.Cases[i].Prompt, e)
				}
			}
		})
	}
}

func idList(ids []int32) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func TestGrammarOutputAndIncomplete(t *testing.T) {
	m, err := LoadModel(tiny(t), LoadConfig{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// The tiny model's vocabulary has single letters; the reply must be
	// three of them, then it ends without waiting for an end token.
	opts := greedy(20)
	opts.Grammar = `root ::= [a-z] [a-z] [a-z]`
	res, err := m.Generate(context.Background(), Request{Prompt: "hello", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Text) != 3 || strings.Trim(res.Text, "abcdefghijklmnopqrstuvwxyz") != "" || res.Incomplete || res.StopReason != "eos" {
		t.Fatalf("text %q, incomplete %v, stop %s", res.Text, res.Incomplete, res.StopReason)
	}
	// Cut by max_tokens before the grammar is complete.
	opts.MaxTokens = 2
	opts.Grammar = `root ::= [a-z]{12}`
	res, err = m.Generate(context.Background(), Request{Prompt: "hello", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incomplete || res.StopReason != "length" {
		t.Fatalf("text %q: incomplete %v, stop %s; want incomplete at length", res.Text, res.Incomplete, res.StopReason)
	}
	// A bad grammar names the rule and position.
	opts.Grammar = "root ::= [a-z\nx ::= \"y\""
	_, err = m.Generate(context.Background(), Request{Prompt: "hello", Options: opts})
	var pe *grammar.ParseError
	if err == nil || !strings.Contains(err.Error(), `rule "root"`) || !errorsAs(err, &pe) {
		t.Fatalf("got %v, want a parse error naming the rule", err)
	}
}

func errorsAs(err error, target **grammar.ParseError) bool {
	pe, ok := err.(*grammar.ParseError)
	if ok {
		*target = pe
	}
	return ok
}

func TestResultCacheKeysOnGrammar(t *testing.T) {
	p := NewPool(PoolConfig{})
	defer p.Close()
	if _, err := p.Register("tiny", tiny(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := greedy(8)
	opts.Grammar = `root ::= [a-m]+`
	a, err := p.GenerateResult(ctx, "tiny", "hello", opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Grammar = `root ::= [n-z]+`
	b, err := p.GenerateResult(ctx, "tiny", "hello", opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.Cached || a.Text == b.Text {
		t.Fatalf("a different grammar must not be answered from the cache: %q / %q (cached %v)", a.Text, b.Text, b.Cached)
	}
	opts.MaxTokens = 2
	opts.Grammar = `root ::= [a-z]{12}`
	for i := 0; i < 2; i++ {
		r, err := p.GenerateResult(ctx, "tiny", "hello", opts)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Incomplete || r.Cached != (i == 1) {
			t.Fatalf("call %d: incomplete %v cached %v; the cache must remember incompleteness", i, r.Incomplete, r.Cached)
		}
	}
}

// BenchmarkGrammarQwen3 measures what a JSON-schema grammar adds to a
// generated token on the synthetic Qwen3 model (151,936-token vocabulary;
// the model is tiny, so the grammar's share is as large as it gets):
// "none" generates without a grammar, "first-row" with a grammar no row has
// used yet (every state's mask computed), "warm" with one whose masks
// earlier rows computed. The synthetic model's choices are random, so the
// grammar refuses most of them and the mask is needed at nearly every step
// (a trained model's first choice usually passes the single-token check).
func BenchmarkGrammarQwen3(b *testing.B) {
	spec := qwen3GrammarSpec
	spec.Vocab = testutil.Shared(b, "vocab/ggml-vocab-qwen3.gguf")
	path := filepath.Join(b.TempDir(), "qwen3.gguf")
	if err := synth.Write(path, spec); err != nil {
		b.Fatal(err)
	}
	m, err := LoadModel(path, LoadConfig{Slots: 1, Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	schema := `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},"maxItems":5},"status":{"enum":["active","inactive","banned"]},"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street","city","zip"]}},"required":["name","age","status","address"]}`
	gbnf, err := jsonschemaToGrammar(schema)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Grammar(gbnf); err != nil { // the vocabulary, prepared once per model
		b.Fatal(err)
	}
	run := func(b *testing.B, grammar func(i int) string) {
		tokens := 0
		for i := 0; b.Loop(); i++ {
			opts := greedy(40)
			opts.IgnoreEOS = true
			opts.Grammar = grammar(i)
			res, err := m.Generate(context.Background(), Request{PromptIDs: []int32{12522, 5193, 264, 882}, Options: opts})
			if err != nil {
				b.Fatal(err)
			}
			tokens += len(res.GeneratedIDs)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(tokens), "µs/token")
	}
	b.Run("none", func(b *testing.B) { run(b, func(int) string { return "" }) })
	b.Run("first-row", func(b *testing.B) {
		// A comment makes each grammar new to the model's cache.
		run(b, func(i int) string { return gbnf + "# " + strconv.Itoa(i) + "\n" })
	})
	b.Run("warm", func(b *testing.B) { run(b, func(int) string { return gbnf }) })
}

func jsonschemaToGrammar(s string) (string, error) { return jsonschema.ToGrammar([]byte(s)) }
