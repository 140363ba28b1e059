package grammar

import (
	"slices"
	"strings"
	"unsafe"
)

// The pushdown machine, as llama.cpp runs it. A stack is a list of grammar
// positions, top last: the top is the next element to match, the ones below
// are where to continue when the rule on top ends. The grammar's state is a
// set of such stacks, one per way of reading the text so far; a stack whose
// top is a rule reference is expanded into one stack per alternate until
// every top is a terminal (a character class or a token) or the stack is
// empty (the grammar may end here).
//
// Stacks are interned as persistent linked lists (top, rest), so equal
// stacks share one id; sets of stacks are interned too, and each set
// remembers its transitions by code point and its token mask. A state the
// generation has been in before (the same place in a JSON object on the
// next row, the inside of a string after one more character) then costs a
// table lookup instead of a walk over the vocabulary.

const (
	emptyStack int32 = 0 // the stack with nothing left to match
	deadSet    int32 = 0 // the empty set: no way to go on

	// maxStacks bounds the ways one state may read the text so far. A
	// grammar ambiguous enough to exceed it (nested repetitions of
	// repetitions, say) would make llama.cpp crawl and use unbounded
	// memory; here a step that would exceed it leads nowhere instead.
	maxStacks = 4096

	// maxExpand bounds the stacks one expansion may visit.
	maxExpand = 4 * maxStacks
)

// machine is the immutable part: the rules laid out in one array, and the
// grammar's character classes.
type machine struct {
	elems     []Element
	ruleStart []int32
	after     []int32 // for the first element of a character class: the element after the class
	root      int32

	// Code points that every character element of the grammar treats alike
	// (each matches all of them or none) form one class, and a state's
	// transitions are kept per class: a JSON grammar has a few dozen
	// classes, and every code point above U+007F falls in the same one.
	// Class k holds the code points from bounds[k-1] (0 for k = 0) up to
	// bounds[k] (exclusive).
	bounds     []uint32
	asciiClass [128]int32
}

func newMachine(g *Grammar) *machine {
	m := &machine{ruleStart: make([]int32, len(g.Rules)), root: int32(g.Root)}
	for i, r := range g.Rules {
		m.ruleStart[i] = int32(len(m.elems))
		m.elems = append(m.elems, r...)
	}
	m.after = make([]int32, len(m.elems))
	for i := range m.elems {
		switch m.elems[i].Type {
		case Char, CharNot, CharAny:
			_, next := m.matchChar(int32(i), 0)
			m.after[i] = next
		}
	}
	var b []uint32
	for i, e := range m.elems {
		switch e.Type {
		case Char, CharNot, CharAlt:
			b = append(b, e.Value)
			if i+1 < len(m.elems) && m.elems[i+1].Type == CharRngUpper {
				b = append(b, m.elems[i+1].Value+1)
			} else {
				b = append(b, e.Value+1)
			}
		}
	}
	slices.Sort(b)
	m.bounds = slices.Compact(b)
	for c := range m.asciiClass {
		m.asciiClass[c] = m.classSlow(uint32(c))
	}
	return m
}

// class is the character class of code point c.
func (m *machine) class(c uint32) int32 {
	if c < 128 {
		return m.asciiClass[c]
	}
	return m.classSlow(c)
}

func (m *machine) classSlow(c uint32) int32 {
	k, found := slices.BinarySearch(m.bounds, c)
	if found {
		k++
	}
	return int32(k)
}

// classes is the number of character classes.
func (m *machine) classes() int { return len(m.bounds) + 1 }

// member is a code point of class k.
func (m *machine) member(k int32) uint32 {
	if k == 0 {
		return 0
	}
	return m.bounds[k-1]
}

func (m *machine) endOfSeq(pos int32) bool {
	t := m.elems[pos].Type
	return t == End || t == Alt
}

// matchChar reports whether c matches the class starting at pos
// (llama_grammar_match_char), and the position after the class.
func (m *machine) matchChar(pos int32, c uint32) (bool, int32) {
	e := m.elems
	positive := e[pos].Type == Char || e[pos].Type == CharAny
	found := false
	for {
		switch {
		case e[pos+1].Type == CharRngUpper:
			found = found || (e[pos].Value <= c && c <= e[pos+1].Value)
			pos += 2
		case e[pos].Type == CharAny:
			found = true
			pos++
		default:
			found = found || e[pos].Value == c
			pos++
		}
		if e[pos].Type != CharAlt {
			return found == positive, pos
		}
	}
}

// matchPartial reports whether some completion of the open sequence p could
// match the class at pos (llama_grammar_match_partial_char).
func (m *machine) matchPartial(pos int32, p partial) bool {
	e := m.elems
	positive := e[pos].Type == Char || e[pos].Type == CharAny
	if p.n < 0 || (p.n == 1 && p.value < 2) {
		return false
	}
	low := p.value << (uint(p.n) * 6)
	high := low | (1<<(uint(p.n)*6) - 1)
	if low == 0 {
		if p.n == 2 {
			low = 1 << 11
		} else if p.n == 3 {
			low = 1 << 16
		}
	}
	for {
		switch {
		case e[pos+1].Type == CharRngUpper:
			if e[pos].Value <= high && low <= e[pos+1].Value {
				return positive
			}
			pos += 2
		case e[pos].Type == CharAny:
			return true
		default:
			if low <= e[pos].Value && e[pos].Value <= high {
				return positive
			}
			pos++
		}
		if e[pos].Type != CharAlt {
			return !positive
		}
	}
}

type stackKey struct{ pos, rest int32 }

// set is one interned state: a set of stacks with terminal tops.
type set struct {
	stacks   []int32 // sorted
	chars    []int32 // the stacks whose top is a character class
	tokens   []int32 // the stacks whose top is a token element
	complete bool    // holds the empty stack: the grammar may end here
	only     bool    // holds nothing but the empty stack
	charOnly int32   // the set of just the character stacks (-1 until made)

	next []int32              // transitions by character class, +1; 0 = not computed
	mask []uint64             // allowed tokens from a clean start; nil = not computed
	open map[partial][]uint64 // allowed tokens with a sequence left open
}

// universe holds the interned stacks and sets of one grammar on one
// vocabulary. It is not safe for concurrent use: Compiled guards it.
type universe struct {
	m         *machine
	v         *Vocab
	nodeClass []int32 // the character class of each trie node's code point

	stackTop  []int32 // stack id -> top position
	stackRest []int32 // stack id -> the stack below the top
	stackIDs  map[stackKey]int32
	expanded  map[int32][]int32 // stacks with a rule reference on top -> their terminal stacks

	sets   []*set
	setIDs map[string]int32

	// scratch
	todo   []int32
	seen   map[int32]bool
	buf    []int32
	states []int32
	cpbuf  []uint32

	bytes     int64 // rough memory held, for the caller's bound
	overflows int   // states that exceeded maxStacks
}

func newUniverse(m *machine, v *Vocab, nodeClass []int32) *universe {
	u := &universe{m: m, v: v, nodeClass: nodeClass,
		stackTop: []int32{-1}, stackRest: []int32{-1}, stackIDs: map[stackKey]int32{},
		expanded: map[int32][]int32{}, setIDs: map[string]int32{}, seen: map[int32]bool{}}
	u.sets = []*set{{charOnly: deadSet}}
	u.setIDs[""] = deadSet
	return u
}

func (u *universe) push(rest, pos int32) int32 {
	k := stackKey{pos, rest}
	if id, ok := u.stackIDs[k]; ok {
		return id
	}
	id := int32(len(u.stackTop))
	u.stackTop = append(u.stackTop, pos)
	u.stackRest = append(u.stackRest, rest)
	u.stackIDs[k] = id
	u.bytes += 40
	return id
}

// expand appends to dst the stacks with terminal tops (or the empty stack)
// that stack s stands for (llama_grammar_advance_stack).
func (u *universe) expand(dst []int32, s int32) []int32 {
	if s == emptyStack || u.m.elems[u.stackTop[s]].Type != RuleRef {
		return append(dst, s)
	}
	if r, ok := u.expanded[s]; ok {
		return append(dst, r...)
	}
	m := u.m
	todo := append(u.todo[:0], s)
	clear(u.seen)
	var out []int32
	for len(todo) > 0 {
		cur := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if u.seen[cur] {
			continue
		}
		u.seen[cur] = true
		if len(u.seen) > maxExpand {
			// A rule reaches itself on the left through rules that can
			// match nothing without looking so (llama.cpp's left-recursion
			// check only sees rules with an empty alternate), and each
			// round pushes a deeper stack. llama.cpp loops forever here.
			u.overflows++
			u.todo = todo[:0]
			u.expanded[s] = nil
			return dst
		}
		if cur == emptyStack {
			out = append(out, cur)
			continue
		}
		pos := u.stackTop[cur]
		if m.elems[pos].Type != RuleRef {
			out = append(out, cur)
			continue
		}
		base := u.stackRest[cur]
		if !m.endOfSeq(pos + 1) {
			base = u.push(base, pos+1)
		}
		sub := m.ruleStart[m.elems[pos].Value]
		for {
			next := base
			if !m.endOfSeq(sub) {
				next = u.push(base, sub)
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
	u.todo = todo
	u.expanded[s] = out
	u.bytes += int64(16 + 4*len(out))
	return append(dst, out...)
}

// intern returns the id of the set holding the stacks in ids (which it
// sorts and may reorder).
func (u *universe) intern(ids []int32) int32 {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return deadSet
	}
	if len(ids) > maxStacks {
		u.overflows++
		return deadSet
	}
	key := unsafe.String((*byte)(unsafe.Pointer(&ids[0])), 4*len(ids))
	if id, ok := u.setIDs[key]; ok {
		return id
	}
	s := &set{stacks: slices.Clone(ids), charOnly: -1}
	for _, st := range s.stacks {
		if st == emptyStack {
			s.complete = true
			continue
		}
		switch u.m.elems[u.stackTop[st]].Type {
		case Token, TokenNot:
			s.tokens = append(s.tokens, st)
		default:
			s.chars = append(s.chars, st)
		}
	}
	s.only = s.complete && len(s.stacks) == 1
	id := int32(len(u.sets))
	u.sets = append(u.sets, s)
	u.setIDs[strings.Clone(key)] = id // key points into ids, which the caller reuses
	u.bytes += int64(200 + 12*len(ids))
	return id
}

// step is the set reached from set id by code point c: every character
// stack whose class matches c, with the class consumed and the stack
// expanded again (llama_grammar_accept).
func (u *universe) step(id int32, c uint32) int32 {
	return u.stepClass(id, u.m.class(c))
}

// stepClass is step for any code point of character class k.
func (u *universe) stepClass(id int32, k int32) int32 {
	s := u.sets[id]
	if s.next != nil {
		if r := s.next[k]; r != 0 {
			return r - 1
		}
	} else {
		s.next = make([]int32, u.m.classes())
		u.bytes += int64(4 * len(s.next))
	}
	c := u.m.member(k)
	buf := u.buf[:0]
	for _, st := range s.chars {
		pos := u.stackTop[st]
		if ok, next := u.m.matchChar(pos, c); ok {
			rest := u.stackRest[st]
			if !u.m.endOfSeq(next) {
				rest = u.push(rest, next)
			}
			buf = u.expand(buf, rest)
		}
	}
	r := u.intern(buf)
	u.buf = buf
	s.next[k] = r + 1
	return r
}

// endOK reports whether a token that ends in set id with the sequence p
// left open is allowed there: a clean end always is; an open sequence
// needs a character stack whose class some completion of it could match.
func (u *universe) endOK(id int32, p partial) bool {
	if p.n == 0 {
		return true
	}
	if p.n < 0 {
		return false
	}
	for _, st := range u.sets[id].chars {
		if u.m.matchPartial(u.stackTop[st], p) {
			return true
		}
	}
	return false
}

// tokenMatch reports whether one of set id's token elements takes token
// tok: <[id]> takes exactly that token, !<[id]> every other.
func (u *universe) tokenMatch(id int32, tok int32) bool {
	for _, st := range u.sets[id].tokens {
		e := u.m.elems[u.stackTop[st]]
		if (e.Type == Token) == (e.Value == uint32(tok)) {
			return true
		}
	}
	return false
}

// evalToken reports whether a token whose text decodes to cps, leaving p
// open, is allowed in set id (llama_grammar_reject_candidates for one
// candidate). Token elements on top take the whole token by id whenever a
// code point of it is still unread.
func (u *universe) evalToken(id int32, tok int32, cps []uint32, p partial) bool {
	for _, c := range cps {
		if len(u.sets[id].tokens) > 0 && u.tokenMatch(id, tok) {
			return true
		}
		id = u.step(id, c)
		if id == deadSet {
			return false
		}
	}
	return u.endOK(id, p)
}

// charOnly returns the set of id's character stacks.
func (u *universe) charOnly(id int32) int32 {
	s := u.sets[id]
	if s.charOnly < 0 {
		s.charOnly = u.intern(slices.Clone(s.chars))
	}
	return s.charOnly
}

// initial is the start state: the root rule's alternates, expanded.
func (u *universe) initial() int32 {
	m := u.m
	var buf []int32
	pos := m.ruleStart[m.root]
	for {
		s := emptyStack
		if !m.endOfSeq(pos) {
			s = u.push(emptyStack, pos)
		}
		buf = u.expand(buf, s)
		for !m.endOfSeq(pos) {
			pos++
		}
		if m.elems[pos].Type != Alt {
			break
		}
		pos++
	}
	return u.intern(buf)
}
