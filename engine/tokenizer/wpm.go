package tokenizer

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// wpm is llm_tokenizer_wpm_session::tokenize on one raw fragment: normalize
// and split into words, then cover each word ("▁" + word) greedily with the
// longest tokens; a word that cannot be covered becomes the unknown token.
func (e *encoder) wpm(raw string, out []int32) []int32 {
	t := e.t
	e.buf = e.buf[:0]
	e.wend = e.wend[:0]
	e.wpmWords(raw)
	all := string(e.buf)
	start := 0
	for _, end := range e.wend {
		word := all[start:end]
		start = end
		n := len(word)
		first := len(out)
		for i := 0; i < n; i++ {
			match := false
			for j := min(n, i+t.maxTokenLen+1); j > i; j-- {
				if id, ok := t.vocab.find(word[i:j]); ok {
					out = append(out, id)
					match = true
					i = j - 1
					break
				}
			}
			if !match {
				out = out[:first]
				break
			}
		}
		if len(out) == first && t.sp.unk >= 0 {
			out = append(out, t.sp.unk)
		}
	}
	return out
}

// wpmWords is llm_tokenizer_wpm_session::preprocess. It appends each
// non-empty word, already prefixed with "▁", to e.buf and records where it
// ends in e.wend.
func (e *encoder) wpmWords(raw string) {
	t := e.t
	e.cps = decodeCodepoints(raw, e.cps[:0])
	open := false // a word has been started in e.buf
	finish := func() {
		if open {
			e.wend = append(e.wend, len(e.buf))
			open = false
		}
	}
	for _, r := range e.cps {
		if t.stripAccents {
			r = nfdFirst(r)
		}
		f := cpFlags(r)
		if f&fSpace != 0 {
			finish()
			continue
		}
		if r == 0 || r == 0xFFFD || f&fControl != 0 {
			continue
		}
		if t.stripAccents && f&fMark != 0 {
			continue
		}
		c := r
		if t.lowercase {
			c = toLower(r)
		}
		alone := f&fPunct != 0 || (r < 0x7F && f&fSymbol != 0) || isChineseChar(r)
		if alone {
			finish()
		}
		if !open {
			e.buf = append(e.buf, "▁"...)
			open = true
		}
		e.buf = appendCodepoint(e.buf, c)
		if alone {
			finish()
		}
	}
	finish()
}

// nfdFirst is unicode_cpts_normalize_nfd for one code point: llama.cpp
// keeps only the first code point of the canonical decomposition (so "é"
// becomes "e" and a Hangul syllable its leading consonant).
func nfdFirst(r rune) rune {
	if r < 0xC0 || !utf8.ValidRune(r) {
		return r
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	if norm.NFD.IsNormal(b[:n]) {
		return r
	}
	d := norm.NFD.Append(nil, b[:n]...)
	first, _ := utf8.DecodeRune(d)
	return first
}

func isChineseChar(r rune) bool {
	return (r >= 0x04E00 && r <= 0x09FFF) ||
		(r >= 0x03400 && r <= 0x04DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) || // 0x2B820 in Unicode; this is what HF and llama.cpp use
		(r >= 0x0F900 && r <= 0x0FAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}
