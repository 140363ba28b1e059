package tokenizer

import "sync"

// encoder holds the scratch space of one Encode call. Encoders are pooled
// so that steady-state encoding allocates little.
type encoder struct {
	t    *Tokenizer
	buf  []byte
	syms []symbol
	heap []bigram
	cps  []rune
	st   splitText
	offA []int
	offB []int
	key  []byte
	wend []int
}

// symbol is a run of bytes of the text being merged, in a linked list.
type symbol struct {
	start, n   int32
	prev, next int32
}

// bigram is a candidate merge of two neighbouring symbols. For SPM the
// priority is the merged token's score (higher first), for BPE the merge
// rank (lower first); ties go to the leftmost pair.
type bigram struct {
	left, right int32
	size        int32
	rank        int32
	score       float32
}

var encoderPool = sync.Pool{New: func() any { return &encoder{} }}

func newEncoder(t *Tokenizer) *encoder {
	e := encoderPool.Get().(*encoder)
	e.t = t
	return e
}

func (e *encoder) release() {
	e.t = nil
	e.st.cps = nil
	encoderPool.Put(e)
}

// initSymbols splits text into one symbol per UTF-8 sequence as announced
// by each lead byte (unicode_len_utf8), without validating the rest.
func (e *encoder) initSymbols(text string) []symbol {
	syms := e.syms[:0]
	for offs := 0; offs < len(text); {
		n := min(utf8Len(text[offs]), len(text)-offs)
		idx := int32(len(syms))
		next := idx + 1
		if offs+n == len(text) {
			next = -1
		}
		syms = append(syms, symbol{start: int32(offs), n: int32(n), prev: idx - 1, next: next})
		offs += n
	}
	e.syms = syms
	return syms
}

// spm is llm_tokenizer_spm_session::tokenize on one raw fragment: spaces
// become ▁ (with one more in front when prefix is set), then the pair whose
// merged text is the best-scoring token is merged until none is left.
// Symbols that are not tokens fall back to byte tokens.
func (e *encoder) spm(raw string, prefix bool, out []int32) []int32 {
	t := e.t
	b := e.buf[:0]
	if prefix {
		b = append(b, "▁"...)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] == ' ' {
			b = append(b, "▁"...)
		} else {
			b = append(b, raw[i])
		}
	}
	e.buf = b
	text := string(b)
	if !t.spmSplit {
		return e.spmChunk(text, out)
	}
	// Cut before each ▁ that ends a run of other symbols. No token spans
	// such a cut, so merging the pieces apart gives the same result as
	// merging the whole text (merges in one piece never change the
	// candidates of another, and within a piece the order is unchanged).
	const mark = "▁"
	start, prevMark := 0, false
	for offs := 0; offs < len(text); {
		isMark := len(text)-offs >= len(mark) && text[offs:offs+len(mark)] == mark
		if isMark && !prevMark && offs > start {
			out = e.spmCached(text[start:offs], out)
			start = offs
		}
		n := min(utf8Len(text[offs]), len(text)-offs)
		prevMark = isMark && n == len(mark)
		offs += n
	}
	return e.spmCached(text[start:], out)
}

func (e *encoder) spmCached(chunk string, out []int32) []int32 {
	if ids, ok := e.t.cache.get(chunk); ok {
		return append(out, ids...)
	}
	n := len(out)
	out = e.spmChunk(chunk, out)
	e.t.cache.put(chunk, out[n:])
	return out
}

// spmChunk merges text as one sequence.
func (e *encoder) spmChunk(text string, out []int32) []int32 {
	t := e.t
	syms := e.initSymbols(text)
	h := e.heap[:0]

	tryAdd := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		l, r := &syms[left], &syms[right]
		id, ok := t.vocab.find(text[l.start : l.start+l.n+r.n])
		if !ok {
			return
		}
		h = pushBigram(h, bigram{left: left, right: right, size: l.n + r.n, score: t.scores[id]}, spmBefore)
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryAdd(i-1, i)
	}
	for len(h) > 0 {
		var bg bigram
		bg, h = popBigram(h, spmBefore)
		l, r := &syms[bg.left], &syms[bg.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = bg.left
		}
		tryAdd(l.prev, bg.left)
		tryAdd(bg.left, l.next)
	}
	e.heap = h

	for i := int32(0); i != -1 && len(syms) > 0; i = syms[i].next {
		s := syms[i]
		piece := text[s.start : s.start+s.n]
		if id, ok := t.vocab.find(piece); ok {
			out = append(out, id)
			continue
		}
		// A symbol that is not a token was never merged, so it is one
		// (possibly malformed) character: spell it in byte tokens.
		for k := 0; k < len(piece); k++ {
			if id := t.spmByte[piece[k]]; id >= 0 {
				out = append(out, id)
			} else if t.sp.unk >= 0 {
				// llama.cpp throws here; a vocabulary without byte tokens
				// gets the unknown token instead.
				out = append(out, t.sp.unk)
			}
		}
	}
	return out
}

func spmBefore(a, b *bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func bpeBefore(a, b *bigram) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

// pushBigram and popBigram keep h a binary heap whose top comes first
// under before.
func pushBigram(h []bigram, b bigram, before func(a, b *bigram) bool) []bigram {
	h = append(h, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func popBigram(h []bigram, before func(a, b *bigram) bool) (bigram, []bigram) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && before(&h[r], &h[l]) {
			m = r
		}
		if !before(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
