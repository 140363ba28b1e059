package model

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/libm"
	"github.com/llmsql/llmsql/engine/tensor"
)

// Batch is a set of tokens processed in one forward pass. Token i belongs
// to sequence (cache slot) Seq[i] at position Pos[i]; within a sequence,
// positions must continue where the cache ends, in order. Logits[i] asks
// for the logits of token i (a prompt needs only its last). The first
// Decode tokens are decode steps (one generated token of a sequence): the
// kernels treat those and prompt tokens differently (tensor.MatMulMixed),
// so a caller that wants a sequence to compute the same whatever it is
// batched with marks its tokens by role, not by batch size. Prompt tokens
// go through the kernels in groups of four from the start of each run of
// one sequence's consecutive tokens (tensor.MatMulRuns), as llama.cpp's
// batches do: a caller keeps a sequence's results independent of its
// batch by giving its prompt the same runs, which the scheduler does by
// cutting prompts only at multiples of four tokens.
type Batch struct {
	Tokens []int32
	Pos    []int32
	Seq    []int32
	Logits []bool
	Decode int
	// Embed lists whole texts to embed in this pass (see AddEmbed and
	// embed.go), in batch order after the decode tokens; their pooled
	// vectors are read with State.Embeddings.
	Embed []Span
}

// Add appends one token.
func (b *Batch) Add(token, pos, seq int32, logits bool) {
	b.Tokens = append(b.Tokens, token)
	b.Pos = append(b.Pos, pos)
	b.Seq = append(b.Seq, seq)
	b.Logits = append(b.Logits, logits)
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.Tokens, b.Pos, b.Seq, b.Logits = b.Tokens[:0], b.Pos[:0], b.Seq[:0], b.Logits[:0]
	b.Decode = 0
	b.Embed = b.Embed[:0]
}

// Len is the number of tokens.
func (b *Batch) Len() int { return len(b.Tokens) }

// State is the scratch memory of forward passes: activations sized for the
// largest batch seen so far, reused so that decoding allocates nothing. A
// State serves one forward pass at a time.
type State struct {
	m    *Model
	pool *tensor.Pool
	cap  int // tokens the buffers hold

	x, xb      []float32 // [n][Embd]: residual stream, normed input
	q, k, v    []float32 // [n][heads*HeadDim], [n][kvDim]
	attOut     []float32 // [n][heads*HeadDim]: attention output
	gate, up   []float32 // [n][FF]
	out        []float32 // [n][Embd]: projection output
	rows       []int     // batch indices the last feed-forward computes: logits rows, then pooled rows
	nLogits    int       // how many of rows want logits (they come first)
	runs       []int     // lengths of the prompt tokens' runs of one sequence
	lastRuns   []int     // the runs of the pooled rows in rows
	logits     []float32 // [nLogits][Vocab]
	q16, acc16 []uint16  // F16 queries and value accumulators
	ropeCos    ropeTable
	ropeSin    ropeTable
	lastPos    map[int32]int32

	// The pass in progress, read by every member of the team.
	b      *Batch
	kv     *kvcache.Cache
	passFn func(w *tensor.Worker) // s.pass, bound once so a pass allocates nothing
	// aloneBelow: passes of fewer token-weight-bytes run on the caller
	// alone (aloneBytes; tests set 0 to run tiny models on the team).
	aloneBelow int64
	// attnScratch is each member's scratch for attention, by member.
	attnScratch []attnScratch

	// Embedding spans (embed.go).
	spanOf      []int32   // per batch token: its span in b.Embed, or -1
	spanRow     []int     // per span: its first row in rows
	k16, v16    []uint16  // [n][kvDim]: span keys and values for an F16 cache
	keepTmp     []float32 // [n][Embd]: keepRows' scratch
	pooled      []float32 // [len(b.Embed)][EmbedDim]
	poolScratch []float32

	moe moeScratch // a mixture of experts' routing and rows (moe.go)

	// A pass split by sequence (split.go): splitBelow (splitBytes; tests
	// change it) bounds the weights of a model that splits, parts are the
	// members' shares, part each token's member, logitRow each token's
	// row of logits.
	splitBelow  int64
	parts       []splitPart
	part        []int32
	seqSeen     []bool
	logitRow    []int
	splitPasses int                           // passes split, for tests
	partsTaken  atomic.Int64                  // parts run by a member not their own, for tests
	partFn      func(i int, w *tensor.Worker) // s.runParts, bound once
}

// Pool is the team s's passes run on.
func (s *State) Pool() *tensor.Pool { return s.pool }

// aloneBytes: a pass whose tokens times weight bytes is below this runs
// on the calling thread alone. Waking the team and meeting it at each
// op's barrier costs a few microseconds a pass, which a model of a
// megabyte (stories260K) does not earn back over one to three tokens: a
// 200-row SELECT on it one row at a time took 415-424 ms (500-540 ms of
// CPU) alone against 574-654 ms (1,100-1,240 ms of CPU) with two threads;
// batched, the same. Results are the same either way.
const aloneBytes = 4 << 20

// NewState returns scratch memory for m, using pool's threads.
func NewState(m *Model, pool *tensor.Pool) *State {
	s := &State{m: m, pool: pool, lastPos: map[int32]int32{}}
	s.attnScratch = make([]attnScratch, pool.Threads())
	s.passFn, s.partFn = s.pass, s.runParts
	s.aloneBelow, s.splitBelow = aloneBytes, splitBytes
	return s
}

func (s *State) grow(n int) {
	if n <= s.cap {
		return
	}
	c := s.m.Config
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	s.x = make([]float32, n*c.Embd)
	s.xb = make([]float32, n*c.Embd)
	s.q = make([]float32, n*qd)
	s.k = make([]float32, n*kvd)
	s.v = make([]float32, n*kvd)
	s.attOut = make([]float32, n*qd)
	s.gate = make([]float32, n*c.FF)
	s.up = make([]float32, n*c.FF)
	s.out = make([]float32, n*c.Embd)
	for k := range s.m.ropes {
		s.ropeCos[k] = make([]float32, n*c.RopeDims/2)
		s.ropeSin[k] = make([]float32, n*c.RopeDims/2)
	}
	s.q16 = make([]uint16, n*qd)
	s.acc16 = make([]uint16, n*qd)
	s.k16 = make([]uint16, n*kvd)
	s.v16 = make([]uint16, n*kvd)
	s.keepTmp = make([]float32, n*c.Embd)
	s.moe.grow(c, n)
	s.cap = n
}

// Forward runs b through the model, writing keys and values into kv, and
// returns the logits of the tokens that asked for them, in batch order:
// Vocab floats each. The returned slice is reused by the next call.
//
// The pass runs one of three ways, with the same results: on the caller
// alone when it is tiny (aloneBytes), split by sequence with each member
// running its own sequences' whole pass when the model is small and the
// batch holds several (split.go), or on the team, every op shared.
func (s *State) Forward(b *Batch, kv *kvcache.Cache) ([]float32, error) {
	m := s.m
	n := b.Len()
	if n == 0 {
		return nil, nil
	}
	if len(b.Pos) != n || len(b.Seq) != n || len(b.Logits) != n {
		return nil, fmt.Errorf("model: batch arrays differ in length")
	}
	if b.Decode < 0 || b.Decode > n {
		return nil, fmt.Errorf("model: %d decode tokens in a batch of %d", b.Decode, n)
	}
	if err := s.checkSpans(b, kv); err != nil {
		return nil, err
	}
	if err := s.checkBatch(b, kv); err != nil {
		return nil, err
	}
	nl := s.outputs(b)
	if nl > 0 && !m.CanGenerate() {
		return nil, fmt.Errorf("model: %s has no output head: it embeds text but cannot predict tokens", m.Arch)
	}

	s.b, s.kv = b, kv
	switch {
	case int64(n)*m.WeightBytes < s.aloneBelow:
		s.scratch(b)
		s.pool.RunAlone(s.passFn)
	case s.split(b, kv):
		// Each part sizes its own scratch (runPart).
		s.logitRows(b)
		s.pool.RunEach(s.partFn)
		s.splitPasses++
	default:
		s.scratch(b)
		s.pool.Run(s.passFn)
	}
	if len(b.Embed) > 0 {
		s.poolSpans(b)
	} else {
		s.spanRow = s.spanRow[:0]
	}
	s.b, s.kv = nil, nil

	for i := range b.Tokens {
		if b.Seq[i] < 0 {
			continue // embedded, not cached
		}
		if p := b.Pos[i] + 1; int(p) > kv.Len(int(b.Seq[i])) {
			kv.SetLen(int(b.Seq[i]), int(p))
		}
	}
	if nl == 0 {
		return nil, nil
	}
	return s.logits[:nl*m.Vocab], nil
}

// outputs lists b's output rows and makes room for their logits,
// returning how many rows want logits.
func (s *State) outputs(b *Batch) int {
	s.outputRows(b)
	if need := s.nLogits * s.m.Vocab; cap(s.logits) < need {
		s.logits = make([]float32, need)
	}
	return s.nLogits
}

// scratch sizes the pass's buffers for b and lists its prompt tokens'
// runs: consecutive tokens of one sequence (a text to embed is a run of
// its own).
func (s *State) scratch(b *Batch) {
	n := b.Len()
	s.grow(n)
	s.runs = s.runs[:0]
	for i := b.Decode; i < n; i++ {
		if i > b.Decode && b.Seq[i] == b.Seq[i-1] && s.spanOf[i] == s.spanOf[i-1] {
			s.runs[len(s.runs)-1]++
		} else {
			s.runs = append(s.runs, 1)
		}
	}
}

// pass is the forward pass as every member of the team runs it: the same
// ops in the same order, each member taking its share of each (its tokens
// for per-token work, chunks of rows for matrix products, chunks of
// (token, head) pairs for attention), with a barrier wherever the next op
// reads what others wrote. Per layer that is: QKV (one product of three
// matrices), the per-token work after it, attention, the output
// projection, the residual and norm, gate and up (one product), SwiGLU,
// down, and the residual and the next norm.
func (s *State) pass(w *tensor.Worker) {
	m, c := s.m, s.m.Config
	b := s.b
	n, nd := b.Len(), b.Decode
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	x, xb := s.x[:n*c.Embd], s.xb[:n*c.Embd]
	q, k, v := s.q[:n*qd], s.k[:n*kvd], s.v[:n*kvd]
	att, out := s.attOut[:n*qd], s.out[:n*c.Embd]
	gate, up := s.gate[:n*c.FF], s.up[:n*c.FF]
	nr := len(s.rows)
	runs := s.runs

	// Each member's tokens: embedding, RoPE tables and the first norm.
	lo, hi := w.Range(n)
	m.embedInput(x, b.Tokens, b.Pos, lo, hi)
	s.ropeTables(lo, hi)
	s.normRows(xb, x, m.Blocks[0].AttnNorm, lo, hi)
	w.Sync()

	last := len(m.Blocks) - 1
	for li := range m.Blocks {
		l := &m.Blocks[li]
		w.MatMulRuns(xb, n, nd, runs, tensor.Product{Out: q, M: l.Q}, tensor.Product{Out: k, M: l.K}, tensor.Product{Out: v, M: l.V})
		lo, hi = w.Range(n)
		s.afterQKV(li, lo, hi)
		w.Sync()
		s.attention(w, li, n)
		w.MatMulRuns(att, n, nd, runs, tensor.Product{Out: out, M: l.O})
		if li == last {
			// Past the last attention only the rows that want logits
			// matter (the cache already holds every token's keys and
			// values), so, like llama.cpp, the last feed-forward runs on
			// those rows alone. llama.cpp then has a single row in the
			// usual case, which takes its single-token matmul path; the
			// decode kernels are that path, so these rows use them. The
			// rows pooling reads follow, each text's as a run of its own
			// (all of it for mean pooling, so a batch of texts to embed
			// keeps its runs), which is what they are alone too.
			if w.ID() == 0 {
				s.keepRows(x, out, c.Embd)
			}
			w.Sync()
			n, nd, runs = nr, s.nLogits, s.lastRuns
			x, xb, out = x[:n*c.Embd], xb[:n*c.Embd], out[:n*c.Embd]
			gate, up = gate[:n*c.FF], up[:n*c.FF]
			if n == 0 {
				return
			}
		}
		lo, hi = w.Range(n)
		s.residual(xb, x, out, l.OBias, l.AttnPostNorm, l.AttnOutNorm, l.AttnOutNormB, l.FFNNorm, lo, hi)
		w.Sync()
		if l.Router.Data != nil {
			s.moeFFN(w, l, xb, out, n, nd, runs)
		} else if l.Gate.Data != nil {
			w.MatMulRuns(xb, n, nd, runs, tensor.Product{Out: gate, M: l.Gate}, tensor.Product{Out: up, M: l.Up})
			ch := w.Chunks(n*s.swigluChunks(), 1)
			for lo, hi, ok := ch.Next(); ok; lo, hi, ok = ch.Next() {
				s.swigluRange(lo, hi)
			}
		} else {
			// BERT: Down·GELU(Up·x + bias).
			w.MatMulRuns(xb, n, nd, runs, tensor.Product{Out: gate, M: l.Up})
			lo, hi = w.Range(n)
			s.geluFFN(gate, l.UpBias, lo, hi)
		}
		if l.Router.Data == nil {
			w.Sync()
			w.MatMulRuns(gate, n, nd, runs, tensor.Product{Out: out, M: l.Down})
		}
		next := m.OutputNorm
		if li < last {
			next = m.Blocks[li+1].AttnNorm
		}
		lo, hi = w.Range(n)
		s.residual(xb, x, out, l.DownBias, l.FFNPostNorm, l.LayerOutNorm, l.LayerOutNormB, next, lo, hi)
		w.Sync()
	}
	// xb now holds the final states of the kept rows, those that want
	// logits first: after the output norm for a decoder, the last layer's
	// output for an encoder.
	if nl := s.nLogits; nl > 0 {
		w.MatMul(xb, nl, nl, tensor.Product{Out: s.logits[:nl*m.Vocab], M: m.Output})
		if c.FinalSoftcap != 0 || c.LogitScale != 0 {
			lo, hi = w.Range(nl * m.Vocab)
			if c.LogitScale != 0 {
				scale(s.logits[lo:hi], 1/c.LogitScale)
			}
			if c.FinalSoftcap != 0 {
				softcap(s.logits[lo:hi], c.FinalSoftcap)
			}
			w.Sync()
		}
	}
}

// softcap bounds xs to (-c, c) as llama.cpp's graphs do, in three ops:
// x*(1/c), tanh, *c.
func softcap(xs []float32, c float32) {
	inv := 1 / c
	for i, v := range xs {
		xs[i] = libm.Tanhf(v*inv) * c
	}
}

// afterQKV does the per-token work between the QKV product and attention
// for tokens [lo, hi): biases, Qwen3's head norms, RoPE, the keys and
// values into the cache, and the F16 queries of an F16 cache.
func (s *State) afterQKV(layer, lo, hi int) {
	c := s.m.Config
	l := &s.m.Blocks[layer]
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	q, k, v := s.q[lo*qd:hi*qd], s.k[lo*kvd:hi*kvd], s.v[lo*kvd:hi*kvd]
	n := hi - lo
	if l.QBias != nil {
		addBias(q, l.QBias, n)
		addBias(k, l.KBias, n)
		addBias(v, l.VBias, n)
	}
	if l.QNorm != nil {
		normRange(q, q, l.QNorm, c.HeadDim, 0, n*c.Heads, s.m.RMSEps)
		normRange(k, k, l.KNorm, c.HeadDim, 0, n*c.KVHeads, s.m.RMSEps)
	}
	rk := int(s.m.layerRope[layer])
	s.rope(q, rk, lo, hi, c.Heads)
	s.rope(k, rk, lo, hi, c.KVHeads)
	if c.QueryScale != 0 {
		scale(q, c.QueryScale)
	}
	s.storeKV(layer, lo, hi)
	if !s.kv.IsF32() {
		tensor.FloatsToHalves(s.q16[lo*qd:hi*qd], q)
	}
}

// keepRows moves the rows of x and out listed in s.rows to the front, in
// that order. Without texts to embed s.rows is in batch order and each row
// moves to a lower or equal index, in place; with them, the pooled rows
// follow the logits rows and may move up, so the rows go through scratch.
func (s *State) keepRows(x, out []float32, d int) {
	if len(s.spanRow) == 0 {
		for j, i := range s.rows {
			if i != j {
				copy(x[j*d:(j+1)*d], x[i*d:(i+1)*d])
				copy(out[j*d:(j+1)*d], out[i*d:(i+1)*d])
			}
		}
		return
	}
	for _, buf := range [][]float32{x, out} {
		tmp := s.keepTmp[:len(s.rows)*d]
		for j, i := range s.rows {
			copy(tmp[j*d:(j+1)*d], buf[i*d:(i+1)*d])
		}
		copy(buf, tmp)
	}
}

// checkBatch makes sure every sequence continues where its cache ends,
// with consecutive positions, inside the cache.
func (s *State) checkBatch(b *Batch, kv *kvcache.Cache) error {
	cfg := kv.Config()
	clear(s.lastPos)
	for i, tok := range b.Tokens {
		if tok < 0 || int(tok) >= s.m.Vocab {
			return fmt.Errorf("model: token id %d is outside the vocabulary of %d", tok, s.m.Vocab)
		}
		if s.spanOf[i] >= 0 {
			continue // checked by checkSpans
		}
		seq, pos := b.Seq[i], b.Pos[i]
		if seq < 0 || int(seq) >= cfg.Slots {
			return fmt.Errorf("model: sequence %d is outside the cache's %d slots", seq, cfg.Slots)
		}
		want, seen := s.lastPos[seq]
		if seen {
			want++
		} else {
			want = int32(kv.Len(int(seq)))
		}
		if pos != want {
			return fmt.Errorf("model: sequence %d: token at position %d, expected %d", seq, pos, want)
		}
		if int(pos) >= cfg.Context {
			return fmt.Errorf("model: sequence %d: position %d is beyond the context of %d", seq, pos, cfg.Context)
		}
		s.lastPos[seq] = pos
	}
	return nil
}

// normRows writes dst = src / rms(src) * w for rows [lo, hi) of width
// Embd, or copies the rows when w is nil (a post-norm encoder's sublayers
// read the residual stream as it is).
func (s *State) normRows(dst, src, w []float32, lo, hi int) {
	if w == nil {
		d := s.m.Embd
		copy(dst[lo*d:hi*d], src[lo*d:hi*d])
		return
	}
	normRange(dst, src, w, s.m.Embd, lo, hi, s.m.RMSEps)
}

// normRange is RMSNorm of rows [lo, hi) of width d in llama.cpp's order
// (tensor.RMSNorm): the sum of squares in float64, the scale in float32.
func normRange(dst, src, w []float32, d, lo, hi int, eps float32) {
	if hi > lo {
		tensor.RMSNorm(dst[lo*d:hi*d], src[lo*d:hi*d], w, d, hi-lo, eps)
	}
}

// swigluChunk is how many feed-forward values one SwiGLU work item
// covers: a multiple of 16, so that chunks keep ggml's runs of 16.
const swigluChunk = 1024

func (s *State) swigluChunks() int { return (s.m.FF + swigluChunk - 1) / swigluChunk }

// swigluRange applies SwiGLU to the work items [lo, hi): chunks of
// swigluChunk values of a row, so that a single decode row spreads over
// the threads too.
func (s *State) swigluRange(lo, hi int) {
	ff, per := s.m.FF, s.swigluChunks()
	for it := lo; it < hi; it++ {
		r, c := it/per, it%per
		c0, c1 := c*swigluChunk, min((c+1)*swigluChunk, ff)
		if s.m.Act == GeGLU {
			geglu(s.gate[r*ff:(r+1)*ff], s.up[r*ff:(r+1)*ff], c0, c1)
		} else {
			swiglu(s.gate[r*ff:(r+1)*ff], s.up[r*ff:(r+1)*ff], c0, c1)
		}
	}
}

// ropeTable holds cos or sin per RoPE variant: [n][RopeDims/2] each.
type ropeTable [maxRopes][]float32

// ropeTables fills the cos/sin of tokens [lo, hi)'s positions, for each of
// the model's RoPE variants, the way ggml_rope_cache_init does: theta
// advances by repeated multiplication in float32, and the cosines and
// sines are glibc's cosf and sinf, which is what makes our rotations
// bit-compatible with its.
func (s *State) ropeTables(lo, hi int) {
	c := s.m.Config
	half := c.RopeDims / 2
	for k, rp := range s.m.ropes {
		thetaScale := float32(math.Pow(float64(rp.base), float64(-2.0/float32(c.RopeDims))))
		factors := rp.factors
		if rp.long != nil && s.kv.Config().Context > c.RopeCtxOrig {
			factors = rp.long
		}
		for i := lo; i < hi; i++ {
			theta := float32(s.b.Pos[i])
			cs, sn := s.ropeCos[k][i*half:(i+1)*half], s.ropeSin[k][i*half:(i+1)*half]
			for j := 0; j < half; j++ {
				t := theta
				if factors != nil {
					t /= factors[j]
				}
				t *= rp.scale
				cs[j] = libm.Cosf(t)
				sn[j] = libm.Sinf(t)
				if rp.mscale != 1 {
					cs[j] *= rp.mscale
					sn[j] *= rp.mscale
				}
				theta *= thetaScale
			}
		}
	}
}

// rope rotates the first RopeDims of each of heads heads of tokens
// [lo, hi), whose rows x holds from token lo on, with the model's RoPE
// variant k.
func (s *State) rope(x []float32, k, lo, hi, heads int) {
	c := s.m.Config
	half := c.RopeDims / 2
	width := heads * c.HeadDim
	for i := lo; i < hi; i++ {
		cs, sn := s.ropeCos[k][i*half:(i+1)*half], s.ropeSin[k][i*half:(i+1)*half]
		// (The rotations compute as GCC compiles ggml's x0*cos - x1*sin
		// and x0*sin + x1*cos: the first product fused into the add.)
		if c.RopeType == RopeNeox {
			tensor.RopeHalves(x[(i-lo)*width:], heads, c.HeadDim, cs, sn)
		} else {
			tensor.RopePairs(x[(i-lo)*width:], heads, c.HeadDim, cs, sn)
		}
	}
}

// storeKV writes the keys and values of tokens [lo, hi) into each
// token's slot.
func (s *State) storeKV(layer, lo, hi int) {
	kv, b, k, v := s.kv, s.b, s.k, s.v
	kvd := s.m.KVHeads * s.m.HeadDim
	for i := lo; i < hi; i++ {
		if b.Seq[i] < 0 {
			s.storeSpanKV(i)
			continue
		}
		seq, pos := int(b.Seq[i]), int(b.Pos[i])
		kr, vr := k[i*kvd:(i+1)*kvd], v[i*kvd:(i+1)*kvd]
		if kv.IsF32() {
			copy(kv.K32(layer, seq, pos+1)[pos*kvd:], kr)
			copy(kv.V32(layer, seq, pos+1)[pos*kvd:], vr)
			continue
		}
		kd := kv.K16(layer, seq, pos+1)[pos*kvd:]
		vd := kv.V16(layer, seq, pos+1)[pos*kvd:]
		tensor.FloatsToHalves(kd, kr)
		tensor.FloatsToHalves(vd, vr)
	}
}

func addBias(x, bias []float32, n int) {
	d := len(bias)
	for i := 0; i < n; i++ {
		r := x[i*d : (i+1)*d]
		for j := range r {
			r[j] += bias[j]
		}
	}
}

func scale(x []float32, v float32) {
	for i := range x {
		x[i] *= v
	}
}

func add(dst, src []float32) {
	for i := range dst {
		dst[i] += src[i]
	}
}

// swiglu writes gate = silu(gate) * up the way ggml-cpu's AVX-512 build
// does (ggml_vec_swiglu_f32): runs of 16 through its vectorised expf, the
// rest through expf. The two differ in the last bits, and a last bit is
// enough to flip how an activation rounds when it is quantized to 8 bits
// for the next matmul, so we follow the same split on every machine. gate
// and up are one row; lo and hi bound the values done here.
func swiglu(gate, up []float32, lo, hi int) {
	n := len(gate) &^ 15 // the row's runs of 16; the rest goes through expf
	if e := min(hi, n); lo < e {
		tensor.SwiGLU16(gate[lo:e], up[lo:e])
	}
	for i := max(lo, n); i < hi; i++ {
		g := gate[i]
		gate[i] = g / (1 + libm.Expf(-g)) * up[i]
	}
}
