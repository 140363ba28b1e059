package model

import "fmt"

// The architectures this engine runs, and what each changes in the one
// forward pass they share (forward.go). That pass is Llama's:
//
//	x = embedding(token)
//	per layer: x += O·attention(RoPE(Q·norm(x)), RoPE(K·norm(x)), V·norm(x))
//	           x += Down·(silu(Gate·norm(x)) * Up·norm(x))
//	logits = Output·norm(x)
//
// with RMSNorm, causal attention scaled by 1/sqrt(head size), and the
// hyperparameters every file carries ({arch}.embedding_length,
// block_count, attention.head_count[_kv], feed_forward_length,
// attention.key_length, rope.freq_base, rope.dimension_count,
// rope.scaling.*, attention.layer_norm_rms_epsilon, context_length).
//
// An architecture differs from that by the switches of its Arch entry
// below (data the pass reads) and, for what its metadata adds, by its
// hparams hook, which fills the matching Config fields. To add one: find
// its graph in llama.cpp (src/models/NAME.cpp), list its differences from
// the pass above, add an entry here with those switches, and where a
// difference is new, add the switch to Arch, the field to Config and the
// step to forward.go, used by every architecture that sets it. Then add
// the architecture to internal/synth (a small file of it) and record
// llama.cpp's outputs on that file (testdata/README.md).

// Arch is what one architecture changes in the shared forward pass.
type Arch struct {
	// Rope is how RoPE pairs a head's dimensions.
	Rope RopeType
	// QKNorm: an RMSNorm on each query and key head, before RoPE
	// (blk.N.attn_q_norm, attn_k_norm; one head wide).
	QKNorm bool
	// Encoder: a post-norm encoder (encoder.go). Its input is the token's
	// embedding plus token type 0's (token_types) and, for BERT, the
	// position's (position_embd), through a LayerNorm (token_embd_norm);
	// each sublayer reads the residual stream as it is and its residual
	// sum goes through a LayerNorm (attn_output_norm, layer_output_norm);
	// projections may have biases; a feed-forward without ffn_gate is
	// Down·GELU(Up·x); Q, K and V may be one matrix (attn_qkv). There is
	// no output head: it embeds whole texts (Batch.Embed), attending to
	// all of a text's tokens when {arch}.attention.causal is false, and
	// its hparams hook reads the LayerNorm epsilon.
	Encoder bool
	// NoRoPE: positions come from a learned table (position_embd), not
	// from rotating queries and keys.
	NoRoPE bool
	// hparams reads the architecture's own metadata into c, after the
	// common keys.
	hparams func(r *hparamReader, c *Config)
}

// archs lists the supported architectures by general.architecture.
var archs = map[string]Arch{
	// Llama 1/2/3, TinyLlama, Mistral, SmolLM: the pass as it is.
	"llama": {Rope: RopeNorm},
	// Qwen2/2.5: biases on Q, K and V (loaded when the file has them).
	"qwen2": {Rope: RopeNeox},
	// Qwen3: per-head norms of queries and keys.
	"qwen3": {Rope: RopeNeox, QKNorm: true},
	// BERT (BGE, all-MiniLM, E5, GTE; bge-reranker with a classification
	// head): learned positions, biases, GELU.
	"bert": {Encoder: true, NoRoPE: true, hparams: encoderHparams},
	// nomic-bert (nomic-embed-text): RoPE (NeoX pairs), one QKV matrix, a
	// SwiGLU feed-forward without biases.
	"nomic-bert": {Rope: RopeNeox, Encoder: true, hparams: encoderHparams},
}

// encoderHparams reads the encoders' LayerNorm epsilon, which llama.cpp
// requires of them.
func encoderHparams(r *hparamReader, c *Config) {
	if !r.has("attention.layer_norm_epsilon") {
		r.fail(fmt.Errorf("model: %s.attention.layer_norm_epsilon is missing", c.Arch))
		return
	}
	c.NormEps = r.float("attention.layer_norm_epsilon", 0)
	if c.NormEps < 0 {
		r.fail(fmt.Errorf("model: bad layer norm epsilon %g", c.NormEps))
	}
}
