package engine

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/llmsql/llmsql/internal/testutil"
)

// logSoftmax is log softmax(l)[tok] in float64.
func logSoftmax(l []float32, tok int32) float64 {
	maxL := math.Inf(-1)
	for _, x := range l {
		maxL = math.Max(maxL, float64(x))
	}
	var sum float64
	for _, x := range l {
		sum += math.Exp(float64(x) - maxL)
	}
	return float64(l[tok]) - maxL - math.Log(sum)
}

// TestScoreEqualsTokenByToken checks Score (prompt once, candidates
// batched from a copied prefix) against each candidate's tokens scored one
// at a time from the logits of a separate run, and that scoring is
// deterministic.
func TestScoreEqualsTokenByToken(t *testing.T) {
	m, err := LoadModel(stories(t), LoadConfig{Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	prompt := m.Tok.Encode("Once upon a time, there was a little girl named", true, false)
	var cands [][]int32
	for _, s := range []string{" Lily", " Tim", " a big dog", " Sue and she liked to play", " x"} {
		cands = append(cands, m.Tok.Encode(s, false, false))
	}
	got, err := m.Score(ctx, prompt, cands)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cands {
		var want float64
		for k := range c {
			ids := append(append([]int32(nil), prompt...), c[:k]...)
			res, err := m.Generate(ctx, Request{PromptIDs: ids, Options: greedy(0), WantLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			want += logSoftmax(res.Logits, c[k])
		}
		if math.Abs(got[i]-want) > 1e-9 {
			t.Errorf("candidate %d: score %.12f, token by token %.12f", i, got[i], want)
		}
	}
	// Again, with the candidates in another order and other work around.
	rev := make([][]int32, len(cands))
	for i := range cands {
		rev[len(cands)-1-i] = cands[i]
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Generate(ctx, Request{Prompt: "The little dog", Options: greedy(30)})
	}()
	again, err := m.Score(ctx, prompt, rev)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	for i := range cands {
		if again[len(cands)-1-i] != got[i] {
			t.Fatalf("candidate %d: %v then %v; scoring must be deterministic", i, got[i], again[len(cands)-1-i])
		}
	}
	if got[0] <= got[4] {
		t.Errorf("a name (%v) should be likelier than \" x\" (%v) here", got[0], got[4])
	}
}

// TestScoreMatchesLlamaCppLogits compares single-token scores after "Once
// upon a time" with llama.cpp's logits (../shared/ref).
func TestScoreMatchesLlamaCppLogits(t *testing.T) {
	var ref struct {
		PromptIDs []int32   `json:"prompt_ids"`
		Logits    []float32 `json:"logits"`
	}
	b, err := os.ReadFile(testutil.Shared(t, "ref/stories260K_logits_once.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.PromptIDs) == 0 || len(ref.Logits) == 0 {
		t.Skip("reference has no prompt ids or logits")
	}
	m, err := LoadModel(stories(t), LoadConfig{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	toks := []int32{1, 29, 100, 300, 511}
	var cands [][]int32
	for _, tk := range toks {
		cands = append(cands, []int32{tk})
	}
	got, err := m.Score(context.Background(), ref.PromptIDs, cands)
	if err != nil {
		t.Fatal(err)
	}
	for i, tk := range toks {
		if want := logSoftmax(ref.Logits, tk); math.Abs(got[i]-want) > 1e-4 {
			t.Errorf("token %d: %v, llama.cpp %v", tk, got[i], want)
		}
	}
}
