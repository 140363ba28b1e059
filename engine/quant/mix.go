package quant

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Mix is a llama-quantize file type: a default tensor type plus the rules
// (llama-quant.cpp's llama_tensor_get_type) that give some tensors more
// bits.
type Mix struct {
	Name     string        // as llama-quantize spells it, e.g. "Q4_K_M"
	FileType gguf.FileType // general.file_type written to the output
	Default  gguf.GGMLType
}

// Mixes lists the supported mixes in llama_ftype order.
var Mixes = []Mix{
	{"F32", 0, gguf.TypeF32},
	{"F16", 1, gguf.TypeF16},
	{"Q4_0", 2, gguf.TypeQ4_0},
	{"Q4_1", 3, gguf.TypeQ4_1},
	{"Q8_0", 7, gguf.TypeQ8_0},
	{"Q5_0", 8, gguf.TypeQ5_0},
	{"Q5_1", 9, gguf.TypeQ5_1},
	{"Q2_K", 10, gguf.TypeQ2_K},
	{"Q3_K_S", 11, gguf.TypeQ3_K},
	{"Q3_K_M", 12, gguf.TypeQ3_K},
	{"Q3_K_L", 13, gguf.TypeQ3_K},
	{"Q4_K_S", 14, gguf.TypeQ4_K},
	{"Q4_K_M", 15, gguf.TypeQ4_K},
	{"Q5_K_S", 16, gguf.TypeQ5_K},
	{"Q5_K_M", 17, gguf.TypeQ5_K},
	{"Q6_K", 18, gguf.TypeQ6_K},
	{"BF16", 32, gguf.TypeBF16},
}

// mixAliases are llama-quantize's short names.
var mixAliases = map[string]string{"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"}

// ParseMix finds a mix by name, case-insensitively.
func ParseMix(name string) (Mix, error) {
	n := strings.ToUpper(name)
	if a, ok := mixAliases[n]; ok {
		n = a
	}
	for _, m := range Mixes {
		if m.Name == n {
			return m, nil
		}
	}
	names := make([]string, len(Mixes))
	for i, m := range Mixes {
		names[i] = m.Name
	}
	return Mix{}, fmt.Errorf("unknown quantization type %q (want one of %s)", name, strings.Join(names, ", "))
}

const (
	ftQ2_K   gguf.FileType = 10
	ftQ3_K_S gguf.FileType = 11
	ftQ3_K_M gguf.FileType = 12
	ftQ3_K_L gguf.FileType = 13
	ftQ4_K_S gguf.FileType = 14
	ftQ4_K_M gguf.FileType = 15
	ftQ5_K_M gguf.FileType = 17
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
		if allowsQuantization(t, st.arch) {
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
func allowsQuantization(t *gguf.Tensor, arch string) bool {
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

type category int

const (
	catOther category = iota
	catTokenEmbd
	catAttnQ
	catAttnV // attn_v, attn_qkv and attn_kv_b: the "more sensitive" group
	catAttnK
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
	catOutput
)

// categoryOf is tensor_get_category; the order of the tests matters.
func categoryOf(name string) category {
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	case strings.Contains(name, "attn_qkv.weight"), strings.Contains(name, "attn_kv_b.weight"),
		strings.Contains(name, "attn_v.weight"):
		return catAttnV
	case strings.Contains(name, "attn_k.weight"):
		return catAttnK
	case strings.Contains(name, "attn_q.weight"):
		return catAttnQ
	case strings.Contains(name, "attn_output.weight"):
		return catAttnOutput
	case strings.Contains(name, "ffn_up"):
		return catFFNUp
	case strings.Contains(name, "ffn_gate"):
		return catFFNGate
	case strings.Contains(name, "ffn_down"):
		return catFFNDown
	}
	return catOther
}

// mixState is quantize_state_impl: model facts and the running counters
// of attn_v and ffn_* tensors seen so far.
type mixState struct {
	mix      Mix
	arch     string
	falcon   bool
	is70B    bool
	nGQA     int64
	nExpert  int64
	nLayer   int
	tied     bool
	nAttnV   int
	iAttnV   int
	iFFNDown int
	iFFNGate int
	iFFNUp   int
}

func newMixState(f *gguf.File, m Mix, tensors []*gguf.Tensor) (*mixState, error) {
	arch := f.Architecture()
	st := &mixState{mix: m, arch: arch, falcon: arch == "falcon", tied: true}
	nHead, err := firstInt(f, arch+".attention.head_count", 0)
	if err != nil {
		return nil, err
	}
	nHeadKV, err := firstInt(f, arch+".attention.head_count_kv", nHead)
	if err != nil {
		return nil, err
	}
	if nHeadKV != 0 {
		st.nGQA = nHead / nHeadKV
	}
	if st.nExpert, err = firstInt(f, arch+".expert_count", 0); err != nil {
		return nil, err
	}
	maxLayer := -1
	for _, t := range tensors {
		maxLayer = max(maxLayer, layerOf(t.Name))
		c := categoryOf(t.Name)
		if c == catAttnV {
			st.nAttnV++
		}
		if c == catOutput {
			st.tied = false
		}
	}
	n, err := firstInt(f, arch+".block_count", int64(maxLayer+1))
	if err != nil {
		return nil, err
	}
	st.nLayer = int(n)
	st.is70B = arch == "llama" && n == 80 && nHead != nHeadKV
	return st, nil
}

// firstInt reads an integer hyperparameter that may also be stored per
// layer as an array (then the first layer's value counts, as llama.cpp's
// n_head() does).
func firstInt(f *gguf.File, key string, def int64) (int64, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return def, nil
	}
	if v.Type == gguf.ArrayType {
		xs, err := f.Ints(key)
		if err != nil {
			return 0, err
		}
		if len(xs) == 0 {
			return def, nil
		}
		return xs[0], nil
	}
	return f.Int(key)
}

func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// layerInfo is llama-quant.cpp's layer_info: the running counter, except in
// mixture-of-experts models, whose layer comes from the tensor's name.
func (st *mixState) layerInfo(counter int, name string) (int, error) {
	if st.nExpert <= 1 {
		return counter, nil
	}
	l, ok := layerNum(name)
	if !ok {
		return 0, fmt.Errorf("failed to determine layer for tensor %s", name)
	}
	if l < 0 || l >= st.nLayer {
		return 0, fmt.Errorf("bad layer %d for tensor %s, must be in [0, %d)", l, name, st.nLayer)
	}
	return l, nil
}

// tensorType is llama_tensor_get_type for a tensor that may be quantized:
// the type the mix wants, the type written, and whether that is a
// fallback.
func (st *mixState) tensorType(t *gguf.Tensor) (wanted, typ gguf.GGMLType, fallback bool, err error) {
	typ = st.mix.Default
	if ti, _ := typ.Info(); !ti.Quantized {
		return typ, typ, false, nil
	}
	if typ, err = st.mixType(t, typ); err != nil {
		return 0, 0, false, err
	}
	wanted = typ
	ncols := int(t.Dims[0])
	if ncols%typ.BlockSize() == 0 {
		return wanted, typ, false, nil
	}
	switch typ {
	case gguf.TypeQ2_K, gguf.TypeQ3_K:
		typ = gguf.TypeQ4_0
	case gguf.TypeQ4_K:
		typ = gguf.TypeQ5_0
	case gguf.TypeQ5_K:
		typ = gguf.TypeQ5_1
	case gguf.TypeQ6_K:
		typ = gguf.TypeQ8_0
	default:
		typ = t.Type
	}
	if typ.BlockSize() == 0 || ncols%typ.BlockSize() != 0 {
		typ = t.Type
	}
	return wanted, typ, true, nil
}

// mixType is llama_tensor_get_type_impl restricted to the mixes in Mixes
// (the IQ, TQ and MXFP4 branches cannot trigger).
func (st *mixState) mixType(t *gguf.Tensor, typ gguf.GGMLType) (gguf.GGMLType, error) {
	ft := st.mix.FileType
	cat := categoryOf(t.Name)
	switch {
	case cat == catOutput || st.tied && cat == catTokenEmbd:
		if st.falcon || int(t.Dims[0])%typ.BlockSize() != 0 {
			typ = gguf.TypeQ8_0
		} else if typ != gguf.TypeQ8_0 {
			typ = gguf.TypeQ6_K
		}
	case cat == catTokenEmbd:
		// keeps the default
	case cat == catAttnV:
		switch {
		case ft == ftQ2_K:
			typ = gguf.TypeQ3_K
			if st.nGQA >= 4 {
				typ = gguf.TypeQ4_K
			}
		case ft == ftQ3_K_M:
			typ = gguf.TypeQ4_K
			if st.iAttnV < 2 {
				typ = gguf.TypeQ5_K
			}
		case ft == ftQ3_K_L:
			typ = gguf.TypeQ5_K
		case (ft == ftQ4_K_M || ft == ftQ5_K_M) && useMoreBits(st.iAttnV, st.nAttnV):
			typ = gguf.TypeQ6_K
		case ft == ftQ4_K_S && st.iAttnV < 4:
			typ = gguf.TypeQ5_K
		}
		if st.is70B && (typ == gguf.TypeQ3_K || typ == gguf.TypeQ4_K) {
			typ = gguf.TypeQ5_K
		}
		if st.nExpert == 8 {
			typ = gguf.TypeQ8_0
		}
		st.iAttnV++
	case cat == catAttnK:
		if st.nExpert == 8 {
			typ = gguf.TypeQ8_0
		}
	case cat == catFFNDown:
		i, err := st.layerInfo(st.iFFNDown, t.Name)
		if err != nil {
			return 0, err
		}
		n := st.nLayer
		switch {
		case ft == ftQ2_K:
			typ = gguf.TypeQ3_K
		case ft == ftQ3_K_M:
			switch {
			case i < n/16:
				typ = gguf.TypeQ5_K
			case !st.falcon || useMoreBits(i, n):
				typ = gguf.TypeQ4_K
			default:
				typ = gguf.TypeQ3_K
			}
		case ft == ftQ3_K_L:
			typ = gguf.TypeQ5_K
			if st.falcon {
				typ = gguf.TypeQ4_K
			}
		case ft == ftQ4_K_M:
			if st.falcon {
				switch {
				case i < n/16:
					typ = gguf.TypeQ6_K
				case useMoreBits(i, n):
					typ = gguf.TypeQ5_K
				default:
					typ = gguf.TypeQ4_K
				}
			} else if useMoreBits(i, n) {
				typ = gguf.TypeQ6_K
			}
		case ft == ftQ5_K_M && useMoreBits(i, n):
			typ = gguf.TypeQ6_K
		case ft == ftQ4_K_S && !st.falcon && i < n/8:
			typ = gguf.TypeQ5_K
		}
		st.iFFNDown++
	case cat == catAttnOutput:
		if !st.falcon {
			if st.nExpert == 8 {
				switch ft {
				case ftQ2_K, ftQ3_K_S, ftQ3_K_M, ftQ4_K_S, ftQ4_K_M:
					typ = gguf.TypeQ5_K
				}
			} else {
				switch ft {
				case ftQ2_K:
					typ = gguf.TypeQ3_K
				case ftQ3_K_M:
					typ = gguf.TypeQ4_K
				case ftQ3_K_L:
					typ = gguf.TypeQ5_K
				}
			}
		} else if ft == ftQ3_K_L {
			typ = gguf.TypeQ4_K
		}
	case cat == catFFNGate:
		if _, err := st.layerInfo(st.iFFNGate, t.Name); err != nil {
			return 0, err
		}
		st.iFFNGate++
	case cat == catFFNUp:
		if _, err := st.layerInfo(st.iFFNUp, t.Name); err != nil {
			return 0, err
		}
		st.iFFNUp++
	}
	return typ, nil
}
