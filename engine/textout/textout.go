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

// Add appends one token's bytes. It returns the text released by this
// token and whether a stop string ended the text (further Adds are
// ignored then).
func (s *Stream) Add(piece string) (string, bool) {
	if s.stopped {
		return "", true
	}
	s.utf = append(s.utf, piece...)
	cut := completePrefix(s.utf)
	text := validUTF8(s.utf[:cut])
	s.utf = append(s.utf[:0], s.utf[cut:]...)
	return s.push(text, false)
}

// Finish ends the stream and returns the text still held back.
func (s *Stream) Finish() string {
	if s.stopped {
		return ""
	}
	text := validUTF8(s.utf)
	s.utf = s.utf[:0]
	out, _ := s.push(text, true)
	return out
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
