package sched

import (
	"github.com/llmsql/llmsql/engine/tensor"
)

// A pass's logits rows: sampling a token for each sequence that decodes,
// the log-probability of each scored token. Each row's work reads only
// its logits and its own sequence's sampler, so the rows can be worked
// out on every member of the pool at once; their effects (a token handed
// on, a sequence ended) are then taken in order on the scheduler's
// goroutine. Over a 152K vocabulary a row costs 5 us greedy but about 4
// ms at a temperature: 16 sequences of a small model with that
// vocabulary, 16 tokens each at temperature 0.9, took 1.62-1.64 s with
// the rows on the scheduler's goroutine and 0.91-0.97 s apart.

// rowsApartValues: passes whose logits rows times vocabulary reach this
// many values work out their rows on every member (two rows of Qwen's
// 152K vocabulary); below, waking the others costs more than it saves.
const rowsApartValues = 1 << 18

// workRows fills s.rowTok, s.rowErr and s.rowLP for the pass's logits
// rows.
func (s *Scheduler) workRows(logits []float32) {
	n := len(s.logitRows)
	if cap(s.rowTok) < n {
		s.rowTok, s.rowErr, s.rowLP = make([]int32, n), make([]error, n), make([]float64, n)
	}
	s.rowTok, s.rowErr, s.rowLP = s.rowTok[:n], s.rowErr[:n], s.rowLP[:n]
	s.rowLogits = logits
	pool := s.st.Pool()
	if n >= 2 && pool.Threads() > 1 && n*s.vocab >= s.rowsApart {
		pool.RunEach(s.rowsFn)
		s.rowsApartPasses.Add(1)
	} else {
		for row := range n {
			s.workRow(row)
		}
	}
	s.rowLogits = nil
}

// rowsPart is member i's share of the rows: every Threads()th from i, so
// that rows of different costs (scored, sampled) spread evenly.
func (s *Scheduler) rowsPart(i int, _ *tensor.Worker) {
	step := s.st.Pool().Threads()
	for row := i; row < len(s.logitRows); row += step {
		s.workRow(row)
	}
}

// workRow works out one logits row. A sequence has at most one sampling
// row a pass, so no sampler is used by two members at once.
func (s *Scheduler) workRow(row int) {
	q := s.logitRows[row]
	l := s.rowLogits[row*s.vocab : (row+1)*s.vocab]
	s.rowTok[row], s.rowErr[row], s.rowLP[row] = 0, nil, 0
	switch {
	case s.scorePos[row] >= 0:
		s.rowLP[row] = logProb(l, q.req.Prompt[s.scorePos[row]+1])
	case q.res.Generated < q.req.MaxTokens:
		s.rowTok[row], s.rowErr[row] = q.req.Sampler.Sample(l)
	}
}
