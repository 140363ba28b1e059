package model

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// qwenGolden is what testdata/golden.mjs records.
type qwenGolden struct {
	PromptIDs   []int32      `json:"prompt_ids"`
	TopLogprobs [][2]float64 `json:"top_logprobs"`
	GreedyIDs   []int32      `json:"greedy_ids"`
}

// The specs the goldens were recorded on (see testdata/README.md).
var qwenSpecs = map[string]synth.Spec{
	"qwen2": {Arch: "qwen2", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 1, Tied: true, Type: gguf.TypeF16},
	"qwen3": {Arch: "qwen3", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Context: 512, Seed: 1, Tied: false, Type: gguf.TypeF16},
}

func TestQwenMatchesLlamaCpp(t *testing.T) {
	for _, arch := range []string{"qwen2", "qwen3"} {
		t.Run(arch, func(t *testing.T) {
			spec := qwenSpecs[arch]
			spec.Vocab = testutil.Shared(t, "vocab/ggml-vocab-"+arch+".gguf")
			path := filepath.Join(t.TempDir(), arch+".gguf")
			if err := synth.Write(path, spec); err != nil {
				t.Fatal(err)
			}
			var g qwenGolden
			readJSON(t, filepath.Join(testutil.ModuleRoot(t), "testdata", arch+"_synth_golden.json"), &g)
			r := openModel(t, path, 2, 1)
			logits := r.prompt(t, 0, g.PromptIDs)
			// Compare log-probabilities of llama.cpp's 64 most likely tokens.
			var maxL float64 = math.Inf(-1)
			for _, l := range logits {
				maxL = math.Max(maxL, float64(l))
			}
			var sum float64
			for _, l := range logits {
				sum += math.Exp(float64(l) - maxL)
			}
			lse := maxL + math.Log(sum)
			var worst float64
			for _, e := range g.TopLogprobs {
				id, want := int(e[0]), e[1]
				got := float64(logits[id]) - lse
				worst = math.Max(worst, math.Abs(got-want))
			}
			t.Logf("max |log p - llama.cpp| over its top 64: %.2g", worst)
			if worst > 2e-3 {
				t.Fatalf("log-probabilities differ by %g", worst)
			}
			got := r.greedy(t, 0, g.PromptIDs, len(g.GreedyIDs))
			for i := range got {
				if got[i] != g.GreedyIDs[i] {
					t.Fatalf("greedy token %d is %d, llama.cpp chose %d", i, got[i], g.GreedyIDs[i])
				}
			}
		})
	}
}
