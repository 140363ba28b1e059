package model

import (
	"math"

	"github.com/llmsql/llmsql/engine/tensor"
)

// Pooling is how the final states of a sequence's tokens become one vector,
// as llama.cpp's build_pooling does; the values are {arch}.pooling_type's.
type Pooling int

const (
	// PoolNone keeps per-token states; for one vector per text llama.cpp's
	// embedding API (and node-llama-cpp) return the last token's, and so
	// do we. Files without a pooling type have this one.
	PoolNone Pooling = iota
	// PoolMean averages every token's state (all-MiniLM, nomic-embed-text).
	PoolMean
	// PoolCLS takes the first token's ([CLS]) state (BGE).
	PoolCLS
	// PoolLast takes the last token's state (Qwen3-Embedding).
	PoolLast
	// PoolRank runs the [CLS] state through the classification head and
	// gives its scores: a reranker's relevance (bge-reranker); for
	// Config.RankLast architectures the last token's state, and the
	// softmax of the scores (Qwen3-Reranker).
	PoolRank
)

var poolingNames = [...]string{"none", "mean", "cls", "last", "rank"}

func (p Pooling) String() string {
	if p >= 0 && int(p) < len(poolingNames) {
		return poolingNames[p]
	}
	return "unknown"
}

// EmbedDim is the length of the vector a pooled sequence gives: the
// classification head's outputs for PoolRank, Embd otherwise.
func (m *Model) EmbedDim() int {
	if m.Pooling == PoolRank {
		return m.ClsOutDim()
	}
	return m.Embd
}

// ClsOutDim is the number of scores the classification head gives (1 for
// a reranker), or 0 without a head.
func (m *Model) ClsOutDim() int {
	if m.ClsOut.Data != nil {
		return m.ClsOut.Rows
	}
	if m.Cls.Data != nil {
		return m.Cls.Rows
	}
	return 0
}

// pool writes the pooled vector of the n final states in rows (n x Embd,
// one sequence's tokens in order) into out (EmbedDim floats). scratch
// holds Embd floats.
func (m *Model) pool(out, rows []float32, n int, scratch []float32) {
	d := m.Embd
	switch m.Pooling {
	case PoolMean:
		// ggml multiplies the transposed states by a column of 1/n: each
		// output is a dot product of one dimension's values with 1/n.
		inv := 1 / float32(n)
		for j := 0; j < d; j++ {
			var s float32
			for i := 0; i < n; i++ {
				s += rows[i*d+j] * inv
			}
			out[j] = s
		}
	case PoolCLS:
		copy(out, rows[:d])
	case PoolRank:
		// rows holds the one state the head reads (the first token's,
		// or the last's with RankLast; see outputRows).
		m.classify(out, rows[:d], scratch)
		if m.RankLast {
			softmax(out)
		}
	default: // PoolLast, PoolNone
		copy(out, rows[(n-1)*d:n*d])
	}
}

// classify runs a reranker's classification head on the [CLS] state x:
// tanh(Cls·x + ClsB), then ClsOut·that + ClsOutB (the head of BERT's and
// RoBERTa's sequence classifiers). Either layer may be absent.
func (m *Model) classify(out, x, scratch []float32) {
	h := x
	if m.Cls.Data != nil {
		h = scratch[:m.Cls.Rows]
		matVec(h, m.Cls, x)
		for i := range h {
			if m.ClsB != nil {
				h[i] += m.ClsB[i]
			}
			h[i] = float32(math.Tanh(float64(h[i])))
		}
	}
	if m.ClsOut.Data == nil {
		copy(out, h)
		return
	}
	matVec(out, m.ClsOut, h)
	for i := range out {
		if m.ClsOutB != nil {
			out[i] += m.ClsOutB[i]
		}
	}
}

// matVec is out = w·x for one vector, with x converted for w's type as
// the matrix kernels convert it (the head is a few rows; speed does not
// matter here).
func matVec(out []float32, w tensor.Matrix, x []float32) {
	v, err := tensor.NewVec(w.Type, x)
	if err != nil {
		panic(err) // the type and shape were checked at load
	}
	rs := w.Type.RowSize(w.Cols)
	for r := 0; r < w.Rows; r++ {
		out[r] = v.Dot(w.Data[r*rs : (r+1)*rs])
	}
}
