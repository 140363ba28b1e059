package tokenizer

import (
	"sync"
	"unicode"
)

// Code point classes as llama.cpp's unicode.cpp sees them. Its table was
// generated with Python's regex module, where \p{C} includes unassigned code
// points, so every code point below 0x110000 has exactly one category bit;
// only values past Unicode's range are "undefined".
const (
	fNumber    uint16 = 1 << iota // \p{N}
	fLetter                       // \p{L}
	fSeparator                    // \p{Z}
	fMark                         // \p{M}
	fPunct                        // \p{P}
	fSymbol                       // \p{S}
	fControl                      // \p{C}, including unassigned
	fSpace                        // \s (Unicode White_Space)
	fUndefined                    // beyond U+10FFFF

	fCategories = fNumber | fLetter | fSeparator | fMark | fPunct | fSymbol | fControl
)

const maxCodepoint = 0x110000

var (
	flagTableOnce sync.Once
	flagTable     []uint8 // category and whitespace bits of each code point
)

// buildFlagTable fills one byte per code point from Go's range tables: cheap
// (a few milliseconds) and done once, the first time a tokenizer loads.
func buildFlagTable() {
	t := make([]uint8, maxCodepoint)
	for i := range t {
		t[i] = uint8(fControl)
	}
	cats := []struct {
		tab  *unicode.RangeTable
		flag uint16
	}{
		{unicode.L, fLetter}, {unicode.N, fNumber}, {unicode.Z, fSeparator},
		{unicode.M, fMark}, {unicode.P, fPunct}, {unicode.S, fSymbol},
	}
	for _, c := range cats {
		eachRune(c.tab, func(r rune) { t[r] = uint8(c.flag) })
	}
	eachRune(unicode.White_Space, func(r rune) { t[r] |= uint8(fSpace) })
	flagTable = t
}

func eachRune(tab *unicode.RangeTable, f func(rune)) {
	for _, r := range tab.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			f(c)
		}
	}
	for _, r := range tab.R32 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			f(c)
		}
	}
}

// cpFlags returns the class bits of r. The table must have been built
// (Load does it).
func cpFlags(r rune) uint16 {
	if uint32(r) < maxCodepoint {
		return uint16(flagTable[r])
	}
	return fUndefined
}

// toLower is unicode_tolower: the first code point of the full lowercase
// mapping, which for single code points is Go's simple mapping.
func toLower(r rune) rune {
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			return r + 32
		}
		return r
	}
	if uint32(r) >= maxCodepoint {
		return r
	}
	return unicode.ToLower(r)
}

// utf8Len is unicode_len_utf8: the sequence length announced by a lead byte,
// with continuation bytes counting as 1. llama.cpp splits SPM and BPE
// symbols with it without validating the bytes that follow.
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// decodeCodepoints is unicode_cpts_from_utf8: it accepts any well-formed
// bit pattern (overlong forms and surrogates included) and turns each byte
// that does not start one into U+FFFD.
func decodeCodepoints(s string, out []rune) []rune {
	for i := 0; i < len(s); {
		b := s[i]
		if b < 0x80 {
			out = append(out, rune(b))
			i++
			continue
		}
		var n int
		var r rune
		switch {
		case b&0x40 == 0:
			n = 0
		case b&0x20 == 0:
			n, r = 2, rune(b&0x1f)
		case b&0x10 == 0:
			n, r = 3, rune(b&0x0f)
		case b&0x08 == 0:
			n, r = 4, rune(b&0x07)
		}
		ok := n > 0 && i+n <= len(s)
		for k := 1; ok && k < n; k++ {
			c := s[i+k]
			if c&0xc0 != 0x80 {
				ok = false
				break
			}
			r = r<<6 | rune(c&0x3f)
		}
		if !ok {
			out = append(out, 0xFFFD)
			i++
			continue
		}
		out = append(out, r)
		i += n
	}
	return out
}

// appendCodepoint is unicode_cpt_to_utf8. It writes surrogates like any
// other 3-byte value (llama.cpp does), and U+FFFD for values past U+10FFFF,
// where llama.cpp would throw.
func appendCodepoint(b []byte, r rune) []byte {
	switch {
	case r < 0:
		return append(b, 0xEF, 0xBF, 0xBD)
	case r <= 0x7f:
		return append(b, byte(r))
	case r <= 0x7ff:
		return append(b, 0xc0|byte(r>>6), 0x80|byte(r&0x3f))
	case r <= 0xffff:
		return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6&0x3f), 0x80|byte(r&0x3f))
	case r <= 0x10ffff:
		return append(b, 0xf0|byte(r>>18), 0x80|byte(r>>12&0x3f), 0x80|byte(r>>6&0x3f), 0x80|byte(r&0x3f))
	}
	return append(b, 0xEF, 0xBF, 0xBD)
}
