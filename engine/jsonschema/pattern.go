package jsonschema

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// The regular expressions a "pattern" may use: those llama.cpp translates
// to a grammar. The pattern must be anchored (^...$); it may use literals
// and escapes, ., character classes [...] (with GBNF's escapes), groups
// (...) and (?:...), alternation |, and *, +, ?, {m}, {m,}, {m,n}.
// Shorthands such as \d or \w, lookarounds, and anchors inside the
// pattern are not supported: the schema is refused with the reason.

// unsupportedPattern is a valid regular expression with no grammar form.
type unsupportedPattern struct{ msg string }

func (e unsupportedPattern) Error() string { return e.msg }

// invalidPattern is not a regular expression at all.
type invalidPattern struct{ msg string }

func (e invalidPattern) Error() string { return e.msg }

func (c *converter) visitPattern(pattern, name, path string) string {
	snapshot := maps.Clone(c.rules)
	rule, err := c.patternToRule(pattern, name)
	if err == nil {
		return rule
	}
	c.rules = snapshot
	var inv invalidPattern
	if errors.As(err, &inv) {
		c.fail(path+"/pattern", "invalid pattern %q: %s", pattern, inv.msg)
	} else {
		c.fail(path+"/pattern", "pattern %q is not supported: %s", pattern, err)
	}
	return ""
}

const (
	maxPatternDepth = 100
	nonLiteral      = "|.()[]{}*+?^$"
	escapedInRegex  = "^$.[]()|{}*+?" // escaped in a regular expression, plain in a GBNF literal
)

// gbnfEscapeLength is the length of the GBNF escape at pattern[pos], or 0
// if there is none.
func gbnfEscapeLength(pattern string, pos int) int {
	if pos+1 >= len(pattern) || pattern[pos] != '\\' {
		return 0
	}
	nHex := 0
	switch pattern[pos+1] {
	case 'x':
		nHex = 2
	case 'u':
		nHex = 4
	case 'U':
		nHex = 8
	case 't', 'r', 'n', '\\', '"', '[', ']':
		return 2
	default:
		return 0
	}
	if pos+2+nHex > len(pattern) {
		return 0
	}
	for _, h := range pattern[pos+2 : pos+2+nHex] {
		if !unicode.Is(unicode.ASCII_Hex_Digit, h) {
			return 0
		}
	}
	return 2 + nHex
}

type piece struct {
	s       string
	literal bool
}

func (p piece) rule() string {
	if p.literal {
		return `"` + p.s + `"`
	}
	return p.s
}

// stoi reads an integer as std::stoi does: leading blanks, a sign, digits,
// and whatever follows ignored.
func stoi(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	start := end
	for end < len(s) && '0' <= s[end] && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		return 0, false
	}
	return int(n), true
}

func (c *converter) patternToRule(pattern, name string) (rule string, err error) {
	if len(pattern) < 2 || pattern[0] != '^' || pattern[len(pattern)-1] != '$' {
		return "", unsupportedPattern{"not anchored with '^' and '$'"}
	}
	sub := pattern[1 : len(pattern)-1]
	subRuleIDs := map[string]string{}
	i, depth := 0, 0
	n := len(sub)

	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			rule, err = "", e
		}
	}()

	dot := func() string { return c.addRule("dot", `[^\x0A\x0D]`) }

	var transform func() piece
	transform = func() piece {
		var seq []piece
		join := func() piece {
			var out []string
			lit := ""
			flush := func() {
				if lit != "" {
					out = append(out, `"`+lit+`"`)
					lit = ""
				}
			}
			for _, p := range seq {
				if p.literal {
					lit += p.s
				} else {
					flush()
					out = append(out, p.s)
				}
			}
			flush()
			return piece{strings.Join(out, " "), false}
		}
		for i < n {
			ch := sub[i]
			switch {
			case ch == '.':
				seq = append(seq, piece{dot(), false})
				i++
			case ch == '(':
				i++
				if i < n && sub[i] == '?' {
					if i+1 < n && sub[i+1] == ':' {
						i += 2
					} else {
						panic(unsupportedPattern{"unsupported group syntax (lookarounds, named groups and flags are not supported)"})
					}
				}
				depth++
				if depth > maxPatternDepth {
					panic(unsupportedPattern{"pattern nesting too deep"})
				}
				seq = append(seq, piece{"(" + transform().rule() + ")", false})
			case ch == ')':
				i++
				if depth == 0 {
					panic(invalidPattern{"unbalanced parentheses"})
				}
				depth--
				return join()
			case ch == '^' || ch == '$':
				panic(unsupportedPattern{"anchor inside the pattern"})
			case ch == '[':
				sq := "["
				i++
				for i < n && sub[i] != ']' {
					if sub[i] == '\\' {
						el := gbnfEscapeLength(sub, i)
						if el == 0 {
							panic(unsupportedPattern{"unsupported escape in character class: " + sub[i:min(i+2, n)]})
						}
						sq += sub[i : i+el]
						i += el
					} else {
						sq += sub[i : i+1]
						i++
					}
				}
				if i >= n {
					panic(invalidPattern{"unterminated character class"})
				}
				sq += "]"
				i++
				seq = append(seq, piece{sq, false})
			case ch == '|':
				seq = append(seq, piece{"|", false})
				i++
			case ch == '*' || ch == '+' || ch == '?':
				if len(seq) == 0 {
					panic(invalidPattern{"nothing to repeat"})
				}
				seq[len(seq)-1] = piece{seq[len(seq)-1].rule() + string(ch), false}
				i++
			case ch == '{':
				cb := "{"
				i++
				for i < n && sub[i] != '}' {
					cb += sub[i : i+1]
					i++
				}
				if i >= n {
					panic(unsupportedPattern{"unterminated curly brackets"})
				}
				cb += "}"
				i++
				nums := strings.Split(cb[1:len(cb)-1], ",")
				lo, hi := 0, math.MaxInt32
				if len(nums) != 1 && len(nums) != 2 {
					panic(unsupportedPattern{"wrong number of values in curly brackets"})
				}
				bad := unsupportedPattern{"invalid number in curly brackets"}
				if len(nums) == 1 {
					v, ok := stoi(nums[0])
					if !ok {
						panic(bad)
					}
					lo, hi = v, v
				} else {
					if nums[0] != "" {
						v, ok := stoi(nums[0])
						if !ok {
							panic(bad)
						}
						lo = v
					}
					if nums[1] != "" {
						v, ok := stoi(nums[1])
						if !ok {
							panic(bad)
						}
						hi = v
					}
				}
				if len(seq) == 0 {
					panic(invalidPattern{"nothing to repeat"})
				}
				last := seq[len(seq)-1]
				item := last.s
				if last.literal {
					item = `"` + item + `"`
				} else {
					id, ok := subRuleIDs[item]
					if !ok {
						id = c.addRule(name+"-"+strconv.Itoa(len(subRuleIDs)+1), item)
						subRuleIDs[last.s] = id
					}
					item = id
				}
				if lo < 0 || hi < lo {
					panic(invalidPattern{fmt.Sprintf("bad repetition %s", cb)})
				}
				seq[len(seq)-1] = piece{repetition(item, lo, hi, ""), false}
			default:
				lit := ""
				for i < n {
					switch {
					case sub[i] == '\\':
						if i == n-1 {
							panic(invalidPattern{"trailing backslash"})
						}
						if strings.IndexByte(escapedInRegex, sub[i+1]) >= 0 {
							lit += sub[i+1 : i+2]
							i += 2
							continue
						}
						el := gbnfEscapeLength(sub, i)
						if el == 0 {
							panic(unsupportedPattern{"unsupported escape: " + sub[i:i+2]})
						}
						lit += sub[i : i+el]
						i += el
						continue
					case sub[i] == '"':
						lit += `\"`
						i++
						continue
					case strings.IndexByte(nonLiteral, sub[i]) < 0 &&
						(i == n-1 || lit == "" || sub[i+1] == '.' || strings.IndexByte(nonLiteral, sub[i+1]) < 0):
						lit += sub[i : i+1]
						i++
						continue
					}
					break
				}
				if lit == "" {
					panic(unsupportedPattern{"unsupported character: " + string(ch)})
				}
				seq = append(seq, piece{lit, true})
			}
		}
		return join()
	}
	r := transform().rule()
	if depth != 0 {
		return "", invalidPattern{"unbalanced parentheses"}
	}
	return c.addRule(name, `"\"" (`+r+`) "\""`), nil
}
