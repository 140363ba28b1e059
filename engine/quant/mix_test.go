package quant

import (
	"sort"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/testutil"
)

func TestParseMix(t *testing.T) {
	for in, want := range map[string]string{"q4_k_m": "Q4_K_M", "Q4_K": "Q4_K_M", "bf16": "BF16", "q3_k": "Q3_K_M", "Q8_0": "Q8_0"} {
		m, err := ParseMix(in)
		if err != nil || m.Name != want {
			t.Errorf("ParseMix(%q) = %v, %v; want %s", in, m.Name, err, want)
		}
	}
	for _, in := range []string{"", "Q4_K_X", "IQ2_XXS", "Q2_K_S", "q4_0 "} {
		if _, err := ParseMix(in); err == nil || !strings.Contains(err.Error(), "Q4_K_M") {
			t.Errorf("ParseMix(%q): want an error listing the types, got %v", in, err)
		}
	}
}

// TestWeightNameOrder is llama_model_loader's order: tensors outside layers
// first, then layers numerically, byte order within each.
func TestWeightNameOrder(t *testing.T) {
	names := []string{"blk.10.attn_q.weight", "blk.2.ffn_up.weight", "token_embd.weight", "blk.2.attn_q.weight",
		"output.weight", "blk.x.weight", "blk.2.Attn.weight"}
	sort.Slice(names, func(i, j int) bool { return weightNameLess(names[i], names[j]) })
	want := "blk.x.weight output.weight token_embd.weight blk.2.Attn.weight blk.2.attn_q.weight blk.2.ffn_up.weight blk.10.attn_q.weight"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("order\n%s\nwant\n%s", got, want)
	}
}

// TestPlanStories checks the choices the shared llama-quantize files show
// for stories260K: Q6_K wanted for output.weight falls back to Q8_0, and
// ffn_down (172 wide, no quantized type fits) stays F32.
func TestPlanStories(t *testing.T) {
	f, err := gguf.Open(testutil.Shared(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, _ := ParseMix("Q4_0")
	plans, err := Plan(f, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != len(f.Tensors) {
		t.Fatalf("%d plans for %d tensors", len(plans), len(f.Tensors))
	}
	got := map[string]TensorPlan{}
	for _, p := range plans {
		got[p.Tensor.Name] = p
	}
	for name, want := range map[string]TensorPlan{
		"output.weight":          {Type: gguf.TypeQ8_0, Wanted: gguf.TypeQ6_K, Fallback: true},
		"blk.0.ffn_down.weight":  {Type: gguf.TypeF32, Wanted: gguf.TypeQ4_0, Fallback: true},
		"token_embd.weight":      {Type: gguf.TypeQ4_0, Wanted: gguf.TypeQ4_0},
		"blk.4.attn_v.weight":    {Type: gguf.TypeQ4_0, Wanted: gguf.TypeQ4_0},
		"blk.1.attn_norm.weight": {Type: gguf.TypeF32, Wanted: gguf.TypeF32},
	} {
		p := got[name]
		if p.Type != want.Type || p.Wanted != want.Wanted || p.Fallback != want.Fallback {
			t.Errorf("%s: type %s wanted %s fallback %v; want %s %s %v", name, p.Type, p.Wanted, p.Fallback, want.Type, want.Wanted, want.Fallback)
		}
	}
	if plans[0].Tensor.Name != "output.weight" || plans[3].Tensor.Name != "blk.0.attn_k.weight" {
		t.Errorf("order starts %s, %s, %s, %s", plans[0].Tensor.Name, plans[1].Tensor.Name, plans[2].Tensor.Name, plans[3].Tensor.Name)
	}
}

// TestPlanExpertLayers: in mixture-of-experts models the layer comes from
// the tensor name, and a name without one is an error, as in llama.cpp.
func TestPlanExpertLayers(t *testing.T) {
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	w.Set("llama.block_count", gguf.Uint32(2))
	w.Set("llama.expert_count", gguf.Uint32(4))
	for _, name := range []string{"blk.1.ffn_down_exps.weight", "ffn_down_stray.weight"} {
		if err := w.AddTensor(name, gguf.TypeF32, []uint64{256, 2, 4}, make([]byte, 4*256*8)); err != nil {
			t.Fatal(err)
		}
	}
	var buf strings.Builder
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMix("Q4_K_M")
	if _, err := Plan(f, m); err == nil || !strings.Contains(err.Error(), "ffn_down_stray.weight") {
		t.Errorf("want an error naming ffn_down_stray.weight, got %v", err)
	}
}
