package quant

import (
	"fmt"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// The per-tensor rules of llama-quant.cpp's llama_tensor_get_type.

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
