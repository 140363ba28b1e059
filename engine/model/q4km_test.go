package model

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// q4kmSpec is a small model mixed as llama-quantize's Q4_K_M mixes (Q4_K,
// with Q6_K for attn_v, ffn_down and the output), with rows of several
// blocks so that the order of the blocks' float sums shows; written
// in-process, so the test runs on a fresh clone. The golden was recorded
// with testdata/llama_logits.c on the file synthgen writes from the same
// spec:
//
//	go run ./internal/synth/synthgen -o q4km.gguf -arch llama -embd 1024 -layers 2 -heads 8 -kvheads 4 \
//	    -ff 2048 -ctx 512 -seed 7 -tied=false -type Q4_K -types attn_v.weight=Q6_K,ffn_down.weight=Q6_K,output.weight=Q6_K
var q4kmSpec = synth.Spec{Arch: "llama", Embd: 1024, Layers: 2, Heads: 8, KVHeads: 4, FF: 2048, Context: 512, Seed: 7,
	Type: gguf.TypeQ4_K, Types: map[string]gguf.GGMLType{
		"attn_v.weight": gguf.TypeQ6_K, "ffn_down.weight": gguf.TypeQ6_K, "output.weight": gguf.TypeQ6_K}}

// TestQ4KMMatchesLlamaCpp: on Q4_K weights llama.cpp computes with its
// repacked kernels (x86's default), whose float sums differ from its
// plain ones; the packed kernels follow them (tensor/pack.go), so the
// logits of a ten-token prompt (two groups of four through ggml's gemm,
// two tokens through its gemv) and eight greedy steps equal llama.cpp's,
// at every kernel level (this model has no F16 weights, the one place
// where avx2 follows llama.cpp's AVX2 build instead).
func TestQ4KMMatchesLlamaCpp(t *testing.T) {
	var g struct {
		PromptIDs []int32   `json:"prompt_ids"`
		GreedyIDs []int32   `json:"greedy_ids"`
		Logits    []float32 `json:"logits"`
	}
	readJSON(t, filepath.Join(testutil.ModuleRoot(t), "testdata", "q4km_synth_golden.json"), &g)
	path := writeSynth(t, q4kmSpec)
	forEachLevel(t, func(t *testing.T) {
		const tol = 0.0
		r := openModel(t, path, 2, 1)
		got := r.prompt(t, 0, g.PromptIDs)
		d, at := maxAbsDiff(got, g.Logits)
		t.Logf("max |logit - llama.cpp| = %.2g", d)
		if d > tol || math.IsNaN(d) {
			t.Fatalf("logit %d: %v, llama.cpp %v (max diff %g, tolerance %g)", at, got[at], g.Logits[at], d, tol)
		}
		ids := r.greedy(t, 0, g.PromptIDs, len(g.GreedyIDs))
		for i := range ids {
			if ids[i] != g.GreedyIDs[i] {
				t.Fatalf("greedy token %d is %d, llama.cpp chose %d", i, ids[i], g.GreedyIDs[i])
			}
		}
	})
}
