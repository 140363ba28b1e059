package grammar

import (
	"fmt"
	"strconv"
	"strings"
)

// ElemType is the kind of one grammar element, numbered as llama.cpp's
// llama_gretype so rule dumps compare directly.
type ElemType uint8

const (
	End          ElemType = iota // end of a rule
	Alt                          // start of an alternate
	RuleRef                      // Value is the referenced rule's id
	Char                         // a character (Value) or the start of a class
	CharNot                      // the start of a negated class [^...]
	CharRngUpper                 // the inclusive upper end of the range started by the element before
	CharAlt                      // another character of the class started before
	CharAny                      // . (any character)
	Token                        // a whole token, by id: <[id]> or <text>
	TokenNot                     // any token except this one: !<[id]>
)

// Element is one grammar element.
type Element struct {
	Type  ElemType
	Value uint32
}

// Grammar is a parsed GBNF grammar: rules indexed by symbol id, each a list
// of alternates separated by Alt and terminated by End, with the rules that
// repetition operators and groups generate, exactly as llama.cpp's parser
// lays them out.
type Grammar struct {
	Rules [][]Element
	Names []string // symbol id -> rule name
	Root  int      // the id of the rule named "root"
}

// maxRepetitions is llama.cpp's MAX_REPETITION_THRESHOLD.
const maxRepetitions = 2000

// ParseError is a grammar that does not parse or cannot be used. It names
// the rule being read and the position.
type ParseError struct {
	Rule   string // the rule being parsed or found at fault; "" before the first rule
	Line   int    // 1-based; 0 when the error is about the grammar as a whole
	Column int    // 1-based, in bytes
	Msg    string
	Near   string // the text at the position, shortened
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("grammar: ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d column %d: ", e.Line, e.Column)
	}
	b.WriteString(e.Msg)
	if e.Near != "" {
		fmt.Fprintf(&b, " at %q", e.Near)
	} else if e.Line > 0 {
		b.WriteString(" at end of input")
	}
	return b.String()
}

// Options changes how a grammar is parsed.
type Options struct {
	// Tokenize turns the text of a <token> element into token ids (with
	// special tokens parsed, no BOS), as llama.cpp does with the model's
	// vocabulary. Without it only the <[id]> form is accepted.
	Tokenize func(text string) []int32
}

type parser struct {
	src     string
	opts    Options
	ids     map[string]uint32
	names   []string
	rules   [][]Element
	curRule string
}

// bailout carries a ParseError through the recursive descent.
type bailout struct{ err *ParseError }

func (p *parser) fail(pos int, format string, args ...any) {
	line, col := 1, 1
	for i := 0; i < pos && i < len(p.src); i++ {
		if p.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	near := p.src[min(pos, len(p.src)):]
	if i := strings.IndexAny(near, "\r\n"); i >= 0 {
		near = near[:i]
	}
	if len(near) > 40 {
		near = near[:40] + "..."
	}
	panic(bailout{&ParseError{Rule: p.curRule, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Near: near}})
}

// Parse reads a GBNF grammar with llama.cpp's syntax and semantics: rules
// `name ::= alternates`, alternation `|`, grouping `( )`, string literals
// with escapes, character classes `[a-z]` and `[^...]`, `.`, `*`, `+`, `?`,
// `{m}`, `{m,}`, `{m,n}`, `#` comments, and token elements `<[id]>`,
// `<text>`, `!<...>`. The grammar must define every rule it references and
// a rule named root, and may not be left-recursive.
func Parse(src string, opts ...Options) (g *Grammar, err error) {
	p := &parser{src: src, ids: map[string]uint32{}}
	if len(opts) > 0 {
		p.opts = opts[0]
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			g, err = nil, b.err
		}
	}()
	if i := strings.IndexByte(src, 0); i >= 0 {
		p.fail(i, "NUL byte in grammar")
	}
	pos := p.space(0, true)
	for pos < len(src) {
		pos = p.parseRule(pos)
	}
	p.curRule = ""
	if len(p.rules) < len(p.names) {
		p.rules = append(p.rules, make([][]Element, len(p.names)-len(p.rules))...)
	}
	for id, r := range p.rules {
		if len(r) == 0 {
			return nil, &ParseError{Rule: p.names[id], Msg: fmt.Sprintf("undefined rule identifier '%s'", p.names[id])}
		}
	}
	g = &Grammar{Rules: p.rules, Names: p.names}
	root, ok := p.ids["root"]
	if !ok {
		return nil, &ParseError{Msg: "grammar does not contain a 'root' rule"}
	}
	g.Root = int(root)
	if id := g.leftRecursive(); id >= 0 {
		return nil, &ParseError{Rule: g.Names[id], Msg: fmt.Sprintf("left recursion: rule '%s' can reach itself without consuming input", g.Names[id])}
	}
	return g, nil
}

// at returns the byte at i, or 0 past the end (llama.cpp reads a C string).
func (p *parser) at(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || isDigit(c)
}

// space skips blanks and comments, and newlines when newlineOK.
func (p *parser) space(pos int, newlineOK bool) int {
	for {
		c := p.at(pos)
		switch {
		case c == ' ' || c == '\t':
			pos++
		case c == '#':
			for pos < len(p.src) && p.src[pos] != '\r' && p.src[pos] != '\n' {
				pos++
			}
		case newlineOK && (c == '\r' || c == '\n'):
			pos++
		default:
			return pos
		}
	}
}

func (p *parser) name(pos int) int {
	end := pos
	for isWordChar(p.at(end)) {
		end++
	}
	if end == pos {
		p.fail(pos, "expecting name")
	}
	return end
}

func (p *parser) integer(pos int) int {
	end := pos
	for isDigit(p.at(end)) {
		end++
	}
	if end == pos {
		p.fail(pos, "expecting integer")
	}
	return end
}

func (p *parser) symbolID(name string) uint32 {
	if id, ok := p.ids[name]; ok {
		return id
	}
	id := uint32(len(p.names))
	p.ids[name] = id
	p.names = append(p.names, name)
	return id
}

// generateSymbolID names a rule the parser makes (groups, repetitions):
// base_N where N is the new id.
func (p *parser) generateSymbolID(base string) uint32 {
	id := uint32(len(p.names))
	name := base + "_" + strconv.Itoa(int(id))
	p.ids[name] = id
	p.names = append(p.names, name)
	return id
}

func (p *parser) addRule(id uint32, rule []Element) {
	for len(p.rules) <= int(id) {
		p.rules = append(p.rules, nil)
	}
	p.rules[id] = rule
}

func (p *parser) parseRule(pos int) int {
	nameEnd := p.name(pos)
	name := p.src[pos:nameEnd]
	p.curRule = name
	pos = p.space(nameEnd, false)
	id := p.symbolID(name)
	if !strings.HasPrefix(p.src[pos:], "::=") {
		p.fail(pos, "expecting ::=")
	}
	pos = p.space(pos+3, true)
	pos = p.alternates(pos, name, id, false)
	switch p.at(pos) {
	case '\r':
		if p.at(pos+1) == '\n' {
			pos += 2
		} else {
			pos++
		}
	case '\n':
		pos++
	case 0: // end of input
	default:
		p.fail(pos, "expecting newline or end")
	}
	return p.space(pos, true)
}

func (p *parser) alternates(pos int, ruleName string, id uint32, nested bool) int {
	var rule []Element
	pos = p.sequence(pos, ruleName, &rule, nested)
	for p.at(pos) == '|' {
		rule = append(rule, Element{Alt, 0})
		pos = p.space(pos+1, true)
		pos = p.sequence(pos, ruleName, &rule, nested)
	}
	rule = append(rule, Element{End, 0})
	p.addRule(id, rule)
	return pos
}

// sequence parses one alternate into *rule. Repetition operators rewrite
// the item before them as llama.cpp does:
//
//	S{m,n} -> S S ... S (m times) S'(n-m), with S'(x) ::= S S'(x-1) | and S'(1) ::= S |
//	S{m,}  -> S ... S (m times) S',        with S' ::= S S' |
//	S* = S{0,}, S+ = S{1,}, S? = S{0,1}
func (p *parser) sequence(pos int, ruleName string, rulep *[]Element, nested bool) int {
	lastSymStart := len(*rulep)
	var nPrevRules uint64 = 1

	repeat := func(minTimes, maxTimes uint64, noMax bool) {
		rule := *rulep
		if lastSymStart == len(rule) {
			p.fail(pos, "expecting preceding item to */+/?/{")
		}
		prev := append([]Element(nil), rule[lastSymStart:]...)
		var total uint64 = 1
		if !noMax && maxTimes > 0 {
			total = maxTimes
		} else if minTimes > 0 {
			total = minTimes
		}
		if nPrevRules*total >= maxRepetitions {
			p.fail(pos, "repetition makes too many rules (the rules repeated times the repetition count reach %d); reduce the repetition counts or the rule's complexity", maxRepetitions)
		}
		if minTimes == 0 {
			rule = rule[:lastSymStart]
		} else {
			for i := uint64(1); i < minTimes; i++ {
				rule = append(rule, prev...)
			}
		}
		var lastRec uint32
		nOpt := uint64(1)
		if !noMax {
			nOpt = maxTimes - minTimes
		}
		for i := uint64(0); i < nOpt; i++ {
			rec := append([]Element(nil), prev...)
			id := p.generateSymbolID(ruleName)
			if i > 0 || noMax {
				ref := lastRec
				if noMax {
					ref = id
				}
				rec = append(rec, Element{RuleRef, ref})
			}
			rec = append(rec, Element{Alt, 0}, Element{End, 0})
			p.addRule(id, rec)
			lastRec = id
		}
		if nOpt > 0 {
			rule = append(rule, Element{RuleRef, lastRec})
		}
		*rulep = rule
		nPrevRules *= total
	}

	for pos < len(p.src) {
		c := p.src[pos]
		switch {
		case c == '"': // literal string
			pos++
			lastSymStart = len(*rulep)
			nPrevRules = 1
			for p.at(pos) != '"' {
				if pos >= len(p.src) {
					p.fail(pos, "unterminated string literal")
				}
				var r uint32
				r, pos = p.char(pos)
				*rulep = append(*rulep, Element{Char, r})
			}
			pos = p.space(pos+1, nested)
		case c == '[': // character class
			pos++
			start := Char
			if p.at(pos) == '^' {
				pos++
				start = CharNot
			}
			lastSymStart = len(*rulep)
			nPrevRules = 1
			for p.at(pos) != ']' {
				if pos >= len(p.src) {
					p.fail(pos, "unterminated character class")
				}
				var r uint32
				r, pos = p.char(pos)
				t := start
				if lastSymStart < len(*rulep) {
					t = CharAlt
				}
				*rulep = append(*rulep, Element{t, r})
				if p.at(pos) == '-' && p.at(pos+1) != ']' {
					if pos+1 >= len(p.src) {
						p.fail(pos+1, "unterminated character range")
					}
					var hi uint32
					hi, pos = p.char(pos + 1)
					*rulep = append(*rulep, Element{CharRngUpper, hi})
				}
			}
			pos = p.space(pos+1, nested)
		case c == '<' || c == '!': // token
			t := Token
			if c == '!' {
				t = TokenNot
				pos++
			}
			var id uint32
			id, pos = p.token(pos)
			lastSymStart = len(*rulep)
			nPrevRules = 1
			*rulep = append(*rulep, Element{t, id})
			pos = p.space(pos, nested)
		case isWordChar(c): // rule reference
			end := p.name(pos)
			ref := p.symbolID(p.src[pos:end])
			pos = p.space(end, nested)
			lastSymStart = len(*rulep)
			nPrevRules = 1
			*rulep = append(*rulep, Element{RuleRef, ref})
		case c == '(': // group: a generated rule
			pos = p.space(pos+1, true)
			before := len(p.names)
			sub := p.generateSymbolID(ruleName)
			pos = p.alternates(pos, ruleName, sub, true)
			nPrevRules = uint64(max(1, len(p.names)-before))
			lastSymStart = len(*rulep)
			*rulep = append(*rulep, Element{RuleRef, sub})
			if p.at(pos) != ')' {
				p.fail(pos, "expecting ')'")
			}
			pos = p.space(pos+1, nested)
		case c == '.':
			lastSymStart = len(*rulep)
			nPrevRules = 1
			*rulep = append(*rulep, Element{CharAny, 0})
			pos = p.space(pos+1, nested)
		case c == '*':
			pos = p.space(pos+1, nested)
			repeat(0, 0, true)
		case c == '+':
			pos = p.space(pos+1, nested)
			repeat(1, 0, true)
		case c == '?':
			pos = p.space(pos+1, nested)
			repeat(0, 1, false)
		case c == '{':
			pos = p.space(pos+1, nested)
			if !isDigit(p.at(pos)) {
				p.fail(pos, "expecting an int")
			}
			end := p.integer(pos)
			minTimes, err := strconv.ParseUint(p.src[pos:end], 10, 64)
			if err != nil {
				p.fail(pos, "repetition count out of range")
			}
			pos = p.space(end, nested)
			maxTimes, noMax := uint64(0), true
			switch p.at(pos) {
			case '}':
				maxTimes, noMax = minTimes, false
				pos = p.space(pos+1, nested)
			case ',':
				pos = p.space(pos+1, nested)
				if isDigit(p.at(pos)) {
					end := p.integer(pos)
					v, err := strconv.ParseUint(p.src[pos:end], 10, 64)
					if err != nil {
						p.fail(pos, "repetition count out of range")
					}
					maxTimes, noMax = v, false
					pos = p.space(end, nested)
				}
				if p.at(pos) != '}' {
					p.fail(pos, "expecting '}'")
				}
				pos = p.space(pos+1, nested)
			default:
				p.fail(pos, "expecting ','")
			}
			if minTimes > maxRepetitions {
				p.fail(pos, "repetition count %d exceeds %d", minTimes, maxRepetitions)
			}
			if !noMax && maxTimes > maxRepetitions {
				noMax = true // llama.cpp treats a huge upper bound as none
			}
			if !noMax && maxTimes < minTimes {
				p.fail(pos, "repetition {%d,%d}: the maximum is below the minimum", minTimes, maxTimes)
			}
			repeat(minTimes, maxTimes, noMax)
		default:
			return pos
		}
	}
	return pos
}

// char reads one character of a literal or class: an escape or one UTF-8
// sequence, decoded as llama.cpp's parser does (leniently).
func (p *parser) char(pos int) (uint32, int) {
	if p.at(pos) == '\\' {
		switch p.at(pos + 1) {
		case 'x':
			return p.hex(pos+2, 2)
		case 'u':
			return p.hex(pos+2, 4)
		case 'U':
			return p.hex(pos+2, 8)
		case 't':
			return '\t', pos + 2
		case 'r':
			return '\r', pos + 2
		case 'n':
			return '\n', pos + 2
		case '\\', '"', '[', ']', '-':
			return uint32(p.at(pos + 1)), pos + 2
		}
		p.fail(pos, "unknown escape")
	}
	if pos >= len(p.src) {
		p.fail(pos, "unexpected end of input")
	}
	return decodeUTF8Lenient(p.src, pos)
}

// decodeUTF8Lenient decodes the sequence at s[pos] the way llama.cpp's
// grammar parser does: the length comes from the first byte alone and the
// following bytes are taken as they are (a stray continuation byte is a
// character of its own).
func decodeUTF8Lenient(s string, pos int) (uint32, int) {
	lookup := [16]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}
	first := s[pos]
	n := lookup[first>>4]
	v := uint32(first) & (1<<(8-n) - 1)
	end := pos + n
	i := pos + 1
	for ; i < end && i < len(s) && s[i] != 0; i++ {
		v = v<<6 + uint32(s[i]&0x3F)
	}
	return v, i
}

func (p *parser) hex(pos, size int) (uint32, int) {
	var v uint32
	i := pos
	for ; i < pos+size && i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case 'a' <= c && c <= 'f':
			v = v<<4 + uint32(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 + uint32(c-'A'+10)
		case '0' <= c && c <= '9':
			v = v<<4 + uint32(c-'0')
		default:
			p.fail(pos, "expecting %d hex chars", size)
		}
	}
	if i != pos+size {
		p.fail(pos, "expecting %d hex chars", size)
	}
	return v, i
}

// token reads <[id]> or <text>.
func (p *parser) token(pos int) (uint32, int) {
	start := pos
	if p.at(pos) != '<' {
		p.fail(pos, "expecting '<'")
	}
	pos++
	if p.at(pos) == '[' {
		pos++
		end := p.integer(pos)
		id, err := strconv.ParseUint(p.src[pos:end], 10, 32)
		if err != nil {
			p.fail(pos, "token id out of range")
		}
		pos = end
		if p.at(pos) != ']' {
			p.fail(pos, "expecting ']'")
		}
		pos++
		if p.at(pos) != '>' {
			p.fail(pos, "expecting '>'")
		}
		return uint32(id), pos + 1
	}
	if p.opts.Tokenize == nil {
		p.fail(start, "a <token> element needs the model's vocabulary; use <[id]> or compile the grammar for a model")
	}
	for pos < len(p.src) && p.src[pos] != '>' {
		pos++
	}
	if p.at(pos) != '>' {
		p.fail(pos, "expecting '>'")
	}
	pos++
	ids := p.opts.Tokenize(p.src[start:pos])
	if len(ids) != 1 {
		p.fail(start, "invalid token '%s': it is %d tokens, not one", p.src[start:pos], len(ids))
	}
	return uint32(ids[0]), pos
}

// leftRecursive returns the id of a rule that is left-recursive, or -1,
// with llama.cpp's test: a rule reaches itself through leftmost
// references, looking past references to rules that may match nothing.
func (g *Grammar) leftRecursive() int {
	n := len(g.Rules)
	visited := make([]bool, n)
	inProgress := make([]bool, n)
	mayBeEmpty := make([]bool, n)
	culprit := -1
	var detect func(i int) bool
	detect = func(i int) bool {
		if inProgress[i] {
			culprit = i
			return true
		}
		inProgress[i] = true
		rule := g.Rules[i]
		atStart := true
		for _, e := range rule {
			if e.Type == End || e.Type == Alt {
				if atStart {
					mayBeEmpty[i] = true
					break
				}
				atStart = true
			} else {
				atStart = false
			}
		}
		recurse := true
		for _, e := range rule {
			switch {
			case e.Type == RuleRef && recurse:
				if detect(int(e.Value)) {
					return true
				}
				if !mayBeEmpty[e.Value] {
					recurse = false
				}
			case e.Type == End || e.Type == Alt:
				recurse = true
			default:
				recurse = false
			}
		}
		inProgress[i] = false
		visited[i] = true
		return false
	}
	for i := 0; i < n; i++ {
		if visited[i] {
			continue
		}
		if detect(i) {
			return culprit // the rule the cycle came back to
		}
	}
	return -1
}
