// Package model runs the forward pass of transformers stored in GGUF files:
// the decoders Llama (1/2/3, TinyLlama, Mistral, SmolLM), Qwen2, Qwen3,
// Gemma 2 and 3, Phi-3, Granite and Qwen3 MoE, and the encoders BERT (BGE,
// MiniLM, E5, GTE, bge-reranker) and nomic-bert (nomic-embed-text), which
// embed text rather than generate it. archs.go lists what each architecture
// changes in the one pass they share.
//
// The data path, top to bottom, for a batch of tokens that may belong to
// several sequences: embed -> for each layer (RMSNorm -> Q,K,V -> RoPE ->
// write K,V to the cache -> causal attention over the token's own sequence
// -> output projection -> residual -> RMSNorm -> SwiGLU feed-forward ->
// residual) -> final RMSNorm -> logits. Each step follows the arithmetic of
// llama.cpp's CPU backend, so logits agree to within rounding.
//
// The encoders run the same pass with their differences as data (archs.go,
// encoder.go): learned position and token-type embeddings and a LayerNorm
// on the input, LayerNorm after each residual instead of RMSNorm before
// each sublayer, biases, a GELU feed-forward (BERT), no KV cache, and
// attention over the whole text rather than the positions before a token.
// A sequence to embed runs whole in one pass (Batch.Embed, embed.go) and
// its final states are pooled as the file's {arch}.pooling_type says
// (pooling.go).
package model

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// RopeType is how RoPE pairs the dimensions of a head.
type RopeType int

const (
	// RopeNorm rotates adjacent pairs (x[2i], x[2i+1]): Llama.
	RopeNorm RopeType = iota
	// RopeNeox rotates (x[i], x[i+d/2]): GPT-NeoX, Qwen.
	RopeNeox
)

// Config holds a model's hyperparameters, read from its GGUF metadata.
type Config struct {
	Arch       string
	Embd       int // residual stream width
	Layers     int
	Heads      int
	KVHeads    int
	HeadDim    int // key/query width per head
	FF         int // feed-forward hidden width
	Vocab      int
	ContextLen int // training context
	RMSEps     float32
	RopeType   RopeType
	RopeDims   int     // leading dims of each head that RoPE rotates
	RopeBase   float32 // freq_base
	RopeScale  float32 // freq_scale: 1/linear scaling factor
	QKNorm     bool    // Qwen3: RMSNorm on each query and key head

	// Causal attention sees only the positions up to the token's own
	// ({arch}.attention.causal; decoders are causal, encoders are not).
	Causal bool
	// Encoder is a post-norm encoder (BERT, nomic-bert): LayerNorm after
	// each residual, with NormEps, and no output head.
	Encoder bool
	// RankLast: a reranker scores its last token, through a softmax
	// (Arch.RankLast).
	RankLast bool
	NormEps  float32 // LayerNorm epsilon ({arch}.attention.layer_norm_epsilon)
	// Pooling is how a sequence's final states become one embedding
	// ({arch}.pooling_type; PoolNone when the file has none).
	Pooling Pooling

	// What the architectures change (archs.go). Zero values are Llama's.

	PostNorms   bool       // RMSNorm on each sublayer's output before its residual (Gemma)
	Act         Activation // the feed-forward's gated activation
	FusedGateUp bool       // gate and up are one ffn_up matrix of 2*FF rows (Phi-3)
	// EmbedScale multiplies the token embeddings (Gemma: sqrt(Embd);
	// Granite: embedding_scale); 0 is none.
	EmbedScale float32
	// QueryScale multiplies the queries after RoPE (Gemma, Phi-3); 0 is
	// none. KQScale scales each query-key score inside attention;
	// ReadConfig sets it to 1/sqrt(HeadDim) unless a hook did.
	QueryScale, KQScale float32
	// AttnSoftcap and FinalSoftcap, when not 0, bound attention scores and
	// logits to (-cap, cap) with cap*tanh(v/cap) (Gemma 2).
	AttnSoftcap, FinalSoftcap float32
	// Window is the sliding-window size of the layers SWA marks: a query
	// at position p sees keys at p-Window+1 .. p. RopeBaseSWA and
	// RopeScaleSWA are those layers' RoPE base and scale.
	Window                    int
	SWA                       []bool
	RopeBaseSWA, RopeScaleSWA float32
	// RopeAttnFactor multiplies RoPE's cosines and sines
	// (rope.scaling.attn_factor; Phi-3's LongRoPE files); 0 is 1.
	RopeAttnFactor float32
	// RopeCtxOrig is the context the model was first trained at
	// (rope.scaling.original_context_length, else context_length): a
	// file with rope_factors_long/short uses the long factors when the
	// KV cache's context exceeds it, as llama.cpp does.
	RopeCtxOrig int
	// ResidualScale multiplies each sublayer's output before it is added
	// to the residual stream; LogitScale divides the logits (Granite).
	// 0 is none.
	ResidualScale, LogitScale float32
	// Experts is the number of experts of a mixture-of-experts
	// feed-forward (expert_count; 0 for a dense one), ExpertsUsed how many
	// each token goes through (expert_used_count), ExpertFF their width
	// (expert_feed_forward_length).
	Experts, ExpertsUsed, ExpertFF int
}

// sqrtf is C's sqrtf: the float32 square root (correctly rounded, as the
// float64 one rounded to float32 is).
func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// supportedNames is the list of architectures for error messages.
func supportedNames() string {
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// hparamReader reads {arch}.KEY values and keeps the first error, so that
// ReadConfig and the architectures' hooks read as lists of keys.
type hparamReader struct {
	f    *gguf.File
	arch string
	err  error
}

// int reads arch.key, def when absent; def < 0 makes the key required.
func (r *hparamReader) int(key string, def int64) int {
	if r.err != nil {
		return 0
	}
	var v int64
	if def < 0 {
		v, r.err = r.f.Int(r.arch + "." + key)
	} else {
		v, r.err = r.f.IntOr(r.arch+"."+key, def)
	}
	if r.err == nil && (v < 0 || v > 1<<30) {
		r.err = fmt.Errorf("model: %s.%s = %d is out of range", r.arch, key, v)
	}
	return int(v)
}

// float reads arch.key, def when absent.
func (r *hparamReader) float(key string, def float64) float32 {
	if r.err != nil {
		return 0
	}
	var v float64
	v, r.err = r.f.FloatOr(r.arch+"."+key, def)
	if r.err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		r.err = fmt.Errorf("model: %s.%s = %g is not a number", r.arch, key, v)
	}
	return float32(v)
}

// str reads arch.key, def when absent.
func (r *hparamReader) str(key, def string) string {
	if r.err != nil {
		return ""
	}
	var v string
	v, r.err = r.f.StringOr(r.arch+"."+key, def)
	return v
}

// bool reads arch.key, def when absent.
func (r *hparamReader) bool(key string, def bool) bool {
	if r.err != nil {
		return false
	}
	var v bool
	v, r.err = r.f.BoolOr(r.arch+"."+key, def)
	return v
}

// has says whether the file sets arch.key.
func (r *hparamReader) has(key string) bool { return r.f.Has(r.arch + "." + key) }

// swaLayers reads which layers use the sliding window: the file's
// attention.sliding_window_pattern, either a period n (in each run of n
// layers all but the last slide, as llama.cpp's set_swa_pattern) or one
// bool per layer; period when the key is absent.
func (r *hparamReader) swaLayers(layers, period int) []bool {
	key := r.arch + ".attention.sliding_window_pattern"
	if v, ok := r.f.Lookup(key); ok && v.Type == gguf.ArrayType {
		var bools []bool
		if a, err := r.f.Array(key); err == nil {
			bools, _ = a.Data().([]bool)
		}
		if len(bools) != layers {
			r.fail(fmt.Errorf("model: %s is not one bool per layer", key))
			return nil
		}
		return append([]bool(nil), bools...)
	}
	n := r.int("attention.sliding_window_pattern", int64(period))
	out := make([]bool, layers)
	for i := range out {
		out[i] = n == 0 || i%n < n-1
	}
	return out
}

// fail records err unless an error came first.
func (r *hparamReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// ReadConfig reads and checks the hyperparameters.
func ReadConfig(f *gguf.File) (Config, error) {
	arch := f.Architecture()
	a, ok := archs[arch]
	if !ok {
		if arch == "" {
			return Config{}, fmt.Errorf("model: general.architecture is missing")
		}
		return Config{}, fmt.Errorf("model: architecture %q is not supported (supported: %s)", arch, supportedNames())
	}
	c := Config{Arch: arch, RopeType: a.Rope, QKNorm: a.QKNorm, Encoder: a.Encoder, RankLast: a.RankLast}
	r := &hparamReader{f: f, arch: arch}
	c.Embd = r.int("embedding_length", -1)
	c.Layers = r.int("block_count", -1)
	c.Heads = r.int("attention.head_count", -1)
	c.FF = r.int("feed_forward_length", -1)
	c.ContextLen = r.int("context_length", 2048)
	c.KVHeads = r.int("attention.head_count_kv", int64(c.Heads))
	if r.err != nil {
		return Config{}, r.err
	}
	if c.Embd == 0 || c.Layers == 0 || c.Heads == 0 || c.KVHeads == 0 || c.FF == 0 {
		return Config{}, fmt.Errorf("model: zero-sized hyperparameter (embd %d, layers %d, heads %d, kv heads %d, ff %d)", c.Embd, c.Layers, c.Heads, c.KVHeads, c.FF)
	}
	if c.Heads%c.KVHeads != 0 {
		return Config{}, fmt.Errorf("model: %d heads is not a multiple of %d kv heads", c.Heads, c.KVHeads)
	}
	c.HeadDim = r.int("attention.key_length", int64(c.Embd/c.Heads))
	if vl := r.int("attention.value_length", int64(c.HeadDim)); r.err == nil && vl != c.HeadDim {
		return Config{}, fmt.Errorf("model: value length %d differs from key length %d", vl, c.HeadDim)
	}
	c.RopeDims = r.int("rope.dimension_count", int64(c.HeadDim))
	if a.NoRoPE {
		c.RopeDims = 0
	}
	if pooling := r.int("pooling_type", 0); pooling > int(PoolRank) {
		r.fail(fmt.Errorf("model: %s.pooling_type %d is not supported (0 none, 1 mean, 2 cls, 3 last, 4 rank)", arch, pooling))
	} else {
		c.Pooling = Pooling(pooling)
	}
	c.Causal = r.bool("attention.causal", true)
	if r.err != nil {
		return Config{}, r.err
	}
	if c.HeadDim == 0 || c.HeadDim%2 != 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0 {
		return Config{}, fmt.Errorf("model: head size %d with %d RoPE dims is not supported", c.HeadDim, c.RopeDims)
	}
	c.RMSEps = r.float("attention.layer_norm_rms_epsilon", 1e-5)
	c.RopeBase = r.float("rope.freq_base", 10000)
	c.RopeScale = 1
	scaling := r.str("rope.scaling.type", "")
	factor := r.float("rope.scaling.factor", 0)
	if factor == 0 {
		// Older files say rope.scale_linear instead.
		if factor = r.float("rope.scale_linear", 0); factor != 0 && scaling == "" {
			scaling = "linear"
		}
	}
	switch scaling {
	case "", "none":
	case "linear":
		if factor > 0 {
			c.RopeScale = 1 / factor
		}
	case "longrope", "su":
		// LongRoPE: per-dimension factors from the file's
		// rope_factors_long/short tensors, no linear scaling.
	default:
		r.fail(fmt.Errorf("model: RoPE scaling %q is not supported (none, linear and longrope are)", scaling))
	}
	c.RopeAttnFactor = r.float("rope.scaling.attn_factor", 1)
	c.RopeCtxOrig = r.int("rope.scaling.original_context_length", int64(c.ContextLen))
	c.PostNorms, c.Act, c.FusedGateUp = a.PostNorms, a.Act, a.FusedGateUp
	if a.hparams != nil {
		a.hparams(r, &c)
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if c.KQScale == 0 {
		c.KQScale = 1 / sqrtf(float32(c.HeadDim))
	}
	if c.SWA != nil && c.RopeBaseSWA == 0 {
		// A window changes no rotation unless the architecture says so.
		c.RopeBaseSWA, c.RopeScaleSWA = c.RopeBase, c.RopeScale
	}
	if c.SWA != nil && (len(c.SWA) != c.Layers || c.Window <= 0) {
		return Config{}, fmt.Errorf("model: sliding window of %d over %d of %d layers", c.Window, len(c.SWA), c.Layers)
	}
	if c.RMSEps <= 0 || c.RopeBase <= 0 {
		return Config{}, fmt.Errorf("model: bad rms epsilon %g or RoPE base %g", c.RMSEps, c.RopeBase)
	}
	return c, nil
}
