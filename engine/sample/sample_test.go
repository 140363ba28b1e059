package sample

import (
	"math"
	"testing"
)

func TestGreedyPicksFirstMax(t *testing.T) {
	if got := Greedy([]float32{1, 3, 2, 3}); got != 1 {
		t.Fatalf("Greedy = %d", got)
	}
	s := New(Params{Temperature: 0})
	if got := s.Sample([]float32{-1, -0.5, -2}); got != 1 {
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
			out = append(out, s.Sample(logits))
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
		if tok := s.Sample(logits); tok > 2 {
			t.Fatalf("top-k 3 drew token %d", tok)
		}
	}
	// min-p 0.5 keeps tokens whose probability is at least half the best's:
	// logit >= 5 + ln 0.5 = 4.31.
	s = New(Params{Temperature: 1, MinP: 0.5, TopP: 1, Seed: 2})
	seen := map[int32]bool{}
	for i := 0; i < 500; i++ {
		seen[s.Sample(logits)] = true
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
		counts[s.Sample(logits)]++
	}
	if counts[0] != 0 || counts[1] < 1000 || counts[2] < 500 {
		t.Fatalf("top-p counts %v", counts)
	}
}

func TestRepeatPenaltyChangesGreedyChoice(t *testing.T) {
	logits := []float32{2, 1.9, -1}
	s := New(Params{Temperature: 0, RepeatPenalty: 1.5, RepeatLastN: 4})
	s.Accept(0)
	if got := s.Sample(logits); got != 1 {
		t.Fatalf("penalised token still chosen: %d", got)
	}
	if logits[0] != 2 {
		t.Fatal("Sample modified the caller's logits")
	}
	// Once token 0 falls out of the window the penalty is gone.
	for _, tok := range []int32{2, 2, 2, 2} {
		s.Accept(tok)
	}
	if got := s.Sample(logits); got != 0 {
		t.Fatalf("penalty outlived its window: %d", got)
	}
	// A frequency penalty grows with the count.
	s = New(Params{Temperature: 0, FrequencyPenalty: 0.06, RepeatLastN: 8})
	s.Accept(0)
	if s.Sample(logits) != 0 {
		t.Fatal("one occurrence should cost 0.06 < 0.1")
	}
	s.Accept(0)
	if s.Sample(logits) != 1 {
		t.Fatal("two occurrences should cost 0.12 > 0.1")
	}
}
