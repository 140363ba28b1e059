package tokenizer

// bpe is llm_tokenizer_bpe_session::tokenize on one raw fragment: the
// pre-tokenizer splits the code points into words, each word is written in
// the byte alphabet (or kept as UTF-8 for SentencePiece-style vocabularies)
// and merged pair by pair, lowest merge rank first.
func (e *encoder) bpe(raw string, out []int32) []int32 {
	t := e.t
	e.cps = decodeCodepoints(raw, e.cps[:0])
	e.st.reset(e.cps)
	e.offA = runSteps(t.pre.steps, &e.st, e.offA, e.offB)
	offs := e.offA

	// Write all words into one buffer, so that one string conversion gives
	// every substring the lookups need. llama.cpp rebuilds each word from
	// its code points, which turns invalid input into U+FFFD.
	b := e.buf[:0]
	ends := e.wend[:0]
	var tmp [4]byte
	pos := 0
	for _, n := range offs {
		if t.pre.rawBytes {
			for _, r := range e.cps[pos : pos+n] {
				b = appendCodepoint(b, r)
			}
			ends = append(ends, len(b))
			pos += n
			continue
		}
		for _, r := range e.cps[pos : pos+n] {
			if r < 0x80 {
				enc := &byteEnc[r]
				b = append(b, enc.b[:enc.n]...)
				continue
			}
			b = appendByteEncoded(b, appendCodepoint(tmp[:0], r))
		}
		ends = append(ends, len(b))
		pos += n
	}
	e.buf, e.wend = b, ends
	all := string(b)
	start := 0
	for _, end := range ends {
		word := all[start:end]
		if ids, ok := t.cache.get(word); ok {
			out = append(out, ids...)
		} else {
			n := len(out)
			out = e.bpeWord(all, start, end, out)
			t.cache.put(word, out[n:])
		}
		start = end
	}
	return out
}

// bpeWord merges the word all[lo:hi].
func (e *encoder) bpeWord(all string, lo, hi int, out []int32) []int32 {
	t := e.t
	word := all[lo:hi]
	if t.pre.ignoreMerges || (t.pre.newlineWords && onlyNewlines(word)) {
		if id, ok := t.vocab.find(word); ok {
			return append(out, id)
		}
	}
	syms := e.initSymbols(word)
	if len(syms) == 1 {
		return e.emitBPE(word, syms, out)
	}
	h := e.heap[:0]
	tryAdd := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		l, r := &syms[left], &syms[right]
		k := append(e.key[:0], word[l.start:l.start+l.n]...)
		k = append(k, ' ')
		k = append(k, word[r.start:r.start+r.n]...)
		e.key = k
		rank, ok := t.merges.findBytes(k)
		if !ok {
			return
		}
		h = pushBigram(h, bigram{left: left, right: right, size: l.n + r.n, rank: rank}, bpeBefore)
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryAdd(i-1, i)
	}
	for len(h) > 0 {
		var bg bigram
		bg, h = popBigram(h, bpeBefore)
		l, r := &syms[bg.left], &syms[bg.right]
		// A pair is stale once either side has changed; sides only grow or
		// vanish, so comparing lengths is comparing texts.
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
	return e.emitBPE(word, syms, out)
}

// emitBPE appends the tokens of the merged symbols. A symbol that is not a
// token is spelled byte by byte with the tokens whose text is that single
// raw byte, and bytes without one are dropped, as in llama.cpp.
func (e *encoder) emitBPE(word string, syms []symbol, out []int32) []int32 {
	t := e.t
	for i := range syms {
		s := syms[i]
		if s.n == 0 {
			continue
		}
		piece := word[s.start : s.start+s.n]
		if id, ok := t.vocab.find(piece); ok {
			out = append(out, id)
			continue
		}
		for k := 0; k < len(piece); k++ {
			if t.pre.rawBytes {
				if id := t.spmByte[piece[k]]; id >= 0 {
					out = append(out, id)
				}
				continue
			}
			if id, ok := t.vocab.find(piece[k : k+1]); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// onlyNewlines reports whether s is one or more '\n'.
func onlyNewlines(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\n' {
			return false
		}
	}
	return s != ""
}

// bpeWhitespace is llm_tokenizer_whitespace_session::tokenize: whitespace
// only separates words (it makes no tokens), words are lowercased when the
// normalizer says so, and each word goes through bpe.
func (e *encoder) bpeWhitespace(raw string, out []int32) []int32 {
	var word []byte
	flush := func() {
		if len(word) > 0 {
			out = e.bpe(string(word), out)
			word = word[:0]
		}
	}
	for _, r := range decodeCodepoints(raw, nil) {
		if cpFlags(r)&fSpace != 0 {
			flush()
			continue
		}
		if e.t.lowercase {
			r = toLower(r)
		}
		word = appendCodepoint(word, r)
	}
	flush()
	return out
}
