package model

import (
	"math"

	"github.com/llmsql/llmsql/engine/libm"
	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/engine/tensor"
)

// attention computes, for every (token, head), softmax(q·K·KQScale)·V over
// the positions 0..pos of the token's own sequence (the last Window of them
// in a sliding-window layer): causal, and blind to other sequences in the
// batch. A token of a text being embedded attends
// to its own text's keys in the pass's buffers instead, all of them for an
// encoder (keys32, keys16 in embed.go).
//
// With an F16 cache it follows llama.cpp's CPU flash attention for one
// query row: the query is rounded to F16, scores are F16 dot products, and
// the running weighted sum of values is kept in F16 and rescaled online as
// the maximum score grows. Matching that order of rounding is what keeps
// greedy decoding on the same tokens as llama.cpp's. The exponentials are
// glibc's expf (engine/libm), which llama.cpp calls here, and the running
// sum S*ms + vs is one fused multiply-add, as GCC compiles it.
func (s *State) attention(w *tensor.Worker, layer, n int) {
	// Items go in chunks of the heads the value sums take together (four
	// query heads in one call where the kernel level has that), so that a
	// chunk starts on such a group.
	grain := 1
	if !s.kv.IsF32() {
		grain, _ = tensor.HeadsTogether(s.m.Config.HeadDim)
		// Eight heads at once where the value sums have that kernel and
		// the pass has tokens enough to keep every member busy with
		// eights (one token's two fours still go to two members).
		if s.m.Heads%8 == 0 && tensor.Heads8(s.m.Config.HeadDim) && n*s.m.Heads/8 >= 4*w.N() {
			grain = 8
		}
	}
	c := w.Chunks(n*s.m.Heads, grain)
	for lo, hi, ok := c.Next(); ok; lo, hi, ok = c.Next() {
		s.attnRange(w.ID(), layer, lo, hi, grain == 8)
	}
	w.Sync()
}

// attnRange computes the (token, head) items [lo, hi) with member id's
// scratch, eight heads in a call where eights says so.
func (s *State) attnRange(id, layer, lo, hi int, eights bool) {
	c := s.m.Config
	scr := &s.attnScratch[id]
	kv, q, out := s.kv, s.q, s.attOut
	// llama.cpp's flash attention scales each score, then soft-caps it:
	// cap*tanh(score*(scale/cap)).
	scale, softcap := c.KQScale, c.AttnSoftcap
	if softcap != 0 {
		scale /= softcap
	}
	window := 0
	if c.SWA != nil && c.SWA[layer] {
		window = c.Window
	}
	f32 := kv.IsF32()
	qd := c.Heads * c.HeadDim
	group := c.Heads / c.KVHeads
	kvd := c.KVHeads * c.HeadDim
	hd := c.HeadDim
	together, apart := tensor.HeadsTogether(hd)
	heads4 := !f32 && together == 4
	{
		for item := lo; item < hi; item++ {
			i, h := item/c.Heads, item%c.Heads
			kvh := h / group
			if eights && h%8 == 0 && item+8 <= hi {
				s.attnHeads8(scr, layer, i, h, window, scale, softcap)
				item += 7
				continue
			}
			if heads4 && item+4 <= hi && h+3 < c.Heads && (apart || (h+3)/group == kvh) {
				s.attnHeads4(scr, layer, i, h, window, scale, softcap)
				item += 3
				continue
			}
			o := out[i*qd+h*hd:][:hd]
			var sum, maxS float32 = 0, float32(math.Inf(-1))
			if f32 {
				qh := q[i*qd+h*hd:][:hd]
				keys, vals, np := s.keys32(layer, i)
				clear(o)
				for p := windowStart(np, window); p < np; p++ {
					sc := tensor.DotF32(keys[p*kvd+kvh*hd:][:hd], qh) * scale
					if softcap != 0 {
						sc = softcap * libm.Tanhf(sc)
					}
					ms, vs := float32(1), float32(1)
					if sc > maxS {
						ms = libm.Expf(maxS - sc)
						maxS = sc
						tensor.ScaleF32(o, ms)
					} else {
						vs = libm.Expf(sc - maxS)
					}
					tensor.Axpy(o, vals[p*kvd+kvh*hd:][:hd], vs)
					sum = tensor.SoftmaxSum(sum, ms, vs)
				}
			} else {
				// The scores of every position in one call, the online
				// softmax's scalars in order, then the value sums in one
				// call: the same operations as position by position.
				qh := s.q16[i*qd+h*hd:][:hd]
				acc := s.acc16[i*qd+h*hd:][:hd]
				clear(acc)
				keys, vals, n := s.visibleKV16(layer, i, window)
				sc, ms, vs := scr.grow(n, kv.Config().Context)
				tensor.ScoresF16(sc, keys[kvh*hd:], kvd, qh)
				sum = tensor.SoftmaxFactors(sc, scale, softcap, ms, vs, 1)
				tensor.MadRowsF16(acc, vals[kvh*hd:], kvd, ms, vs)
				for j, a := range acc {
					o[j] = quant.FP16ToFP32(a)
				}
			}
			inv := float32(0)
			if sum != 0 {
				inv = 1 / sum
			}
			for j := range o {
				o[j] *= inv
			}
		}
	}
}

// attnHeads4 computes query heads h..h+3 of token i over an F16 cache:
// each head's scores and softmax as attnRange computes them, the four
// value sums in one call (each head reading its own KV head's values).
func (s *State) attnHeads4(scr *attnScratch, layer, i, h, window int, scale, softcap float32) {
	c := s.m.Config
	qd, kvd, hd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim
	group := c.Heads / c.KVHeads
	keys, vals, n := s.visibleKV16(layer, i, window)
	sc4, ms4, vs4 := scr.growHeads(4, n, s.kv.Config().Context)
	var offs [4]int
	for j := range offs {
		offs[j] = (h + j) / group * hd
		tensor.ScoresF16(sc4[j*n:(j+1)*n], keys[offs[j]:], kvd, s.q16[i*qd+(h+j)*hd:][:hd])
	}
	sums := tensor.SoftmaxFactors4(sc4, n, scale, softcap, ms4, vs4)
	acc := s.acc16[i*qd+h*hd:][:4*hd]
	clear(acc)
	tensor.MadRowsF16Heads4(acc, vals, kvd, offs, ms4, vs4)
	s.finishHeads(scr, i, h, acc, sums[:])
}

// attnHeads8 is attnHeads4 for query heads h..h+7 of token i: each head's
// scores, softmax and value sums as attnRange computes them, the eight
// heads' of each in one call.
func (s *State) attnHeads8(scr *attnScratch, layer, i, h, window int, scale, softcap float32) {
	c := s.m.Config
	qd, kvd, hd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim
	group := c.Heads / c.KVHeads
	keys, vals, n := s.visibleKV16(layer, i, window)
	sc8, ms8, vs8 := scr.growHeads(8, n, s.kv.Config().Context)
	var offs [8]int
	for j := range offs {
		offs[j] = (h + j) / group * hd
	}
	tensor.ScoresF16Heads8(sc8, keys, kvd, offs, s.q16[i*qd+h*hd:][:8*hd])
	acc := s.acc16[i*qd+h*hd:][:8*hd]
	clear(acc)
	var sums [8]float32
	if hd == 8 {
		// One pass: each position's factors applied as they are made.
		sums = tensor.SoftmaxMadHeads8(acc, vals, kvd, offs, sc8, scale, softcap, ms8, vs8)
	} else {
		sums = tensor.SoftmaxFactors8(sc8, n, scale, softcap, ms8, vs8)
		tensor.MadRowsF16Heads8(acc, vals, kvd, offs, ms8, vs8)
	}
	s.finishHeads(scr, i, h, acc, sums[:])
}

// finishHeads writes query heads h.. of token i's attention output, one
// per sum: each head's F16 sum of values widened and divided by its
// softmax sum (times 0 where that is 0), in one step (a vector call to
// scale values just widened one by one would stall on reading them).
func (s *State) finishHeads(scr *attnScratch, i, h int, acc []uint16, sums []float32) {
	for j, sum := range sums {
		scr.inv[j] = 0
		if sum != 0 {
			scr.inv[j] = 1 / sum
		}
	}
	qd, hd := s.m.Heads*s.m.HeadDim, s.m.HeadDim
	tensor.WidenScaleHeads(s.attOut[i*qd+h*hd:][:len(sums)*hd], acc, scr.inv[:len(sums)])
}

// visibleKV16 is keys16 from the first position the window leaves token
// i's query: its n keys' and values' rows.
func (s *State) visibleKV16(layer, i, window int) (keys, vals []uint16, n int) {
	kvd := s.m.KVHeads * s.m.HeadDim
	keys, vals, np := s.keys16(layer, i)
	start := windowStart(np, window)
	return keys[start*kvd:], vals[start*kvd:], np - start
}

// windowStart is the first of np keys (in position order, the last the
// query's own) that a sliding window of the given size leaves visible: a
// query at position p sees p-window+1 .. p. llama.cpp's flash attention
// skips the masked keys, so starting after them computes the same. 0 is
// no window.
func windowStart(np, window int) int {
	if window > 0 {
		return max(0, np-window)
	}
	return 0
}

// attnScratch holds one worker's per-position scores and softmax factors
// (sc4: four heads' scores one head after another; ms4, vs4: their
// factors interleaved by position; the same for eight heads, twice).
type attnScratch struct {
	sc, ms, vs, sc4, ms4, vs4 []float32
	inv                       [8]float32 // the heads' 1/sum, for WidenScaleHeads
	_                         [64]byte   // members write inv: no line shared with the next's
}

// growHeads returns room for the scores and factors of k heads (4 or 8)
// over n positions.
func (a *attnScratch) growHeads(k, n, context int) (sc, ms, vs []float32) {
	if cap(a.ms4) < k*n {
		c := 8 * max(n, context) // room for eight heads
		a.sc4, a.ms4, a.vs4 = make([]float32, c), make([]float32, c), make([]float32, c)
	}
	return a.sc4[:k*n], a.ms4[:k*n], a.vs4[:k*n]
}

// grow returns room for n positions; context is the most there can be.
func (a *attnScratch) grow(n, context int) (sc, ms, vs []float32) {
	if cap(a.sc) < n {
		// Sequences grow a position per step: take room for the whole
		// context at once, so that decoding never allocates here.
		c := max(n, context)
		a.sc, a.ms, a.vs = make([]float32, c), make([]float32, c), make([]float32, c)
	}
	return a.sc[:n], a.ms[:n], a.vs[:n]
}
