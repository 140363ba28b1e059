package synth

import (
	"fmt"

	"github.com/llmsql/llmsql/engine/gguf"
)

// BuiltinVocab is the tokenizer metadata of a small SentencePiece
// ("llama") vocabulary of n tokens, so that a synthetic model needs no
// vocabulary file: <unk>, <s> (BOS), </s> (EOS), the 256 byte tokens (any
// text encodes), then pieces for English text (the words of the tests'
// prompts with their prefixes, letters, common pairs), scored in that
// order.
// n must be at least 259.
func BuiltinVocab(n int) ([]gguf.KV, error) {
	if n < 259 {
		return nil, fmt.Errorf("synth: a built-in vocabulary needs at least 259 tokens (3 special and 256 bytes), not %d", n)
	}
	toks := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3} // unknown, control, control
	for b := 0; b < 256; b++ {
		toks = append(toks, fmt.Sprintf("<0x%02X>", b))
		types = append(types, 6) // byte
	}
	seen := map[string]bool{}
	for _, t := range toks {
		seen[t] = true
	}
	for _, p := range pieces() {
		if len(toks) == n {
			break
		}
		if !seen[p] {
			seen[p] = true
			toks = append(toks, p)
			types = append(types, 1) // normal
		}
	}
	for i := 0; len(toks) < n; i++ { // beyond the pieces: unused filler
		toks = append(toks, fmt.Sprintf("<extra_%d>", i))
		types = append(types, 1)
	}
	scores := make([]float32, n)
	for i := 259; i < n; i++ {
		scores[i] = -float32(i - 259)
	}
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.String("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.ArrayValue(toks)},
		{Key: "tokenizer.ggml.scores", Value: gguf.ArrayValue(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.ArrayValue(types)},
	}, nil
}

// pieces lists the built-in vocabulary's text pieces, most preferred
// first: the space marker, the words of the tests' prompts, letters, then
// letter pairs. Pieces past the vocabulary's size are left out.
func pieces() []string {
	ps := []string{"▁"}
	// SentencePiece builds a word by merging neighbours, so every prefix
	// of a word must be a piece too; they score above the pieces below.
	for _, w := range []string{"the", "a", "Once", "upon", "time", "there", "was", "little", "dog", "cat",
		"and", "to", "in", "of", "he", "she", "it", "is", "on", "with", "Hello", "world", "The", "day"} {
		for k := 1; k <= len(w); k++ {
			ps = append(ps, "▁"+w[:k])
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		ps = append(ps, string(c))
	}
	ps = append(ps, ".", ",", "!", "?", "'")
	for c := 'A'; c <= 'Z'; c++ {
		ps = append(ps, string(c))
	}
	for c := '0'; c <= '9'; c++ {
		ps = append(ps, string(c))
	}
	for c := 'a'; c <= 'z'; c++ {
		ps = append(ps, "▁"+string(c))
	}
	const common = "etaoinshrdlu"
	for _, a := range common {
		for _, b := range common {
			ps = append(ps, string(a)+string(b))
		}
	}
	return ps
}
