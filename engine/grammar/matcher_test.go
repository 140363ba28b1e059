package grammar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tokenizer"
	"github.com/llmsql/llmsql/internal/testutil"
)

// unit is one piece of a test string of llama.cpp's integration test: a
// run of text (read one code point per token) or a token id.
type unit struct {
	text string
	tok  int32
}

type units []unit

func (u *units) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			*u = append(*u, unit{text: s, tok: -1})
			continue
		}
		n, err := strconv.Atoi(string(r))
		if err != nil {
			return err
		}
		*u = append(*u, unit{tok: int32(n)})
	}
	return nil
}

type integrationCase struct {
	Kind    string  `json:"kind"`
	Desc    string  `json:"desc"`
	Grammar string  `json:"grammar"`
	Fails   bool    `json:"fails"`
	Pass    []units `json:"pass"`
	Fail    []units `json:"fail"`
}

// unitVocab gives every token id the cases use the text "<[id]>" (as
// llama.cpp's test does) and every code point of their text a token of its
// own, numbered from 1<<20 so no grammar's token element names one.
type unitVocab struct {
	pieces map[int32]string
	byCP   map[rune]int32
	n      int32
}

func newUnitVocab(cases []integrationCase) *unitVocab {
	v := &unitVocab{pieces: map[int32]string{}, byCP: map[rune]int32{}, n: 1 << 20}
	add := func(us []units) {
		for _, u := range us {
			for _, x := range u {
				if x.tok >= 0 {
					v.pieces[x.tok] = fmt.Sprintf("<[%d]>", x.tok)
					continue
				}
				for _, r := range x.text {
					if _, ok := v.byCP[r]; !ok {
						v.byCP[r] = v.n
						v.pieces[v.n] = string(r)
						v.n++
					}
				}
			}
		}
	}
	for _, c := range cases {
		add(c.Pass)
		add(c.Fail)
	}
	return v
}

func (v *unitVocab) vocab() *Vocab {
	return NewVocab(int(v.n), func(id int32) []byte { return []byte(v.pieces[id]) }, func(int32) bool { return false })
}

func (v *unitVocab) tokens(u units) []int32 {
	var out []int32
	for _, x := range u {
		if x.tok >= 0 {
			out = append(out, x.tok)
			continue
		}
		for _, r := range x.text {
			out = append(out, v.byCP[r])
		}
	}
	return out
}

func mustCompile(t testing.TB, g *Grammar, v *Vocab) *Compiled {
	t.Helper()
	c, err := Compile(g, v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// matches runs toks through a fresh matcher the way llama.cpp's test does:
// every token must be accepted and the grammar complete at the end.
func matches(c *Compiled, toks []int32) bool {
	m := c.NewMatcher()
	for _, t := range toks {
		if m.Accept(t) != nil {
			return false
		}
	}
	return m.Complete()
}

func TestIntegrationCasesFromLlamaCpp(t *testing.T) {
	var cases []integrationCase
	readJSON(t, "testdata/llama_integration.json", &cases)
	uv := newUnitVocab(cases)
	v := uv.vocab()
	n := 0
	for _, tc := range cases {
		g, err := Parse(tc.Grammar)
		if tc.Kind == "build" {
			if (err != nil) != tc.Fails {
				t.Errorf("%q: parse error %v, llama.cpp fails=%v", tc.Grammar, err, tc.Fails)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.Desc, err)
			continue
		}
		c := mustCompile(t, g, v)
		for _, s := range tc.Pass {
			n++
			if !matches(c, uv.tokens(s)) {
				t.Errorf("%s: %v should match", tc.Desc, s)
			}
		}
		for _, s := range tc.Fail {
			n++
			if matches(c, uv.tokens(s)) {
				t.Errorf("%s: %v should not match", tc.Desc, s)
			}
		}
	}
	t.Logf("%d strings", n)
}

// The cases test-llama-grammar.cpp checks on its hand-built grammar: the
// stacks the start state expands to, and which of the characters '%'
// (37) to '<' (60) each of them accepts.
func TestInitialStacksAsLlamaCpp(t *testing.T) {
	E := func(t ElemType, v uint32) Element { return Element{t, v} }
	g := &Grammar{Names: make([]string, 13), Rules: [][]Element{
		{E(RuleRef, 5), E(End, 0)},
		{E(RuleRef, 2), E(Char, 61), E(RuleRef, 3), E(RuleRef, 4), E(Char, 10), E(End, 0)},
		{E(RuleRef, 4), E(RuleRef, 7), E(End, 0)},
		{E(RuleRef, 12), E(End, 0)},
		{E(RuleRef, 8), E(Alt, 0), E(RuleRef, 9), E(Alt, 0), E(Char, 40), E(RuleRef, 3), E(RuleRef, 2), E(Char, 41), E(RuleRef, 3), E(End, 0)},
		{E(RuleRef, 1), E(RuleRef, 5), E(Alt, 0), E(RuleRef, 1), E(End, 0)},
		{E(Char, 45), E(CharAlt, 43), E(CharAlt, 42), E(CharAlt, 47), E(RuleRef, 4), E(End, 0)},
		{E(RuleRef, 6), E(RuleRef, 7), E(Alt, 0), E(End, 0)},
		{E(Char, 97), E(CharRngUpper, 122), E(RuleRef, 10), E(RuleRef, 3), E(End, 0)},
		{E(RuleRef, 11), E(RuleRef, 3), E(End, 0)},
		{E(Char, 97), E(CharRngUpper, 122), E(CharAlt, 48), E(CharRngUpper, 57), E(CharAlt, 95), E(RuleRef, 10), E(Alt, 0), E(End, 0)},
		{E(Char, 48), E(CharRngUpper, 57), E(RuleRef, 11), E(Alt, 0), E(Char, 48), E(CharRngUpper, 57), E(End, 0)},
		{E(Char, 32), E(CharAlt, 9), E(CharAlt, 10), E(RuleRef, 12), E(Alt, 0), E(End, 0)},
	}}
	// llama.cpp's expected stacks, bottom first, and the characters each
	// rejects (from the test's expected_reject).
	want := []struct {
		stack   []Element
		rejects string
	}{
		{[]Element{E(Char, 61), E(RuleRef, 7), E(Char, 40)}, "%&'" + ")*+,-./0123456789:;<"},
		{[]Element{E(Char, 61), E(RuleRef, 7), E(RuleRef, 3), E(Char, 48)}, "%&'()*+,-./:;<"},
		{[]Element{E(Char, 61), E(RuleRef, 7), E(RuleRef, 3), E(Char, 48)}, "%&'()*+,-./:;<"},
		{[]Element{E(Char, 61), E(RuleRef, 7), E(Char, 97)}, "%&'()*+,-./0123456789:;"},
		{[]Element{E(RuleRef, 5), E(Char, 61), E(RuleRef, 7), E(Char, 40)}, "%&'" + ")*+,-./0123456789:;<"},
		{[]Element{E(RuleRef, 5), E(Char, 61), E(RuleRef, 7), E(RuleRef, 3), E(Char, 48)}, "%&'()*+,-./:;<"},
		{[]Element{E(RuleRef, 5), E(Char, 61), E(RuleRef, 7), E(RuleRef, 3), E(Char, 48)}, "%&'()*+,-./:;<"},
		{[]Element{E(RuleRef, 5), E(Char, 61), E(RuleRef, 7), E(Char, 97)}, "%&'()*+,-./0123456789:;"},
	}
	// The test tries the characters 37 to 59.
	u := newUniverse(newMachine(g), NewVocab(0, nil, nil), nil)
	start := u.initial()
	got := map[string]int32{}
	for _, st := range u.sets[start].stacks {
		var elems []string
		for s := st; s != emptyStack; s = u.stackRest[s] {
			elems = append([]string{fmt.Sprint(u.m.elems[u.stackTop[s]])}, elems...)
		}
		got[strings.Join(elems, " ")] = st
	}
	// llama.cpp lists two equal stacks twice (its two ways to reach them);
	// as a set there are six.
	if len(got) != 6 {
		t.Fatalf("start state has %d distinct stacks, want 6: %v", len(got), got)
	}
	for _, w := range want {
		var elems []string
		for _, e := range w.stack {
			elems = append(elems, fmt.Sprint(e))
		}
		st, ok := got[strings.Join(elems, " ")]
		if !ok {
			t.Fatalf("missing stack %v", elems)
		}
		one := u.intern([]int32{st})
		for c := uint32(37); c <= 59; c++ {
			rejected := u.step(one, c) == deadSet
			if want := strings.ContainsRune(w.rejects, rune(c)); rejected != want {
				t.Errorf("stack %v, char %q: rejected=%v, llama.cpp %v", elems, rune(c), rejected, want)
			}
		}
	}
}

// maskCase is one walk of testdata/llama_masks.json: llama.cpp's allowed
// tokens at each step of a random path through a grammar on a real
// vocabulary (their count and FNV-1a hash, and the ids when few).
type maskCase struct {
	Vocab   string `json:"vocab"`
	Name    string `json:"name"`
	Grammar string `json:"grammar"`
	Seed    int    `json:"seed"`
	Error   string `json:"error"`
	Steps   []struct {
		Count   int     `json:"count"`
		FNV     string  `json:"fnv"`
		Allowed []int32 `json:"allowed"`
		Pick    int32   `json:"pick"`
	} `json:"steps"`
}

var vocabFiles = map[string]string{
	"stories260K": "models/stories260K.gguf",
	"llama-spm":   "vocab/ggml-vocab-llama-spm.gguf",
	"gpt-2":       "vocab/ggml-vocab-gpt-2.gguf",
	"qwen3":       "vocab/ggml-vocab-qwen3.gguf",
}

var (
	vocabMu    sync.Mutex
	vocabCache = map[string]*testVocab{}
)

type testVocab struct {
	tok *tokenizer.Tokenizer
	v   *Vocab
}

// loadVocab prepares a vocabulary from ../shared as the engine does.
func loadVocab(t testing.TB, name string) *testVocab {
	vocabMu.Lock()
	defer vocabMu.Unlock()
	if tv, ok := vocabCache[name]; ok {
		return tv
	}
	f, err := gguf.Open(testutil.Shared(t, vocabFiles[name]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tv := &testVocab{tok: tok, v: NewVocab(tok.VocabSize(), func(id int32) []byte { return []byte(tok.PieceSpecial(id)) }, tok.IsEOG)}
	vocabCache[name] = tv
	return tv
}

func allowedList(mask []uint64, n int) []int32 {
	var out []int32
	for t := int32(0); int(t) < n; t++ {
		if MaskHas(mask, t) {
			out = append(out, t)
		}
	}
	return out
}

func fnvIDs(ids []int32) string {
	h := uint64(1469598103934665603)
	for i, id := range ids {
		s := strconv.Itoa(int(id))
		if i > 0 {
			s = " " + s
		}
		for j := 0; j < len(s); j++ {
			h ^= uint64(s[j])
			h *= 1099511628211
		}
	}
	return fmt.Sprintf("%016x", h)
}

func TestMasksMatchLlamaCpp(t *testing.T) {
	var cases []maskCase
	readJSON(t, "testdata/llama_masks.json", &cases)
	steps := 0
	for _, mc := range cases {
		if testing.Short() && mc.Vocab == "qwen3" {
			continue
		}
		tv := loadVocab(t, mc.Vocab)
		g, err := Parse(mc.Grammar)
		if err != nil {
			t.Fatalf("%s: %v", mc.Name, err)
		}
		name := fmt.Sprintf("%s/%s/%d", mc.Vocab, mc.Name, mc.Seed)
		// Masks come from one compiled grammar; single-token checks from
		// another that never computes a mask, so both paths are tested.
		m := mustCompile(t, g, tv.v).NewMatcher()
		single := mustCompile(t, g, tv.v).NewMatcher()
		rng := rand.New(rand.NewPCG(uint64(mc.Seed), 7))
		for i, st := range mc.Steps {
			steps++
			got := allowedList(m.Mask(), tv.v.n)
			if len(got) != st.Count || fnvIDs(got) != st.FNV || (st.Allowed != nil && !slicesEqual(got, st.Allowed)) {
				t.Errorf("%s step %d: %d tokens allowed, llama.cpp %d (%v...)", name, i, len(got), st.Count, got[:min(len(got), 20)])
				break
			}
			mask := m.Mask()
			for k := 0; k < 300; k++ {
				tok := int32(rng.IntN(tv.v.n))
				if k < len(got) && k%2 == 0 {
					tok = got[rng.IntN(len(got))]
				}
				if single.Allowed(tok) != MaskHas(mask, tok) {
					t.Errorf("%s step %d: Allowed(%d %q) = %v, mask says %v", name, i, tok, tv.tok.PieceSpecial(tok), !MaskHas(mask, tok), MaskHas(mask, tok))
				}
			}
			if st.Pick < 0 {
				break
			}
			err := m.Accept(st.Pick)
			errSingle := single.Accept(st.Pick)
			if (err != nil) != (errSingle != nil) {
				t.Fatalf("%s step %d: Accept differs between matchers: %v / %v", name, i, err, errSingle)
			}
			last := i == len(mc.Steps)-1
			if mc.Error == "accept" && last {
				if err == nil {
					t.Errorf("%s step %d: token %d accepted, llama.cpp's accept failed", name, i, st.Pick)
				}
				break
			}
			if err != nil {
				t.Errorf("%s step %d: %v", name, i, err)
				break
			}
		}
	}
	t.Logf("%d steps compared", steps)
}
