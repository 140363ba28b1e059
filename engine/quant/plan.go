package quant

import (
	"sort"
	"strconv"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TensorPlan is what llama-quantize does with one tensor.
type TensorPlan struct {
	Tensor *gguf.Tensor
	Type   gguf.GGMLType // type written; equal to Tensor.Type means a plain copy
	// Fallback is set when the row length did not fit the type the mix
	// asked for (Wanted) and Type is the substitute.
	Fallback bool
	Wanted   gguf.GGMLType
}

// Plan decides the output type of every tensor of f under mix m, in the
// order llama-quantize writes them (non-layer tensors by name, then layer
// by layer, each layer's tensors by name).
//
// It follows llama-quant.cpp: 1-D tensors, norms and a few small special
// tensors are copied; output.weight (and token_embd.weight when there is
// no output.weight) gets Q6_K, or Q8_0 when its rows do not fit the
// default type; the _M/_S/_L mixes give attn_v and ffn_down more bits on
// the layers use_more_bits picks. A row length that does not fit the chosen
// K-quant falls back as llama.cpp does (Q2_K/Q3_K to Q4_0, Q4_K to Q5_0,
// Q5_K to Q5_1, Q6_K to Q8_0). Where no quantized type fits at all (such
// as stories260K's 172-wide ffn_down under Q8_0) the tensor keeps its
// source type, which is what the llama.cpp build behind the project's
// reference files did; some llama.cpp versions write F16 there instead.
func Plan(f *gguf.File, m Mix) ([]TensorPlan, error) {
	tensors := append([]*gguf.Tensor(nil), f.Tensors...)
	sort.SliceStable(tensors, func(i, j int) bool { return weightNameLess(tensors[i].Name, tensors[j].Name) })

	st, err := newMixState(f, m, tensors)
	if err != nil {
		return nil, err
	}
	plans := make([]TensorPlan, len(tensors))
	for i, t := range tensors {
		p := TensorPlan{Tensor: t, Type: t.Type, Wanted: t.Type}
		if allowsQuantization(t) {
			p.Wanted, p.Type, p.Fallback, err = st.tensorType(t)
			if err != nil {
				return nil, err
			}
		}
		plans[i] = p
	}
	return plans, nil
}

// layerNum is sscanf(name, "blk.%d.", &layer) == 1.
func layerNum(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, false
	}
	end := 0
	if end < len(rest) && (rest[end] == '-' || rest[end] == '+') {
		end++
	}
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return n, err == nil
}

// layerOf is the layer weight_name_comparer sorts by: -1 without one.
func layerOf(name string) int {
	if n, ok := layerNum(name); ok {
		return n
	}
	return -1
}

// weightNameLess is llama_model_loader's weight_name_comparer.
func weightNameLess(a, b string) bool {
	la, lb := layerOf(a), layerOf(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

// nDims is ggml_n_dims: trailing dimensions of 1 do not count.
func nDims(t *gguf.Tensor) int {
	for i := len(t.Dims) - 1; i >= 1; i-- {
		if t.Dims[i] > 1 {
			return i + 1
		}
	}
	return 1
}

// noQuantize lists name fragments llama.cpp never quantizes (small or
// special tensors: expert routers, conv kernels, RWKV mixing vectors,
// positional tables, vision and audio parts).
var noQuantize = []string{
	"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
	"per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
	"indexer.k_proj.weight", "indexer.q_proj.weight",
	"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
	"time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
	"time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
	"time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
	"attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
	".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
}

// allowsQuantization is llama-quant.cpp's tensor_allows_quantization.
func allowsQuantization(t *gguf.Tensor) bool {
	if nDims(t) < 2 || !strings.HasSuffix(t.Name, "weight") {
		return false
	}
	if t.Name == "position_embd.weight" || t.Name == "token_types.weight" {
		return false
	}
	for _, s := range noQuantize {
		if strings.Contains(t.Name, s) {
			return false
		}
	}
	return true
}
