package engine

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/hfvocab"
	"github.com/llmsql/llmsql/internal/synth"
)

// TestTekkenLlamaFile runs a file laid out as Mistral Nemo's and
// Ministral's are published: a llama file with heads narrower than
// Embd/Heads (llama.attention.key_length), a sliding window, and a
// Tekken vocabulary (byte-level BPE, tokenizer.ggml.pre = tekken; here
// GPT-4o's tokens and merges, 200k of them, which the tokenizer tests
// also run under the tekken pre-tokenizer). Text prompts must become
// llama.cpp's ids after BOS, and the model must generate from them.
func TestTekkenLlamaFile(t *testing.T) {
	dir := filepath.Join("tokenizer", "testdata", "hfvocab")
	var exp struct {
		Strings []string `json:"strings"`
		Cases   []struct {
			Name     string    `json:"name"`
			LlamaCpp [][]int32 `json:"llama_cpp"`
		} `json:"cases"`
	}
	readGz(t, filepath.Join(dir, "expect.json.gz"), &exp)
	var want [][]int32
	for _, c := range exp.Cases {
		if c.Name == "gpt4o/tekken" {
			want = c.LlamaCpp
		}
	}
	if want == nil {
		t.Fatal("expect.json.gz has no gpt4o/tekken case")
	}
	var cv hfvocab.Compact
	readGz(t, filepath.Join(dir, "gpt4o.json.gz"), &cv)
	kvs, err := cv.KVs()
	if err != nil {
		t.Fatal(err)
	}
	w := gguf.NewWriter()
	for _, kv := range kvs {
		w.Set(kv.Key, kv.Value)
	}
	w.Set("tokenizer.ggml.pre", gguf.String("tekken"))
	vocab := filepath.Join(t.TempDir(), "tekken-vocab.gguf")
	if err := w.WriteFile(vocab); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nemo-like.gguf")
	spec := synth.Spec{Arch: "llama", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, FF: 128,
		Context: 256, Seed: 17, Type: gguf.TypeQ8_0, Vocab: vocab, Tied: true,
		Metadata: map[string]gguf.Value{"llama.attention.sliding_window": gguf.Uint32(8)}}
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path, LoadConfig{Slots: 1, Context: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Net.Arch != "llama" {
		t.Fatalf("architecture %q", m.Net.Arch)
	}
	bos := int64(-1)
	for _, kv := range kvs {
		if kv.Key == "tokenizer.ggml.bos_token_id" {
			bos, _ = kv.Value.Int()
		}
	}
	checked := 0
	for i, s := range exp.Strings {
		// Strings of words, digits and punctuation long enough to pass
		// the window.
		if len(want[i]) < 10 || len(want[i]) > 60 {
			continue
		}
		opts := DefaultGenerateOptions()
		opts.Temperature, opts.MaxTokens, opts.IgnoreEOS = 0, 4, true
		res, err := m.Generate(context.Background(), Request{Prompt: s, Options: opts})
		if err != nil {
			t.Fatalf("string %d: %v", i, err)
		}
		if exp := append([]int32{int32(bos)}, want[i]...); fmt.Sprint(res.PromptIDs) != fmt.Sprint(exp) {
			t.Errorf("string %d %q: prompt ids %v, llama.cpp's (after BOS) %v", i, s, res.PromptIDs, exp)
		}
		if len(res.GeneratedIDs) != 4 {
			t.Errorf("string %d: generated %d tokens", i, len(res.GeneratedIDs))
		}
		if checked++; checked == 12 {
			break
		}
	}
	if checked < 12 {
		t.Fatalf("only %d strings of 10 to 60 tokens", checked)
	}
}

func readGz(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
