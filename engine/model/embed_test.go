package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tokenizer"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// embedGolden is testdata/embed_golden.json: llama.cpp's embeddings on
// the models of synth.EmbeddingModels and on stories260K (recorded by
// testdata/embed_golden.sh).
type embedGolden struct {
	Models map[string]struct {
		File    string   `json:"file"`
		Pooling *Pooling `json:"pooling"`
		Cases   []struct {
			Text        string    `json:"text"`
			Tokens      []int32   `json:"tokens"`
			Node        []float64 `json:"node"`
			NativeFAOn  []float64 `json:"native_fa_on"`
			NativeFAOff []float64 `json:"native_fa_off"`
		} `json:"cases"`
	} `json:"models"`
}

func loadEmbedGolden(t *testing.T) embedGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "testdata", "embed_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g embedGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func cosine(a []float32, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * b[i]
		aa += float64(a[i]) * float64(a[i])
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// embedAll runs every text as a span of one batch and returns the pooled
// vectors.
func (r *runner) embedAll(t *testing.T, texts [][]int32) [][]float32 {
	t.Helper()
	var b Batch
	for _, ids := range texts {
		b.AddEmbed(ids)
	}
	if _, err := r.st.Forward(&b, r.kv); err != nil {
		t.Fatal(err)
	}
	all := r.st.Embeddings()
	d := r.m.EmbedDim()
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = append([]float32(nil), all[i*d:(i+1)*d]...)
	}
	return out
}

// TestEmbeddingGoldens compares our pooled embeddings with llama.cpp's on
// every model of the golden file: all texts of a model in one pass (as
// llama-embedding runs them), against llama-embedding with flash attention
// (which rounds keys and values to F16, as our default F16 cache does) and
// against node-llama-cpp. F32 and F16 weights must agree to a cosine of
// 0.99999; Q8_0, whose activations are quantized too, to 0.9995 (llama.cpp
// agrees with itself across its two attention paths only to about 0.9998
// there). A reranker's score must agree to 1e-3 (0.05 for Q8_0).
func TestEmbeddingGoldens(t *testing.T) {
	g := loadEmbedGolden(t)
	names := make([]string, 0, len(g.Models))
	for n := range g.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	specs := synth.EmbeddingModels()
	for _, name := range names {
		gm := g.Models[name]
		t.Run(name, func(t *testing.T) {
			var path string
			if spec, ok := specs[name]; ok {
				path = writeSynth(t, spec)
			} else if name == "stories260K" {
				path = testutil.Shared(t, "models/stories260K.gguf")
			} else {
				t.Fatalf("no model for golden %q", name)
			}
			// 512 positions: Qwen3-Reranker's prompt is long.
			r := openCtx(t, path, 2, 1, 512, false, Options{})
			if gm.Pooling != nil && *gm.Pooling != r.m.Pooling || gm.Pooling == nil && r.m.Pooling != PoolNone {
				t.Fatalf("pooling %v, golden says %v", r.m.Pooling, gm.Pooling)
			}
			quantized := strings.HasSuffix(name, "q8_0")
			minCos, scoreTol := 0.99999, 1e-3
			if quantized {
				minCos, scoreTol = 0.9995, 0.05
			}
			var texts [][]int32
			for _, c := range gm.Cases {
				texts = append(texts, c.Tokens)
			}
			got := r.embedAll(t, texts)
			worst := 1.0
			defer func() { t.Logf("worst cosine %.9f", worst) }()
			for i, c := range gm.Cases {
				if len(got[i]) != len(c.NativeFAOn) {
					t.Fatalf("case %d: %d values, llama.cpp has %d", i, len(got[i]), len(c.NativeFAOn))
				}
				if r.m.Pooling == PoolRank {
					for _, ref := range [][]float64{c.NativeFAOn, c.Node} {
						d := math.Abs(float64(got[i][0]) - ref[0])
						worst = min(worst, 1-d)
						if d > scoreTol {
							t.Errorf("case %d (%q): score %.6f, llama.cpp %.6f", i, c.Text, got[i][0], ref[0])
						}
					}
					continue
				}
				on, node := cosine(got[i], c.NativeFAOn), cosine(got[i], c.Node)
				worst = min(worst, on, node)
				if on < minCos || node < minCos {
					t.Errorf("case %d (%d tokens): cosine %.8f with llama-embedding, %.8f with node-llama-cpp; want >= %g", i, len(c.Tokens), on, node, minCos)
				}
			}
			// With an F32 cache, span keys and values stay F32 as in
			// llama.cpp's attention without flash attention.
			if !quantized && r.m.Pooling != PoolRank {
				r32 := openCtx(t, path, 2, 1, 512, true, Options{})
				for i, v := range r32.embedAll(t, texts) {
					if c := cosine(v, gm.Cases[i].NativeFAOff); c < minCos {
						t.Errorf("case %d, F32 cache: cosine %.8f with llama-embedding without flash attention", i, c)
					}
				}
			}
			// Each text alone gives the same vector, bit for bit: a text's
			// embedding does not depend on what shares its pass.
			for i, ids := range texts {
				alone := r.embedAll(t, [][]int32{ids})[0]
				for j := range alone {
					if alone[j] != got[i][j] {
						t.Fatalf("case %d: alone %v differs from batched %v at %d", i, alone[j], got[i][j], j)
					}
				}
			}
		})
	}
}

// TestEmbeddingGoldenTokens: our tokenizer gives the token ids llama.cpp
// embedded, for every golden text (the special tokens its embedding tools
// add included), so the goldens also hold end to end from text.
func TestEmbeddingGoldenTokens(t *testing.T) {
	g := loadEmbedGolden(t)
	specs := synth.EmbeddingModels()
	for name, gm := range g.Models {
		spec, ok := specs[name]
		if !ok {
			continue
		}
		w, err := synth.Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".gguf")
		if err := w.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokenizer.Load(f)
		rerankPrompt, _ := f.String("tokenizer.chat_template.rerank")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range gm.Cases {
			var ids []int32
			if q, d, pair := strings.Cut(c.Text, "\t"); pair && rerankPrompt != "" {
				// Qwen3-Reranker: the pair in the file's prompt, special
				// tokens parsed.
				ids = tok.Encode(strings.ReplaceAll(strings.ReplaceAll(rerankPrompt, "{query}", q), "{document}", d), true, true)
			} else if pair {
				ids = append(tok.Encode(q, true, false), tok.Encode(d, false, false)...)
				ids = append(ids, c.Tokens[len(c.Tokens)-1])
			} else {
				ids = tok.Encode(c.Text, true, false)
			}
			if !equalIDs(ids, c.Tokens) {
				t.Errorf("%s: %q: ids %v, llama.cpp %v", name, c.Text, ids, c.Tokens)
			}
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

// TestEmbedSharesPassWithDecoding runs, in one pass, a decode step of a
// cached sequence, the prompt of another and two texts to embed, and
// checks every output is, bit for bit, what it is alone; the cache holds
// nothing of the embedded texts afterwards.
func TestEmbedSharesPassWithDecoding(t *testing.T) {
	for _, pooling := range []string{"last", "mean", "cls"} {
		t.Run(pooling, func(t *testing.T) {
			s := synth.EmbeddingModels()["qwen3-last-f16"]
			s.Pooling = pooling
			r := openModel(t, writeSynth(t, s), 2, 2)
			gen := []int32{1, 300, 301, 302}
			other := []int32{1, 310, 311}
			textA, textB := []int32{1, 320, 321, 322, 323}, []int32{1, 330}

			// Alone: the decode step after gen's prompt, other's prompt,
			// each text's embedding.
			r.prompt(t, 0, gen[:3])
			wantStep := r.step(t, 0, gen[3], 3)
			r.kv.Clear(0)
			wantOther := r.prompt(t, 1, other)
			r.kv.Clear(1)
			wantEmb := r.embedAll(t, [][]int32{textA})
			wantEmb = append(wantEmb, r.embedAll(t, [][]int32{textB})...)

			// Together.
			r.prompt(t, 0, gen[:3])
			var b Batch
			b.Add(gen[3], 3, 0, true)
			b.Decode = 1
			b.AddEmbed(textA)
			for i, id := range other {
				b.Add(id, int32(i), 1, i == len(other)-1)
			}
			b.AddEmbed(textB)
			logits, err := r.st.Forward(&b, r.kv)
			if err != nil {
				t.Fatal(err)
			}
			v := r.m.Vocab
			if !equalF32(logits[:v], wantStep) || !equalF32(logits[v:2*v], wantOther) {
				t.Fatal("logits in a shared pass differ from alone")
			}
			emb, d := r.st.Embeddings(), r.m.EmbedDim()
			for i, want := range wantEmb {
				if !equalF32(emb[i*d:(i+1)*d], want) {
					t.Fatalf("embedding %d in a shared pass differs from alone", i)
				}
			}
			if r.kv.Len(0) != 4 || r.kv.Len(1) != 3 {
				t.Fatalf("cache lengths %d, %d; want 4, 3", r.kv.Len(0), r.kv.Len(1))
			}
		})
	}
}

func equalF32(a, b []float32) bool {
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

// TestEmbedBatchErrors: malformed embedding batches are errors, not
// panics or wrong answers.
func TestEmbedBatchErrors(t *testing.T) {
	bert := openModel(t, writeSynth(t, synth.EmbeddingModels()["bert-cls-f32"]), 1, 1)
	qwen := openModel(t, writeSynth(t, synth.EmbeddingModels()["qwen3-last-f32"]), 1, 1)
	long := make([]int32, 97) // bert-cls has 96 positions
	for i := range long {
		long[i] = 200
	}
	for _, c := range []struct {
		name string
		r    *runner
		b    func(b *Batch)
		want string
	}{
		{"encoder with a cached token", bert, func(b *Batch) { b.Add(200, 0, 0, false) }, "encoder"},
		{"encoder logits", bert, func(b *Batch) { b.AddEmbed([]int32{101, 102}); b.Logits[0] = true }, "no logits"},
		{"too long", bert, func(b *Batch) { b.AddEmbed(long) }, "longer than the 96 positions"},
		{"span before decode", qwen, func(b *Batch) { b.AddEmbed([]int32{1, 2}); b.Decode = 1 }, "decode tokens"},
		{"bad position", qwen, func(b *Batch) { b.AddEmbed([]int32{1, 2}); b.Pos[1] = 5 }, "position 1"},
		{"overlap", qwen, func(b *Batch) { b.AddEmbed([]int32{1, 2}); b.Embed = append(b.Embed, Span{1, 2}) }, "spans before it"},
	} {
		var b Batch
		c.b(&b)
		if _, err := c.r.st.Forward(&b, c.r.kv); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
