package model

import (
	"fmt"
	"sync"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/engine/tensor"
)

// Layer holds one transformer block's weights. Norm weights and biases are
// F32 vectors; projections are matrices in their file type.
type Layer struct {
	AttnNorm       []float32
	Q, K, V, O     tensor.Matrix
	QBias, KBias   []float32 // Qwen2
	VBias          []float32
	QNorm, KNorm   []float32 // Qwen3, one head wide
	FFNNorm        []float32
	Gate, Up, Down tensor.Matrix
	// Gemma's norms of the attention and feed-forward outputs.
	AttnPostNorm, FFNPostNorm []float32
	// A mixture-of-experts feed-forward (moe.go): the router and each
	// expert's matrices (Gate, Up and Down are unset).
	Router                     tensor.Matrix
	GateExps, UpExps, DownExps []tensor.Matrix

	// The encoders' (encoder.go): an output bias, LayerNorms (weight and
	// bias) after the attention and the feed-forward residuals, and the
	// feed-forward biases of BERT, whose feed-forward is GELU(Up) rather
	// than SwiGLU (Gate is nil).
	OBias                       []float32
	AttnOutNorm, AttnOutNormB   []float32
	LayerOutNorm, LayerOutNormB []float32
	UpBias, DownBias            []float32
}

// Model is a loaded model: hyperparameters and weights that point into the
// mapped GGUF file. It is read-only after Load and shared by every
// sequence; per-batch state lives in a State.
type Model struct {
	Config
	Embed      tensor.Matrix // token_embd: Vocab rows of Embd
	OutputNorm []float32
	Output     tensor.Matrix // Vocab rows of Embd; the embedding when tied
	RopeFreqs  []float32     // Llama 3's per-dimension frequency factors
	Blocks     []Layer
	// LongRoPE's factors (Phi-3): short up to RopeCtxOrig, long beyond.
	RopeShort, RopeLong []float32
	// ropes are the RoPE variants the layers use, layerRope each layer's:
	// one, or two with sliding-window layers of their own base or scale.
	ropes     []ropeParams
	layerRope []uint8

	// The encoders' input (encoder.go): learned positions (BERT), the
	// token-type embedding of type 0, which llama.cpp adds to every token,
	// and a LayerNorm over the sum.
	PosEmbd             []float32 // ContextLen rows of Embd
	TypeEmbd            []float32
	EmbdNorm, EmbdNormB []float32
	// A reranker's classification head (PoolRank; pooling.go).
	Cls, ClsOut   tensor.Matrix
	ClsB, ClsOutB []float32

	// WeightBytes is the size of all tensors the forward pass reads.
	WeightBytes int64
	file        *gguf.File
}

// Options are the choices made when loading a model. They come from the
// caller (cmd/llmsql reads its flags and LLMSQL_PACK); the zero value is
// the default.
type Options struct {
	// NoPack keeps Q4_0 and Q4_K matrices in the file's layout instead of
	// repacking them for the packed kernels (tensor.Pack): decoding is
	// slower, but no heap copy of those weights is made.
	NoPack bool
}

// Load reads the hyperparameters and binds the weights of f. The file must
// stay open while the model is used.
func Load(f *gguf.File, opts Options) (*Model, error) {
	cfg, err := ReadConfig(f)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, file: f}
	b := binder{f: f, m: m}
	m.Embed = b.matrix("token_embd.weight", cfg.Embd, -1)
	if b.err != nil {
		return nil, b.err
	}
	m.Vocab = m.Embed.Rows
	if cfg.Encoder {
		if err := m.loadEncoder(&b, opts); err != nil {
			return nil, err
		}
		m.setRopes()
		return m, nil
	}
	m.OutputNorm = b.vector("output_norm.weight", cfg.Embd)
	if f.Tensor("output.weight") != nil {
		m.Output = b.matrix("output.weight", cfg.Embd, m.Vocab)
	} else {
		m.Output = m.Embed // tied embeddings
	}
	if f.Tensor("cls.output.weight") != nil {
		// A decoder reranker's head (Qwen3-Reranker: the output head's
		// "yes" and "no" rows).
		m.ClsOut = b.matrix("cls.output.weight", cfg.Embd, -1)
		m.ClsOutB = b.optVector("cls.output.bias", m.ClsOut.Rows)
	}
	if f.Tensor("rope_freqs.weight") != nil {
		m.RopeFreqs = b.vector("rope_freqs.weight", cfg.RopeDims/2)
	}
	if f.Tensor("rope_factors_long.weight") != nil {
		m.RopeLong = b.vector("rope_factors_long.weight", cfg.RopeDims/2)
		m.RopeShort = b.vector("rope_factors_short.weight", cfg.RopeDims/2)
	}
	qDim, kvDim := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	m.Blocks = make([]Layer, cfg.Layers)
	for i := range m.Blocks {
		l := &m.Blocks[i]
		p := fmt.Sprintf("blk.%d.", i)
		l.AttnNorm = b.vector(p+"attn_norm.weight", cfg.Embd)
		if f.Tensor(p+"attn_qkv.weight") != nil {
			// Q, K and V in one matrix (Phi-3; any architecture may):
			// its row ranges are the three, as llama.cpp's views are.
			qkv := b.matrix(p+"attn_qkv.weight", cfg.Embd, qDim+2*kvDim)
			l.Q, l.K, l.V = rowRange(qkv, 0, qDim), rowRange(qkv, qDim, qDim+kvDim), rowRange(qkv, qDim+kvDim, qDim+2*kvDim)
			if f.Tensor(p+"attn_qkv.bias") != nil {
				bias := b.vector(p+"attn_qkv.bias", qDim+2*kvDim)
				l.QBias, l.KBias, l.VBias = bias[:qDim], bias[qDim:qDim+kvDim], bias[qDim+kvDim:]
			}
		} else {
			l.Q = b.matrix(p+"attn_q.weight", cfg.Embd, qDim)
			l.K = b.matrix(p+"attn_k.weight", cfg.Embd, kvDim)
			l.V = b.matrix(p+"attn_v.weight", cfg.Embd, kvDim)
			if f.Tensor(p+"attn_q.bias") != nil {
				l.QBias = b.vector(p+"attn_q.bias", qDim)
				l.KBias = b.vector(p+"attn_k.bias", kvDim)
				l.VBias = b.vector(p+"attn_v.bias", kvDim)
			}
		}
		l.O = b.matrix(p+"attn_output.weight", qDim, cfg.Embd)
		if cfg.QKNorm {
			l.QNorm = b.vector(p+"attn_q_norm.weight", cfg.HeadDim)
			l.KNorm = b.vector(p+"attn_k_norm.weight", cfg.HeadDim)
		}
		l.FFNNorm = b.vector(p+"ffn_norm.weight", cfg.Embd)
		if cfg.Experts > 0 {
			l.Router = b.matrix(p+"ffn_gate_inp.weight", cfg.Embd, cfg.Experts)
			l.GateExps = b.experts(p+"ffn_gate_exps.weight", cfg.Embd, cfg.ExpertFF, cfg.Experts)
			l.UpExps = b.experts(p+"ffn_up_exps.weight", cfg.Embd, cfg.ExpertFF, cfg.Experts)
			l.DownExps = b.experts(p+"ffn_down_exps.weight", cfg.ExpertFF, cfg.Embd, cfg.Experts)
		} else if cfg.FusedGateUp {
			// Gate and up in one matrix, gate first (Phi-3).
			gu := b.matrix(p+"ffn_up.weight", cfg.Embd, 2*cfg.FF)
			l.Gate, l.Up = rowRange(gu, 0, cfg.FF), rowRange(gu, cfg.FF, 2*cfg.FF)
		} else {
			l.Gate = b.matrix(p+"ffn_gate.weight", cfg.Embd, cfg.FF)
			l.Up = b.matrix(p+"ffn_up.weight", cfg.Embd, cfg.FF)
		}
		if cfg.Experts == 0 {
			l.Down = b.matrix(p+"ffn_down.weight", cfg.FF, cfg.Embd)
		}
		if cfg.PostNorms {
			l.AttnPostNorm = b.vector(p+"post_attention_norm.weight", cfg.Embd)
			l.FFNPostNorm = b.vector(p+"post_ffw_norm.weight", cfg.Embd)
		}
	}
	m.setRopes()
	if b.err != nil {
		return nil, b.err
	}
	m.WeightBytes = b.bytes
	if !opts.NoPack {
		m.pack()
	}
	return m, nil
}

// ropeParams is one way of rotating queries and keys: a base, a scale
// (1/the linear scaling factor), per-dimension frequency factors (with
// LongRoPE, a short and a long set, chosen by the KV cache's context; see
// Config.RopeCtxOrig) and a magnitude for the cosines and sines.
type ropeParams struct {
	base, scale, mscale float32
	factors, long       []float32
}

// maxRopes bounds the RoPE variants of a model.
const maxRopes = 2

// setRopes lists the RoPE variants the layers use.
func (m *Model) setRopes() {
	g := ropeParams{base: m.RopeBase, scale: m.RopeScale, mscale: m.RopeAttnFactor, factors: m.RopeFreqs}
	if m.RopeShort != nil {
		g.factors, g.long = m.RopeShort, m.RopeLong
	}
	m.ropes = []ropeParams{g}
	m.layerRope = make([]uint8, m.Layers)
	if m.SWA != nil && (m.RopeBaseSWA != m.RopeBase || m.RopeScaleSWA != m.RopeScale) {
		// llama.cpp gives the sliding-window layers no frequency factors
		// of their own; no architecture here has both.
		swa := g
		swa.base, swa.scale = m.RopeBaseSWA, m.RopeScaleSWA
		m.ropes = append(m.ropes, swa)
		for i, swa := range m.SWA {
			if swa {
				m.layerRope[i] = 1
			}
		}
	}
}

// pack repacks the matrices the packed kernels serve (tensor.Pack), a
// layer per goroutine. The embedding keeps its layout for row lookups,
// and so does the output matrix when it is the embedding.
func (m *Model) pack() {
	var wg sync.WaitGroup
	if m.Output.Data == nil || &m.Output.Data[0] != &m.Embed.Data[0] {
		wg.Go(func() { m.Output = tensor.Pack(m.Output) })
	}
	for i := range m.Blocks {
		l := &m.Blocks[i]
		wg.Go(func() {
			for _, w := range []*tensor.Matrix{&l.Q, &l.K, &l.V, &l.O, &l.Gate, &l.Up, &l.Down, &l.Router} {
				*w = tensor.Pack(*w)
			}
			for _, exps := range [][]tensor.Matrix{l.GateExps, l.UpExps, l.DownExps} {
				for i := range exps {
					exps[i] = tensor.Pack(exps[i])
				}
			}
		})
	}
	wg.Wait()
}

// experts binds a 3-D weight of n experts' rows x cols matrices (ggml dims
// [cols, rows, n]) as one Matrix per expert, sharing the file's data.
func (b *binder) experts(name string, cols, rows, n int) []tensor.Matrix {
	t := b.tensor(name)
	if t == nil {
		return nil
	}
	if len(t.Dims) != 3 || int(t.Dims[0]) != cols || int(t.Dims[1]) != rows || int(t.Dims[2]) != n {
		b.err = fmt.Errorf("model: tensor %s has shape %v, want [%d, %d, %d]", name, t.Dims, cols, rows, n)
		return nil
	}
	if !tensor.Supported(t.Type) {
		b.err = fmt.Errorf("model: tensor %s has type %s, which this engine cannot compute yet", name, t.Type)
		return nil
	}
	b.bytes += int64(len(t.Data))
	all := tensor.Matrix{Type: t.Type, Rows: rows * n, Cols: cols, Data: t.Data}
	out := make([]tensor.Matrix, n)
	for i := range out {
		out[i] = rowRange(all, i*rows, (i+1)*rows)
	}
	return out
}

// rowRange is rows [r0, r1) of m, sharing its data.
func rowRange(m tensor.Matrix, r0, r1 int) tensor.Matrix {
	if m.Data == nil {
		return m // a binding that failed; the binder has the error
	}
	rs := m.RowSize()
	return tensor.Matrix{Type: m.Type, Rows: r1 - r0, Cols: m.Cols, Data: m.Data[r0*rs : r1*rs]}
}

// binder looks tensors up by name, checks their shapes and types, and keeps
// the first error so Load reads as a list of weights.
type binder struct {
	f     *gguf.File
	m     *Model
	err   error
	bytes int64
}

func (b *binder) tensor(name string) *gguf.Tensor {
	if b.err != nil {
		return nil
	}
	t := b.f.Tensor(name)
	if t == nil {
		b.err = fmt.Errorf("model: tensor %s is missing", name)
	}
	return t
}

// matrix binds a 2-D weight of rows x cols (ggml dims [cols, rows]); rows
// < 0 accepts any row count.
func (b *binder) matrix(name string, cols, rows int) tensor.Matrix {
	t := b.tensor(name)
	if t == nil {
		return tensor.Matrix{}
	}
	if len(t.Dims) != 2 || int(t.Dims[0]) != cols || (rows >= 0 && int(t.Dims[1]) != rows) {
		b.err = fmt.Errorf("model: tensor %s has shape %v, want [%d, %d]", name, t.Dims, cols, rows)
		return tensor.Matrix{}
	}
	if !tensor.Supported(t.Type) {
		b.err = fmt.Errorf("model: tensor %s has type %s, which this engine cannot compute yet", name, t.Type)
		return tensor.Matrix{}
	}
	b.bytes += int64(len(t.Data))
	return tensor.Matrix{Type: t.Type, Rows: int(t.Dims[1]), Cols: cols, Data: t.Data}
}

// vector binds a 1-D weight of n elements as F32, converting F16/BF16.
func (b *binder) vector(name string, n int) []float32 {
	t := b.tensor(name)
	if t == nil {
		return nil
	}
	if t.Elements() != uint64(n) {
		b.err = fmt.Errorf("model: tensor %s has shape %v, want [%d]", name, t.Dims, n)
		return nil
	}
	b.bytes += int64(len(t.Data))
	out := make([]float32, n)
	if err := quant.Dequantize(t.Type, out, t.Data); err != nil {
		b.err = fmt.Errorf("model: tensor %s: %w", name, err)
		return nil
	}
	return out
}
