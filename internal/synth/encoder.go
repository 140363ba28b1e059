package synth

import (
	"fmt"
	"math"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// The encoder architectures: BERT (BGE, MiniLM, E5, GTE and, with a
// classification head, the bge rerankers) and nomic-bert
// (nomic-embed-text). Both are post-norm transformers with LayerNorm and
// non-causal attention over the whole text; BERT has learned position
// embeddings, biases everywhere and a GELU feed-forward, nomic-bert has
// RoPE, one fused QKV matrix and a SwiGLU feed-forward without biases.
// Their tensor names and metadata are those llama.cpp's
// convert_hf_to_gguf.py writes.

// PoolingTypes are the values of {arch}.pooling_type by name.
var PoolingTypes = map[string]uint32{"none": 0, "mean": 1, "cls": 2, "last": 3, "rank": 4}

// encoderMetadata is what both encoders add to the common keys.
func encoderMetadata(s Spec, set func(string, gguf.Value)) {
	a := s.Arch
	set(a+".attention.layer_norm_epsilon", gguf.Float32(1e-12))
	set(a+".attention.causal", gguf.Bool(false))
	set("tokenizer.ggml.token_type_count", gguf.Uint32(2))
	if a == "nomic-bert" {
		set(a+".rope.freq_base", gguf.Float32(1000))
	}
}

// layerNorm is a LayerNorm's weight and bias.
func layerNorm(name string, n int) []Tensor {
	return []Tensor{
		{Name: name + ".weight", Shape: []int{n}, Mean: 1, Std: 0.1},
		{Name: name + ".bias", Shape: []int{n}, Std: 0.1},
	}
}

// encoderTensors lays out a bert or nomic-bert file.
func encoderTensors(s Spec, nv int) []Tensor {
	bert := s.Arch == "bert"
	hd := s.headDim()
	qDim, kvDim := s.Heads*hd, s.kvHeads()*hd
	std := s.Std()
	ts := []Tensor{
		{Name: "token_embd.weight", Shape: []int{s.Embd, nv}, Std: 0.5, Matrix: true},
		// The converter keeps these two in F32 whatever the file type.
		{Name: "token_types.weight", Shape: []int{s.Embd, 2}, Std: 0.5},
	}
	if bert {
		ts = append(ts, Tensor{Name: "position_embd.weight", Shape: []int{s.Embd, s.Context}, Std: 0.5})
	}
	ts = append(ts, layerNorm("token_embd_norm", s.Embd)...)
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		if bert {
			ts = append(ts,
				Tensor{Name: p + "attn_q.weight", Shape: []int{s.Embd, qDim}, Std: std * 2, Matrix: true},
				Tensor{Name: p + "attn_q.bias", Shape: []int{qDim}, Std: 0.2},
				Tensor{Name: p + "attn_k.weight", Shape: []int{s.Embd, kvDim}, Std: std * 2, Matrix: true},
				Tensor{Name: p + "attn_k.bias", Shape: []int{kvDim}, Std: 0.2},
				Tensor{Name: p + "attn_v.weight", Shape: []int{s.Embd, kvDim}, Std: std, Matrix: true},
				Tensor{Name: p + "attn_v.bias", Shape: []int{kvDim}, Std: 0.1},
				Tensor{Name: p + "attn_output.weight", Shape: []int{qDim, s.Embd}, Std: std, Matrix: true},
				Tensor{Name: p + "attn_output.bias", Shape: []int{s.Embd}, Std: 0.1})
		} else {
			ts = append(ts,
				Tensor{Name: p + "attn_qkv.weight", Shape: []int{s.Embd, qDim + 2*kvDim}, Std: std * 2, Matrix: true},
				Tensor{Name: p + "attn_output.weight", Shape: []int{qDim, s.Embd}, Std: std, Matrix: true})
		}
		ts = append(ts, layerNorm(p+"attn_output_norm", s.Embd)...)
		down := 1 / math.Sqrt(float64(s.FF))
		if bert {
			ts = append(ts,
				Tensor{Name: p + "ffn_up.weight", Shape: []int{s.Embd, s.FF}, Std: std * 2, Matrix: true},
				Tensor{Name: p + "ffn_up.bias", Shape: []int{s.FF}, Std: 0.2},
				Tensor{Name: p + "ffn_down.weight", Shape: []int{s.FF, s.Embd}, Std: down, Matrix: true},
				Tensor{Name: p + "ffn_down.bias", Shape: []int{s.Embd}, Std: 0.1})
		} else {
			ts = append(ts,
				Tensor{Name: p + "ffn_up.weight", Shape: []int{s.Embd, s.FF}, Std: std, Matrix: true},
				Tensor{Name: p + "ffn_gate.weight", Shape: []int{s.Embd, s.FF}, Std: std * 2, Matrix: true},
				Tensor{Name: p + "ffn_down.weight", Shape: []int{s.FF, s.Embd}, Std: down * 2, Matrix: true})
		}
		ts = append(ts, layerNorm(p+"layer_output_norm", s.Embd)...)
	}
	if bert && s.Pooling == "rank" {
		// The classification head of a cross-encoder (bge-reranker): a
		// dense layer with tanh over the [CLS] state, then one score.
		ts = append(ts,
			Tensor{Name: "cls.weight", Shape: []int{s.Embd, s.Embd}, Std: std * 2, Matrix: true},
			Tensor{Name: "cls.bias", Shape: []int{s.Embd}, Std: 0.2},
			Tensor{Name: "cls.output.weight", Shape: []int{s.Embd, 1}, Std: std * 2, Matrix: true},
			Tensor{Name: "cls.output.bias", Shape: []int{1}, Std: 0.2})
	}
	return ts
}

// BuiltinWordPieceVocab is the tokenizer metadata of a small WordPiece
// ("bert") vocabulary of n tokens laid out as BERT's uncased vocabulary
// is: [PAD] at 0, unused slots, [UNK] 100, [CLS] 101, [SEP] 102, [MASK]
// 103, then whole words and characters (written with llama.cpp's "▁"
// word-start marker) and word-continuation pieces (BERT's "##" pieces,
// which llama.cpp's converter writes without the "##"). Any lowercase
// ASCII text encodes. n must be at least 256.
func BuiltinWordPieceVocab(n int) ([]gguf.KV, error) {
	toks := make([]string, 0, n)
	types := make([]int32, 0, n)
	add := func(t string, typ int32) {
		toks = append(toks, t)
		types = append(types, typ)
	}
	add("[PAD]", 3)
	for i := 1; i < 100; i++ {
		add(fmt.Sprintf("[unused%d]", i-1), 1)
	}
	for _, t := range []string{"[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		add(t, 3)
	}
	seen := map[string]bool{}
	var ps []string
	for c := byte(33); c < 127; c++ {
		if c < 'A' || c > 'Z' { // uncased: capitals are lowered first
			ps = append(ps, "▁"+string(c))
		}
	}
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789" {
		ps = append(ps, string(c))
	}
	for _, w := range []string{"the", "a", "once", "upon", "time", "there", "was", "little", "dog", "cat",
		"and", "to", "in", "of", "he", "she", "it", "is", "on", "with", "hello", "world", "day",
		"refund", "policy", "search", "query", "document", "model", "text", "vector", "database"} {
		ps = append(ps, "▁"+w)
	}
	for _, w := range []string{"ing", "ed", "er", "ly", "s", "es", "tion", "ment", "ness", "able"} {
		ps = append(ps, w)
	}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			add(p, 1)
		}
	}
	if n < len(toks) {
		return nil, fmt.Errorf("synth: a built-in WordPiece vocabulary needs at least %d tokens, not %d", len(toks), n)
	}
	for i := 0; len(toks) < n; i++ {
		add(fmt.Sprintf("[extra%d]", i), 1)
	}
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.String("bert")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.ArrayValue(toks)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.ArrayValue(types)},
		{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.Uint32(100)},
		{Key: "tokenizer.ggml.seperator_token_id", Value: gguf.Uint32(102)},
		{Key: "tokenizer.ggml.padding_token_id", Value: gguf.Uint32(0)},
		{Key: "tokenizer.ggml.cls_token_id", Value: gguf.Uint32(101)},
		{Key: "tokenizer.ggml.mask_token_id", Value: gguf.Uint32(103)},
	}, nil
}

// BertBase is a model of BERT-base's shape (bge-base-en, all-mpnet-base):
// 12 layers of 768 with 12 heads, a feed-forward of 3072, 512 positions
// and a vocabulary of 30522, about 110M parameters. For speed
// measurements; it takes a few seconds to write.
func BertBase(typ gguf.GGMLType) Spec {
	return Spec{Arch: "bert", Embd: 768, Layers: 12, Heads: 12, FF: 3072, Context: 512,
		VocabSize: 30522, Seed: 7, Type: typ, Pooling: "cls"}
}

// EmbeddingModels are the small embedding models testdata's
// embedding goldens were recorded on (testdata/embed_golden.sh), by
// name; synthgen -model NAME writes one. Each comes in F32 and F16
// (NAME-f32, NAME-f16) and Q8_0 (NAME-q8_0).
func EmbeddingModels() map[string]Spec {
	base := map[string]Spec{
		// BERT with mean pooling (all-MiniLM, E5, GTE), CLS pooling
		// (BGE) and a reranker's classification head (bge-reranker).
		"bert-mean": {Arch: "bert", Embd: 64, Layers: 2, Heads: 4, FF: 128, Context: 128, Seed: 21, Pooling: "mean"},
		"bert-cls":  {Arch: "bert", Embd: 64, Layers: 3, Heads: 2, FF: 96, Context: 96, Seed: 22, Pooling: "cls"},
		"bert-rank": {Arch: "bert", Embd: 64, Layers: 2, Heads: 4, FF: 128, Context: 128, Seed: 23, Pooling: "rank"},
		// nomic-embed-text's architecture.
		"nomic-bert": {Arch: "nomic-bert", Embd: 64, Layers: 2, Heads: 4, FF: 160, Context: 256, Seed: 24, Pooling: "mean"},
		// A decoder embedder (Qwen3-Embedding): last-token pooling
		// after the final norm.
		"qwen3-last": {Arch: "qwen3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 256, Seed: 25, Pooling: "last", Tied: true},
		// A decoder reranker (Qwen3-Reranker): the last token's state
		// through a two-row head ("yes", "no") and a softmax, the pair in
		// the file's rerank prompt.
		"qwen3-rank": {Arch: "qwen3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 2048, Seed: 27, Pooling: "rank", Tied: true},
		// A decoder without a pooling type: llama.cpp takes the last
		// token's state.
		"llama-nopool": {Arch: "llama", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 96, Context: 256, Seed: 26},
	}
	out := map[string]Spec{}
	for name, s := range base {
		for _, t := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0} {
			s.Type = t
			out[name+"-"+strings.ToLower(t.String())] = s
		}
	}
	return out
}
