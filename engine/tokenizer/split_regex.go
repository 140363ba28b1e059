package tokenizer

// Hand-written equivalents of the std::regex patterns llama.cpp runs for
// pre-tokenizers without a custom splitter. Each matcher follows ECMAScript
// semantics (ordered alternation, greedy quantifiers with backtracking) on
// the text llama.cpp gives std::regex: the collapsed bytes for patterns with
// \p{..}, the whitespace-folded code points otherwise. See split.go.

// Classes over collapsed bytes. ASCII keeps its own value; the ASCII members
// of \p{P} and \p{S} are the ranges llama.cpp substitutes for them.
func colIsL(c byte) bool { return c == colLetter || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') }
func colIsN(c byte) bool { return c == colNumber || ('0' <= c && c <= '9') }
func colIsM(c byte) bool { return c == colMark }
func colIsP(c byte) bool { return c == colPunct || (c < 128 && asciiPunct[c]) }
func colIsS(c byte) bool { return c == colSymbol || (c < 128 && asciiSymbol[c]) }

// isSpaceASCII is \s for std::regex in the C locale, which is all it sees:
// non-ASCII whitespace was replaced by \v before matching.
func isSpaceASCII(c rune) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

var asciiPunct, asciiSymbol [128]bool

func init() {
	for _, c := range "!\"#%&'()*,-./:;?@[\\]_{}" {
		asciiPunct[c] = true
	}
	// Older llama.cpp versions left '~' out of this list.
	for _, c := range "$+<=>^`|~" {
		asciiSymbol[c] = true
	}
}

// runOf counts the code points from pos (before hi) whose collapsed byte
// satisfies pred.
func runOf(col []byte, pos, hi int, pred func(byte) bool) int {
	n := 0
	for pos+n < hi && pred(col[pos+n]) {
		n++
	}
	return n
}

// runOfMax is runOf stopping after max code points (no limit when max is
// 0), so that \p{N}{1,3} does not rescan a long run of digits at each step.
func runOfMax(col []byte, pos, hi int, pred func(byte) bool, max int) int {
	if max > 0 {
		hi = min(hi, pos+max)
	}
	return runOf(col, pos, hi, pred)
}

func wideRunOf(w []rune, pos, hi int, pred func(rune) bool) int {
	n := 0
	for pos+n < hi && pred(w[pos+n]) {
		n++
	}
	return n
}

// contraction matches '[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD].
func contraction(col []byte, pos, hi int) int {
	if col[pos] != '\'' || pos+1 >= hi {
		return 0
	}
	switch col[pos+1] | 0x20 {
	case 's', 't', 'm', 'd':
		return 2
	}
	if pos+2 >= hi {
		return 0
	}
	a, b := col[pos+1]|0x20, col[pos+2]|0x20
	if (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') {
		return 3
	}
	return 0
}

// spaceTail matches the three whitespace alternatives that end the Qwen2
// family of patterns: \s*[\r\n]+|\s+(?!\S)|\s+.
func spaceTail(col []byte, pos, hi int) int {
	n := runOf(col, pos, hi, func(c byte) bool { return isSpaceASCII(rune(c)) })
	if n == 0 {
		return 0
	}
	// \s*[\r\n]+: \s* backtracks to the last line break in the run.
	for k := n - 1; k >= 0; k-- {
		if c := col[pos+k]; c == '\r' || c == '\n' {
			return k + 1
		}
	}
	// \s+(?!\S): all of it at the end of the piece, else all but the last.
	if pos+n == hi {
		return n
	}
	if n > 1 {
		return n - 1
	}
	return n // \s+
}

// qwen2Opts are the variations of the Qwen2 pattern family:
//
//	(?:'[sS]|..)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
type qwen2Opts struct {
	noContractions bool // ufakzeka
	marks          bool // qwen35: [\p{L}\p{M}]+ and \p{M} excluded from the punctuation class
	digits         int  // \p{N}{1,digits}; 0 means \p{N}+
	noTrailingNL   bool // seed-coder: no [\r\n]* after punctuation
}

func qwen2Matcher(o qwen2Opts) matcher {
	word := colIsL
	if o.marks {
		word = func(c byte) bool { return colIsL(c) || colIsM(c) }
	}
	punct := func(c byte) bool {
		return !isSpaceASCII(rune(c)) && !colIsL(c) && !colIsN(c) && !(o.marks && colIsM(c))
	}
	return func(s *splitText, pos, lo, hi int) int {
		col := s.collapsed()
		if !o.noContractions {
			if n := contraction(col, pos, hi); n > 0 {
				return n
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		c := col[pos]
		if c != '\r' && c != '\n' && !colIsL(c) && !colIsN(c) && pos+1 < hi && word(col[pos+1]) {
			return 1 + runOf(col, pos+1, hi, word)
		}
		if word(c) {
			return runOf(col, pos, hi, word)
		}
		if colIsN(c) {
			return runOfMax(col, pos, hi, colIsN, o.digits)
		}
		// ?[^\s\p{L}\p{N}]+[\r\n]*
		start := pos
		if c == ' ' && pos+1 < hi && punct(col[pos+1]) {
			start++
		}
		if n := runOf(col, start, hi, punct); n > 0 {
			end := start + n
			if !o.noTrailingNL {
				end += runOf(col, end, hi, func(c byte) bool { return c == '\r' || c == '\n' })
			}
			return end - pos
		}
		return spaceTail(col, pos, hi)
	}
}

// digitsMatcher is \p{N} (max 1), \p{N}{1,3} (max 3) or \p{N}+ (max 0).
func digitsMatcher(max int) matcher {
	return func(s *splitText, pos, lo, hi int) int {
		return runOfMax(s.collapsed(), pos, hi, colIsN, max)
	}
}

// classRunMatcher is [class]+ over collapsed bytes, optionally preceded by
// \s? (which, being greedy, is taken only when the class follows it).
func classRunMatcher(optSpace bool, in func(byte) bool) matcher {
	return func(s *splitText, pos, lo, hi int) int {
		col := s.collapsed()
		if optSpace && isSpaceASCII(rune(col[pos])) && pos+1 < hi && in(col[pos+1]) {
			return 1 + runOf(col, pos+1, hi, in)
		}
		return runOf(col, pos, hi, in)
	}
}

// wideRunMatcher is the same over whitespace-folded code points.
func wideRunMatcher(optSpace bool, in func(rune) bool) matcher {
	return func(s *splitText, pos, lo, hi int) int {
		w := s.wide()
		if optSpace && isSpaceASCII(w[pos]) && pos+1 < hi && in(w[pos+1]) {
			return 1 + wideRunOf(w, pos+1, hi, in)
		}
		return wideRunOf(w, pos, hi, in)
	}
}

// lineBreakMatcher is [\r\n].
func lineBreakMatcher(s *splitText, pos, lo, hi int) int {
	if c := s.cps[pos]; c == '\r' || c == '\n' {
		return 1
	}
	return 0
}

// threeDigitsMatcher is [0-9][0-9][0-9].
func threeDigitsMatcher(s *splitText, pos, lo, hi int) int {
	if pos+3 > hi {
		return 0
	}
	for _, c := range s.cps[pos : pos+3] {
		if c < '0' || c > '9' {
			return 0
		}
	}
	return 3
}

// trailingSpaceMatcher is \s+$: whitespace running to the end of the piece.
// A run that stops short cannot match from any of its positions.
func trailingSpaceMatcher(s *splitText, pos, lo, hi int) int {
	n := wideRunOf(s.wide(), pos, hi, isSpaceASCII)
	if n > 0 && pos+n == hi {
		return n
	}
	return -n
}

// lineMatcher is [^\n]+|[\n]+.
func lineMatcher(s *splitText, pos, lo, hi int) int {
	nl := s.cps[pos] == '\n'
	return wideRunOf(s.cps, pos, hi, func(r rune) bool { return (r == '\n') == nl })
}

// deepseek3Matcher is DeepSeek-V3's main pattern:
//
//	[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//	?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func deepseek3Matcher(s *splitText, pos, lo, hi int) int {
	col := s.collapsed()
	c := col[pos]
	asciiLetter := func(c byte) bool { return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') }
	if c < 128 && (asciiPunct[c] || asciiSymbol[c]) && pos+1 < hi && asciiLetter(col[pos+1]) {
		return 1 + runOf(col, pos+1, hi, asciiLetter)
	}
	word := func(c byte) bool { return colIsL(c) || colIsM(c) }
	if c != '\r' && c != '\n' && !colIsL(c) && !colIsP(c) && !colIsS(c) && pos+1 < hi && word(col[pos+1]) {
		return 1 + runOf(col, pos+1, hi, word)
	}
	if word(c) {
		return runOf(col, pos, hi, word)
	}
	ps := func(c byte) bool { return colIsP(c) || colIsS(c) }
	start := pos
	if c == ' ' && pos+1 < hi && ps(col[pos+1]) {
		start++
	}
	if n := runOf(col, start, hi, ps); n > 0 {
		end := start + n
		end += runOf(col, end, hi, func(c byte) bool { return c == '\r' || c == '\n' })
		return end - pos
	}
	return spaceTail(col, pos, hi)
}

// bloomMatcher is ` ?[^(\s|.,!?…。，、।۔،)]+`.
func bloomMatcher(s *splitText, pos, lo, hi int) int {
	in := func(r rune) bool {
		if isSpaceASCII(r) {
			return false
		}
		switch r {
		case '(', '|', '.', ',', '!', '?', '…', '。', '，', '、', '।', '۔', '،', ')':
			return false
		}
		return true
	}
	w := s.wide()
	if w[pos] == ' ' && pos+1 < hi && in(w[pos+1]) {
		return 1 + wideRunOf(w, pos+1, hi, in)
	}
	return wideRunOf(w, pos, hi, in)
}

// runeRanges is a character class of code point ranges.
type runeRanges [][2]rune

func (rr runeRanges) has(r rune) bool {
	for _, x := range rr {
		if x[0] <= r && r <= x[1] {
			return true
		}
	}
	return false
}

// deepseekLetters is the class of DeepSeek LLM's letter pattern, written as
// code points: the cased letters of some Unicode version, as listed in
// llama.cpp (several of its characters change under NFC, so they are not
// written literally here).
var deepseekLetters = runeRanges{
	{0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
	{0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377},
	{0x37B, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C},
	{0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
	{0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
	{0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
	{0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
	{0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE},
	{0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
	{0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
	{0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
	{0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
	{0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
	{0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787},
	{0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
	{0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
	{0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
}

// deepseekPunct is [!-/:-~！-／：-～‘-‟　-。].
var deepseekPunct = runeRanges{
	{0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
}

// deepseekCJK is [一-龥ࠀ-一가-퟿].
var deepseekCJK = runeRanges{{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}}

// deepseek3CJK is [一-龥぀-ゟ゠-ヿ].
var deepseek3CJK = runeRanges{{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}}
