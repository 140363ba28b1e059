package synth

import (
	"fmt"
	"math"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Qwen3RerankPrompt is the rerank prompt llama.cpp's converter gives
// Qwen3-Reranker files (tokenizer.chat_template.rerank).
const Qwen3RerankPrompt = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. " +
	"Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n" +
	"<Query>: {query}\n<Document>: {document}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"

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
			if s.Pooling == "rank" {
				// Qwen3-Reranker as llama.cpp's converter writes it: the
				// head's labels and the prompt pairs are scored in.
				set("qwen3.classifier.output_labels", gguf.ArrayValue([]string{"yes", "no"}))
				set("tokenizer.chat_template.rerank", gguf.String(Qwen3RerankPrompt))
			}
		},
		Tensors: llamaTensors,
	},
	"qwen3moe": {
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			e, k, ff := moeSizes(s)
			set("qwen3moe.attention.key_length", gguf.Uint32(uint32(s.headDim())))
			set("qwen3moe.attention.value_length", gguf.Uint32(uint32(s.headDim())))
			set("qwen3moe.expert_count", gguf.Uint32(uint32(e)))
			set("qwen3moe.expert_used_count", gguf.Uint32(uint32(k)))
			set("qwen3moe.expert_feed_forward_length", gguf.Uint32(uint32(ff)))
		},
		Tensors: qwen3moeTensors,
	},
	"bert":       {Metadata: encoderMetadata, Tensors: encoderTensors, Vocab: BuiltinWordPieceVocab},
	"nomic-bert": {Metadata: encoderMetadata, Tensors: encoderTensors, Vocab: BuiltinWordPieceVocab},
	// Gemma 2 and 3 as llama.cpp reads them; the metadata carries the
	// features a small file should exercise: a sliding window shorter
	// than the tests' prompts, soft-caps low enough to bend the values
	// (Gemma 2), and for Gemma 3 sliding-window layers with their own
	// RoPE base beside global layers with linear RoPE scaling. Spec.Metadata
	// overrides any of them.
	"gemma2": {
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			set("gemma2.attention.key_length", gguf.Uint32(uint32(s.headDim())))
			set("gemma2.attention.value_length", gguf.Uint32(uint32(s.headDim())))
			set("gemma2.attention.sliding_window", gguf.Uint32(4))
			set("gemma2.attn_logit_softcapping", gguf.Float32(4))
			set("gemma2.final_logit_softcapping", gguf.Float32(8))
		},
		Tensors: gemmaTensors,
	},
	"gemma3": {
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			set("gemma3.attention.key_length", gguf.Uint32(uint32(s.headDim())))
			set("gemma3.attention.value_length", gguf.Uint32(uint32(s.headDim())))
			set("gemma3.attention.sliding_window", gguf.Uint32(4))
			set("gemma3.attention.sliding_window_pattern", gguf.Uint32(2))
			set("gemma3.rope.freq_base_swa", gguf.Float32(10000))
			set("gemma3.rope.scaling.type", gguf.String("linear"))
			set("gemma3.rope.scaling.factor", gguf.Float32(8))
		},
		Tensors: gemmaTensors,
	},
	// Phi-3 with LongRoPE: partial rotation (3/4 of each head, as Phi-4-mini),
	// factors and an attention factor, an original context shorter than
	// the tests' 256 so that the long factors are the ones used.
	"phi3": {
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			set("phi3.rope.dimension_count", gguf.Uint32(uint32(phi3RopeDims(s))))
			set("phi3.rope.scaling.attn_factor", gguf.Float32(1.1902381))
			set("phi3.rope.scaling.original_context_length", gguf.Uint32(128))
		},
		Tensors: phi3Tensors,
	},
	// Granite 3.x's multipliers, with values of the size the real files
	// have.
	"granite": {
		Metadata: func(s Spec, set func(string, gguf.Value)) {
			set("granite.embedding_scale", gguf.Float32(12))
			set("granite.residual_scale", gguf.Float32(0.22))
			set("granite.attention.scale", gguf.Float32(0.2))
			set("granite.logit_scale", gguf.Float32(8))
		},
		Tensors: llamaTensors,
	},
}

// moeSizes are a Qwen3 MoE spec's expert count, used count and width: 8
// experts of width FF/2, 2 used per token, unless Spec.Metadata says
// otherwise.
func moeSizes(s Spec) (e, k, ff int) {
	e, k, ff = 8, 2, s.FF/2
	get := func(key string, v *int) {
		if x, ok := s.Metadata[s.Arch+"."+key]; ok {
			if u, ok := x.Int(); ok {
				*v = int(u)
			}
		}
	}
	get("expert_count", &e)
	get("expert_used_count", &k)
	get("expert_feed_forward_length", &ff)
	return e, k, ff
}

// qwen3moeTensors is Qwen3's layout with each feed-forward a mixture of
// experts: the router (F32, as llama-quantize leaves it) and the experts'
// gate, up and down matrices, one 3-D tensor each.
func qwen3moeTensors(s Spec, nv int) []Tensor {
	ts := Head(s, nv)
	hd := s.headDim()
	e, _, ff := moeSizes(s)
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		for _, t := range LlamaBlock(s, l) {
			switch t.Name {
			case p + "ffn_gate.weight", p + "ffn_up.weight", p + "ffn_down.weight":
				continue
			}
			ts = append(ts, t)
		}
		std := s.Std()
		ts = append(ts,
			Tensor{Name: p + "attn_q_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2},
			Tensor{Name: p + "attn_k_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2},
			Tensor{Name: p + "ffn_gate_inp.weight", Shape: []int{s.Embd, e}, Std: std * 8},
			Tensor{Name: p + "ffn_gate_exps.weight", Shape: []int{s.Embd, ff, e}, Std: std * 2, Matrix: true},
			Tensor{Name: p + "ffn_up_exps.weight", Shape: []int{s.Embd, ff, e}, Std: std * 2, Matrix: true},
			Tensor{Name: p + "ffn_down_exps.weight", Shape: []int{ff, s.Embd, e}, Std: 2 / math.Sqrt(float64(ff)), Matrix: true})
	}
	return ts
}

// phi3RopeDims is how many dimensions of a head the synthetic Phi-3
// rotates: three quarters, even.
func phi3RopeDims(s Spec) int { return s.headDim() * 3 / 4 &^ 1 }

// phi3Tensors is Phi-3's layout: Q, K and V in one attn_qkv matrix, gate
// and up in one ffn_up of 2*FF rows, and LongRoPE's short and long
// factors (long ones from 1 to 8, short ones near 1).
func phi3Tensors(s Spec, nv int) []Tensor {
	ts := Head(s, nv)
	hd := s.headDim()
	qkv := (s.Heads + 2*s.kvHeads()) * hd
	half := phi3RopeDims(s) / 2
	ts = append(ts,
		Tensor{Name: "rope_factors_long.weight", Shape: []int{half}, Mean: 4, Std: 1.5},
		Tensor{Name: "rope_factors_short.weight", Shape: []int{half}, Mean: 1.1, Std: 0.05})
	std := s.Std()
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			Tensor{Name: p + "attn_norm.weight", Shape: []int{s.Embd}, Mean: 1, Std: 0.1},
			Tensor{Name: p + "attn_qkv.weight", Shape: []int{s.Embd, qkv}, Std: std * 2, Matrix: true},
			Tensor{Name: p + "attn_output.weight", Shape: []int{s.Heads * hd, s.Embd}, Std: std, Matrix: true},
			Tensor{Name: p + "ffn_norm.weight", Shape: []int{s.Embd}, Mean: 1, Std: 0.1},
			Tensor{Name: p + "ffn_up.weight", Shape: []int{s.Embd, 2 * s.FF}, Std: std, Matrix: true},
			Tensor{Name: p + "ffn_down.weight", Shape: []int{s.FF, s.Embd}, Std: 1 / math.Sqrt(float64(s.FF)), Matrix: true})
	}
	return ts
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

// gemmaTensors is Gemma 2/3's layout: Llama's with norms after the
// attention and the feed-forward, Gemma 3's per-head Q/K norms, and for
// Gemma 2 always the embedding as the output (llama.cpp ignores an
// output.weight in a Gemma 2 file).
func gemmaTensors(s Spec, nv int) []Tensor {
	if s.Arch == "gemma2" {
		s.Tied = true
	}
	ts := Head(s, nv)
	// Gemma scales the embeddings by sqrt(Embd): draw them that much
	// smaller, as trained ones are, so that they do not drown the layers'
	// outputs; and keep the tied output's logits a few units wide.
	ts[0].Std = s.Std() / 4
	if s.Tied {
		ts[1].Mean, ts[1].Std = 4, 0.4
	}
	hd := s.headDim()
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts, LlamaBlock(s, l)...)
		ts = append(ts,
			Tensor{Name: p + "post_attention_norm.weight", Shape: []int{s.Embd}, Mean: 1.5, Std: 0.2},
			Tensor{Name: p + "post_ffw_norm.weight", Shape: []int{s.Embd}, Mean: 1.5, Std: 0.2})
		if s.Arch == "gemma3" {
			ts = append(ts,
				Tensor{Name: p + "attn_q_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2},
				Tensor{Name: p + "attn_k_norm.weight", Shape: []int{hd}, Mean: 1, Std: 0.2})
		}
	}
	return ts
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
	if s.Arch == "qwen3" && s.Pooling == "rank" {
		// Qwen3-Reranker's head: the output matrix's "yes" and "no" rows.
		ts = append(ts, Tensor{Name: "cls.output.weight", Shape: []int{s.Embd, 2}, Std: 0.5, Matrix: true})
	}
	return ts
}
