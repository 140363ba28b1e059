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
	cascadeSpaces  bool // jais-2: cascadeSpaceTail instead of spaceTail
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
		if o.cascadeSpaces {
			return cascadeSpaceTail(col, pos, hi)
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

// youtuHangul, youtuPunct and youtuBopomofo are the first three classes of
// Youtu's first pattern, [가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+
// (the fourth is deepseek3CJK).
var (
	youtuHangul = runeRanges{{0xAC00, 0xD7A3}, {0x3131, 0x318E}}
	youtuPunct  = runeRanges{{0xFF01, 0xFF01}, {0x2026, 0x2026}, {0x201C, 0x201D}, {0x2018, 0x2019},
		{0x2014, 0x2014}, {0xFF1A, 0xFF1B}, {0xFF0C, 0xFF0C}, {0x3001, 0x303F}, {0xFE30, 0xFE4F}}
	youtuBopomofo = runeRanges{{0x3105, 0x312F}}
)

// afmoeCJK is AFMoE's class of CJK and other Asian scripts as llama.cpp
// has it. Its source writes the compatibility ideograph 豈 (U+F900) in its
// NFC form U+8C48, so the third range runs from U+8C48 to U+FAFF and takes
// in Hangul syllables and the private use area.
var afmoeCJK = runeRanges{
	{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x8C48, 0xFAFF}, {0x3040, 0x309F}, {0x30A0, 0x30FF},
	{0xFF65, 0xFF9F}, {0x2F00, 0x2FDF}, {0x0E40, 0x0E7F}, {0x0E80, 0x0EFF}, {0x1780, 0x17FF},
	{0x1000, 0x109F}, {0xAA60, 0xAA7F}, {0xA9E0, 0xA9FF}, {0xAC00, 0xD7AF}, {0x1100, 0x11FF},
}

// deepseek3CJK is [一-龥぀-ゟ゠-ヿ].
var deepseek3CJK = runeRanges{{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}}

// cascadeSpaceTail is JAIS-2's ending, where long runs of whitespace are
// cut into power-of-two blocks:
//
//	\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|...|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}
func cascadeSpaceTail(col []byte, pos, hi int) int {
	n := runOf(col, pos, hi, func(c byte) bool { return isSpaceASCII(rune(c)) })
	if n == 0 {
		return 0
	}
	for k := n - 1; k >= 0; k-- {
		if c := col[pos+k]; c == '\r' || c == '\n' {
			return k + 1
		}
	}
	// \s{k}(?!\S) holds when the run goes on past k code points or ends
	// the piece after exactly k.
	fits := func(k int) bool { return n > k || (n == k && pos+n == hi) }
	for k := 512; k >= 4; k /= 2 {
		if fits(k) {
			return k
		}
	}
	if fits(2) {
		return 2
	}
	return 1 // \s{1}(?!\S) or \s{1}
}

// exaoneMoeMatcher is EXAONE-MoE's pattern, whose words run on across
// single spaces:
//
//	(?:'[sS]|..)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+
func exaoneMoeMatcher(s *splitText, pos, lo, hi int) int {
	col := s.collapsed()
	if n := contraction(col, pos, hi); n > 0 {
		return n
	}
	word := func(q int) int {
		if q >= hi || !colIsL(col[q]) {
			return 0
		}
		i := q
		for i < hi {
			switch {
			case colIsL(col[i]):
				i++
			case col[i] == ' ' && i+1 < hi && colIsL(col[i+1]):
				i += 2
			default:
				return i - q
			}
			i += runOf(col, i, hi, colIsM)
		}
		return i - q
	}
	c := col[pos]
	if c != '\r' && c != '\n' && !colIsL(c) && !colIsN(c) {
		if n := word(pos + 1); n > 0 {
			return 1 + n
		}
	}
	if n := word(pos); n > 0 {
		return n
	}
	if colIsN(c) {
		return 1
	}
	punct := func(c byte) bool { return !isSpaceASCII(rune(c)) && !colIsL(c) && !colIsN(c) }
	start := pos
	if c == ' ' && pos+1 < hi && punct(col[pos+1]) {
		start++
	}
	if n := runOf(col, start, hi, punct); n > 0 {
		end := start + n
		if end < hi && (col[end] == '\r' || col[end] == '\n' || col[end] == '/') {
			end++
		}
		return end - pos
	}
	return spaceTail(col, pos, hi)
}

// nonSpaceMatcher is \S+ over whitespace-folded code points.
func nonSpaceMatcher(s *splitText, pos, lo, hi int) int {
	return wideRunOf(s.wide(), pos, hi, func(r rune) bool { return !isSpaceASCII(r) })
}

// classRunsMatcher is [A]+|[B]+|... over whitespace-folded code points, for
// disjoint classes: the class of the first code point decides.
func classRunsMatcher(classes ...runeRanges) matcher {
	return func(s *splitText, pos, lo, hi int) int {
		w := s.wide()
		for _, rr := range classes {
			if rr.has(w[pos]) {
				return wideRunOf(w, pos, hi, rr.has)
			}
		}
		return 0
	}
}

// Chameleon's patterns before its GPT-2 one.

// sentinelMatcher is <sentinel:[0-9]+>.
func sentinelMatcher(s *splitText, pos, lo, hi int) int {
	const lead = "<sentinel:"
	w := s.wide()
	if pos+len(lead) > hi {
		return 0
	}
	for i := 0; i < len(lead); i++ {
		if w[pos+i] != rune(lead[i]) {
			return 0
		}
	}
	q := pos + len(lead)
	d := wideRunOf(w, q, hi, func(r rune) bool { return '0' <= r && r <= '9' })
	if d == 0 || q+d >= hi || w[q+d] != '>' {
		return 0
	}
	return len(lead) + d + 1
}

// imageMatcher is (IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z.
func imageMatcher(s *splitText, pos, lo, hi int) int {
	const lead = "IMGIMG"
	w := s.wide()
	if pos+len(lead) > hi {
		return 0
	}
	for i := 0; i < len(lead); i++ {
		if w[pos+i] != rune(lead[i]) {
			return 0
		}
	}
	q := pos + len(lead)
	k := wideRunOf(w, q, min(hi, q+5), func(r rune) bool { return 'A' <= r && r <= 'I' })
	if k == 0 || k > 4 || q+k >= hi || w[q+k] != 'Z' {
		return 0
	}
	return len(lead) + k + 1
}

// chameleonSpaceMatcher is ([\t\n]|    |  ).
func chameleonSpaceMatcher(s *splitText, pos, lo, hi int) int {
	w := s.wide()
	if w[pos] == '\t' || w[pos] == '\n' {
		return 1
	}
	n := wideRunOf(w, pos, min(hi, pos+4), func(r rune) bool { return r == ' ' })
	switch {
	case n == 4:
		return 4
	case n >= 2:
		return 2
	}
	return 0
}

// chameleonPunctMatcher is [\p{P}!-/:-@\[-`{-~]: one punctuation mark or
// ASCII symbol (non-ASCII symbols are not in the class).
func chameleonPunctMatcher(s *splitText, pos, lo, hi int) int {
	c := s.collapsed()[pos]
	if c == colPunct || ('!' <= c && c <= '/') || (':' <= c && c <= '@') || ('[' <= c && c <= '`') || ('{' <= c && c <= '~') {
		return 1
	}
	return 0
}

// splitDigitTriples is SuperBPE's (?=(\d{3})+(?!\d)), a pattern that only
// matches empty strings: llama.cpp cuts the piece before every ASCII digit
// followed, to the end of its run, by a multiple of three digits.
func splitDigitTriples(s *splitText, offsets, out []int) []int {
	lo := 0
	isDigit := func(r rune) bool { return '0' <= r && r <= '9' }
	for _, n := range offsets {
		hi := lo + n
		start := lo
		for p := lo; p < hi; {
			run := wideRunOf(s.cps, p, hi, isDigit)
			if run == 0 {
				p++
				continue
			}
			for q := p; q < p+run; q++ {
				if (p+run-q)%3 == 0 && q > start {
					out = append(out, q-start)
					start = q
				}
			}
			p += run
		}
		if start < hi {
			out = append(out, hi-start)
		}
		lo = hi
	}
	return out
}
