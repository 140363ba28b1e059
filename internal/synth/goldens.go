package synth

import (
	"fmt"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// A Golden is a small synthetic model on which llama.cpp's outputs were
// recorded (testdata/arch_golden.sh writes each with synthgen -golden
// NAME and runs testdata/arch_golden.mjs on it; the outputs are
// testdata/arch/NAME.json), and the prompt they were recorded after.
type Golden struct {
	Spec   Spec
	Prompt []int32 // token ids, evaluated as given
	Greedy int     // greedy tokens recorded
}

// goldenPrompt is 12 tokens of the built-in vocabulary: longer than the
// sliding windows of the small files, so that windowed layers differ
// from global ones.
var goldenPrompt = []int32{1, 300, 301, 7, 288, 42, 310, 265, 270, 299, 400, 450}

// goldenTypes are the weight types each architecture's goldens cover.
var goldenTypes = []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0}

// goldenArchs are the small specs per architecture; Goldens adds a type.
var goldenArchs = map[string]Spec{
	"gemma2": {Arch: "gemma2", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 11, Tied: true},
	"gemma3": {Arch: "gemma3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, FF: 128, Context: 512, Seed: 12, Tied: true},
	// llama.cpp looks up Phi-3's special tokens (<|endoftext|>, ...) when
	// general.name says phi3; the built-in vocabulary has none.
	"phi3": {Arch: "phi3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 13,
		Metadata: map[string]gguf.Value{"general.name": gguf.String("synth-p-3")}},
	"qwen3moe": {Arch: "qwen3moe", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 15},
	"granite":  {Arch: "granite", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 14},
	// Mistral Nemo and Ministral are published as llama files whose heads
	// are not Embd/Heads wide (Nemo: 32 heads of 128 in 5120), so they
	// carry llama.attention.key_length; this one has heads of 32 in 64.
	"mistral": {Arch: "llama", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, FF: 128, Context: 512, Seed: 16},
}

// Goldens are the recorded models by name, ARCH-TYPE (gemma2-f16, ...).
var Goldens = func() map[string]Golden {
	g := map[string]Golden{}
	for arch, s := range goldenArchs {
		for _, t := range goldenTypes {
			s.Type = t
			g[GoldenName(arch, t)] = Golden{Spec: s, Prompt: goldenPrompt, Greedy: 16}
		}
	}
	return g
}()

// GoldenName is the name of arch's golden with weights of type t.
func GoldenName(arch string, t gguf.GGMLType) string {
	return fmt.Sprintf("%s-%s", arch, strings.ToLower(t.String()))
}
