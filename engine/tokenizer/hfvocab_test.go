package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/hfvocab"
)

// hfExpect is testdata/hfvocab/expect.json.gz: llama.cpp's ids for each
// test string on each vocabulary (node-llama-cpp 3.21.1, no BOS, no
// special-token parsing), and the Hugging Face tokenizer's ids
// (@lenml/tokenizers 3.7.2, a port of transformers.js) where they differ.
// testdata/hfvocab/README.md says how they were made.
type hfExpect struct {
	Strings []string `json:"strings"`
	Cases   []struct {
		Name     string             `json:"name"`
		Vocab    string             `json:"vocab"` // NAME.json.gz beside it
		Pre      string             `json:"pre"`   // tokenizer.ggml.pre set over the vocabulary's
		Model    string             `json:"model"` // tokenizer.ggml.model likewise
		LlamaCpp [][]int32          `json:"llama_cpp"`
		HF       string             `json:"hf"` // what the HF ids were computed with; "" when none
		HFDiffer map[string][]int32 `json:"hf_differs"`
	} `json:"cases"`
}

func readGzipJSON(t *testing.T, path string, v any) {
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
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestHFVocabs tokenizes a mixed set of strings with real vocabularies
// (GPT-4o, gpt-oss, DeepSeek-V3, Gemma 3 as SentencePiece and as Gemma 4's
// SentencePiece-style BPE, Gemma) and with the Qwen3 vocabulary under every
// pre-tokenizer name that has no real vocabulary here, and expects
// llama.cpp's ids. The vocabularies are kept in compact form (the tokens
// and merges the strings can reach, see package hfvocab) and expanded to
// full-size GGUF metadata here. Where the Hugging Face tokenizer disagrees
// with llama.cpp, the test also checks that we side with llama.cpp.
func TestHFVocabs(t *testing.T) {
	dir := filepath.Join("testdata", "hfvocab")
	var exp hfExpect
	readGzipJSON(t, filepath.Join(dir, "expect.json.gz"), &exp)
	vocabs := map[string][]gguf.KV{}
	for _, c := range exp.Cases {
		t.Run(c.Name, func(t *testing.T) {
			kvs, ok := vocabs[c.Vocab]
			if !ok {
				var cv hfvocab.Compact
				readGzipJSON(t, filepath.Join(dir, c.Vocab+".json.gz"), &cv)
				var err error
				if kvs, err = cv.KVs(); err != nil {
					t.Fatal(err)
				}
				vocabs[c.Vocab] = kvs
			}
			w := gguf.NewWriter()
			for _, kv := range kvs {
				w.Set(kv.Key, kv.Value)
			}
			if c.Pre != "" {
				w.Set("tokenizer.ggml.pre", gguf.String(c.Pre))
			}
			if c.Model != "" {
				w.Set("tokenizer.ggml.model", gguf.String(c.Model))
			}
			var buf bytes.Buffer
			if _, err := w.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Parse(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.LlamaCpp) != len(exp.Strings) {
				t.Fatalf("%d results for %d strings", len(c.LlamaCpp), len(exp.Strings))
			}
			bad := 0
			for i, s := range exp.Strings {
				got := tok.Encode(s, false, false)
				if !equalIDs(got, c.LlamaCpp[i]) {
					t.Errorf("string %d %q:\n got %v\nwant %v", i, trunc(s), truncIDs(got), truncIDs(c.LlamaCpp[i]))
					if bad++; bad > 10 {
						t.Fatal("too many differences")
					}
				}
				if hf, ok := c.HFDiffer[strconv.Itoa(i)]; ok && equalIDs(got, hf) {
					t.Errorf("string %d: recorded as a Hugging Face disagreement, but we give HF's ids", i)
				}
			}
		})
	}
}
