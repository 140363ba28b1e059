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
	// PostNorms: an RMSNorm on the attention's and the feed-forward's
	// outputs before they are added to the residual stream
	// (blk.N.post_attention_norm, post_ffw_norm).
	PostNorms bool
	// Act is the feed-forward's gated activation: SwiGLU or GeGLU.
	Act Activation
	// FusedGateUp: the gate and up projections are one matrix,
	// blk.N.ffn_up of 2*FF rows, gate first. (Q, K and V in one
	// attn_qkv matrix need no switch: any file may have them.)
	FusedGateUp bool
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
	// RankLast: a reranker of this architecture (pooling type rank)
	// scores its last token's final state, not its first's, and gives the
	// softmax of its classification head's outputs (Qwen3-Reranker:
	// cls.output holds the head's "yes" and "no" rows, so the first score
	// is P(yes)), as llama.cpp does for qwen3.
	RankLast bool
	// hparams reads the architecture's own metadata into c, after the
	// common keys.
	hparams func(r *hparamReader, c *Config)
}

// archs lists the supported architectures by general.architecture.
var archs = map[string]Arch{
	// Llama 1/2/3, TinyLlama, Mistral, SmolLM: the pass as it is, with
	// a sliding window on every layer when the file sets
	// llama.attention.sliding_window (Mistral 7B v0.1 was trained with
	// 4096). llama.cpp ignores that key in llama files, so there our
	// attention differs from its beyond the window: the window is what
	// the model was trained with. Converted files rarely carry it.
	"llama": {Rope: RopeNorm, hparams: llamaHparams},
	// Qwen2/2.5: biases on Q, K and V (loaded when the file has them).
	"qwen2": {Rope: RopeNeox},
	// Qwen3: per-head norms of queries and keys.
	"qwen3": {Rope: RopeNeox, QKNorm: true, RankLast: true},
	// Gemma 2: embeddings scaled by sqrt(Embd), GeGLU, norms after each
	// sublayer too, queries scaled by 1/sqrt(key length) before attention,
	// soft-capped attention scores and logits, a sliding window on every
	// other layer (the first of each pair).
	"gemma2": {Rope: RopeNeox, PostNorms: true, Act: GeGLU, hparams: gemma2},
	// Gemma 3 (the text models, 270M to 27B): as Gemma 2 plus per-head
	// query and key norms, without attention soft-capping, the logits
	// capped only if the file says so, the sliding window on five layers
	// of every six when the file sets one, those layers with their own
	// RoPE base (rope.freq_base_swa, 10000 by default) and no RoPE
	// scaling.
	"gemma3": {Rope: RopeNeox, QKNorm: true, PostNorms: true, Act: GeGLU, hparams: gemma3},
	// Phi-3, Phi-3.5, Phi-4-mini: Q, K and V in one matrix, gate and up in
	// one, queries scaled by 1/sqrt(head size) before attention, partial
	// RoPE (rope.dimension_count), and for the long-context models
	// LongRoPE: rope_factors_short/long by the context (see
	// Config.RopeCtxOrig) with rope.scaling.attn_factor on the rotation.
	// llama.cpp ignores their sliding window, and so do we.
	"phi3": {Rope: RopeNeox, FusedGateUp: true, hparams: phi3},
	// Granite 3.x: Llama with multipliers: embeddings by embedding_scale,
	// scores by attention.scale (instead of 1/sqrt(head size)), each
	// sublayer's output by residual_scale, logits divided by logit_scale.
	"granite": {Rope: RopeNorm, hparams: granite},
	// Qwen3 MoE (Qwen3-30B-A3B, ...): Qwen3 with a mixture-of-experts
	// feed-forward (moe.go): blk.N.ffn_gate_inp routes each token to
	// expert_used_count of expert_count experts, whose gate, up and down
	// matrices are ffn_gate_exps, ffn_up_exps, ffn_down_exps (one 3-D
	// tensor each, an expert per slice).
	"qwen3moe": {Rope: RopeNeox, QKNorm: true, hparams: moeHparams},
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

func llamaHparams(r *hparamReader, c *Config) {
	if c.Window = r.int("attention.sliding_window", 0); c.Window > 0 {
		c.SWA = r.swaLayers(c.Layers, 0) // every layer unless the file says
	}
}

func phi3(r *hparamReader, c *Config) {
	c.QueryScale = 1 / sqrtf(float32(c.HeadDim))
	c.KQScale = 1
}

func granite(r *hparamReader, c *Config) {
	c.EmbedScale = r.float("embedding_scale", 0)
	c.KQScale = r.float("attention.scale", 0) // 0: 1/sqrt(head size)
	c.ResidualScale = r.float("residual_scale", 0)
	if !r.has("logit_scale") {
		r.fail(fmt.Errorf("model: granite.logit_scale is missing"))
	}
	c.LogitScale = r.float("logit_scale", 0)
}

// moeHparams reads a mixture-of-experts' sizes.
func moeHparams(r *hparamReader, c *Config) {
	c.Experts = r.int("expert_count", -1)
	c.ExpertsUsed = r.int("expert_used_count", -1)
	if r.err != nil {
		return
	}
	if c.Experts == 0 || c.ExpertsUsed == 0 || c.ExpertsUsed > c.Experts || c.Experts > 512 {
		r.fail(fmt.Errorf("model: %d experts of which %d used is not a mixture of experts", c.Experts, c.ExpertsUsed))
		return
	}
	c.ExpertFF = r.int("expert_feed_forward_length", int64(c.FF/c.ExpertsUsed))
	if r.err == nil && c.ExpertFF == 0 {
		r.fail(fmt.Errorf("model: expert feed-forward length 0"))
	}
}

// Activation is a feed-forward's gated activation: act(Gate·x) * Up·x.
type Activation int

const (
	SwiGLU Activation = iota // silu(g) * u
	GeGLU                    // gelu(g) * u, GELU's tanh form, as ggml computes it (act.go)
)

// gemmaQueryScale is Gemma's query scale: 1/sqrt(key length), except
// that the 27B models were trained with 1/sqrt(Embd/Heads); llama.cpp
// recognizes them by their layer count, and so do we.
func gemmaQueryScale(c *Config, is27B bool) float32 {
	if is27B {
		return 1 / sqrtf(float32(c.Embd/c.Heads))
	}
	return 1 / sqrtf(float32(c.HeadDim))
}

func gemma2(r *hparamReader, c *Config) {
	c.EmbedScale = sqrtf(float32(c.Embd))
	c.QueryScale = gemmaQueryScale(c, c.Layers == 46)
	c.KQScale = 1
	c.AttnSoftcap = r.float("attn_logit_softcapping", 50)
	c.FinalSoftcap = r.float("final_logit_softcapping", 30)
	c.Window = r.int("attention.sliding_window", 4096)
	c.SWA = r.swaLayers(c.Layers, 2)
	c.RopeBaseSWA = r.float("rope.freq_base_swa", float64(c.RopeBase))
	c.RopeScaleSWA = c.RopeScale
}

func gemma3(r *hparamReader, c *Config) {
	c.EmbedScale = sqrtf(float32(c.Embd))
	c.QueryScale = gemmaQueryScale(c, c.Layers == 62)
	c.KQScale = 1
	c.FinalSoftcap = r.float("final_logit_softcapping", 0)
	if c.Window = r.int("attention.sliding_window", 0); c.Window > 0 {
		c.SWA = r.swaLayers(c.Layers, 6)
		c.RopeBaseSWA = r.float("rope.freq_base_swa", 10000)
		c.RopeScaleSWA = 1
	}
}
