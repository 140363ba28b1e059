package tokenizer

// The two pre-tokenizers llama.cpp writes by hand (unicode.cpp's
// unicode_regex_split_custom_gpt2 and _llama3). They follow llama.cpp's
// code, not the regular expressions they stand for, where the two differ:
// flags are read from the Unicode tables and a position outside the piece
// reads as "no class at all".

const outOfRange = -1

// span is one piece being split, with llama.cpp's bounds-checked accessors.
type span struct {
	s      *splitText
	lo, hi int
	prev   int
	out    []int
}

func (p *span) cp(i int) rune {
	if i >= p.lo && i < p.hi {
		return p.s.cps[i]
	}
	return outOfRange
}

func (p *span) flags(i int) uint16 {
	if i >= p.lo && i < p.hi {
		return p.s.fl[i]
	}
	return 0
}

// add closes the token ending at end and returns its length.
func (p *span) add(end int) int {
	n := end - p.prev
	if n > 0 {
		p.out = append(p.out, n)
	}
	p.prev = end
	return n
}

func isWLN(f uint16) bool { return f&(fSpace|fLetter|fNumber) != 0 }

// splitGPT2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s *splitText, offsets, out []int) []int {
	lo := 0
	for _, n := range offsets {
		p := span{s: s, lo: lo, hi: lo + n, prev: lo, out: out}
		for pos := p.lo; pos < p.hi; {
			c := p.cp(pos)
			f := p.flags(pos)
			if c == '\'' && pos+1 < p.hi {
				next := p.cp(pos + 1)
				if next == 's' || next == 't' || next == 'm' || next == 'd' {
					pos += p.add(pos + 2)
					continue
				}
				if pos+2 < p.hi {
					nn := p.cp(pos + 2)
					if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
						pos += p.add(pos + 3)
						continue
					}
				}
			}
			f2 := f
			if c == ' ' {
				f2 = p.flags(pos + 1)
			}
			if f2&fLetter != 0 {
				if c == ' ' {
					pos++
				}
				for f2&fLetter != 0 {
					pos++
					f2 = p.flags(pos)
				}
				p.add(pos)
				continue
			}
			if f2&fNumber != 0 {
				if c == ' ' {
					pos++
				}
				for f2&fNumber != 0 {
					pos++
					f2 = p.flags(pos)
				}
				p.add(pos)
				continue
			}
			if !isWLN(f2) && f2 != 0 {
				if c == ' ' {
					pos++
				}
				for !isWLN(f2) && f2 != 0 {
					pos++
					f2 = p.flags(pos)
				}
				p.add(pos)
				continue
			}
			ws := 0
			for p.flags(pos+ws)&fSpace != 0 {
				ws++
			}
			if ws > 1 && p.cp(pos+ws) != outOfRange {
				pos += ws - 1
				p.add(pos)
				continue
			}
			if ws > 0 {
				pos += ws
				p.add(pos)
				continue
			}
			pos++
			p.add(pos)
		}
		out = p.out
		lo = p.hi
	}
	return out
}

// splitLlama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitLlama3(s *splitText, offsets, out []int) []int {
	lo := 0
	for _, n := range offsets {
		p := span{s: s, lo: lo, hi: lo + n, prev: lo, out: out}
		for pos := p.lo; pos < p.hi; {
			c := p.cp(pos)
			f := p.flags(pos)
			if c == '\'' && pos+1 < p.hi {
				next := toLower(p.cp(pos + 1))
				if next == 's' || next == 't' || next == 'm' || next == 'd' {
					pos += p.add(pos + 2)
					continue
				}
				if pos+2 < p.hi {
					nn := toLower(p.cp(pos + 2))
					if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
						pos += p.add(pos + 3)
						continue
					}
				}
			}
			if !(c == '\r' || c == '\n' || f&fNumber != 0) {
				if f&fLetter != 0 || p.flags(pos+1)&fLetter != 0 {
					pos++
					for p.flags(pos)&fLetter != 0 {
						pos++
					}
					p.add(pos)
					continue
				}
			}
			if f&fNumber != 0 {
				ini := pos
				for p.flags(pos)&fNumber != 0 {
					pos++
					if pos-ini >= 3 {
						p.add(pos)
						ini = pos
					}
				}
				p.add(pos)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = p.flags(pos + 1)
			}
			// llama.cpp tests the current code point's flags here, not f2's.
			if !isWLN(f2) && f != 0 {
				if c == ' ' {
					pos++
				}
				for !isWLN(f2) && f2 != 0 {
					pos++
					f2 = p.flags(pos)
				}
				for c2 := p.cp(pos); c2 == '\r' || c2 == '\n'; c2 = p.cp(pos) {
					pos++
				}
				p.add(pos)
				continue
			}
			ws, lastNL := 0, 0
			for p.flags(pos+ws)&fSpace != 0 {
				if c2 := p.cp(pos + ws); c2 == '\r' || c2 == '\n' {
					lastNL = pos + ws + 1
				}
				ws++
			}
			if lastNL > 0 {
				pos = lastNL
				p.add(pos)
				continue
			}
			if ws > 1 && p.cp(pos+ws) != outOfRange {
				pos += ws - 1
				p.add(pos)
				continue
			}
			if ws > 0 {
				pos += ws
				p.add(pos)
				continue
			}
			pos++
			p.add(pos)
		}
		out = p.out
		lo = p.hi
	}
	return out
}

// isHan is unicode_cpt_is_han: the CJK ideograph blocks Kimi-K2's
// pre-tokenizer keeps apart from other letters.
func isHan(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF, r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F, r >= 0x2B820 && r <= 0x2CEAF,
		r >= 0x2CEB0 && r <= 0x2EBEF, r >= 0xF900 && r <= 0xFAFF,
		r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// splitKimiK2 is unicode_regex_split_custom_kimi_k2, llama.cpp's version of
//
//	[\p{Han}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// It reads a word as any run of non-Han letters (case and marks play no
// part) and follows the code, not the pattern, where they differ.
func splitKimiK2(s *splitText, offsets, out []int) []int {
	lo := 0
	for _, n := range offsets {
		p := span{s: s, lo: lo, hi: lo + n, prev: lo, out: out}
		wordLetter := func(i int) bool { return p.flags(i)&fLetter != 0 && !isHan(p.cp(i)) }
		for pos := p.lo; pos < p.hi; {
			c := p.cp(pos)
			f := p.flags(pos)
			if isHan(c) {
				for isHan(p.cp(pos)) {
					pos++
				}
				p.add(pos)
				continue
			}
			lead := !(c == '\r' || c == '\n' || f&(fLetter|fNumber) != 0)
			if wordLetter(pos) || (lead && wordLetter(pos+1)) {
				if lead {
					pos++
				}
				for wordLetter(pos) {
					pos++
				}
				if p.cp(pos) == '\'' && pos+1 < p.hi {
					next := toLower(p.cp(pos + 1))
					if next == 's' || next == 't' || next == 'm' || next == 'd' {
						pos += 2
					} else if pos+2 < p.hi {
						nn := toLower(p.cp(pos + 2))
						if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
							pos += 3
						}
					}
				}
				p.add(pos)
				continue
			}
			if f&fNumber != 0 {
				ini := pos
				for p.flags(pos)&fNumber != 0 {
					pos++
					if pos-ini >= 3 {
						p.add(pos)
						ini = pos
					}
				}
				p.add(pos)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = p.flags(pos + 1)
			}
			if !isWLN(f2) && f2 != 0 {
				if c == ' ' {
					pos++
				}
				for !isWLN(f2) && f2 != 0 {
					pos++
					f2 = p.flags(pos)
				}
				for c2 := p.cp(pos); c2 == '\r' || c2 == '\n'; c2 = p.cp(pos) {
					pos++
				}
				p.add(pos)
				continue
			}
			ws, lastNL := 0, 0
			for p.flags(pos+ws)&fSpace != 0 {
				if c2 := p.cp(pos + ws); c2 == '\r' || c2 == '\n' {
					lastNL = pos + ws + 1
				}
				ws++
			}
			switch {
			case lastNL > 0:
				pos = lastNL
			case ws > 1 && p.cp(pos+ws) != outOfRange:
				pos += ws - 1
			case ws > 0:
				pos += ws
			default:
				pos++
			}
			p.add(pos)
		}
		out = p.out
		lo = p.hi
	}
	return out
}

// splitDigitGroups is unicode_regex_split_custom_afmoe, which llama.cpp
// runs for AFMoE's digits and for Tiny Aya's \d{1,3}(?=(?:\d{3})*\b): each
// run of \p{N} is cut into groups of three counted from its end. What
// precedes a run is not cut off: it stays in one piece with the run's
// first group.
func splitDigitGroups(s *splitText, offsets, out []int) []int {
	lo := 0
	for _, n := range offsets {
		p := span{s: s, lo: lo, hi: lo + n, prev: lo, out: out}
		for pos := p.lo; pos < p.hi; {
			if p.flags(pos)&fNumber == 0 {
				pos++
				continue
			}
			start := pos
			for pos < p.hi && p.flags(pos)&fNumber != 0 {
				pos++
			}
			cur := start
			if r := (pos - start) % 3; r > 0 {
				cur += r
				p.add(cur)
			}
			for cur < pos {
				cur += 3
				p.add(cur)
			}
		}
		p.add(p.hi)
		out = p.out
		lo = p.hi
	}
	return out
}
