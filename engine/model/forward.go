package model

import (
	"fmt"
	"math"

	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/libm"
	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/engine/tensor"
)

// Batch is a set of tokens processed in one forward pass. Token i belongs
// to sequence (cache slot) Seq[i] at position Pos[i]; within a sequence,
// positions must continue where the cache ends, in order. Logits[i] asks
// for the logits of token i (a prompt needs only its last). The first
// Decode tokens are decode steps (one generated token of a sequence): the
// kernels treat those and prompt tokens differently (tensor.MatMulMixed),
// so a caller that wants a sequence to compute the same whatever it is
// batched with marks its tokens by role, not by batch size.
type Batch struct {
	Tokens []int32
	Pos    []int32
	Seq    []int32
	Logits []bool
	Decode int
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
	rows       []int     // batch indices whose logits are wanted
	logits     []float32 // [len(rows)][Vocab]
	q16, acc16 []uint16  // F16 queries and value accumulators
	ropeCos    []float32
	ropeSin    []float32
	lastPos    map[int32]int32

	// Work handed to the pool goes through these fields and method values
	// bound once, so a forward pass allocates no closures.
	norm     normArgs
	normFn   func(lo, hi int)
	swigluFn func(lo, hi int)
	att      attnArgs
	attnFn   func(lo, hi int)
	// attnScratch hands each attention worker its scratch.
	attnScratch chan *attnScratch
}

type normArgs struct {
	dst, src, w []float32
	d           int
}

// NewState returns scratch memory for m, using pool's threads.
func NewState(m *Model, pool *tensor.Pool) *State {
	s := &State{m: m, pool: pool, lastPos: map[int32]int32{}}
	s.attnScratch = make(chan *attnScratch, pool.Threads())
	for range pool.Threads() {
		s.attnScratch <- &attnScratch{}
	}
	s.normFn = s.normRange
	s.swigluFn = s.swigluRange
	s.attnFn = s.attnRange
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
	s.ropeCos = make([]float32, n*c.RopeDims/2)
	s.ropeSin = make([]float32, n*c.RopeDims/2)
	s.cap = n
}

// Forward runs b through the model, writing keys and values into kv, and
// returns the logits of the tokens that asked for them, in batch order:
// Vocab floats each. The returned slice is reused by the next call.
func (s *State) Forward(b *Batch, kv *kvcache.Cache) ([]float32, error) {
	m, c := s.m, s.m.Config
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
	if err := s.checkBatch(b, kv); err != nil {
		return nil, err
	}
	s.grow(n)
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	x, xb := s.x[:n*c.Embd], s.xb[:n*c.Embd]
	q, k, v := s.q[:n*qd], s.k[:n*kvd], s.v[:n*kvd]
	att, out := s.attOut[:n*qd], s.out[:n*c.Embd]
	nd := b.Decode
	gate, up := s.gate[:n*c.FF], s.up[:n*c.FF]

	for i, tok := range b.Tokens {
		row := m.Embed.Data[int(tok)*m.Embed.Type.RowSize(c.Embd):][:m.Embed.Type.RowSize(c.Embd)]
		if err := quant.Dequantize(m.Embed.Type, x[i*c.Embd:(i+1)*c.Embd], row); err != nil {
			return nil, err
		}
	}
	s.ropeTables(b)

	// The tokens that want logits, in batch order.
	s.rows = s.rows[:0]
	for i, want := range b.Logits {
		if want {
			s.rows = append(s.rows, i)
		}
	}
	nr := len(s.rows)

	last := len(m.Blocks) - 1
	for li := range m.Blocks {
		l := &m.Blocks[li]
		s.rmsNorm(xb, x, l.AttnNorm, n, c.Embd)
		s.pool.MatMulMixed(q, l.Q, xb, n, nd)
		s.pool.MatMulMixed(k, l.K, xb, n, nd)
		s.pool.MatMulMixed(v, l.V, xb, n, nd)
		if l.QBias != nil {
			addBias(q, l.QBias, n)
			addBias(k, l.KBias, n)
			addBias(v, l.VBias, n)
		}
		if l.QNorm != nil {
			s.rmsNorm(q, q, l.QNorm, n*c.Heads, c.HeadDim)
			s.rmsNorm(k, k, l.KNorm, n*c.KVHeads, c.HeadDim)
		}
		s.rope(q, n, c.Heads)
		s.rope(k, n, c.KVHeads)
		s.storeKV(kv, li, b, k, v)
		s.attention(kv, li, b, q, att)
		s.pool.MatMulMixed(out, l.O, att, n, nd)
		if li == last {
			// Past the last attention only the rows that want logits
			// matter (the cache already holds every token's keys and
			// values), so, like llama.cpp, the last feed-forward runs on
			// those rows alone. llama.cpp then has a single row in the
			// usual case, which takes its single-token matmul path; the
			// decode kernels are that path, so these rows use them.
			s.keepRows(x, out, c.Embd)
			n, nd = nr, nr
			x, xb, out = x[:n*c.Embd], xb[:n*c.Embd], out[:n*c.Embd]
			gate, up = gate[:n*c.FF], up[:n*c.FF]
			if n == 0 {
				break
			}
		}
		add(x, out)

		s.rmsNorm(xb, x, l.FFNNorm, n, c.Embd)
		s.pool.MatMulMixed(gate, l.Gate, xb, n, nd)
		s.pool.MatMulMixed(up, l.Up, xb, n, nd)
		s.pool.Parallel(n*s.swigluChunks(), 1, s.swigluFn)
		s.pool.MatMulMixed(out, l.Down, gate, n, nd)
		add(x, out)
	}
	for i := range b.Tokens {
		if p := b.Pos[i] + 1; int(p) > kv.Len(int(b.Seq[i])) {
			kv.SetLen(int(b.Seq[i]), int(p))
		}
	}
	if nr == 0 {
		return nil, nil
	}
	if cap(s.logits) < nr*m.Vocab {
		s.logits = make([]float32, nr*m.Vocab)
	}
	logits := s.logits[:nr*m.Vocab]
	s.rmsNorm(xb, x, m.OutputNorm, nr, c.Embd)
	s.pool.MatMulMixed(logits, m.Output, xb, nr, nr)
	return logits, nil
}

// keepRows moves the rows of x and out listed in s.rows to the front, in
// order (each row moves to a lower or equal index, so in place is safe).
func (s *State) keepRows(x, out []float32, d int) {
	for j, i := range s.rows {
		if i != j {
			copy(x[j*d:(j+1)*d], x[i*d:(i+1)*d])
			copy(out[j*d:(j+1)*d], out[i*d:(i+1)*d])
		}
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

// rmsNorm writes dst = src / rms(src) * w for n rows of width d, in
// llama.cpp's order: the sum of squares in float64, the scale in float32.
func (s *State) rmsNorm(dst, src, w []float32, n, d int) {
	s.norm = normArgs{dst, src, w, d}
	if n*d < 1<<14 {
		s.normRange(0, n)
	} else {
		s.pool.Parallel(n, 1, s.normFn)
	}
	s.norm = normArgs{}
}

func (s *State) normRange(lo, hi int) {
	a, eps := s.norm, s.m.RMSEps
	for r := lo; r < hi; r++ {
		x := a.src[r*a.d : (r+1)*a.d]
		y := a.dst[r*a.d : (r+1)*a.d]
		var sum float64
		for _, v := range x {
			sum += float64(v * v)
		}
		mean := float32(sum / float64(a.d))
		scale := 1 / float32(math.Sqrt(float64(mean+eps)))
		for i, v := range x {
			y[i] = (v * scale) * a.w[i]
		}
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
		swiglu(s.gate[r*ff:(r+1)*ff], s.up[r*ff:(r+1)*ff], c0, c1)
	}
}

// ropeTables fills the cos/sin of every batch token's position the way
// ggml_rope_cache_init does: theta advances by repeated multiplication in
// float32, and the cosines and sines are glibc's cosf and sinf, which is
// what makes our rotations bit-compatible with its.
func (s *State) ropeTables(b *Batch) {
	c := s.m.Config
	half := c.RopeDims / 2
	thetaScale := float32(math.Pow(float64(c.RopeBase), float64(-2.0/float32(c.RopeDims))))
	for i, p := range b.Pos {
		theta := float32(p)
		cs, sn := s.ropeCos[i*half:(i+1)*half], s.ropeSin[i*half:(i+1)*half]
		for j := 0; j < half; j++ {
			t := theta
			if s.m.RopeFreqs != nil {
				t /= s.m.RopeFreqs[j]
			}
			t *= c.RopeScale
			cs[j] = libm.Cosf(t)
			sn[j] = libm.Sinf(t)
			theta *= thetaScale
		}
	}
}

// rope rotates the first RopeDims of each of heads heads of each token.
func (s *State) rope(x []float32, n, heads int) {
	c := s.m.Config
	half := c.RopeDims / 2
	width := heads * c.HeadDim
	for i := 0; i < n; i++ {
		cs, sn := s.ropeCos[i*half:(i+1)*half], s.ropeSin[i*half:(i+1)*half]
		for h := 0; h < heads; h++ {
			v := x[i*width+h*c.HeadDim:][:c.HeadDim]
			for j := 0; j < half; j++ {
				var a, b int
				if c.RopeType == RopeNeox {
					a, b = j, j+half
				} else {
					a, b = 2*j, 2*j+1
				}
				// GCC compiles ggml's x0*cos - x1*sin and x0*sin + x1*cos
				// with the first product fused into the add.
				x0, x1 := v[a], v[b]
				v[a] = libm.Fmaf(x0, cs[j], -(x1 * sn[j]))
				v[b] = libm.Fmaf(x0, sn[j], x1*cs[j])
			}
		}
	}
}

// storeKV writes the batch's keys and values into each token's slot.
func (s *State) storeKV(kv *kvcache.Cache, layer int, b *Batch, k, v []float32) {
	kvd := s.m.KVHeads * s.m.HeadDim
	for i := range b.Tokens {
		seq, pos := int(b.Seq[i]), int(b.Pos[i])
		kr, vr := k[i*kvd:(i+1)*kvd], v[i*kvd:(i+1)*kvd]
		if kv.IsF32() {
			copy(kv.K32(layer, seq, pos+1)[pos*kvd:], kr)
			copy(kv.V32(layer, seq, pos+1)[pos*kvd:], vr)
			continue
		}
		kd := kv.K16(layer, seq, pos+1)[pos*kvd:]
		vd := kv.V16(layer, seq, pos+1)[pos*kvd:]
		for j := range kr {
			kd[j] = quant.FP32ToFP16(kr[j])
			vd[j] = quant.FP32ToFP16(vr[j])
		}
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
