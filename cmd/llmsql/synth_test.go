package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/internal/testutil"
)

// synthF16 returns the synthetic TinyLlama-shaped model that
// ../shared/tools/gensynth writes (2.2 GB, so not made by the test: CI
// makes it once and names it in LLMSQL_SYNTH_F16).
func synthF16(t *testing.T) string {
	p := os.Getenv("LLMSQL_SYNTH_F16")
	if p == "" {
		t.Skip("skipping: LLMSQL_SYNTH_F16 does not name the synthetic model (see .ci/run for how it is made)")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %v", err)
	}
	return p
}

type synthLogitsRef struct {
	PromptIDs []int32   `json:"prompt_ids"`
	Logits    []float32 `json:"logits"`
}

type synthGreedyRef struct {
	Model        string    `json:"model"`
	Prompt       string    `json:"prompt"`
	PromptIDs    []int32   `json:"prompt_ids"`
	GeneratedIDs []int32   `json:"generated_ids"`
	Margins      []float32 `json:"top1_top2_logit_margin"`
}

// TestSynthMatchesLlamaCpp checks the full-size model path on llama.cpp's
// references: the f16 file as generated, and a Q8_0 file made by our own
// quantize command (the reference's Q8_0 came from llama-quantize).
func TestSynthMatchesLlamaCpp(t *testing.T) {
	f16 := synthF16(t)
	var greedyRefs []synthGreedyRef
	readJSONFile(t, testutil.Shared(t, "ref/synth/synth_greedy.json"), &greedyRefs)

	q8 := filepath.Join(t.TempDir(), "synth-q8_0.gguf")
	var out, errb bytes.Buffer
	if code := run([]string{"quantize", f16, q8, "Q8_0"}, &out, &errb); code != 0 {
		t.Fatalf("quantize failed (%d): %s", code, errb.String())
	}
	// Tolerances: the 2e-2 for both. Our kernels, norms, RoPE,
	// attention and libm calls follow llama.cpp's AVX-512 build operation
	// for operation, and on a CPU with AVX-512 (the reference's kind) the
	// logits equal the reference's to the precision it was printed with,
	// greedy ids included; there the bound is 1e-6. So do the pure-Go
	// kernels. The AVX2 kernels' F16 products follow llama.cpp's AVX2
	// build (8 lanes where AVX-512 has 16), which differs from the
	// reference in the last bits, and with Q8_0 weights a last bit can
	// move an activation by one 8-bit step.
	exact := tensor.KernelLevel() != "avx2"
	tol := 2e-2
	if exact {
		tol = 1e-6
	}
	cases := []struct {
		path, logitsRef, greedyModel string
		tol                          float64
	}{
		{f16, "ref/synth/synth_logits_once_f16.json", "synth-tinyllama-f16.gguf", tol},
		{q8, "ref/synth/synth_logits_once_q8_0.json", "synth-tinyllama-q8_0.gguf", tol},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			var ref synthLogitsRef
			readJSONFile(t, testutil.Shared(t, c.logitsRef), &ref)
			m, err := engine.LoadModel(c.path, engine.LoadConfig{Slots: 1, Context: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var g *synthGreedyRef
			for i := range greedyRefs {
				if greedyRefs[i].Model == c.greedyModel {
					g = &greedyRefs[i]
				}
			}
			if g == nil {
				t.Fatalf("no greedy reference for %s", c.greedyModel)
			}
			opts := engine.DefaultGenerateOptions()
			opts.Temperature, opts.MaxTokens, opts.IgnoreEOS = 0, len(g.GeneratedIDs), true
			res, err := m.Generate(context.Background(), engine.Request{PromptIDs: ref.PromptIDs, Options: opts, WantLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range ref.Logits {
				worst = math.Max(worst, math.Abs(float64(res.Logits[i]-ref.Logits[i])))
			}
			t.Logf("max |logit - llama.cpp| = %.3g", worst)
			if worst > c.tol {
				t.Errorf("logits differ from llama.cpp's by %g (tolerance %g)", worst, c.tol)
			}
			for i, want := range g.GeneratedIDs {
				// A step where llama.cpp's own top two were closer than 0.01
				// may go either way; the comparison ends before it.
				if g.Margins[i] < 0.01 && !exact {
					t.Logf("stopping the comparison at step %d (llama.cpp's margin %.4f)", i, g.Margins[i])
					break
				}
				if res.GeneratedIDs[i] != want {
					t.Fatalf("greedy token %d: %d, llama.cpp %d", i, res.GeneratedIDs[i], want)
				}
			}
		})
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}
