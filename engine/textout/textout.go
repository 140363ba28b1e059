// Package textout turns a model's generated token pieces into the text a
// caller receives, as it is generated: whole UTF-8 characters only, cut at
// the earliest stop string, and without the reasoning block of thinking
// models unless asked to keep it. Text is released as soon as nothing that
// follows can change it, so streamed pieces never need taking back.
//
// The stages run in this order: UTF-8 assembly (a character split across
// tokens waits for its last byte; bytes that can never form a character
// become U+FFFD), the thinking filter, then stop strings, which therefore
// apply to the text the caller sees.
package textout

import (
	"strings"
	"unicode/utf8"
)

// Thinking says what to do with a reasoning block (<think>...</think>).
type Thinking int

const (
	// KeepThinking passes the text through as generated.
	KeepThinking Thinking = iota
	// StripThinking removes a reasoning block at the start of the text
	// and the whitespace after it.
	StripThinking
	// StripOpenThinking is StripThinking for a prompt that already opened
	// the block (its generation prompt ends with <think>): the text up to
	// the first </think> is reasoning.
	StripOpenThinking
)

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// Stream is one generation's text. It is not safe for concurrent use.
type Stream struct {
	stops []string
	utf   []byte // bytes of an incomplete character
	// grammar: characters are delimited and decoded as the grammar
	// engine (llama.cpp's decode_utf8) does (GrammarUTF8).
	grammar bool

	think     thinkState
	thinkBuf  string // text the thinking filter holds
	stopBuf   string // visible text that may start a stop string
	stopped   bool
	released  strings.Builder
	reasoning strings.Builder
}

type thinkState int

const (
	thinkOff    thinkState = iota // pass everything
	thinkStart                    // not yet known whether the text opens a block
	thinkInside                   // in the block: dropped
	thinkAfter                    // after </think>: dropping whitespace
)

// New starts a stream that stops before the earliest of stops (empty
// strings are ignored) and handles thinking blocks as mode says.
func New(stops []string, mode Thinking) *Stream {
	s := &Stream{}
	for _, st := range stops {
		if st != "" {
			s.stops = append(s.stops, st)
		}
	}
	switch mode {
	case StripThinking:
		s.think = thinkStart
	case StripOpenThinking:
		s.think = thinkInside
	}
	return s
}

// GrammarUTF8 makes the stream read characters as a grammar does (for a
// generation under one): a lead byte says how many bytes the character
// has, and the low six bits of each following byte are taken as they are
// (llama.cpp's decode_utf8, which the grammar engine follows). A grammar
// counts and matches characters that way, so a model writing byte tokens
// can pass it sequences that are not valid UTF-8 (an overlong encoding, a
// surrogate, a code point past U+10FFFF) as one character each. Each is
// released as that character, validly encoded, or as one U+FFFD when it
// has no UTF-8 form, so the text has the characters the grammar matched
// (a string's maxLength still holds). Call it before the first Add.
func (s *Stream) GrammarUTF8() { s.grammar = true }

// Add appends one token's bytes. It returns the text released by this
// token and whether a stop string ended the text (further Adds are
// ignored then).
func (s *Stream) Add(piece string) (string, bool) {
	if s.stopped {
		return "", true
	}
	s.utf = append(s.utf, piece...)
	var cut int
	var text string
	if s.grammar {
		cut = grammarComplete(s.utf)
		text = grammarText(s.utf[:cut])
	} else {
		cut = completePrefix(s.utf)
		text = validUTF8(s.utf[:cut])
	}
	s.utf = append(s.utf[:0], s.utf[cut:]...)
	return s.push(text, false)
}

// Finish ends the stream and returns the text still held back.
func (s *Stream) Finish() string {
	if s.stopped {
		return ""
	}
	text := validUTF8(s.utf)
	if s.grammar {
		text = grammarText(s.utf)
	}
	s.utf = s.utf[:0]
	out, _ := s.push(text, true)
	return out
}

// grammarLen is the bytes of a character by its lead byte's high four
// bits, as the grammar engine reads them (0: not a lead byte).
var grammarLen = [16]int{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4}

// grammarComplete is the length of p's whole characters, as GrammarUTF8
// delimits them.
func grammarComplete(p []byte) int {
	i := 0
	for i < len(p) {
		n := max(grammarLen[p[i]>>4], 1)
		if i+n > len(p) {
			break
		}
		i += n
	}
	return i
}

// grammarText decodes p's characters as GrammarUTF8 does and encodes them
// as valid UTF-8. A byte that cannot start a character, and an incomplete
// character at the end, become U+FFFD.
func grammarText(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		n := grammarLen[p[i]>>4]
		if n == 0 || i+n > len(p) {
			b.WriteRune(utf8.RuneError)
			i++
			if n > 0 {
				i = len(p) // an incomplete character: its bytes are one
			}
			continue
		}
		r := rune(p[i] & (1<<(8-n) - 1)) // as the grammar engine masks it
		for k := 1; k < n; k++ {
			r = r<<6 | rune(p[i+k]&0x3F)
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// Text is everything released so far.
func (s *Stream) Text() string { return s.released.String() }

// Reasoning is the text of the thinking block that was removed.
func (s *Stream) Reasoning() string { return s.reasoning.String() }

// Stopped reports whether a stop string ended the text.
func (s *Stream) Stopped() bool { return s.stopped }

func (s *Stream) push(text string, final bool) (string, bool) {
	visible := s.filterThinking(text, final)
	out := s.filterStops(visible, final)
	s.released.WriteString(out)
	return out, s.stopped
}

// filterThinking returns the part of text that is not reasoning.
func (s *Stream) filterThinking(text string, final bool) string {
	if s.think == thinkOff {
		return text
	}
	s.thinkBuf += text
	for {
		switch s.think {
		case thinkStart:
			rest := strings.TrimLeft(s.thinkBuf, " \t\r\n")
			switch {
			case strings.HasPrefix(rest, thinkOpen):
				s.thinkBuf = rest[len(thinkOpen):]
				s.think = thinkInside
				continue
			case strings.HasPrefix(thinkOpen, rest) && !final:
				return "" // could still become <think>
			}
			s.think = thinkOff
			out := s.thinkBuf
			s.thinkBuf = ""
			return out
		case thinkInside:
			if i := strings.Index(s.thinkBuf, thinkClose); i >= 0 {
				s.reasoning.WriteString(s.thinkBuf[:i])
				s.thinkBuf = s.thinkBuf[i+len(thinkClose):]
				s.think = thinkAfter
				continue
			}
			// Keep only what may be the start of </think>.
			keep := partialSuffix(s.thinkBuf, []string{thinkClose})
			s.reasoning.WriteString(s.thinkBuf[:len(s.thinkBuf)-keep])
			s.thinkBuf = s.thinkBuf[len(s.thinkBuf)-keep:]
			if final {
				s.reasoning.WriteString(s.thinkBuf)
				s.thinkBuf = ""
			}
			return ""
		case thinkAfter:
			rest := strings.TrimLeft(s.thinkBuf, " \t\r\n")
			if rest == "" {
				s.thinkBuf = ""
				return ""
			}
			s.think = thinkOff
			s.thinkBuf = ""
			return rest
		default:
			out := s.thinkBuf
			s.thinkBuf = ""
			return out
		}
	}
}

// filterStops returns the text that can be released: up to the earliest
// stop string, or all but a tail that may be the start of one.
func (s *Stream) filterStops(text string, final bool) string {
	if len(s.stops) == 0 {
		return text
	}
	s.stopBuf += text
	at := -1
	for _, st := range s.stops {
		if i := strings.Index(s.stopBuf, st); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at >= 0 {
		out := s.stopBuf[:at]
		s.stopBuf = ""
		s.stopped = true
		return out
	}
	keep := 0
	if !final {
		keep = partialSuffix(s.stopBuf, s.stops)
	}
	out := s.stopBuf[:len(s.stopBuf)-keep]
	s.stopBuf = s.stopBuf[len(s.stopBuf)-keep:]
	return out
}

// partialSuffix is the length of the longest tail of text that is a
// proper prefix of one of pats (and so may become a match). Patterns are
// valid UTF-8, so the tail starts on a character boundary.
func partialSuffix(text string, pats []string) int {
	best := 0
	for _, p := range pats {
		for n := min(len(p)-1, len(text)); n > best; n-- {
			if strings.HasSuffix(text, p[:n]) {
				best = n
				break
			}
		}
	}
	return best
}

// completePrefix is the length of p without a trailing, still incomplete
// UTF-8 sequence.
func completePrefix(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if p[i]&0xC0 != 0x80 {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}

func validUTF8(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	return strings.ToValidUTF8(string(p), "\uFFFD")
}
