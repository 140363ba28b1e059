package grammar

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A direct transcription of llama.cpp's grammar algorithm (stacks as
// slices, every candidate token matched against every stack), used to check
// the interned, trie-walking implementation on random grammars and random
// vocabularies full of partial and invalid UTF-8.

type refGrammar struct {
	m        *machine
	pieces   [][]byte
	eog      []bool
	overflow bool // an expansion went past maxExpand (llama.cpp would loop forever)
}

type refStack []int32

func (r *refGrammar) advance(stack refStack, out []refStack) []refStack {
	m := r.m
	todo := []refStack{stack}
	var seen []refStack
	for len(todo) > 0 {
		cur := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if slices.ContainsFunc(seen, func(s refStack) bool { return slices.Equal(s, cur) }) {
			continue
		}
		seen = append(seen, cur)
		if len(seen) > maxExpand {
			r.overflow = true
			return out
		}
		if len(cur) == 0 || m.elems[cur[len(cur)-1]].Type != RuleRef {
			if !slices.ContainsFunc(out, func(s refStack) bool { return slices.Equal(s, cur) }) {
				out = append(out, cur)
			}
			continue
		}
		pos := cur[len(cur)-1]
		sub := m.ruleStart[m.elems[pos].Value]
		for {
			next := slices.Clone(cur[:len(cur)-1])
			if !m.endOfSeq(pos + 1) {
				next = append(next, pos+1)
			}
			if !m.endOfSeq(sub) {
				next = append(next, sub)
			}
			todo = append(todo, next)
			for !m.endOfSeq(sub) {
				sub++
			}
			if m.elems[sub].Type != Alt {
				break
			}
			sub++
		}
	}
	return out
}

func (r *refGrammar) acceptChr(stack refStack, c uint32, out []refStack) []refStack {
	if len(stack) == 0 {
		return out
	}
	pos := stack[len(stack)-1]
	if t := r.m.elems[pos].Type; t == Token || t == TokenNot {
		return out
	}
	ok, next := r.m.matchChar(pos, c)
	if !ok {
		return out
	}
	ns := slices.Clone(stack[:len(stack)-1])
	if !r.m.endOfSeq(next) {
		ns = append(ns, next)
	}
	return r.advance(ns, out)
}

type refCand struct {
	id  int32
	cps []uint32
	p   partial
}

// reject is llama_grammar_reject_candidates: the candidates no stack takes.
func (r *refGrammar) reject(stacks []refStack, cands []refCand) []refCand {
	if len(cands) == 0 {
		return nil
	}
	if len(stacks) == 0 { // only after an overflow
		return cands
	}
	rej := r.rejectForStack(stacks[0], cands)
	for _, s := range stacks[1:] {
		rej = r.rejectForStack(s, rej)
	}
	return rej
}

func (r *refGrammar) rejectForStack(stack refStack, cands []refCand) []refCand {
	var rej []refCand
	if len(stack) == 0 {
		for _, c := range cands {
			if len(c.cps) != 0 || c.p.n != 0 {
				rej = append(rej, c)
			}
		}
		return rej
	}
	pos := stack[len(stack)-1]
	if t := r.m.elems[pos].Type; t == Token || t == TokenNot {
		for _, c := range cands {
			if len(c.cps) == 0 {
				if c.p.n != 0 {
					rej = append(rej, c)
				}
			} else if (t == Token) != (r.m.elems[pos].Value == uint32(c.id)) {
				rej = append(rej, c)
			}
		}
		return rej
	}
	var next []refCand
	for _, c := range cands {
		if len(c.cps) == 0 {
			if c.p.n != 0 && !r.m.matchPartial(pos, c.p) {
				rej = append(rej, c)
			}
		} else if ok, _ := r.m.matchChar(pos, c.cps[0]); ok {
			next = append(next, refCand{c.id, c.cps[1:], c.p})
		} else {
			rej = append(rej, c)
		}
	}
	_, after := r.m.matchChar(pos, 0)
	sa := slices.Clone(stack[:len(stack)-1])
	if !r.m.endOfSeq(after) {
		sa = append(sa, after)
	}
	nextStacks := r.advance(sa, nil)
	// Rejected candidates go back with the code point this level read
	// (llama.cpp's code_points - 1), so later stacks see them whole.
	byID := map[int32]refCand{}
	for _, c := range cands {
		byID[c.id] = c
	}
	for _, c := range r.reject(nextStacks, next) {
		rej = append(rej, byID[c.id])
	}
	return rej
}

// allowed is llama_grammar_apply_impl over the whole vocabulary.
func (r *refGrammar) allowed(stacks []refStack, open partial) []int32 {
	allowEOG := slices.ContainsFunc(stacks, func(s refStack) bool { return len(s) == 0 })
	var out []int32
	var cands []refCand
	for id, p := range r.pieces {
		switch {
		case r.eog[id]:
			if allowEOG {
				out = append(out, int32(id))
			}
		case len(p) == 0 || p[0] == 0:
		default:
			cps, end, ok := decodePiece(nil, p, open)
			if !ok {
				cps = nil
			}
			cands = append(cands, refCand{int32(id), cps, end})
		}
	}
	rejected := map[int32]bool{}
	for _, c := range r.reject(stacks, cands) {
		rejected[c.id] = true
	}
	for _, c := range cands {
		if !rejected[c.id] {
			out = append(out, c.id)
		}
	}
	slices.Sort(out)
	return out
}

// acceptToken is llama_grammar_accept_token.
func (r *refGrammar) acceptToken(stacks []refStack, open partial, tok int32) ([]refStack, partial) {
	if r.eog[tok] {
		return stacks, open
	}
	cps, end, _ := decodePiece(nil, r.pieces[tok], open)
	var out []refStack
	for _, s := range stacks {
		if len(s) == 0 {
			continue
		}
		pos := s[len(s)-1]
		if t := r.m.elems[pos].Type; t == Token || t == TokenNot {
			if (t == Token) == (r.m.elems[pos].Value == uint32(tok)) {
				ns := slices.Clone(s[:len(s)-1])
				if !r.m.endOfSeq(pos + 1) {
					ns = append(ns, pos+1)
				}
				out = r.advance(ns, out)
			}
			continue
		}
		cur := []refStack{s}
		for _, c := range cps {
			var next []refStack
			for _, cs := range cur {
				next = r.acceptChr(cs, c, next)
			}
			cur = next
			if len(cur) == 0 {
				break
			}
		}
		for _, cs := range cur {
			if !slices.ContainsFunc(out, func(x refStack) bool { return slices.Equal(x, cs) }) {
				out = append(out, cs)
			}
		}
	}
	return out, end
}

func (r *refGrammar) initial() []refStack {
	m := r.m
	var out []refStack
	pos := m.ruleStart[m.root]
	for {
		var s refStack
		if !m.endOfSeq(pos) {
			s = refStack{pos}
		}
		out = r.advance(s, out)
		for !m.endOfSeq(pos) {
			pos++
		}
		if m.elems[pos].Type != Alt {
			break
		}
		pos++
	}
	return out
}

// randomPiece makes token text full of what trips up UTF-8 handling.
func randomPiece(rng *rand.Rand) []byte {
	chars := []string{"a", "b", "c", "x", "0", "1", "\"", "\\", " ", "\n", "é", "日", "本", "😀", "ぁ", "{", "}", ","}
	var p []byte
	n := 1 + rng.IntN(4)
	for range n {
		switch rng.IntN(10) {
		case 0: // a lead byte alone
			p = append(p, []byte{0xC3, 0xE6, 0xF0}[rng.IntN(3)])
		case 1: // continuation bytes
			p = append(p, 0x80|byte(rng.IntN(64)))
		case 2: // a character cut after its first bytes
			c := []byte(chars[10+rng.IntN(5)])
			p = append(p, c[:1+rng.IntN(len(c)-1)]...)
		default:
			p = append(p, chars[rng.IntN(len(chars))]...)
		}
	}
	switch rng.IntN(40) {
	case 0:
		p = nil
	case 1:
		p = append([]byte{0}, p...)
	case 2:
		p = append(p, 0, 'z')
	}
	return p
}

// randomGrammar writes a small random GBNF grammar over the same characters.
func randomGrammar(rng *rand.Rand, nTokens int) string {
	nRules := 1 + rng.IntN(4)
	name := func(i int) string {
		if i == 0 {
			return "root"
		}
		return fmt.Sprintf("r%d", i)
	}
	var item func(depth int) string
	item = func(depth int) string {
		var s string
		switch rng.IntN(12) {
		case 0, 1:
			s = []string{`"a"`, `"bc"`, `"é"`, `"日本"`, `"😀"`, `"\""`, `"\\"`, `"x1"`}[rng.IntN(8)]
		case 2, 3:
			s = []string{`[a-c]`, `[^a]`, `[0-9]`, `[à-ÿ]`, `[^"\\]`, `[ぁ-ゖ]`, `[\U0001F600-\U0001F64F]`, `[^\x00-\x7F]`, `[a\n ]`}[rng.IntN(9)]
		case 4:
			s = "."
		case 5, 6:
			s = name(rng.IntN(nRules))
		case 7:
			if depth < 2 {
				s = "(" + item(depth+1) + " " + item(depth+1) + " | " + item(depth+1) + ")"
			} else {
				s = `"c"`
			}
		case 8:
			if rng.IntN(3) == 0 {
				return fmt.Sprintf("<[%d]>", rng.IntN(nTokens))
			}
			return fmt.Sprintf("!<[%d]>", rng.IntN(nTokens))
		default:
			s = `"a"`
		}
		switch rng.IntN(8) {
		case 0:
			s += "*"
		case 1:
			s += "+"
		case 2:
			s += "?"
		case 3:
			s += fmt.Sprintf("{%d,%d}", rng.IntN(2), 1+rng.IntN(3))
		}
		return s
	}
	var b strings.Builder
	for i := range nRules {
		fmt.Fprintf(&b, "%s ::= ", name(i))
		alts := 1 + rng.IntN(3)
		for a := range alts {
			if a > 0 {
				b.WriteString(" | ")
			}
			for range 1 + rng.IntN(3) {
				b.WriteString(item(0) + " ")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestRandomGrammarsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	const nTok = 160
	grammars, steps, overflowed := 0, 0, 0
	iters := 400
	if testing.Short() {
		iters = 80
	}
	for iter := 0; iter < iters; iter++ {
		pieces := make([][]byte, nTok)
		eog := make([]bool, nTok)
		for i := range pieces {
			pieces[i] = randomPiece(rng)
		}
		eog[0], eog[1] = true, true
		src := randomGrammar(rng, nTok)
		g, err := Parse(src)
		if err != nil {
			continue // left-recursive or otherwise unusable: llama.cpp refuses these too
		}
		v := NewVocab(nTok, func(id int32) []byte { return pieces[id] }, func(id int32) bool { return eog[id] })
		c, err := Compile(g, v)
		if err != nil {
			continue // left recursion llama.cpp misses: it would loop forever
		}
		grammars++
		ref := &refGrammar{m: c.m, pieces: make([][]byte, nTok), eog: eog}
		for i, p := range pieces {
			ref.pieces[i] = cstring(p)
		}
		m := c.NewMatcher()
		single := mustCompile(t, g, v).NewMatcher()
		stacks, open := ref.initial(), partial{}
		for step := 0; step < 12; step++ {
			steps++
			want := ref.allowed(stacks, open)
			got := allowedList(m.Mask(), nTok)
			if m.sp.u.overflows > 0 || ref.overflow {
				overflowed++
				break // past maxStacks we stop following llama.cpp on purpose
			}
			if !slices.Equal(got, want) {
				var diff []string
				for tok := int32(0); tok < nTok; tok++ {
					if slices.Contains(got, tok) != slices.Contains(want, tok) {
						diff = append(diff, fmt.Sprintf("%d %q (ours %v)", tok, pieces[tok], slices.Contains(got, tok)))
					}
				}
				t.Fatalf("grammar\n%s\nstep %d (open %v, %d stacks, ours %d, overflows %d): allowed differs from llama.cpp's algorithm on %v", src, step, open, len(stacks), len(m.sp.u.sets[m.state].stacks), m.sp.u.overflows, diff)
			}
			for tok := int32(0); tok < nTok; tok++ {
				if single.Allowed(tok) != slices.Contains(want, tok) {
					t.Fatalf("grammar\n%s\nstep %d: Allowed(%d %q) = %v", src, step, tok, pieces[tok], !slices.Contains(want, tok))
				}
			}
			var cands []int32
			for _, tok := range want {
				if !eog[tok] {
					cands = append(cands, tok)
				}
			}
			if len(cands) == 0 {
				break
			}
			tok := cands[rng.IntN(len(cands))]
			stacks, open = ref.acceptToken(stacks, open, tok)
			if len(stacks) > 300 {
				break // ambiguous enough to make the reference crawl
			}
			err := m.Accept(tok)
			if (err != nil) != (len(stacks) == 0) {
				t.Fatalf("grammar\n%s\nstep %d: Accept(%d %q) = %v, reference has %d stacks", src, step, tok, pieces[tok], err, len(stacks))
			}
			if err2 := single.Accept(tok); (err2 != nil) != (err != nil) {
				t.Fatalf("Accept differs between matchers")
			}
			if err != nil {
				break
			}
			complete := slices.ContainsFunc(stacks, func(s refStack) bool { return len(s) == 0 }) && open.n == 0
			if m.Complete() != complete {
				t.Fatalf("grammar\n%s\nstep %d: Complete() = %v, reference %v", src, step, m.Complete(), complete)
			}
		}
	}
	t.Logf("%d grammars, %d steps, %d walks stopped at maxStacks", grammars, steps, overflowed)
	if grammars < iters/4 {
		t.Fatalf("only %d of %d random grammars parsed", grammars, iters)
	}
}
