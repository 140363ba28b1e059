// Package sample picks the next token from a row of logits: greedily, or by
// drawing from the distribution shaped by penalties, top-k, top-p, min-p and
// temperature, in llama.cpp's order. A Constraint (a grammar) limits the
// tokens that may be picked, applied as llama.cpp's common sampler applies
// its grammar: the chain samples first; if the grammar refuses that token,
// the logits of every refused token are set to -inf and the chain samples
// again. Each sequence has its own Sampler and
// its own random stream, so a seeded sequence draws the same tokens however
// many other sequences share its forward passes and however many threads
// compute them.
package sample

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"

	"github.com/llmsql/llmsql/engine/tensor"
)

// Params shape the distribution. Temperature 0 means greedy.
type Params struct {
	Temperature      float32
	TopK             int     // 0 = all tokens
	TopP             float32 // 1 = off
	MinP             float32 // 0 = off
	RepeatPenalty    float32 // 1 = off
	RepeatLastN      int     // how many recent tokens the penalties see
	FrequencyPenalty float32
	PresencePenalty  float32
	Seed             uint64
}

type candidate struct {
	id    int32
	logit float32
	p     float32
}

// Constraint limits which tokens may come next (grammar.Matcher is one).
type Constraint interface {
	// Allowed reports whether tok may come next.
	Allowed(tok int32) bool
	// Mask is the set of tokens that may come next, a bitset over the
	// vocabulary (bit t of word t/64); the sampler does not modify it.
	Mask() []uint64
	// Accept moves past a generated token.
	Accept(tok int32) error
	// Complete reports whether what was accepted is a whole sentence.
	Complete() bool
	// Done reports whether nothing but end-of-generation may follow.
	Done() bool
}

// ErrNoToken is the error when a constraint allows no token at all.
var ErrNoToken = errors.New("sample: the grammar allows no token here")

// Sampler holds one sequence's sampling state.
type Sampler struct {
	p       Params
	rng     *rand.Rand
	recent  []int32 // the last RepeatLastN accepted tokens, oldest first
	counts  map[int32]int
	cands   []candidate
	sortScr sortScratch
	scratch []float32
	c       Constraint
	masked  []float32
}

// Constrain limits the tokens s may pick to those c allows.
func (s *Sampler) Constrain(c Constraint) { s.c = c }

// Constraint returns the constraint set with Constrain, or nil.
func (s *Sampler) Constraint() Constraint { return s.c }

// New returns a sampler whose random stream is fixed by p.Seed.
func New(p Params) *Sampler {
	if p.TopP <= 0 {
		p.TopP = 1
	}
	if p.RepeatPenalty <= 0 {
		p.RepeatPenalty = 1
	}
	return &Sampler{
		p:      p,
		rng:    rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)),
		counts: map[int32]int{},
	}
}

// Accept records a token the sequence now holds (prompt or generated), for
// the penalties.
func (s *Sampler) Accept(tok int32) {
	if s.p.RepeatLastN <= 0 || !s.penalizes() {
		return
	}
	if len(s.recent) == s.p.RepeatLastN {
		old := s.recent[0]
		copy(s.recent, s.recent[1:])
		s.recent = s.recent[:len(s.recent)-1]
		if s.counts[old]--; s.counts[old] == 0 {
			delete(s.counts, old)
		}
	}
	s.recent = append(s.recent, tok)
	s.counts[tok]++
}

func (s *Sampler) penalizes() bool {
	return s.p.RepeatPenalty != 1 || s.p.FrequencyPenalty != 0 || s.p.PresencePenalty != 0
}

// Sample picks a token from logits (one per vocabulary entry). logits is
// not modified. With a constraint, the token is one it allows (ErrNoToken
// when it allows none).
func (s *Sampler) Sample(logits []float32) (int32, error) {
	tok := s.sample(logits)
	if s.c == nil || s.c.Allowed(tok) {
		return tok, nil
	}
	mask := s.c.Mask()
	if len(mask)*64 < len(logits) {
		return 0, errors.New("sample: the grammar's vocabulary is smaller than the model's")
	}
	if s.p.Temperature <= 0 && !s.penalizes() {
		tok = GreedyMasked(logits, mask)
	} else {
		if cap(s.masked) < len(logits) {
			s.masked = make([]float32, len(logits))
		}
		m := s.masked[:len(logits)]
		applyMask(m, logits, mask)
		tok = s.sample(m)
		if !maskHas(mask, tok) {
			// Rounding let the draw fall past the last allowed token's
			// share: take the most likely allowed one.
			tok = GreedyMasked(m, mask)
		}
	}
	if tok < 0 {
		return 0, ErrNoToken
	}
	return tok, nil
}

// Advance records a generated token: for the penalties, and for the
// constraint, which moves past it. done reports that the constraint allows
// nothing but end-of-generation from here.
func (s *Sampler) Advance(tok int32) (done bool, err error) {
	s.Accept(tok)
	if s.c == nil {
		return false, nil
	}
	if err := s.c.Accept(tok); err != nil {
		return false, err
	}
	return s.c.Done(), nil
}

// Complete reports whether the constraint is satisfied by what was
// generated (always, without one).
func (s *Sampler) Complete() bool { return s.c == nil || s.c.Complete() }

func maskHas(mask []uint64, t int32) bool {
	return t >= 0 && int(t>>6) < len(mask) && mask[t>>6]&(1<<(uint(t)&63)) != 0
}

// applyMask copies logits into dst with every token mask refuses at -inf.
func applyMask(dst, logits []float32, mask []uint64) {
	inf := float32(math.Inf(-1))
	for w := 0; w*64 < len(logits); w++ {
		lo, hi := w*64, min(w*64+64, len(logits))
		switch m := mask[w]; m {
		case ^uint64(0):
			copy(dst[lo:hi], logits[lo:hi])
		case 0:
			for i := lo; i < hi; i++ {
				dst[i] = inf
			}
		default:
			for i := lo; i < hi; i++ {
				if m&(1<<uint(i-lo)) != 0 {
					dst[i] = logits[i]
				} else {
					dst[i] = inf
				}
			}
		}
	}
}

// GreedyMasked returns the index of the largest logit among the tokens
// mask allows (the first, on ties), or -1 if it allows none: Greedy of the
// masked logits, without copying them.
func GreedyMasked(logits []float32, mask []uint64) int32 {
	best := int32(-1)
	var bestL float32
	for w := 0; w*64 < len(logits); w++ {
		m := mask[w]
		lo, hi := w*64, min(w*64+64, len(logits))
		if hi-lo < 64 {
			m &= 1<<uint(hi-lo) - 1
		}
		if m == 0 {
			continue
		}
		if best >= 0 {
			// Skip the word when none of its logits beats the best so
			// far: a scan of predictable compares, cheaper than visiting
			// its allowed bits one by one.
			wm := logits[lo]
			for _, l := range logits[lo+1 : hi] {
				if l > wm {
					wm = l
				}
			}
			if !(wm > bestL) {
				continue
			}
		}
		for m != 0 {
			i := int32(w*64 + bits.TrailingZeros64(m))
			m &= m - 1
			if l := logits[i]; best < 0 || l > bestL {
				best, bestL = i, l
			}
		}
	}
	return best
}

// sample picks a token from logits without the constraint.
func (s *Sampler) sample(logits []float32) int32 {
	if s.penalizes() && len(s.counts) > 0 {
		s.scratch = append(s.scratch[:0], logits...)
		logits = s.scratch
		for tok, n := range s.counts {
			if int(tok) >= len(logits) {
				continue
			}
			l := logits[tok]
			if l <= 0 {
				l *= s.p.RepeatPenalty
			} else {
				l /= s.p.RepeatPenalty
			}
			l -= float32(n)*s.p.FrequencyPenalty + s.p.PresencePenalty
			logits[tok] = l
		}
	}
	if s.p.Temperature <= 0 {
		return Greedy(logits)
	}

	var c []candidate
	if k := s.p.TopK; k > 0 && k < len(logits) {
		c = topK(logits, k, s.cands)
	} else {
		c = s.cands[:0]
		for i, l := range logits {
			c = append(c, candidate{id: int32(i), logit: l})
		}
		sortByLogit(c, &s.sortScr)
	}
	s.cands = c
	// c is now sorted by logit, highest first.
	if s.p.TopP < 1 {
		softmax(c)
		var cum float32
		keep := len(c)
		for i := range c {
			cum += c[i].p
			if cum >= s.p.TopP {
				keep = i + 1
				break
			}
		}
		c = c[:keep]
	}
	if s.p.MinP > 0 {
		limit := c[0].logit + float32(math.Log(float64(s.p.MinP)))
		keep := 1
		for keep < len(c) && c[keep].logit >= limit {
			keep++
		}
		c = c[:keep]
	}
	for i := range c {
		c[i].logit /= s.p.Temperature
	}
	softmax(c)
	r := s.rng.Float32()
	var cum float32
	for i := range c {
		cum += c[i].p
		if r < cum {
			return c[i].id
		}
	}
	return c[len(c)-1].id
}

// Greedy returns the index of the largest logit (the first, on ties; NaNs
// passed over), as llama.cpp's greedy sampler's loop finds it: in vector
// passes (tensor.ArgMax), 10 us over a 152K vocabulary where the loop
// took 130.
func Greedy(logits []float32) int32 {
	return int32(tensor.ArgMax(logits))
}

// topK returns the k highest of logits as candidates, highest first (ties:
// lower id first), in buf's memory: a partial selection, so a 150k
// vocabulary costs O(n log k), not a full sort.
func topK(logits []float32, k int, buf []candidate) []candidate {
	less := func(a, b candidate) bool { // a ranks below b
		if a.logit != b.logit {
			return a.logit < b.logit
		}
		return a.id > b.id
	}
	// A min-heap of the best k seen so far, the first k to begin with.
	h := buf[:0]
	for i, l := range logits[:k] {
		h = append(h, candidate{id: int32(i), logit: l})
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= k {
				return
			}
			m := l
			if r := l + 1; r < k && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	// A later token ranks above the heap's lowest only by a larger logit
	// (on a tie its larger id ranks it below; nothing compares larger
	// than a NaN or as a larger NaN): one compare each, against the
	// lowest logit kept in a register. 152K logits: 0.1 ms, where making
	// a candidate of each first took 0.35.
	low := h[0].logit
	for i, l := range logits[k:] {
		if l > low {
			h[0] = candidate{id: int32(k + i), logit: l}
			down(0)
			low = h[0].logit
		}
	}
	sort.Slice(h, func(i, j int) bool { return less(h[j], h[i]) })
	return h
}

// softmax sets p of candidates sorted by logit, highest first.
func softmax(c []candidate) {
	max := c[0].logit
	var sum float32
	for i := range c {
		c[i].p = float32(math.Exp(float64(c[i].logit - max)))
		sum += c[i].p
	}
	for i := range c {
		c[i].p /= sum
	}
}

// sortByLogit sorts c highest logit first, ties lowest id first, and
// returns scr grown to hold its scratch. c must be in id order, as sample
// builds it. That is the order a comparison sort by (logit, id) gives,
// found by a radix sort: each candidate becomes its key (logitKey) above
// its index, the pairs are sorted by key in three stable passes of 11,
// 11 and 10 bits (a pass whose digit is the same everywhere is skipped),
// and the candidates are gathered in that order. 152K logits (Qwen's
// vocabulary): 2.4 ms, where sort.Slice took 37 ms every token. -0 and
// +0 are one key (they compare equal); NaNs, which no comparison orders,
// go last.
func sortByLogit(c []candidate, scr *sortScratch) {
	n := len(c)
	if cap(scr.a) < n {
		scr.a, scr.b, scr.c = make([]uint64, n), make([]uint64, n), make([]candidate, n)
	}
	src, dst := scr.a[:n], scr.b[:n]
	var hist [3][1 << 11]int
	for i := range c {
		k := logitKey(c[i].logit)
		src[i] = uint64(k)<<32 | uint64(i)
		hist[0][k&0x7ff]++
		hist[1][k>>11&0x7ff]++
		hist[2][k>>22]++
	}
	for d, shift := range [3]uint{32, 43, 54} {
		h := &hist[d]
		if h[(src[0]>>shift)&0x7ff] == n {
			continue // one digit everywhere: the order stays
		}
		start := 0
		for b, cnt := range h {
			h[b] = start
			start += cnt
		}
		for _, v := range src {
			b := (v >> shift) & 0x7ff
			dst[h[b]] = v
			h[b]++
		}
		src, dst = dst, src
	}
	out := scr.c[:n]
	for i, v := range src {
		out[i] = c[uint32(v)]
	}
	copy(c, out)
}

// sortScratch is sortByLogit's memory, kept by a Sampler.
type sortScratch struct {
	a, b []uint64
	c    []candidate
}

// logitKey orders logits highest first as unsigned integers ascending.
func logitKey(l float32) uint32 {
	if l != l {
		return math.MaxUint32 // NaN: last
	}
	if l == 0 {
		l = 0 // -0 is +0
	}
	u := math.Float32bits(l)
	if u&(1<<31) != 0 {
		u = ^u // negative: larger magnitude, smaller value
	} else {
		u |= 1 << 31
	}
	return ^u // highest first
}
