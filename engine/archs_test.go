package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/internal/synth"
)

// TestArchsLoadAndGenerate loads each architecture's small model through
// the engine (memory plan, pool of threads, KV cache), checks the plan
// against what was loaded (a mixture of experts' 3-D tensors are packed
// too), and generates from it.
func TestArchsLoadAndGenerate(t *testing.T) {
	for _, name := range []string{"gemma2-q4_0", "gemma3-q8_0", "phi3-q4_0", "granite-f16", "qwen3moe-q4_0"} {
		t.Run(name, func(t *testing.T) {
			g := synth.Goldens[name]
			path := filepath.Join(t.TempDir(), name+".gguf")
			if err := synth.Write(path, g.Spec); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			need, err := PlanMemory(f, LoadConfig{Slots: 2, Context: 64})
			var experts int64 // the 3-D expert tensors' bytes
			for _, tt := range f.Tensors {
				if len(tt.Dims) == 3 {
					experts += int64(len(tt.Data))
				}
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if tensor.Packs(g.Spec.Type) && need.Packed < experts {
				t.Errorf("planned %d bytes packed, less than the experts' %d", need.Packed, experts)
			}
			m, err := LoadModel(path, LoadConfig{Slots: 2, Context: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if need.Weights != m.Net.WeightBytes {
				t.Errorf("planned %d bytes of weights, the model reads %d", need.Weights, m.Net.WeightBytes)
			}
			if m.Net.Experts > 0 && tensor.Packs(g.Spec.Type) && !m.Net.Blocks[0].UpExps[0].Packed {
				t.Errorf("experts not packed")
			}
			opts := DefaultGenerateOptions()
			opts.Temperature, opts.MaxTokens, opts.IgnoreEOS = 0, 8, true
			res, err := m.Generate(context.Background(), Request{PromptIDs: g.Prompt, Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GeneratedIDs) != 8 {
				t.Fatalf("generated %d tokens", len(res.GeneratedIDs))
			}
		})
	}
}
