package model

import (
	"math"

	"github.com/llmsql/llmsql/engine/libm"
	"github.com/llmsql/llmsql/engine/tensor"
)

// A mixture-of-experts feed-forward (Qwen3 MoE): a router scores every
// expert for each token, the token goes through its ExpertsUsed best
// experts (each a SwiGLU feed-forward of ExpertFF), and their outputs are
// summed, weighted by the router's probabilities renormalized over the
// chosen experts. As llama.cpp's build_moe_ffn computes it:
//
//	probs   = softmax(Router·x)              (ggml_soft_max)
//	chosen  = the ExpertsUsed largest probs, largest first (ggml_argsort_top_k)
//	w       = probs[chosen] / max(sum of them, 2^-14)
//	out     = Σ_j w_j · Down_j·swiglu(Gate_j·x, Up_j·x)   (in the order chosen)
//
// The experts' products are batched the way ggml's mul_mat_id does them:
// the tokens of a pass that chose an expert go through its matrices
// together, one product per expert rather than per token, so a prompt
// reads each chosen expert's weights once. Each row is a dot product in
// the single-token order (mul_mat_id's vec_dot), so a token computes the
// same bits whatever it is batched with.

// moeScratch is a State's room for the MoE step.
type moeScratch struct {
	router []float32 // [n][Experts]: logits, then probabilities
	chosen []int32   // [n][ExpertsUsed]: expert ids, best first
	weight []float32 // [n][ExpertsUsed]
	// The (token, slot) pairs grouped by expert, in token order within an
	// expert: rowOf[t*k+j] is pair (t, j)'s row in the grouped buffers,
	// tokOf[r] row r's token; start[e] is expert e's first row (start[E]
	// the total).
	rowOf, tokOf []int32
	start        []int32
	in           []float32 // [rows][Embd]: the rows' inputs, grouped
	gate, up     []float32 // [rows][ExpertFF]
	out          []float32 // [rows][Embd]
}

func (ms *moeScratch) grow(c Config, n int) {
	if c.Experts == 0 {
		return
	}
	k := c.ExpertsUsed
	ms.router = make([]float32, n*c.Experts)
	ms.chosen = make([]int32, n*k)
	ms.weight = make([]float32, n*k)
	ms.rowOf = make([]int32, n*k)
	ms.tokOf = make([]int32, n*k)
	ms.start = make([]int32, c.Experts+1)
	ms.in = make([]float32, n*k*c.Embd)
	ms.gate = make([]float32, n*k*c.ExpertFF)
	ms.up = make([]float32, n*k*c.ExpertFF)
	ms.out = make([]float32, n*k*c.Embd)
}

// moeFFN is the feed-forward of MoE layer l for the n rows of xb, into
// out; runs are the rows' runs for the router product (see MatMulRuns).
func (s *State) moeFFN(w *tensor.Worker, l *Layer, xb, out []float32, n, nd int, runs []int) {
	c := s.m.Config
	ms := &s.moe
	e, k, d, ff := c.Experts, c.ExpertsUsed, c.Embd, c.ExpertFF
	w.MatMulRuns(xb, n, nd, runs, tensor.Product{Out: ms.router[:n*e], M: l.Router})
	lo, hi := w.Range(n)
	for t := lo; t < hi; t++ {
		route(ms.router[t*e:(t+1)*e], ms.chosen[t*k:(t+1)*k], ms.weight[t*k:(t+1)*k])
	}
	w.Sync()
	if w.ID() == 0 {
		ms.group(n, k, e)
	}
	w.Sync()
	lo, hi = w.Range(n * k)
	for r := lo; r < hi; r++ {
		t := int(ms.tokOf[r])
		copy(ms.in[r*d:(r+1)*d], xb[t*d:(t+1)*d])
	}
	w.Sync()
	for x := 0; x < e; x++ {
		r0, r1 := int(ms.start[x]), int(ms.start[x+1])
		if r0 == r1 {
			continue
		}
		cnt := r1 - r0
		w.MatMul(ms.in[r0*d:r1*d], cnt, cnt,
			tensor.Product{Out: ms.gate[r0*ff : r1*ff], M: l.GateExps[x]},
			tensor.Product{Out: ms.up[r0*ff : r1*ff], M: l.UpExps[x]})
	}
	rows := n * k
	per := (ff + swigluChunk - 1) / swigluChunk
	ch := w.Chunks(rows*per, 1)
	for lo, hi, ok := ch.Next(); ok; lo, hi, ok = ch.Next() {
		for it := lo; it < hi; it++ {
			r, cc := it/per, it%per
			swiglu(ms.gate[r*ff:(r+1)*ff], ms.up[r*ff:(r+1)*ff], cc*swigluChunk, min((cc+1)*swigluChunk, ff))
		}
	}
	w.Sync()
	for x := 0; x < e; x++ {
		r0, r1 := int(ms.start[x]), int(ms.start[x+1])
		if r0 == r1 {
			continue
		}
		cnt := r1 - r0
		w.MatMul(ms.gate[r0*ff:r1*ff], cnt, cnt, tensor.Product{Out: ms.out[r0*d : r1*d], M: l.DownExps[x]})
	}
	// Weighted sum in the order chosen: ggml multiplies each expert's
	// output by its weight, then adds the views one after another.
	lo, hi = w.Range(n)
	for t := lo; t < hi; t++ {
		o := out[t*d : (t+1)*d]
		for j := 0; j < k; j++ {
			r := int(ms.rowOf[t*k+j])
			eo, wt := ms.out[r*d:(r+1)*d], ms.weight[t*k+j]
			if j == 0 {
				for i := range o {
					o[i] = eo[i] * wt
				}
				continue
			}
			for i := range o {
				o[i] += eo[i] * wt
			}
		}
	}
	w.Sync()
}

// group sorts the n*k (token, slot) pairs by expert, keeping token order
// within an expert, as mul_mat_id's row mapping does.
func (ms *moeScratch) group(n, k, e int) {
	start := ms.start[:e+1]
	clear(start)
	for _, x := range ms.chosen[:n*k] {
		start[x+1]++
	}
	for x := 1; x <= e; x++ {
		start[x] += start[x-1]
	}
	// start[x] now is expert x's first row; fill, advancing a cursor
	// per expert, then shift back.
	for t := 0; t < n; t++ {
		for j := 0; j < k; j++ {
			x := ms.chosen[t*k+j]
			r := start[x]
			start[x]++
			ms.rowOf[t*k+j], ms.tokOf[r] = r, int32(t)
		}
	}
	copy(start[1:], start[:e])
	start[0] = 0
}

// softmax replaces x by its softmax as ggml_soft_max computes it (the
// AVX-512 build's: exponentials of x - max in runs of 16 through
// ggml_v_expf, each run's sum reduced as _mm512_reduce_add_ps and
// accumulated in float64, the rest through expf; then every probability
// times float32(1/sum)).
func softmax(logits []float32) {
	mx := float32(math.Inf(-1))
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	n := len(logits) &^ 15
	for i := 0; i < n; i += 16 {
		var lanes [16]float32
		for j := range lanes {
			lanes[j] = tensor.VExpf(logits[i+j] - mx)
			logits[i+j] = lanes[j]
		}
		sum += float64(reduce16(&lanes))
	}
	for i := n; i < len(logits); i++ {
		v := libm.Expf(logits[i] - mx)
		logits[i] = v
		sum += float64(v)
	}
	inv := float32(1 / sum)
	for i := range logits {
		logits[i] *= inv
	}
}

// route turns one token's router logits into its chosen experts and their
// weights, as llama.cpp: softmax, the largest probabilities first, and
// each weight divided by their float64-summed total clamped to 2^-14.
func route(logits []float32, chosen []int32, weight []float32) {
	softmax(logits)
	// Top k, largest first; among equal probabilities the lower id, which
	// is what a comparison sort of the ids by probability gives when no
	// two are equal, the case that matters.
	for j := range chosen {
		best := -1
		for i, p := range logits {
			if best < 0 || p > logits[best] {
				if !taken(chosen[:j], i) {
					best = i
				}
			}
		}
		chosen[j] = int32(best)
	}
	var tot float64
	for j, x := range chosen {
		weight[j] = logits[x]
		tot += float64(weight[j])
	}
	div := max(float32(tot), 6.103515625e-5)
	for j := range weight {
		weight[j] /= div
	}
}

func taken(ids []int32, i int) bool {
	for _, x := range ids {
		if int(x) == i {
			return true
		}
	}
	return false
}
