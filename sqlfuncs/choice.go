package sqlfuncs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Choice is a scoring request's labels (the replies scored) and how the
// answer is made of their scores: classify()'s modes. It is plain data, so
// that two evaluations of a call on a row ask the same (requestKey).
type Choice struct {
	Labels []string
	// Multi answers with every label whose probability is at least
	// Threshold, as a JSON array, most probable first.
	Multi     bool
	Threshold float64
	// Scores answers with a JSON object of label -> probability (of the
	// labels Multi keeps, or all of them).
	Scores bool
}

// probabilities turns the labels' log-probabilities into probabilities
// normalised over the labels (a softmax).
func probabilities(lps []float64) ([]float64, error) {
	best := math.Inf(-1)
	for _, lp := range lps {
		if math.IsNaN(lp) {
			return nil, fmt.Errorf("a label's score is not a number")
		}
		best = max(best, lp)
	}
	if math.IsInf(best, -1) {
		return nil, fmt.Errorf("the model gives every label probability 0")
	}
	ps := make([]float64, len(lps))
	var sum float64
	for i, lp := range lps {
		ps[i] = math.Exp(lp - best)
		sum += ps[i]
	}
	for i := range ps {
		ps[i] /= sum
	}
	return ps, nil
}

// answer is the call's text given the labels' log-probabilities.
func (c *Choice) answer(lps []float64) (string, error) {
	if len(lps) != len(c.Labels) {
		return "", fmt.Errorf("%d scores for %d labels", len(lps), len(c.Labels))
	}
	ps, err := probabilities(lps)
	if err != nil {
		return "", err
	}
	// Most probable first; ties keep the labels' order.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]] > ps[order[b]] })
	if !c.Multi && !c.Scores {
		return c.Labels[order[0]], nil
	}
	keep := order
	if c.Multi {
		keep = nil
		for _, i := range order {
			if ps[i] >= c.Threshold {
				keep = append(keep, i)
			}
		}
	} else {
		// All the labels, in the order given.
		keep = make([]int, len(ps))
		for i := range keep {
			keep[i] = i
		}
	}
	var b bytes.Buffer
	if !c.Scores {
		b.WriteByte('[')
		for k, i := range keep {
			if k > 0 {
				b.WriteString(", ")
			}
			b.Write(jsonString(c.Labels[i]))
		}
		b.WriteByte(']')
		return b.String(), nil
	}
	b.WriteByte('{')
	for k, i := range keep {
		if k > 0 {
			b.WriteString(", ")
		}
		b.Write(jsonString(c.Labels[i]))
		b.WriteString(": ")
		b.WriteString(strconv.FormatFloat(ps[i], 'g', -1, 64))
	}
	b.WriteByte('}')
	return b.String(), nil
}

// jsonString is s as a JSON string, with <, > and & as they are.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}
