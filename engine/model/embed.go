package model

import (
	"fmt"

	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/tensor"
)

// Sequences to embed run whole in one pass and keep nothing: their keys
// and values stay in the pass's own buffers (no KV cache slot), each token
// attends to the tokens of its own text (all of them for an encoder, those
// up to itself for a causal decoder), and after the last layer their final
// states are pooled into one vector (Pooling). They share the pass with
// generating sequences, and since every row is computed the same whatever
// else is in the batch, a text's embedding does not depend on its company.

// Span is one sequence to embed: the batch tokens [Start, End).
type Span struct{ Start, End int }

// AddEmbed appends a whole text to embed: its tokens at positions 0..n-1,
// in no cache slot (Seq -1), and a Span in b.Embed. Embedding tokens must
// follow the batch's Decode tokens.
func (b *Batch) AddEmbed(tokens []int32) {
	start := b.Len()
	for i, t := range tokens {
		b.Add(t, int32(i), -1, false)
	}
	b.Embed = append(b.Embed, Span{start, b.Len()})
}

// Embeddings returns the pooled vectors of the last Forward's Batch.Embed
// spans, in order, EmbedDim floats each. The slice is reused by the next
// Forward.
func (s *State) Embeddings() []float32 {
	return s.pooled[:len(s.spanRow)*s.m.EmbedDim()]
}

// checkSpans checks b.Embed and marks each token with its span (spanOf,
// -1 for cached tokens).
func (s *State) checkSpans(b *Batch, kv *kvcache.Cache) error {
	n := b.Len()
	if cap(s.spanOf) < n {
		s.spanOf = make([]int32, n)
	}
	s.spanOf = s.spanOf[:n]
	for i := range s.spanOf {
		s.spanOf[i] = -1
	}
	limit := kv.Config().Context
	if s.m.PosEmbd != nil {
		limit = min(limit, s.m.ContextLen)
	}
	prev := b.Decode
	for k, sp := range b.Embed {
		if sp.Start < prev || sp.End <= sp.Start || sp.End > n {
			return fmt.Errorf("model: embedding span [%d, %d) is not after the batch's %d decode tokens and the spans before it, inside its %d tokens", sp.Start, sp.End, b.Decode, n)
		}
		prev = sp.End
		if sp.End-sp.Start > limit {
			return fmt.Errorf("model: a text of %d tokens is longer than the %d positions the model takes", sp.End-sp.Start, limit)
		}
		for i := sp.Start; i < sp.End; i++ {
			if b.Seq[i] != -1 || int(b.Pos[i]) != i-sp.Start || b.Logits[i] {
				return fmt.Errorf("model: token %d of an embedding span must have sequence -1, position %d and no logits", i, i-sp.Start)
			}
			s.spanOf[i] = int32(k)
		}
	}
	if len(b.Embed) > 0 && s.m.Pooling == PoolRank && s.m.ClsOutDim() == 0 {
		return fmt.Errorf("model: pooling type rank needs a classification head")
	}
	if s.m.Encoder {
		for i := range n {
			if s.spanOf[i] < 0 {
				return fmt.Errorf("model: %s is an encoder: it embeds whole texts and cannot continue a cached sequence", s.m.Arch)
			}
		}
	}
	return nil
}

// outputRows lists the rows the last layer's feed-forward computes: those
// that want logits, in batch order, then those pooling reads, text by text
// (every row of a text for mean pooling, else its first or last). It sets
// s.rows, s.nLogits, s.spanRow (each text's first row in s.rows) and
// s.lastRuns (each text's rows there, a run of its own).
func (s *State) outputRows(b *Batch) {
	s.rows = s.rows[:0]
	s.spanRow = s.spanRow[:0]
	s.lastRuns = s.lastRuns[:0]
	for i, want := range b.Logits {
		if want {
			s.rows = append(s.rows, i)
		}
	}
	s.nLogits = len(s.rows)
	for _, sp := range b.Embed {
		s.spanRow = append(s.spanRow, len(s.rows))
		switch s.m.Pooling {
		case PoolMean:
			for j := sp.Start; j < sp.End; j++ {
				s.rows = append(s.rows, j)
			}
		case PoolCLS:
			s.rows = append(s.rows, sp.Start)
		case PoolRank:
			if s.m.RankLast {
				s.rows = append(s.rows, sp.End-1)
			} else {
				s.rows = append(s.rows, sp.Start)
			}
		default: // last, none
			s.rows = append(s.rows, sp.End-1)
		}
		s.lastRuns = append(s.lastRuns, len(s.rows)-s.spanRow[len(s.spanRow)-1])
	}
}

// poolSpans computes each span's vector from the final states in xb.
func (s *State) poolSpans(b *Batch) {
	m := s.m
	dim := m.EmbedDim()
	if need := len(s.spanRow) * dim; cap(s.pooled) < need {
		s.pooled = make([]float32, need)
	}
	if len(s.poolScratch) < 2*m.Embd {
		s.poolScratch = make([]float32, 2*m.Embd)
	}
	for k, r := range s.spanRow {
		sp := b.Embed[k]
		n := 1
		if m.Pooling == PoolMean {
			n = sp.End - sp.Start
		}
		m.pool(s.pooled[k*dim:(k+1)*dim], s.xb[r*m.Embd:(r+n)*m.Embd], n, s.poolScratch)
	}
}

// storeSpanKV keeps the keys and values of span token i for attention in
// this pass: as F16 beside the F32 ones when the cache is F16, so that
// span attention rounds as cached attention does (and as llama.cpp's flash
// attention does for an encoder); with an F32 cache the F32 rows are read
// in place.
func (s *State) storeSpanKV(i int) {
	if s.kv.IsF32() {
		return
	}
	kvd := s.m.KVHeads * s.m.HeadDim
	kr, vr := s.k[i*kvd:(i+1)*kvd], s.v[i*kvd:(i+1)*kvd]
	kd, vd := s.k16[i*kvd:(i+1)*kvd], s.v16[i*kvd:(i+1)*kvd]
	tensor.FloatsToHalves(kd, kr)
	tensor.FloatsToHalves(vd, vr)
}

// attnRows returns the number of positions token i attends to and the
// first position's offset in the span buffers, or ok false for a cached
// token.
func (s *State) attnRows(i int) (start, np int, ok bool) {
	k := s.spanOf[i]
	if k < 0 {
		return 0, 0, false
	}
	sp := s.b.Embed[k]
	if s.m.Causal {
		return sp.Start, i - sp.Start + 1, true
	}
	return sp.Start, sp.End - sp.Start, true
}

// keys32 returns the F32 keys and values token i attends to and how many.
func (s *State) keys32(layer, i int) (keys, vals []float32, np int) {
	kvd := s.m.KVHeads * s.m.HeadDim
	if start, np, ok := s.attnRows(i); ok {
		return s.k[start*kvd : (start+np)*kvd], s.v[start*kvd : (start+np)*kvd], np
	}
	seq, pos := int(s.b.Seq[i]), int(s.b.Pos[i])
	return s.kv.K32(layer, seq, pos+1), s.kv.V32(layer, seq, pos+1), pos + 1
}

// keys16 is keys32 for an F16 cache.
func (s *State) keys16(layer, i int) (keys, vals []uint16, np int) {
	kvd := s.m.KVHeads * s.m.HeadDim
	if start, np, ok := s.attnRows(i); ok {
		return s.k16[start*kvd : (start+np)*kvd], s.v16[start*kvd : (start+np)*kvd], np
	}
	seq, pos := int(s.b.Seq[i]), int(s.b.Pos[i])
	return s.kv.K16(layer, seq, pos+1), s.kv.V16(layer, seq, pos+1), pos + 1
}

// residual finishes a sublayer for rows [lo, hi): out += bias, out =
// RMSNorm(out) with rmsPost (Gemma's post-sublayer norms), out *=
// ResidualScale (Granite), x += out, x = LayerNorm(x) for a post-norm
// encoder (post non-nil), and the next sublayer's input xb = RMSNorm(x)
// with next, or x itself when next is nil (encoders normalize after, not
// before).
func (s *State) residual(xb, x, out, bias, rmsPost, post, postB, next []float32, lo, hi int) {
	d := s.m.Embd
	for r := lo; r < hi; r++ {
		xr, or := x[r*d:(r+1)*d], out[r*d:(r+1)*d]
		if bias != nil {
			add(or, bias)
		}
		if rmsPost != nil {
			normRange(or, or, rmsPost, d, 0, 1, s.m.RMSEps)
		}
		if s.m.ResidualScale != 0 {
			scale(or, s.m.ResidualScale)
		}
		add(xr, or)
		if post != nil {
			layerNorm(xr, xr, post, postB, s.m.NormEps)
		}
	}
	s.normRows(xb, x, next, lo, hi)
}

// geluFFN is BERT's feed-forward activation for rows [lo, hi) of h (the
// Up product): h = GELU(h + bias).
func (s *State) geluFFN(h, bias []float32, lo, hi int) {
	ff := s.m.FF
	for r := lo; r < hi; r++ {
		row := h[r*ff : (r+1)*ff]
		if bias != nil {
			add(row, bias)
		}
		gelu(row)
	}
}
