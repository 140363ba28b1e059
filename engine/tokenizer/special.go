package tokenizer

import "strings"

// fragment is a piece of the input after special-token partitioning: either
// a token (token >= 0) or the raw text text[start:end].
type fragment struct {
	token      int32
	start, end int
}

// partition is tokenizer_st_partition: for each special token, longest
// first, every occurrence in the raw fragments becomes that token. Control
// and unknown tokens are only looked for with parseSpecial; user-defined
// ones always are. Tokens with lstrip/rstrip attributes eat the ASCII
// whitespace before/after them.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{token: -1, start: 0, end: len(text)}}
	var next []fragment
	// Many special tokens share their first bytes ("<|"); when those never
	// occur, one scan rules them all out.
	var prefixSeen map[string]bool
	for _, id := range t.special {
		a := t.attrs[id]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.tokens[id]
		pre := tok[:min(2, len(tok))]
		seen, ok := prefixSeen[pre]
		if !ok {
			if prefixSeen == nil {
				prefixSeen = map[string]bool{}
			}
			seen = strings.Contains(text, pre)
			prefixSeen[pre] = seen
		}
		if !seen {
			continue
		}
		// Skip the rewrite when the token occurs nowhere.
		found := false
		for _, f := range frags {
			if f.token < 0 && strings.Contains(text[f.start:f.end], tok) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		next = next[:0]
		for _, f := range frags {
			if f.token >= 0 {
				next = append(next, f)
				continue
			}
			start, end := f.start, f.end
			for start < end {
				i := strings.Index(text[start:end], tok)
				if i < 0 {
					break
				}
				m := start + i
				left := m
				if a&attrLStrip != 0 {
					for left > start && isCSpace(text[left-1]) {
						left--
					}
				}
				if left > start {
					next = append(next, fragment{token: -1, start: start, end: left})
				}
				next = append(next, fragment{token: id, start: m, end: m + len(tok)})
				start = m + len(tok)
				if a&attrRStrip != 0 {
					for start < end && isCSpace(text[start]) {
						start++
					}
				}
			}
			if start < end {
				next = append(next, fragment{token: -1, start: start, end: end})
			}
		}
		frags, next = next, frags
	}
	return frags
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
