package grammar

import (
	"errors"
	"fmt"
	"sync"
)

// Compiled is a grammar prepared for one vocabulary. It holds the caches
// every sequence decoding with this grammar shares (interned states, their
// transitions and token masks), so the second row of a statement finds most
// of its masks already computed. It is safe for concurrent use.
type Compiled struct {
	g         *Grammar
	m         *machine
	v         *Vocab
	nodeClass []int32
	maxBytes  int64

	mu  sync.Mutex
	cur *space
}

// space is one generation of the caches. When it grows past the bound,
// new matchers start in a fresh one and the old one is dropped with the
// last matcher using it.
type space struct {
	mu    sync.Mutex
	u     *universe
	start int32
}

// DefaultCacheBytes bounds the caches of one compiled grammar.
const DefaultCacheBytes = 256 << 20

// Compile prepares g for vocabulary v. It fails for a grammar whose start
// cannot be expanded (a rule that reaches itself on the left through rules
// that match nothing, which llama.cpp's check misses and loops on).
func Compile(g *Grammar, v *Vocab) (*Compiled, error) {
	c := &Compiled{g: g, m: newMachine(g), v: v, maxBytes: DefaultCacheBytes}
	c.nodeClass = make([]int32, len(v.nodeCP))
	for i, cp := range v.nodeCP {
		c.nodeClass[i] = c.m.class(cp)
	}
	c.cur = c.newSpace()
	if c.cur.u.overflows > 0 || c.cur.start == deadSet {
		return nil, &ParseError{Rule: g.Names[g.Root], Msg: "the grammar's start expands without end: a rule reaches itself on the left through rules that can match nothing"}
	}
	return c, nil
}

func (c *Compiled) newSpace() *space {
	u := newUniverse(c.m, c.v, c.nodeClass)
	return &space{u: u, start: u.initial()}
}

// Grammar is the grammar c was compiled from.
func (c *Compiled) Grammar() *Grammar { return c.g }

// Vocab is the vocabulary c was compiled for.
func (c *Compiled) Vocab() *Vocab { return c.v }

// NewMatcher returns a matcher at the start of the grammar.
func (c *Compiled) NewMatcher() *Matcher {
	c.mu.Lock()
	sp := c.cur
	sp.mu.Lock()
	big := sp.u.bytes > c.maxBytes
	sp.mu.Unlock()
	if big {
		c.cur = c.newSpace()
		sp = c.cur
	}
	c.mu.Unlock()
	return &Matcher{c: c, sp: sp, state: sp.start}
}

// Matcher is one sequence's place in the grammar: the set of ways to read
// what it has accepted so far, and the UTF-8 sequence its last token left
// open. It is a small value; Clone copies it.
type Matcher struct {
	c     *Compiled
	sp    *space
	state int32
	open  partial
}

// Clone returns an independent copy of m.
func (m *Matcher) Clone() *Matcher { n := *m; return &n }

// ErrRejected is wrapped by the error Accept returns for a token the
// grammar does not allow.
var ErrRejected = errors.New("token not allowed by the grammar")

// Allowed reports whether token tok may come next.
func (m *Matcher) Allowed(tok int32) bool {
	v := m.c.v
	if tok < 0 || int(tok) >= v.n {
		return false
	}
	sp := m.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	u := sp.u
	s := u.sets[m.state]
	switch v.kind[tok] {
	case tokEOG:
		return s.complete
	case tokNever:
		return false
	case tokInvalid:
		if m.open.n <= 0 {
			return false
		}
	}
	if m.open.n > 0 {
		if mask := s.open[m.open]; mask != nil {
			return MaskHas(mask, tok)
		}
		cps, end, ok := decodePiece(u.cpbuf, v.pieces[tok], m.open)
		u.cpbuf = cps
		return ok && u.evalToken(m.state, tok, cps, end)
	}
	if s.mask != nil {
		return MaskHas(s.mask, tok)
	}
	return u.evalToken(m.state, tok, v.tokenCPs(tok), v.end[tok])
}

// Mask returns the set of tokens that may come next, as a bitset over the
// vocabulary (see MaskHas). The mask is shared: do not modify it.
func (m *Matcher) Mask() []uint64 {
	sp := m.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	u := sp.u
	s := u.sets[m.state]
	if m.open.n > 0 {
		if mask := s.open[m.open]; mask != nil {
			return mask
		}
		mask := u.openMask(m.state, m.open)
		if s.open == nil {
			s.open = map[partial][]uint64{}
		}
		s.open[m.open] = mask
		u.bytes += int64(8 * len(mask))
		return mask
	}
	if s.mask == nil {
		s.mask = u.mask(m.state)
		u.bytes += int64(8 * len(s.mask))
	}
	return s.mask
}

// Accept moves past token tok (llama_grammar_accept_impl). An end-of-
// generation token is accepted where the grammar may end and changes
// nothing. A token the grammar does not allow is an error wrapping
// ErrRejected, and m is left as it was.
func (m *Matcher) Accept(tok int32) error {
	v := m.c.v
	if tok < 0 || int(tok) >= v.n {
		return fmt.Errorf("grammar: token %d is outside the vocabulary: %w", tok, ErrRejected)
	}
	sp := m.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	u := sp.u
	s := u.sets[m.state]
	if v.kind[tok] == tokEOG {
		if s.complete {
			return nil
		}
		return fmt.Errorf("grammar: end of generation before the grammar is complete: %w", ErrRejected)
	}
	cps, end, _ := decodePiece(u.cpbuf, v.pieces[tok], m.open)
	u.cpbuf = cps
	// Stacks with a token element on top take the token by id; the others
	// read its code points (a token element met inside the text ends that
	// way of reading, as in llama.cpp).
	var next int32
	if len(cps) == 0 {
		next = u.charOnly(m.state)
	} else {
		next = m.state
		for _, c := range cps {
			if next = u.step(next, c); next == deadSet {
				break
			}
		}
	}
	if len(s.tokens) > 0 {
		buf := append([]int32(nil), u.sets[next].stacks...)
		for _, st := range s.tokens {
			e := u.m.elems[u.stackTop[st]]
			if (e.Type == Token) == (e.Value == uint32(tok)) {
				rest := u.stackRest[st]
				if pos := u.stackTop[st] + 1; !u.m.endOfSeq(pos) {
					rest = u.push(rest, pos)
				}
				buf = u.expand(buf, rest)
			}
		}
		next = u.intern(buf)
	}
	if next == deadSet {
		return fmt.Errorf("grammar: token %d (%q) does not continue the text: %w", tok, v.pieces[tok], ErrRejected)
	}
	m.state = next
	m.open = end
	return nil
}

// Complete reports whether the text accepted so far is a whole sentence of
// the grammar (and ends on a whole UTF-8 character).
func (m *Matcher) Complete() bool {
	sp := m.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.u.sets[m.state].complete && m.open.n == 0
}

// Done reports whether nothing can follow: the grammar is complete and no
// rule can go on, so only an end-of-generation token is allowed.
func (m *Matcher) Done() bool {
	sp := m.sp
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.u.sets[m.state].only
}
