package tokenizer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// synthVocab builds a GGUF in memory holding only tokenizer metadata and
// loads it.
func synthVocab(t *testing.T, kv map[string]gguf.Value) (*Tokenizer, error) {
	t.Helper()
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	for k, v := range kv {
		w.Set(k, v)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return Load(f)
}

func mustSynth(t *testing.T, kv map[string]gguf.Value) *Tokenizer {
	t.Helper()
	tok, err := synthVocab(t, kv)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// spmKV is a small SentencePiece vocabulary: <unk> <s> </s>, byte tokens
// for a few bytes, and scored pieces.
func spmKV(pieces []string, scores []float32) map[string]gguf.Value {
	toks := []string{"<unk>", "<s>", "</s>", "<0x0A>", "<0xC3>", "<0xA9>"}
	types := []int32{2, 3, 3, 6, 6, 6}
	sc := []float32{0, 0, 0, 0, 0, 0}
	toks = append(toks, pieces...)
	sc = append(sc, scores...)
	for range pieces {
		types = append(types, 1)
	}
	return map[string]gguf.Value{
		"tokenizer.ggml.model":      gguf.String("llama"),
		"tokenizer.ggml.tokens":     gguf.ArrayValue(toks),
		"tokenizer.ggml.scores":     gguf.ArrayValue(sc),
		"tokenizer.ggml.token_type": gguf.ArrayValue(types),
	}
}

func TestSPMMergesByScore(t *testing.T) {
	// "▁ab" can form as "▁a"+"b" or "▁"+"ab"; scores decide the order.
	pieces := []string{"▁", "a", "b", "▁a", "ab", "▁ab", "c"}
	ids := map[string]int32{}
	for i, p := range pieces {
		ids[p] = int32(6 + i)
	}
	tok := mustSynth(t, spmKV(pieces, []float32{-1, -1, -1, -2, -5, -3, -1}))
	// Best pair first: "▁a" (-2) beats "ab" (-5); then "▁a"+"b" = "▁ab".
	if got, want := tok.Encode("ab", false, false), []int32{ids["▁ab"]}; !equalIDs(got, want) {
		t.Errorf("ab: got %v want %v", got, want)
	}
	// With "ab" scoring best it is made first, and "▁"+"ab" is "▁ab" too;
	// "▁" then "a" "c" without a pair token stay apart.
	if got, want := tok.Encode("ac", false, false), []int32{ids["▁a"], ids["c"]}; !equalIDs(got, want) {
		t.Errorf("ac: got %v want %v", got, want)
	}
	// BOS by default for SPM, EOS only when asked.
	if got := tok.Encode("c", true, false); len(got) != 3 || got[0] != 1 {
		t.Errorf("c with BOS: %v", got)
	}
	// Unknown characters fall back to byte tokens, here é = C3 A9, and \n.
	if got, want := tok.Encode("é\n", false, false), []int32{ids["▁"], 4, 5, 3}; !equalIDs(got, want) {
		t.Errorf("é: got %v want %v", got, want)
	}
	// A byte without a byte token becomes <unk>.
	if got, want := tok.Encode("z", false, false), []int32{ids["▁"], 0}; !equalIDs(got, want) {
		t.Errorf("z: got %v want %v", got, want)
	}
	if got := tok.Decode(tok.Encode("ab ac é\n", false, false)); got != "ab ac é\n" {
		t.Errorf("round trip: %q", got)
	}
}

func TestSPMNoSpacePrefix(t *testing.T) {
	kv := spmKV([]string{"▁", "a", "▁a"}, []float32{-1, -1, -1})
	kv["tokenizer.ggml.add_space_prefix"] = gguf.Bool(false)
	kv["tokenizer.ggml.add_bos_token"] = gguf.Bool(false)
	kv["tokenizer.ggml.add_eos_token"] = gguf.Bool(true)
	tok := mustSynth(t, kv)
	if got, want := tok.Encode("a", true, false), []int32{7, 2}; !equalIDs(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	if tok.AddBOS() {
		t.Error("AddBOS true despite add_bos_token=false")
	}
}

// bpeKV is a small byte-level BPE vocabulary over the letters it needs.
func bpeKV(pre string, tokens []string, merges []string) map[string]gguf.Value {
	kv := map[string]gguf.Value{
		"tokenizer.ggml.model":  gguf.String("gpt2"),
		"tokenizer.ggml.tokens": gguf.ArrayValue(tokens),
		"tokenizer.ggml.merges": gguf.ArrayValue(merges),
	}
	if pre != "" {
		kv["tokenizer.ggml.pre"] = gguf.String(pre)
	}
	return kv
}

func TestBPEMergesByRank(t *testing.T) {
	toks := []string{"a", "b", "c", "Ġ", "ab", "bc", "abc", "Ġa", "<|end|>"}
	tok := mustSynth(t, bpeKV("gpt-2", toks, []string{"b c", "a b", "a bc", "Ġ a"}))
	// "b c" has the lower rank, so "abc" is a+bc then a bc.
	if got, want := tok.Encode("abc", false, false), []int32{6}; !equalIDs(got, want) {
		t.Errorf("abc: got %v want %v", got, want)
	}
	if got, want := tok.Encode("ab ca", false, false), []int32{4, 3, 2, 0}; !equalIDs(got, want) {
		t.Errorf("ab ca: got %v want %v", got, want)
	}
	if got, want := tok.Encode(" a", false, false), []int32{7}; !equalIDs(got, want) {
		t.Errorf(" a: got %v want %v", got, want)
	}
	// Bytes without a token are dropped, as in llama.cpp.
	if got, want := tok.Encode("az", false, false), []int32{0}; !equalIDs(got, want) {
		t.Errorf("az: got %v want %v", got, want)
	}
	// <|end|> is found by its text and becomes an end-of-generation,
	// control token: a piece of nothing, matched only with parseSpecial.
	if !tok.IsEOG(8) || tok.Piece(8) != "" {
		t.Errorf("<|end|>: IsEOG %v, piece %q", tok.IsEOG(8), tok.Piece(8))
	}
	if got, want := tok.Encode("a<|end|>", false, true), []int32{0, 8}; !equalIDs(got, want) {
		t.Errorf("parse special: got %v want %v", got, want)
	}
	if got := tok.Decode([]int32{4, 3, 2, 99, -1}); got != "ab c" {
		t.Errorf("decode skipping bad ids: %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	toks := []string{"a", "b", "ab"}
	cases := []struct {
		name string
		kv   map[string]gguf.Value
		want string
	}{
		{"no model", map[string]gguf.Value{"tokenizer.ggml.tokens": gguf.ArrayValue(toks)}, "tokenizer.ggml.model"},
		{"unknown model", map[string]gguf.Value{"tokenizer.ggml.model": gguf.String("t5"),
			"tokenizer.ggml.tokens": gguf.ArrayValue(toks)}, `unsupported tokenizer model "t5"`},
		{"unknown pre", bpeKV("gpt-5", toks, []string{"a b"}), `unsupported pre-tokenizer "gpt-5"`},
		{"no merges", map[string]gguf.Value{"tokenizer.ggml.model": gguf.String("gpt2"),
			"tokenizer.ggml.pre": gguf.String("gpt-2"), "tokenizer.ggml.tokens": gguf.ArrayValue(toks)}, "merges"},
		{"no tokens", map[string]gguf.Value{"tokenizer.ggml.model": gguf.String("llama")}, "tokenizer.ggml.tokens"},
		{"duplicate", bpeKV("gpt-2", []string{"a", "b", "a"}, []string{"a b"}), "duplicate token"},
		{"short types", func() map[string]gguf.Value {
			kv := spmKV([]string{"x"}, []float32{0})
			kv["tokenizer.ggml.token_type"] = gguf.ArrayValue([]int32{1, 1})
			return kv
		}(), "token_type"},
		{"bad scores", func() map[string]gguf.Value {
			kv := spmKV([]string{"x"}, []float32{0})
			kv["tokenizer.ggml.scores"] = gguf.ArrayValue([]string{"x"})
			return kv
		}(), "scores"},
		{"add_bos without bos", func() map[string]gguf.Value {
			kv := bpeKV("gpt-2", toks, []string{"a b"})
			kv["tokenizer.ggml.add_bos_token"] = gguf.Bool(true)
			return kv
		}(), "no BOS"},
		{"bool of wrong type", func() map[string]gguf.Value {
			kv := spmKV([]string{"x"}, []float32{0})
			kv["tokenizer.ggml.add_bos_token"] = gguf.String("yes")
			return kv
		}(), "add_bos_token"},
	}
	for _, c := range cases {
		_, err := synthVocab(t, c.kv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestCleanSpaces(t *testing.T) {
	// llama.cpp's detokenizer passes, checked on inputs whose expected
	// outputs follow from its code.
	cases := map[string]string{
		"a , b . c ! d ? e": "a, b. c! d? e",
		"a ' b":             "a'b",
		"it 's he 'd we 're we 've I 'm do 't I 'll": "it's he 'd we're we've I'm do 't I 'll",
		" ,":  ",",
		"x":   "x",
		"":    "",
		"' '": "' '",
	}
	for in, want := range cases {
		if got := string(cleanSpaces([]byte(in))); got != want {
			t.Errorf("cleanSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}
