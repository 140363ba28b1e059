package model

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
}
