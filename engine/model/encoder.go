package model

import (
	"fmt"
	"math"

	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/engine/tensor"
)

// The encoders (BERT, nomic-bert) as llama.cpp builds them
// (src/models/bert.cpp): the input is the token's embedding plus token
// type 0's embedding plus, for BERT, the learned embedding of its position,
// through a LayerNorm. Each layer then computes
//
//	x = LayerNorm(x + O·attention(Q·x, K·x, V·x))
//	x = LayerNorm(x + FFN(x))
//
// with biases on every projection (BERT), RoPE on queries and keys
// (nomic-bert), attention over every token of the text (non-causal), and
// FFN = Down·GELU(Up·x) (BERT) or Down·SwiGLU(Gate·x, Up·x) (nomic-bert).
// The final states are pooled (pooling.go); there is no output head.

// loadEncoder binds an encoder's weights after the token embedding.
func (m *Model) loadEncoder(b *binder, opts Options) error {
	c := m.Config
	f := b.f
	if f.Tensor("token_types.weight") != nil {
		types := b.matrix("token_types.weight", c.Embd, -1)
		if b.err == nil {
			m.TypeEmbd = make([]float32, c.Embd)
			if err := quant.Dequantize(types.Type, m.TypeEmbd, types.Data[:types.Type.RowSize(c.Embd)]); err != nil {
				return fmt.Errorf("model: token_types.weight: %w", err)
			}
		}
	}
	if c.RopeDims == 0 {
		// Learned positions, one row each, F32 in converted files; a
		// text can be no longer than the table.
		if t := b.tensor("position_embd.weight"); t != nil {
			if len(t.Dims) != 2 || int(t.Dims[0]) != c.Embd || t.Dims[1] == 0 || t.Dims[1] > 1<<20 {
				return fmt.Errorf("model: tensor position_embd.weight has shape %v, want [%d, positions]", t.Dims, c.Embd)
			}
			rows := int(t.Dims[1])
			m.PosEmbd = b.vector("position_embd.weight", rows*c.Embd)
			m.ContextLen = min(m.ContextLen, rows)
		}
	}
	m.EmbdNorm = b.vector("token_embd_norm.weight", c.Embd)
	m.EmbdNormB = b.vector("token_embd_norm.bias", c.Embd)
	qDim, kvDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	m.Blocks = make([]Layer, c.Layers)
	for i := range m.Blocks {
		l := &m.Blocks[i]
		p := fmt.Sprintf("blk.%d.", i)
		if f.Tensor(p+"attn_qkv.weight") != nil {
			// One matrix whose rows are Q's, then K's, then V's: bind
			// three views of it.
			qkv := b.matrix(p+"attn_qkv.weight", c.Embd, qDim+2*kvDim)
			if b.err == nil {
				rs := qkv.Type.RowSize(c.Embd)
				view := func(lo, n int) tensor.Matrix {
					return tensor.Matrix{Type: qkv.Type, Rows: n, Cols: c.Embd, Data: qkv.Data[lo*rs : (lo+n)*rs]}
				}
				l.Q, l.K, l.V = view(0, qDim), view(qDim, kvDim), view(qDim+kvDim, kvDim)
			}
			if f.Tensor(p+"attn_qkv.bias") != nil {
				bias := b.vector(p+"attn_qkv.bias", qDim+2*kvDim)
				if b.err == nil {
					l.QBias, l.KBias, l.VBias = bias[:qDim], bias[qDim:qDim+kvDim], bias[qDim+kvDim:]
				}
			}
		} else {
			l.Q = b.matrix(p+"attn_q.weight", c.Embd, qDim)
			l.K = b.matrix(p+"attn_k.weight", c.Embd, kvDim)
			l.V = b.matrix(p+"attn_v.weight", c.Embd, kvDim)
			if f.Tensor(p+"attn_q.bias") != nil {
				l.QBias = b.vector(p+"attn_q.bias", qDim)
				l.KBias = b.vector(p+"attn_k.bias", kvDim)
				l.VBias = b.vector(p+"attn_v.bias", kvDim)
			}
		}
		l.O = b.matrix(p+"attn_output.weight", qDim, c.Embd)
		l.OBias = b.optVector(p+"attn_output.bias", c.Embd)
		l.AttnOutNorm = b.vector(p+"attn_output_norm.weight", c.Embd)
		l.AttnOutNormB = b.vector(p+"attn_output_norm.bias", c.Embd)
		l.Up = b.matrix(p+"ffn_up.weight", c.Embd, c.FF)
		l.UpBias = b.optVector(p+"ffn_up.bias", c.FF)
		if f.Tensor(p+"ffn_gate.weight") != nil {
			l.Gate = b.matrix(p+"ffn_gate.weight", c.Embd, c.FF)
		}
		l.Down = b.matrix(p+"ffn_down.weight", c.FF, c.Embd)
		l.DownBias = b.optVector(p+"ffn_down.bias", c.Embd)
		l.LayerOutNorm = b.vector(p+"layer_output_norm.weight", c.Embd)
		l.LayerOutNormB = b.vector(p+"layer_output_norm.bias", c.Embd)
	}
	if f.Tensor("cls.weight") != nil {
		m.Cls = b.matrix("cls.weight", c.Embd, -1)
		m.ClsB = b.optVector("cls.bias", m.Cls.Rows)
	}
	if f.Tensor("cls.output.weight") != nil {
		in := c.Embd
		if m.Cls.Data != nil {
			in = m.Cls.Rows
		}
		m.ClsOut = b.matrix("cls.output.weight", in, -1)
		m.ClsOutB = b.optVector("cls.output.bias", m.ClsOut.Rows)
	}
	if b.err != nil {
		return b.err
	}
	if m.Pooling == PoolRank && m.ClsOutDim() == 0 {
		return fmt.Errorf("model: pooling type rank needs a classification head (cls.weight or cls.output.weight)")
	}
	m.WeightBytes = b.bytes
	if !opts.NoPack {
		m.pack()
	}
	return nil
}

// optVector binds a 1-D weight that a file may leave out (nil then).
func (b *binder) optVector(name string, n int) []float32 {
	if b.err != nil || b.f.Tensor(name) == nil {
		return nil
	}
	return b.vector(name, n)
}

// CanGenerate reports whether the model has an output head, so that it can
// predict tokens; encoders only embed.
func (m *Model) CanGenerate() bool { return m.Output.Data != nil }

// embedInput writes the input states of tokens [lo, hi) into x: the
// token's embedding row, plus the encoders' token-type row and learned
// position row, added in llama.cpp's order ((token + type) + position),
// then the input LayerNorm.
func (m *Model) embedInput(x []float32, tokens, pos []int32, lo, hi int) {
	d := m.Embd
	rs := m.Embed.Type.RowSize(d)
	for i := lo; i < hi; i++ {
		xi := x[i*d : (i+1)*d]
		tok := int(tokens[i])
		if err := quant.Dequantize(m.Embed.Type, xi, m.Embed.Data[tok*rs:(tok+1)*rs]); err != nil {
			panic(err) // the type was checked at load
		}
		if m.EmbedScale != 0 {
			scale(xi, m.EmbedScale) // Gemma, Granite
		}
		if m.TypeEmbd != nil {
			add(xi, m.TypeEmbd)
		}
		if m.PosEmbd != nil {
			p := int(pos[i])
			add(xi, m.PosEmbd[p*d:(p+1)*d])
		}
		if m.EmbdNorm != nil {
			layerNorm(xi, xi, m.EmbdNorm, m.EmbdNormB, m.NormEps)
		}
	}
}

// layerNorm writes y = (x - mean) / sqrt(var + eps) * w + b for one row,
// as ggml_norm followed by ggml_mul and ggml_add: the mean from a float64
// sum; the variance from squares summed in float32 sixteen lanes at a time
// (the AVX-512 build's reduction tree), each lane group's sum added in
// float64; the weight and bias as separate roundings. y may be x.
func layerNorm(y, x, w, b []float32, eps float32) {
	n := len(x)
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := float32(sum) / float32(n)
	var sq float64
	i := 0
	var lanes [16]float32
	for ; i+15 < n; i += 16 {
		for j := range lanes {
			d := x[i+j] - mean
			y[i+j] = d
			lanes[j] = d * d
		}
		sq += float64(reduce16(&lanes))
	}
	for ; i < n; i++ {
		d := x[i] - mean
		y[i] = d
		sq += float64(d * d)
	}
	variance := float32(sq / float64(n))
	scale := 1 / float32(math.Sqrt(float64(variance+eps)))
	for i := range y[:n] {
		v := y[i] * scale
		v *= w[i]
		if b != nil {
			v += b[i]
		}
		y[i] = v
	}
}

// reduce16 is _mm512_reduce_add_ps: halves added pairwise down to one.
func reduce16(a *[16]float32) float32 {
	var t8 [8]float32
	for j := range t8 {
		t8[j] = a[8+j] + a[j]
	}
	var t4 [4]float32
	for j := range t4 {
		t4[j] = t8[4+j] + t8[j]
	}
	return (t4[0] + t4[2]) + (t4[1] + t4[3])
}

// gelu applies ggml_vec_gelu_f32 in place: 0 below -10, identity above 10,
// the F16 table between.
func gelu(x []float32) {
	t := geluF16()
	for i, v := range x {
		switch {
		case v <= -10:
			x[i] = 0
		case v >= 10:
		default:
			x[i] = quant.FP16ToFP32(t[quant.FP32ToFP16(v)])
		}
	}
}
