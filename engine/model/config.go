// Package model runs the forward pass of decoder-only transformers stored in
// GGUF files: Llama (1/2/3, TinyLlama, Mistral, SmolLM), Qwen2 and Qwen3.
//
// The data path, top to bottom, for a batch of tokens that may belong to
// several sequences: embed -> for each layer (RMSNorm -> Q,K,V -> RoPE ->
// write K,V to the cache -> causal attention over the token's own sequence
// -> output projection -> residual -> RMSNorm -> SwiGLU feed-forward ->
// residual) -> final RMSNorm -> logits. Each step follows the arithmetic of
// llama.cpp's CPU backend, so logits agree to within rounding.
package model

import (
	"fmt"
	"math"

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
}

// supported lists the architectures this engine runs and their RoPE style.
var supported = map[string]RopeType{
	"llama": RopeNorm,
	"qwen2": RopeNeox,
	"qwen3": RopeNeox,
}

// ReadConfig reads and checks the hyperparameters.
func ReadConfig(f *gguf.File) (Config, error) {
	arch := f.Architecture()
	rt, ok := supported[arch]
	if !ok {
		if arch == "" {
			return Config{}, fmt.Errorf("model: general.architecture is missing")
		}
		return Config{}, fmt.Errorf("model: architecture %q is not supported (supported: llama, qwen2, qwen3)", arch)
	}
	c := Config{Arch: arch, RopeType: rt, QKNorm: arch == "qwen3"}
	var err error
	geti := func(key string, def int64) int {
		if err != nil {
			return 0
		}
		var v int64
		if def < 0 {
			v, err = f.Int(arch + "." + key)
		} else {
			v, err = f.IntOr(arch+"."+key, def)
		}
		if err == nil && (v < 0 || v > 1<<30) {
			err = fmt.Errorf("model: %s.%s = %d is out of range", arch, key, v)
		}
		return int(v)
	}
	c.Embd = geti("embedding_length", -1)
	c.Layers = geti("block_count", -1)
	c.Heads = geti("attention.head_count", -1)
	c.FF = geti("feed_forward_length", -1)
	c.ContextLen = geti("context_length", 2048)
	c.KVHeads = geti("attention.head_count_kv", int64(c.Heads))
	if err != nil {
		return Config{}, err
	}
	if c.Embd == 0 || c.Layers == 0 || c.Heads == 0 || c.KVHeads == 0 || c.FF == 0 {
		return Config{}, fmt.Errorf("model: zero-sized hyperparameter (embd %d, layers %d, heads %d, kv heads %d, ff %d)", c.Embd, c.Layers, c.Heads, c.KVHeads, c.FF)
	}
	if c.Heads%c.KVHeads != 0 {
		return Config{}, fmt.Errorf("model: %d heads is not a multiple of %d kv heads", c.Heads, c.KVHeads)
	}
	c.HeadDim = geti("attention.key_length", int64(c.Embd/c.Heads))
	if vl := geti("attention.value_length", int64(c.HeadDim)); err == nil && vl != c.HeadDim {
		return Config{}, fmt.Errorf("model: value length %d differs from key length %d", vl, c.HeadDim)
	}
	c.RopeDims = geti("rope.dimension_count", int64(c.HeadDim))
	if err != nil {
		return Config{}, err
	}
	if c.HeadDim == 0 || c.HeadDim%2 != 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0 {
		return Config{}, fmt.Errorf("model: head size %d with %d RoPE dims is not supported", c.HeadDim, c.RopeDims)
	}
	eps, err := f.FloatOr(arch+".attention.layer_norm_rms_epsilon", 1e-5)
	if err != nil {
		return Config{}, err
	}
	c.RMSEps = float32(eps)
	base, err := f.FloatOr(arch+".rope.freq_base", 10000)
	if err != nil {
		return Config{}, err
	}
	c.RopeBase = float32(base)
	c.RopeScale = 1
	scaling, err := f.StringOr(arch+".rope.scaling.type", "")
	if err != nil {
		return Config{}, err
	}
	factor, err := f.FloatOr(arch+".rope.scaling.factor", 0)
	if err != nil {
		return Config{}, err
	}
	if factor == 0 {
		// Older files say rope.scale_linear instead.
		if factor, err = f.FloatOr(arch+".rope.scale_linear", 0); err != nil {
			return Config{}, err
		}
		if factor != 0 && scaling == "" {
			scaling = "linear"
		}
	}
	switch scaling {
	case "", "none":
	case "linear":
		if factor > 0 {
			c.RopeScale = float32(1 / factor)
		}
	default:
		return Config{}, fmt.Errorf("model: RoPE scaling %q is not supported (none and linear are)", scaling)
	}
	if math.IsNaN(eps) || eps <= 0 || base <= 0 {
		return Config{}, fmt.Errorf("model: bad rms epsilon %g or RoPE base %g", eps, base)
	}
	return c, nil
}
