package tokenizer

// Pre-tokenization: llama.cpp's unicode_regex_split. A pre-tokenizer is a
// list of steps; each step cuts every piece left by the previous one into
// the matches of its pattern and the gaps between them (gaps are kept as
// pieces too). Pieces are lengths in code points.
//
// llama.cpp runs two kinds of step. The GPT-2 and Llama 3 patterns have
// hand-written matchers over Unicode classes (unicode.cpp); every other
// pattern goes through std::regex, either on a "collapsed" text where each
// non-ASCII code point is replaced by one byte standing for its category
// (when the pattern uses \p{..}), or on the code points themselves with
// non-ASCII whitespace replaced by U+000B (when it does not). Go's regexp
// has no lookahead, so each of those patterns is written here by hand as an
// ECMAScript matcher over the same transformed text, which reproduces
// llama.cpp's quirks (for example, in collapsed text a non-ASCII code point
// is seen only through its category, so no [^a-z]-style class can single it
// out).

// splitText holds one text being pre-tokenized.
type splitText struct {
	cps []rune   // code points as llama.cpp decodes them
	fl  []uint16 // cpFlags of each code point
	col []byte   // collapsed text, built on first use
	wt  []rune   // code points with non-ASCII whitespace as U+000B, built on first use
}

func (s *splitText) reset(cps []rune) {
	s.cps = cps
	s.fl = s.fl[:0]
	for _, r := range cps {
		s.fl = append(s.fl, cpFlags(r))
	}
	s.col = s.col[:0]
	s.wt = s.wt[:0]
}

// Collapsed category bytes, as in unicode_regex_split.
const (
	colOther  = 0xD0
	colNumber = 0xD1
	colLetter = 0xD2
	colPunct  = 0xD3
	colMark   = 0xD4
	colSymbol = 0xD5
)

func (s *splitText) collapsed() []byte {
	if len(s.col) == len(s.cps) {
		return s.col
	}
	s.col = s.col[:0]
	for i, r := range s.cps {
		var c byte
		f := s.fl[i]
		switch {
		case r < 128:
			c = byte(r)
		case f&fSpace != 0:
			c = 0x0B
		case f&fCategories == fNumber:
			c = colNumber
		case f&fCategories == fLetter:
			c = colLetter
		case f&fCategories == fPunct:
			c = colPunct
		case f&fCategories == fMark:
			c = colMark
		case f&fCategories == fSymbol:
			c = colSymbol
		default:
			c = colOther
		}
		s.col = append(s.col, c)
	}
	return s.col
}

func (s *splitText) wide() []rune {
	if len(s.wt) == len(s.cps) {
		return s.wt
	}
	s.wt = s.wt[:0]
	for i, r := range s.cps {
		if r > 0x7f && s.fl[i]&fSpace != 0 {
			r = 0x0B
		}
		s.wt = append(s.wt, r)
	}
	return s.wt
}

// A splitStep cuts the pieces in offsets (lengths summing to len(s.cps))
// and returns the new lengths, appended to out.
type splitStep func(s *splitText, offsets, out []int) []int

// matcher reports the length of a match starting at pos in [lo, hi), or 0.
// None of the patterns can match the empty string. A negative result -k
// says that no match starts anywhere in [pos, pos+k), which spares the
// search from rescanning a long run it has just rejected.
type matcher func(s *splitText, pos, lo, hi int) int

// searchStep turns a matcher into a step with std::regex_iterator's
// behaviour: search from the left, keep the gaps between matches.
func searchStep(m matcher) splitStep {
	return func(s *splitText, offsets, out []int) []int {
		lo := 0
		for _, n := range offsets {
			hi := lo + n
			start := lo
			for p := lo; p < hi; {
				l := m(s, p, lo, hi)
				if l <= 0 {
					p += max(1, -l)
					continue
				}
				if p > start {
					out = append(out, p-start)
				}
				out = append(out, l)
				p += l
				start = p
			}
			if start < hi {
				out = append(out, hi-start)
			}
			lo = hi
		}
		return out
	}
}

// runSteps applies steps in order to s and returns the final piece lengths.
func runSteps(steps []splitStep, s *splitText, a, b []int) []int {
	a = append(a[:0], len(s.cps))
	if len(s.cps) == 0 {
		return a[:0]
	}
	for _, st := range steps {
		b = st(s, a, b[:0])
		a, b = b, a
	}
	return a
}
