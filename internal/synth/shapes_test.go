package synth

import (
	"bytes"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/model"
)

// TestShapes checks each full-size shape without writing its hundreds of
// megabytes: the engine reads its metadata as the real model's (the
// architecture's features switched on), every matrix row is whole Q4_0
// and Q8_0 blocks, and the file stays within the size its comment gives.
func TestShapes(t *testing.T) {
	for name, s := range Shapes {
		t.Run(name, func(t *testing.T) {
			w, err := buildSpec(s, false)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := w.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Parse(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			c, err := model.ReadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.Arch != s.Arch || c.Embd != s.Embd || c.Layers != s.Layers || c.Heads != s.Heads || c.HeadDim != s.headDim() {
				t.Errorf("read as %s, %d wide, %d layers, %d heads of %d", c.Arch, c.Embd, c.Layers, c.Heads, c.HeadDim)
			}
			switch s.Arch {
			case "gemma2", "gemma3":
				if c.Window == 0 || len(c.SWA) != s.Layers {
					t.Errorf("no sliding window (%d, %v)", c.Window, c.SWA)
				}
			case "qwen3moe":
				if c.Experts < 2 || c.ExpertsUsed != 8 {
					t.Errorf("%d experts, %d used", c.Experts, c.ExpertsUsed)
				}
			case "granite":
				if c.LogitScale == 0 || c.ResidualScale == 0 {
					t.Errorf("no multipliers")
				}
			}
			var params int64
			for _, tt := range Archs[s.Arch].Tensors(s, s.VocabSize) {
				n := int64(1)
				for _, d := range tt.Shape {
					n *= int64(d)
				}
				params += n
				if tt.Matrix && tt.Shape[0]%32 != 0 {
					t.Errorf("%s: rows of %d are not whole blocks of 32", tt.Name, tt.Shape[0])
				}
			}
			if mb := params * 9 / 16 / 1e6; mb < 100 || mb > 520 { // Q4_0: 4.5 bits a weight
				t.Errorf("%d parameters, about %d MB at Q4_0", params, mb)
			}
		})
	}
}
