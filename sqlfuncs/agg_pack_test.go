package sqlfuncs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// wordMeasurer counts a word as a token: an entry is its words and a
// 2-token label, a prompt its head, its entries and, as real tokenizers
// do across joins, extra tokens the entries measured alone do not show
// (one per joinEvery entries).
type wordMeasurer struct {
	head, joinEvery int
	prompts         int // promptTokens calls
}

func words(s string) int { return len(strings.Fields(s)) }

func (m *wordMeasurer) entryTokens(text string) (int, error) { return 2 + words(text), nil }

func (m *wordMeasurer) promptTokens(entries []string) (int, error) {
	m.prompts++
	n := m.head
	for _, e := range entries {
		n += 2 + words(e)
	}
	if m.joinEvery > 0 {
		n += len(entries) / m.joinEvery
	}
	return n, nil
}

func (m *wordMeasurer) cut(text string, n int) ([]string, error) {
	f := strings.Fields(text)
	var out []string
	for i := 0; i < len(f); i += n {
		out = append(out, strings.Join(f[i:min(i+n, len(f))], " "))
	}
	return out, nil
}

// pack runs texts through a packer and returns its prompts.
func pack(t *testing.T, m measurer, budget, minEntries int, texts []string) ([][]string, error) {
	t.Helper()
	p, err := newPacker(m, budget, minEntries)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, s := range texts {
		c, err := p.add(s)
		if err != nil {
			return out, err
		}
		out = append(out, c...)
	}
	c, err := p.flush()
	return append(out, c...), err
}

func text(n int, tag string) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%s%d", tag, i)
	}
	return strings.Join(w, " ")
}

func TestPackFillsPromptsInOrder(t *testing.T) {
	m := &wordMeasurer{head: 10}
	// Entries of 3+2 = 5 tokens; a prompt of 30 holds 10 + 4*5.
	var texts []string
	for i := range 10 {
		texts = append(texts, text(3, fmt.Sprintf("t%d_", i)))
	}
	got, err := pack(t, m, 30, 1, texts)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{texts[0:4], texts[4:8], texts[8:10]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	// Every prompt was measured whole once, plus the head.
	if m.prompts != 1+3 {
		t.Fatalf("%d prompt measures, want 4", m.prompts)
	}
}

// Tokens that do not add up across joins: the whole prompt's measure
// hands entries back to the next prompt, and no prompt exceeds the budget.
func TestPackMeasuresWholePrompt(t *testing.T) {
	m := &wordMeasurer{head: 10, joinEvery: 2}
	var texts []string
	for i := range 12 {
		texts = append(texts, text(3, fmt.Sprintf("t%d_", i)))
	}
	got, err := pack(t, m, 30, 1, texts)
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	for _, p := range got {
		n, _ := m.promptTokens(p)
		if n > 30 {
			t.Fatalf("prompt %q measures %d > 30", p, n)
		}
		flat = append(flat, p...)
	}
	if !reflect.DeepEqual(flat, texts) {
		t.Fatalf("entries lost or reordered: %q", flat)
	}
	// 4 entries measure 32 with the joins, so 3 go to a prompt.
	if len(got[0]) != 3 {
		t.Fatalf("first prompt holds %d entries, want 3 (4 measure 32)", len(got[0]))
	}
}

// A text longer than a prompt is cut into pieces, in order, each fitting.
func TestPackCutsLongTexts(t *testing.T) {
	m := &wordMeasurer{head: 10}
	long := text(100, "w")
	got, err := pack(t, m, 40, 1, []string{"a b", long, "c d"})
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	for _, p := range got {
		n, _ := m.promptTokens(p)
		if n > 40 {
			t.Fatalf("prompt measures %d > 40", n)
		}
		flat = append(flat, p...)
	}
	if flat[0] != "a b" || flat[len(flat)-1] != "c d" {
		t.Fatalf("order lost: %q", flat)
	}
	if joined := strings.Join(flat[1:len(flat)-1], " "); joined != long {
		t.Fatalf("pieces do not make the text again: %q", joined)
	}
	if len(got) < 4 {
		t.Fatalf("a 100-token text in prompts of 30: %d prompts", len(got))
	}
}

// A piece that measures short alone but not in the prompt (the cut's
// guess was off) is cut again to what the overflow says.
type lyingMeasurer struct{ wordMeasurer }

func (m *lyingMeasurer) entryTokens(text string) (int, error) {
	n := words(text)
	return 2 + n/2, nil // says half
}

func TestPackRecutsWhatMeasuredShort(t *testing.T) {
	m := &lyingMeasurer{wordMeasurer{head: 10}}
	long := text(50, "w")
	got, err := pack(t, m, 40, 1, []string{long})
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	for _, p := range got {
		if n, _ := m.promptTokens(p); n > 40 {
			t.Fatalf("prompt measures %d > 40", n)
		}
		flat = append(flat, p...)
	}
	if strings.Join(flat, " ") != long {
		t.Fatalf("pieces do not make the text again: %q", flat)
	}
}

// Combining needs two answers per prompt: fewer is an error, so levels
// always shrink.
func TestPackTooFewPerPrompt(t *testing.T) {
	m := &wordMeasurer{head: 10}
	_, err := pack(t, m, 30, 2, []string{text(10, "a"), text(10, "b"), text(10, "c")})
	if !errors.Is(err, errTooFewPerPrompt) {
		t.Fatalf("got %v, want errTooFewPerPrompt", err)
	}
	// Two that fit are fine; one alone at the end too.
	got, err := pack(t, m, 40, 2, []string{text(10, "a"), text(10, "b"), text(10, "c")})
	if err != nil || len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
		t.Fatalf("got %q, %v", got, err)
	}
	// The head alone over the budget is an error at once.
	if _, err := newPacker(&wordMeasurer{head: 50}, 40, 1); err == nil {
		t.Fatal("a head longer than the budget was accepted")
	}
}

// The same texts pack the same way every time.
func TestPackDeterministic(t *testing.T) {
	var texts []string
	for i := range 40 {
		texts = append(texts, text(1+i%7, fmt.Sprintf("t%d_", i)))
	}
	first, err := pack(t, &wordMeasurer{head: 5, joinEvery: 3}, 25, 1, texts)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, _ := pack(t, &wordMeasurer{head: 5, joinEvery: 3}, 25, 1, texts)
		if !reflect.DeepEqual(first, again) {
			t.Fatal("packing differs between runs")
		}
	}
}

func TestWholeRunes(t *testing.T) {
	// "é" is 2 bytes and "€" 3: cuts inside them move the lead bytes on.
	s := "aé€b"
	for cut1 := 1; cut1 < len(s); cut1++ {
		for cut2 := cut1 + 1; cut2 < len(s); cut2++ {
			pieces := wholeRunes([]string{s[:cut1], s[cut1:cut2], s[cut2:]})
			if strings.Join(pieces, "") != s {
				t.Fatalf("cuts %d,%d: %q", cut1, cut2, pieces)
			}
			for _, p := range pieces[:len(pieces)-1] {
				if !utf8.ValidString(p) {
					t.Fatalf("cuts %d,%d: piece %q is not valid UTF-8", cut1, cut2, p)
				}
			}
		}
	}
}
