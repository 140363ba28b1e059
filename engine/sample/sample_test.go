package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestGreedyPicksFirstMax(t *testing.T) {
	if got := Greedy([]float32{1, 3, 2, 3}); got != 1 {
		t.Fatalf("Greedy = %d", got)
	}
	s := New(Params{Temperature: 0})
	if got := sampleOne(s, []float32{-1, -0.5, -2}); got != 1 {
		t.Fatalf("temperature 0 sampled %d", got)
	}
}

func TestSeedDeterminesDraws(t *testing.T) {
	logits := make([]float32, 100)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)))
	}
	draw := func(seed uint64) []int32 {
		s := New(Params{Temperature: 1, TopP: 1, Seed: seed})
		var out []int32
		for i := 0; i < 50; i++ {
			out = append(out, sampleOne(s, logits))
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("same seed gave different draws")
	}
	if same(a, c) {
		t.Fatal("different seeds gave the same 50 draws")
	}
}

func TestTopKAndMinPRestrictTheDraw(t *testing.T) {
	logits := []float32{5, 4.9, 4.8, 0, -1, -2, 1, 2}
	s := New(Params{Temperature: 5, TopK: 3, TopP: 1, Seed: 1})
	for i := 0; i < 500; i++ {
		if tok := sampleOne(s, logits); tok > 2 {
			t.Fatalf("top-k 3 drew token %d", tok)
		}
	}
	// min-p 0.5 keeps tokens whose probability is at least half the best's:
	// logit >= 5 + ln 0.5 = 4.31.
	s = New(Params{Temperature: 1, MinP: 0.5, TopP: 1, Seed: 2})
	seen := map[int32]bool{}
	for i := 0; i < 500; i++ {
		seen[sampleOne(s, logits)] = true
	}
	if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
		t.Fatalf("min-p drew %v", seen)
	}
}

func TestTopPKeepsSmallestNucleus(t *testing.T) {
	// Probabilities 0.5, 0.3, 0.2 (as logits ln p): top-p 0.75 keeps two.
	logits := []float32{float32(math.Log(0.2)), float32(math.Log(0.5)), float32(math.Log(0.3))}
	s := New(Params{Temperature: 1, TopP: 0.75, Seed: 3})
	counts := map[int32]int{}
	for i := 0; i < 2000; i++ {
		counts[sampleOne(s, logits)]++
	}
	if counts[0] != 0 || counts[1] < 1000 || counts[2] < 500 {
		t.Fatalf("top-p counts %v", counts)
	}
}

func TestRepeatPenaltyChangesGreedyChoice(t *testing.T) {
	logits := []float32{2, 1.9, -1}
	s := New(Params{Temperature: 0, RepeatPenalty: 1.5, RepeatLastN: 4})
	s.Accept(0)
	if got := sampleOne(s, logits); got != 1 {
		t.Fatalf("penalised token still chosen: %d", got)
	}
	if logits[0] != 2 {
		t.Fatal("Sample modified the caller's logits")
	}
	// Once token 0 falls out of the window the penalty is gone.
	for _, tok := range []int32{2, 2, 2, 2} {
		s.Accept(tok)
	}
	if got := sampleOne(s, logits); got != 0 {
		t.Fatalf("penalty outlived its window: %d", got)
	}
	// A frequency penalty grows with the count.
	s = New(Params{Temperature: 0, FrequencyPenalty: 0.06, RepeatLastN: 8})
	s.Accept(0)
	if sampleOne(s, logits) != 0 {
		t.Fatal("one occurrence should cost 0.06 < 0.1")
	}
	s.Accept(0)
	if sampleOne(s, logits) != 1 {
		t.Fatal("two occurrences should cost 0.12 > 0.1")
	}
}

func sampleOne(s *Sampler, logits []float32) int32 {
	tok, err := s.Sample(logits)
	if err != nil {
		panic(err)
	}
	return tok
}

// maskConstraint allows a fixed set of tokens and records what it accepts.
type maskConstraint struct {
	mask     []uint64
	accepted []int32
	done     bool
}

func newMaskConstraint(n int, allowed ...int32) *maskConstraint {
	c := &maskConstraint{mask: make([]uint64, (n+63)/64)}
	for _, t := range allowed {
		c.mask[t/64] |= 1 << (t % 64)
	}
	return c
}

func (c *maskConstraint) Allowed(t int32) bool { return maskHas(c.mask, t) }
func (c *maskConstraint) Mask() []uint64       { return c.mask }
func (c *maskConstraint) Accept(t int32) error {
	if !c.Allowed(t) {
		return errors.New("not allowed")
	}
	c.accepted = append(c.accepted, t)
	return nil
}
func (c *maskConstraint) Complete() bool { return true }
func (c *maskConstraint) Done() bool     { return c.done }

func TestConstraintGreedyIsGreedyOfMaskedLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200; iter++ {
		n := 1 + rng.IntN(300)
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(rng.IntN(20)) // ties on purpose
		}
		var allowed []int32
		for i := 0; i < n; i++ {
			if rng.IntN(4) == 0 {
				allowed = append(allowed, int32(i))
			}
		}
		c := newMaskConstraint(n, allowed...)
		s := New(Params{})
		s.Constrain(c)
		tok, err := s.Sample(logits)
		if len(allowed) == 0 {
			if !errors.Is(err, ErrNoToken) {
				t.Fatalf("no token allowed: got %d, %v", tok, err)
			}
			continue
		}
		masked := make([]float32, n)
		for i := range masked {
			masked[i] = float32(math.Inf(-1))
		}
		for _, a := range allowed {
			masked[a] = logits[a]
		}
		if want := Greedy(masked); tok != want || err != nil {
			t.Fatalf("got %d (%v), greedy of the masked logits is %d", tok, err, want)
		}
	}
}

func TestConstraintSampledTokensAreAllowed(t *testing.T) {
	logits := make([]float32, 500)
	for i := range logits {
		logits[i] = float32(i % 7)
	}
	c := newMaskConstraint(len(logits), 3, 77, 498)
	s := New(Params{Temperature: 1.5, TopK: 40, TopP: 0.9, MinP: 0.01, RepeatPenalty: 1.3, RepeatLastN: 8, Seed: 9})
	s.Constrain(c)
	seen := map[int32]bool{}
	for i := 0; i < 300; i++ {
		tok := sampleOne(s, logits)
		if !c.Allowed(tok) {
			t.Fatalf("sampled %d, not allowed", tok)
		}
		seen[tok] = true
		if _, err := s.Advance(tok); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("sampling should still vary among the allowed tokens: %v", seen)
	}
	c.done = true
	if done, err := s.Advance(3); !done || err != nil {
		t.Fatalf("Advance = %v, %v; want done", done, err)
	}
	if _, err := s.Advance(4); err == nil {
		t.Fatal("a refused token must be an error")
	}
}

// BenchmarkMaskedGreedy measures applying a grammar's mask to a row of
// 151,936 logits (the Qwen3 vocabulary): the best allowed token when most
// tokens are allowed (inside a JSON string) and when few are.
func BenchmarkMaskedGreedy(b *testing.B) {
	const n = 151936
	rng := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, n)
	for i := range logits {
		logits[i] = rng.Float32()
	}
	for _, c := range []struct {
		name string
		frac float64
	}{{"dense", 0.95}, {"sparse", 0.001}} {
		mask := make([]uint64, (n+63)/64)
		for i := 0; i < n; i++ {
			if rng.Float64() < c.frac {
				mask[i/64] |= 1 << (i % 64)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				GreedyMasked(logits, mask)
			}
		})
		b.Run(c.name+"-apply", func(b *testing.B) {
			dst := make([]float32, n)
			for b.Loop() {
				applyMask(dst, logits, mask)
			}
		})
	}
}

// TestSortByLogit: the radix sort gives the order of a comparison sort by
// logit, highest first, then id: with ties, -0 beside +0, infinities,
// subnormals and both signs, at lengths around its byte passes and a
// real vocabulary's; NaNs go last, in id order.
func TestSortByLogit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	negZero := float32(math.Copysign(0, -1))
	vals := func(kind int) float32 {
		switch kind {
		case 0:
			return float32(r.NormFloat64() * 4)
		case 1:
			return float32(r.IntN(5) - 2) // ties
		case 2:
			return []float32{0, negZero, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32}[r.IntN(8)]
		}
		return math.Float32frombits(r.Uint32()&^(0xff<<23) | uint32(r.IntN(254)+1)<<23) // any finite
	}
	var scr sortScratch
	for kind := 0; kind < 4; kind++ {
		for _, n := range []int{1, 2, 3, 17, 256, 257, 1000, 151936} {
			c := make([]candidate, n)
			for i := range c {
				c[i] = candidate{id: int32(i), logit: vals(kind)}
			}
			want := append([]candidate(nil), c...)
			sort.Slice(want, func(i, j int) bool {
				if want[i].logit != want[j].logit {
					return want[i].logit > want[j].logit
				}
				return want[i].id < want[j].id
			})
			sortByLogit(c, &scr)
			for i := range c {
				if c[i].id != want[i].id {
					t.Fatalf("kind %d, %d values: position %d holds %d (%v), want %d (%v)", kind, n, i, c[i].id, c[i].logit, want[i].id, want[i].logit)
				}
			}
		}
	}
	nan := float32(math.NaN())
	c := []candidate{{0, nan, 0}, {1, 2, 0}, {2, nan, 0}, {3, -1, 0}}
	sortByLogit(c, &sortScratch{})
	if got := [4]int32{c[0].id, c[1].id, c[2].id, c[3].id}; got != [4]int32{1, 3, 0, 2} {
		t.Fatalf("with NaNs: %v", got)
	}
}

// TestTopK: topK keeps the candidates the full selection keeps, in the
// same order: the k best by logit, ties to the lower id, for ties, NaNs
// and k from 1 to past half the vocabulary.
func TestTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nan := float32(math.NaN())
	for _, n := range []int{2, 10, 100, 1000, 151936} {
		for _, k := range []int{1, 2, 40, n / 2, n - 1} {
			if k < 1 || k >= n {
				continue
			}
			for kind := 0; kind < 3; kind++ {
				logits := make([]float32, n)
				for i := range logits {
					switch kind {
					case 0:
						logits[i] = float32(r.NormFloat64())
					case 1:
						logits[i] = float32(r.IntN(6)) // ties
					default:
						logits[i] = []float32{nan, 1, 2, float32(r.NormFloat64())}[r.IntN(4)]
					}
				}
				got := topK(logits, k, nil)
				want := topKAll(logits, k)
				for i := range want {
					if got[i].id != want[i].id {
						t.Fatalf("n %d, k %d, kind %d: position %d holds %d, want %d", n, k, kind, i, got[i].id, want[i].id)
					}
				}
			}
		}
	}
}

// topKAll is the selection over a candidate made for every logit, as
// topK was before it read the logits directly.
func topKAll(logits []float32, k int) []candidate {
	less := func(a, b candidate) bool {
		if a.logit != b.logit {
			return a.logit < b.logit
		}
		return a.id > b.id
	}
	c := make([]candidate, len(logits))
	for i, l := range logits {
		c[i] = candidate{id: int32(i), logit: l}
	}
	h := c[:k]
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
	for _, x := range c[k:] {
		if less(h[0], x) {
			h[0] = x
			down(0)
		}
	}
	sort.Slice(h, func(i, j int) bool { return less(h[j], h[i]) })
	return h
}
