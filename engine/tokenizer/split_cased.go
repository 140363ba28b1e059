package tokenizer

// The GPT-4o (o200k) family of patterns, which split words at case changes:
//
//	[^\r\n\p{L}\p{N}]?U*Lo+C?|[^\r\n\p{L}\p{N}]?U+Lo*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// where U stands for [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], Lo for
// [\p{Ll}\p{Lm}\p{Lo}\p{M}] and C for the optional contraction. llama.cpp
// runs them through std::regex on the collapsed text, where every non-ASCII
// letter is the same byte, so case can only be told apart in ASCII. It
// writes GPT-4o's and Tekken's classes as lookaheads, U = (?=\p{L})[^a-z]
// and Lo = (?=\p{L})[^A-Z] (a non-ASCII letter is both), while Tiny Aya and
// Youtu keep the \p{Lu}-style classes, which llama.cpp turns into plain
// letters-or-marks: there U and Lo are the same class and a word never
// splits on case at all.

// casedOpts are the variations of the family.
type casedOpts struct {
	contractions bool // C is (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?
	marks        bool // granite-embed-multi-97m: lookaheads over [\p{L}\p{M}]
	caseless     bool // tiny_aya, youtu: U and Lo are both [\p{L}\p{M}]
	digits       int  // \p{N}{1,digits}
}

func colIsAZ(c byte) bool { return 'A' <= c && c <= 'Z' }
func colIsaz(c byte) bool { return 'a' <= c && c <= 'z' }

func casedMatcher(o casedOpts) matcher {
	var upper, lower func(byte) bool
	switch {
	case o.caseless:
		upper = func(c byte) bool { return colIsL(c) || colIsM(c) }
		lower = upper
	case o.marks:
		upper = func(c byte) bool { return (colIsL(c) || colIsM(c)) && !colIsaz(c) }
		lower = func(c byte) bool { return (colIsL(c) || colIsM(c)) && !colIsAZ(c) }
	default:
		upper = func(c byte) bool { return colIsL(c) && !colIsaz(c) }
		lower = func(c byte) bool { return colIsL(c) && !colIsAZ(c) }
	}
	// upperLower is U*Lo+ from q: U* takes the longest run it can and gives
	// back code points until Lo+ can start.
	upperLower := func(col []byte, q, hi int) int {
		if q >= hi {
			return 0
		}
		k := runOf(col, q, hi, upper)
		j := k
		if q+j >= hi || !lower(col[q+j]) {
			for j = k - 1; j >= 0 && !lower(col[q+j]); j-- {
			}
			if j < 0 {
				return 0
			}
		}
		return j + runOf(col, q+j, hi, lower)
	}
	// upperThenLower is U+Lo* from q.
	upperThenLower := func(col []byte, q, hi int) int {
		if q >= hi {
			return 0
		}
		k := runOf(col, q, hi, upper)
		if k == 0 {
			return 0
		}
		return k + runOf(col, q+k, hi, lower)
	}
	prefix := func(c byte) bool { return c != '\r' && c != '\n' && !colIsL(c) && !colIsN(c) }
	punct := func(c byte) bool { return !isSpaceASCII(rune(c)) && !colIsL(c) && !colIsN(c) }
	// word tries [^\r\n\p{L}\p{N}]?core then core, and adds the optional
	// contraction.
	word := func(col []byte, pos, hi int, core func([]byte, int, int) int) int {
		n := 0
		if prefix(col[pos]) {
			if m := core(col, pos+1, hi); m > 0 {
				n = 1 + m
			}
		}
		if n == 0 {
			n = core(col, pos, hi)
		}
		if n > 0 && o.contractions && pos+n < hi {
			n += contraction(col, pos+n, hi)
		}
		return n
	}
	return func(s *splitText, pos, lo, hi int) int {
		col := s.collapsed()
		if n := word(col, pos, hi, upperLower); n > 0 {
			return n
		}
		if n := word(col, pos, hi, upperThenLower); n > 0 {
			return n
		}
		c := col[pos]
		if colIsN(c) {
			return runOfMax(col, pos, hi, colIsN, o.digits)
		}
		// ?[^\s\p{L}\p{N}]+[\r\n/]*
		start := pos
		if c == ' ' && pos+1 < hi && punct(col[pos+1]) {
			start++
		}
		if n := runOf(col, start, hi, punct); n > 0 {
			end := start + n
			end += runOf(col, end, hi, func(c byte) bool { return c == '\r' || c == '\n' || c == '/' })
			return end - pos
		}
		return spaceTail(col, pos, hi)
	}
}
