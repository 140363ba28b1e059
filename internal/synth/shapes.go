package synth

import "github.com/llmsql/llmsql/engine/gguf"

// Shapes are synthetic models of each architecture at a real model's
// widths, for speed: the embedding width, heads, feed-forward and
// vocabulary of a model people download, its own metadata at real values
// (sliding windows, soft-caps, multipliers, experts), and fewer layers or
// experts where the real one would make a file of gigabytes (the name and
// the comment say what was cut). Their weights are random, so their text
// is noise, but each layer's work per token is the real model's. Written
// as Q4_0 they are 150 to 500 MB: synthgen -shape NAME -type q4_0 -o FILE.
var Shapes = map[string]Spec{
	// Gemma 3 270M as published, all 18 layers: one KV head of 256, a
	// window of 512 on five layers of six with their own RoPE base, a
	// 262k vocabulary tied to the output.
	"gemma3-270m": {Arch: "gemma3", Embd: 640, Layers: 18, Heads: 4, KVHeads: 1, HeadDim: 256, FF: 2048,
		Context: 32768, VocabSize: 262144, Seed: 21, Tied: true, Metadata: map[string]gguf.Value{
			"gemma3.attention.sliding_window":         gguf.Uint32(512),
			"gemma3.attention.sliding_window_pattern": gguf.Uint32(6),
			"gemma3.rope.freq_base":                   gguf.Float32(1000000),
			"gemma3.rope.scaling.type":                gguf.String("none"),
		}},
	// Gemma 2 2B's widths, soft-caps and window, 3 of its 26 layers (its
	// 256k tied vocabulary is most of the file).
	"gemma2-2b-3l": {Arch: "gemma2", Embd: 2304, Layers: 3, Heads: 8, KVHeads: 4, HeadDim: 256, FF: 9216,
		Context: 8192, VocabSize: 256000, Seed: 22, Tied: true, Metadata: map[string]gguf.Value{
			"gemma2.attention.sliding_window": gguf.Uint32(4096),
			"gemma2.attn_logit_softcapping":   gguf.Float32(50),
			"gemma2.final_logit_softcapping":  gguf.Float32(30),
			"gemma2.rope.freq_base":           gguf.Float32(10000),
		}},
	// Phi-4-mini's layers (fused QKV and gate/up, partial RoPE, LongRoPE
	// factors), 4 of its 32, with Phi-3.5-mini's 32k vocabulary instead of
	// its 200k one, so that the layers are most of the work.
	"phi4mini-4l": {Arch: "phi3", Embd: 3072, Layers: 4, Heads: 24, KVHeads: 8, FF: 8192,
		Context: 131072, VocabSize: 32064, Seed: 23, Tied: true, Metadata: map[string]gguf.Value{
			"general.name": gguf.String("synth-p-4-mini"), // not "phi3": see goldenArchs
			"phi3.rope.scaling.original_context_length": gguf.Uint32(4096),
			"phi3.rope.freq_base":                       gguf.Float32(10000),
		}},
	// Granite 3.1 2B's widths and multipliers, 6 of its 40 layers.
	"granite3-2b-6l": {Arch: "granite", Embd: 2048, Layers: 6, Heads: 32, KVHeads: 8, FF: 8192,
		Context: 131072, VocabSize: 49155, Seed: 24, Tied: true, Metadata: map[string]gguf.Value{
			"granite.embedding_scale": gguf.Float32(12),
			"granite.residual_scale":  gguf.Float32(0.22),
			"granite.attention.scale": gguf.Float32(0.015625),
			"granite.logit_scale":     gguf.Float32(8),
			"granite.rope.freq_base":  gguf.Float32(5000000),
		}},
	// Qwen3-30B-A3B's layers and routing (experts of 768, 8 used per
	// token: each token's work per layer is the real model's), 4 of its 48
	// layers, 32 of its 128 experts, and a 32k vocabulary instead of its
	// 152k untied one, so that the experts are most of the work.
	"qwen3moe-a3b-4l-32e": {Arch: "qwen3moe", Embd: 2048, Layers: 4, Heads: 32, KVHeads: 4, HeadDim: 128, FF: 6144,
		Context: 40960, VocabSize: 32000, Seed: 25, Metadata: map[string]gguf.Value{
			"qwen3moe.expert_count":               gguf.Uint32(32),
			"qwen3moe.expert_used_count":          gguf.Uint32(8),
			"qwen3moe.expert_feed_forward_length": gguf.Uint32(768),
		}},
}
