package hfvocab

import (
	"encoding/json"
	"testing"
)

const tinyBPE = `{
 "added_tokens": [{"id": 6, "content": "<|end|>", "special": true}, {"id": 7, "content": "<x▁y>", "special": false}],
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4, "c": 5},
           "merges": [["a", "b"], ["Ġ", "ab"]]},
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>"}}, {"Sequence": {"id": "A"}}]}
}`

func TestConvertAndCut(t *testing.T) {
	v, err := Convert([]byte(tinyBPE), []byte(`{"eos_token": "<|end|>"}`), Options{Pre: "gpt-4o"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Tokens) != 8 || v.Tokens[6] != "<|end|>" || v.Types[6] != TypeControl {
		t.Fatalf("tokens %q types %v", v.Tokens, v.Types)
	}
	// Non-special added tokens are user-defined, with ▁ written as a space.
	if v.Tokens[7] != "<x y>" || v.Types[7] != TypeUserDefined || v.Types[2] != TypeNormal {
		t.Errorf("user-defined token %q type %d", v.Tokens[7], v.Types[7])
	}
	if len(v.Merges) != 2 || v.Merges[0] != "a b" || v.Merges[1] != "Ġ ab" {
		t.Errorf("merges %q", v.Merges)
	}
	meta := map[string]any{}
	for _, kv := range v.Meta {
		meta[kv.Key] = kv.Value.Any()
	}
	if meta["tokenizer.ggml.pre"] != "gpt-4o" || meta["tokenizer.ggml.eos_token_id"] != uint32(6) ||
		meta["tokenizer.ggml.add_bos_token"] != true {
		t.Errorf("meta %v", meta)
	}

	// Cut for "ab": "c" and "Ġab" (no space in the text) are left out, the
	// control token stays.
	c, err := v.Cut("test", []string{"ab"})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, row := range c.Tokens {
		kept[row[1].(string)] = true
	}
	if !kept["a"] || !kept["b"] || !kept["ab"] || !kept["<|end|>"] || kept["c"] || kept["Ġab"] {
		t.Errorf("kept %v", kept)
	}
	if len(c.Merges) != 1 || c.Merges[0] != "a b" {
		t.Errorf("kept merges %q", c.Merges)
	}
	// Through JSON and back to metadata: placeholders keep the ids.
	kvs, err := roundTrip(t, c).KVs()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		if kv.Key != "tokenizer.ggml.tokens" {
			continue
		}
		a := kv.Value.Array().Data().([]string)
		if len(a) != 8 || a[2] != "ab" || a[5] != "[PAD5]" || a[6] != "<|end|>" {
			t.Errorf("expanded tokens %q", a)
		}
	}
}

func TestSentencePieceScores(t *testing.T) {
	v, err := Convert([]byte(`{"added_tokens": [], "model": {"type": "BPE",
	  "vocab": {"<unk>": 0, "<0x41>": 1, "a": 2, "b": 3, "ab": 4, "abb": 5},
	  "merges": ["ab b", "a b"]}}`), nil, Options{Model: "llama"})
	if err != nil {
		t.Fatal(err)
	}
	// Scores follow the first merge making each token; bytes and <unk>
	// are typed.
	if v.Scores[5] != 0 || v.Scores[4] != -1 || v.Scores[2] >= v.Scores[4] {
		t.Errorf("scores %v", v.Scores)
	}
	if v.Types[0] != TypeUnknown || v.Types[1] != TypeByte || v.Merges != nil {
		t.Errorf("types %v merges %v", v.Types, v.Merges)
	}
}

func roundTrip(t *testing.T, c *Compact) *Compact {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Compact
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	return &back
}
