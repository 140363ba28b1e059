package synth

import (
	"fmt"
	"math"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Archs are the architectures Write knows, by general.architecture. Add
// one here (or from a test, before writing) to write models of a new
// architecture.
var Archs = map[string]Arch{
	"llama": {Tensors: llamaTensors},
	"qwen2": {Tensors: llamaTensors},
	"qwen3": {
		// Qwen3 files carry the head widths explicitly.
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			set("qwen3.attention.key_length", gguf.Uint32(uint32(s.headDim())))
			set("qwen3.attention.value_length", gguf.Uint32(uint32(s.headDim())))
		},
		Tensors: llamaTensors,
	},
	"bert":       {Metadata: encoderMetadata, Tensors: encoderTensors, Vocab: BuiltinWordPieceVocab},
	"nomic-bert": {Metadata: encoderMetadata, Tensors: encoderTensors, Vocab: BuiltinWordPieceVocab},
}

// Weights are wider than a trained model's so the logits spread out and
// greedy choices are decided by clear margins.

// Std is the standard deviation of a projection from Embd values.
func (s Spec) Std() float64 { return 1 / math.Sqrt(float64(s.Embd)) }

// Head is the embedding, the final norm and, unless tied, the output
// matrix: the tensors before the first block in a Llama-style file. A tied
// output multiplies the final state by the embedding itself, so each token
// would predict itself with logit ~Embd; a small output norm brings that
// down to a few units.
func Head(s Spec, nv int) []Tensor {
	outNorm := 1.0
	if s.Tied {
		outNorm = 0.1
	}
	ts := []Tensor{
		{Name: "token_embd.weight", Shape: []int{s.Embd, nv}, Std: 1, Matrix: true},
		{Name: "output_norm.weight", Shape: []int{s.Embd}, Mean: outNorm, Std: outNorm / 10},
	}
	if !s.Tied {
		ts = append(ts, Tensor{Name: "output.weight", Shape: []int{s.Embd, nv}, Std: s.Std() * 2, Matrix: true})
	}
	return ts
}

// LlamaBlock is layer l's tensors in Llama's layout: attention norm, Q, K,
// V, output, feed-forward norm, gate, up, down.
func LlamaBlock(s Spec, l int) []Tensor {
	p := fmt.Sprintf("blk.%d.", l)
	hd := s.headDim()
	qDim, kvDim := s.Heads*hd, s.kvHeads()*hd
	std := s.Std()
	return []Tensor{
		{Name: p + "attn_norm.weight", Shape: []int{s.Embd}, Mean: 1, Std: 0.1},
		{Name: p + "attn_q.weight", Shape: []int{s.Embd, qDim}, Std: std * 2, Matrix: true},
		{Name: p + "attn_k.weight", Shape: []int{s.Embd, kvDim}, Std: std * 2, Matrix: true},
		{Name: p + "attn_v.weight", Shape: []int{s.Embd, kvDim}, Std: std, Matrix: true},
		{Name: p + "attn_output.weight", Shape: []int{qDim, s.Embd}, Std: std, Matrix: true},
		{Name: p + "ffn_norm.weight", Shape: []int{s.Embd}, Mean: 1, Std: 0.1},
		{Name: p + "ffn_gate.weight", Shape: []int{s.Embd, s.FF}, Std: std, Matrix: true},
		{Name: p + "ffn_up.weight", Shape: []int{s.Embd, s.FF}, Std: std, Matrix: true},
		{Name: p + "ffn_down.weight", Shape: []int{s.FF, s.Embd}, Std: 1 / math.Sqrt(float64(s.FF)), Matrix: true},
	}
}

// llamaTensors is Llama's layout, with Qwen2's Q/K/V biases and Qwen3's
// per-head Q/K norms.
func llamaTensors(s Spec, nv int) []Tensor {
	ts := Head(s, nv)
	hd := s.headDim()
	qDim, kvDim := s.Heads*hd, s.kvHeads()*hd
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts, LlamaBlock(s, l)...)
		switch s.Arch {
		case "qwen2":
			ts = append(ts,
				Tensor{Name: p + "attn_q.bias", Shape: []int{qDim}, Std: 0.5},
				Tensor{Name: p + "attn_k.bias", Shape: []int{kvDim}, Std: 0.5},
				Tensor{Name: p + "attn_v.bias", Shape: []int{kvDim}, Std: 0.1})
		case "qwen3":
			ts = append(ts,
				Tensor{Name: p + "attn_q_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2},
				Tensor{Name: p + "attn_k_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2})
		}
	}
	return ts
}
