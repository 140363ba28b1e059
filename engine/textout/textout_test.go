package textout

import (
	"strings"
	"testing"
)

type tcase struct {
	name   string
	stops  []string
	mode   Thinking
	pieces []string // one per token; may split characters
	want   []string // released after each piece, then by Finish
	text   string   // the whole text
	stop   bool
	reason string // removed reasoning
}

func TestStream(t *testing.T) {
	e := "\xc3\xa9" // é
	cases := []tcase{
		{name: "plain", pieces: []string{"Hel", "lo"}, want: []string{"Hel", "lo", ""}, text: "Hello"},
		{name: "earliest match wins, not the first listed", stops: []string{"b", "a"}, pieces: []string{"ab"}, want: []string{"", ""}, text: "", stop: true},
		{name: "earliest across tokens", stops: []string{"cd", "bc"}, pieces: []string{"ab", "cd"}, want: []string{"a", "", ""}, text: "a", stop: true},
		{name: "stop spans tokens", stops: []string{"END"}, pieces: []string{"ok E", "N", "D more"}, want: []string{"ok ", "", "", ""}, text: "ok ", stop: true},
		{name: "false start released", stops: []string{"END"}, pieces: []string{"ok E", "Nx"}, want: []string{"ok ", "ENx", ""}, text: "ok ENx"},
		{name: "held tail released at finish", stops: []string{"END"}, pieces: []string{"abEN"}, want: []string{"ab", "EN"}, text: "abEN"},
		{name: "longest partial held", stops: []string{"xxy", "xy"}, pieces: []string{"axx", "y"}, want: []string{"a", "", ""}, text: "a", stop: true},
		{name: "stop at the very start", stops: []string{"\n"}, pieces: []string{"\nabc"}, want: []string{"", ""}, text: "", stop: true},
		{name: "adds after a stop are ignored", stops: []string{"."}, pieces: []string{"a.", "b"}, want: []string{"a", "", ""}, text: "a", stop: true},
		{name: "utf-8 split across tokens", pieces: []string{"caf", e[:1], e[1:] + "!"}, want: []string{"caf", "", e + "!", ""}, text: "café!"},
		{name: "4-byte char in three tokens", pieces: []string{"\xf0\x9f", "\x98", "\x80"}, want: []string{"", "", "😀", ""}, text: "😀"},
		{name: "incomplete char at the end", pieces: []string{"a", "\xe2\x82"}, want: []string{"a", "", "\uFFFD"}, text: "a\uFFFD"},
		{name: "invalid byte", pieces: []string{"a\xffb"}, want: []string{"a\uFFFDb", ""}, text: "a\uFFFDb"},
		{name: "stop after a split char", stops: []string{e}, pieces: []string{"x" + e[:1], e[1:] + "y"}, want: []string{"x", "", ""}, text: "x", stop: true},
		{name: "multibyte stop partly matched", stops: []string{"日本"}, pieces: []string{"a日", "x"}, want: []string{"a", "日x", ""}, text: "a日x"},

		{name: "think block removed", mode: StripThinking, pieces: []string{"<think>", "\nhmm\n", "</think>", "\n\n", "Answer"}, want: []string{"", "", "", "", "Answer", ""}, text: "Answer", reason: "\nhmm\n"},
		{name: "think tags split across tokens", mode: StripThinking, pieces: []string{"<th", "ink>x</thi", "nk>  A", "B"}, want: []string{"", "", "A", "B", ""}, text: "AB", reason: "x"},
		{name: "no think block", mode: StripThinking, pieces: []string{"<t", "able>"}, want: []string{"", "<table>", ""}, text: "<table>"},
		{name: "leading whitespace kept without a block", mode: StripThinking, pieces: []string{"\n", " hi"}, want: []string{"", "\n hi", ""}, text: "\n hi"},
		{name: "think later in the text is kept", mode: StripThinking, pieces: []string{"a <think>b</think>"}, want: []string{"a <think>b</think>", ""}, text: "a <think>b</think>"},
		{name: "prompt opened the block", mode: StripOpenThinking, pieces: []string{"reason", "ing</think>\n\nok"}, want: []string{"", "ok", ""}, text: "ok", reason: "reasoning"},
		{name: "unterminated block gives nothing", mode: StripOpenThinking, pieces: []string{"still thinking </th"}, want: []string{"", ""}, text: "", reason: "still thinking </th"},
		{name: "keep thinking", mode: KeepThinking, pieces: []string{"<think>x</think>y"}, want: []string{"<think>x</think>y", ""}, text: "<think>x</think>y"},
		{name: "stops apply after thinking", mode: StripThinking, stops: []string{"\n"}, pieces: []string{"<think>\na\n</think>\n\n", "line1\nline2"}, want: []string{"", "line1", ""}, text: "line1", stop: true, reason: "\na\n"},
		{name: "empty output", mode: StripThinking, pieces: nil, want: []string{""}, text: ""},
		{name: "only whitespace", mode: StripThinking, pieces: []string{"  "}, want: []string{"", "  "}, text: "  "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(c.stops, c.mode)
			var got []string
			for _, p := range c.pieces {
				out, _ := s.Add(p)
				got = append(got, out)
			}
			got = append(got, s.Finish())
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("pieces %q: released %q, want %q", c.pieces, got, c.want)
			}
			if s.Text() != c.text || strings.Join(got, "") != c.text {
				t.Errorf("text %q (joined %q), want %q", s.Text(), strings.Join(got, ""), c.text)
			}
			if s.Stopped() != c.stop {
				t.Errorf("stopped = %v", s.Stopped())
			}
			if s.Reasoning() != c.reason {
				t.Errorf("reasoning %q, want %q", s.Reasoning(), c.reason)
			}
		})
	}
}

// Whatever way a text is split into tokens, the result is the same.
func TestSplitInvariance(t *testing.T) {
	text := "<think>\nplan ✓\n</think>\n\nDone: café, 😀. STOP here"
	stops := []string{"STOP", "é,"}
	for _, mode := range []Thinking{KeepThinking, StripThinking} {
		whole := New(stops, mode)
		whole.Add(text)
		whole.Finish()
		for size := 1; size <= 7; size++ {
			s := New(stops, mode)
			for i := 0; i < len(text); i += size {
				s.Add(text[i:min(i+size, len(text))])
			}
			s.Finish()
			if s.Text() != whole.Text() || s.Reasoning() != whole.Reasoning() {
				t.Errorf("mode %d, %d-byte pieces: %q / %q, whole %q / %q", mode, size, s.Text(), s.Reasoning(), whole.Text(), whole.Reasoning())
			}
		}
	}
}

// TestGrammarUTF8 checks characters read as the grammar engine reads
// them: each sequence it takes as one character is one character of the
// text, validly encoded, or U+FFFD when it has none.
func TestGrammarUTF8(t *testing.T) {
	for _, c := range []struct {
		name   string
		pieces []string
		want   []string
	}{
		{"valid text as it is", []string{"caf\xc3", "\xa9 \xf0\x9f\x98\x80"}, []string{"caf", "é 😀", ""}},
		// F4 90 80 80 is U+110000, past the last code point: one U+FFFD
		// (the plain stream makes four).
		{"out of range", []string{"ab\xf4\x90", "\x80\x80c"}, []string{"ab", "\uFFFDc", ""}},
		// F8 leads four bytes too for the grammar, whose low four bits
		// it keeps: U+200041, past the last code point.
		{"five-byte lead", []string{"\xf8\x80\x81\x81"}, []string{"\uFFFD", ""}},
		// ED A0 80 is a surrogate: one U+FFFD.
		{"surrogate", []string{"\xed\xa0\x80x"}, []string{"\uFFFDx", ""}},
		// C1 81 is an overlong A: the grammar matched A.
		{"overlong", []string{"\xc1", "\x81!"}, []string{"", "A!", ""}},
		// Continuation bits are taken as they are: E4 41 42 is one
		// character (U+4042).
		{"loose continuation", []string{"\xe4AB"}, []string{"\u4042", ""}},
		{"incomplete at the end", []string{"a\xe4\x80"}, []string{"a", "\uFFFD"}},
		{"stray continuation byte", []string{"\x80a"}, []string{"\uFFFDa", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(nil, KeepThinking)
			s.GrammarUTF8()
			var got []string
			for _, p := range c.pieces {
				out, _ := s.Add(p)
				got = append(got, out)
			}
			got = append(got, s.Finish())
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("pieces %q: released %q, want %q", c.pieces, got, c.want)
			}
		})
	}
}
