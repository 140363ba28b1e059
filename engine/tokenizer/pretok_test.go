package tokenizer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestPreTokenizersLlamaCpp covers pre-tokenizers without test
// vocabularies of their own: the Qwen2 vocabulary is given each
// tokenizer.ggml.pre name in turn and must tokenize a set of mixed strings
// as llama.cpp did (testdata/pretok_llamacpp.json, made with
// node-llama-cpp 3.21.1 on the same rewritten files).
func TestPreTokenizersLlamaCpp(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "pretok_llamacpp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Strings []string `json:"strings"`
		Groups  []struct {
			Pre []string  `json:"pre"`
			IDs [][]int32 `json:"ids"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	base, err := gguf.Open(filepath.Join(sharedDir(t), "vocab", "ggml-vocab-qwen2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	for _, g := range golden.Groups {
		if len(g.IDs) != len(golden.Strings) {
			t.Fatalf("%v: %d results for %d strings", g.Pre, len(g.IDs), len(golden.Strings))
		}
		for _, pre := range g.Pre {
			w := gguf.NewWriter()
			w.CopyMetadata(base)
			w.Set("tokenizer.ggml.pre", gguf.String(pre))
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
				t.Fatalf("%s: %v", pre, err)
			}
			for i, s := range golden.Strings {
				if got := tok.Encode(s, false, false); !equalIDs(got, g.IDs[i]) {
					t.Errorf("%s: %q:\n got %v\nwant %v", pre, s, got, g.IDs[i])
				}
			}
		}
	}
}
