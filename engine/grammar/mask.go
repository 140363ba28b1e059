package grammar

// Token masks. A mask is a bitset over the vocabulary: bit t set means
// token t is allowed.

func newMask(n int) []uint64 { return make([]uint64, (n+63)/64) }

func setBit(m []uint64, t int32) { m[t>>6] |= 1 << (uint(t) & 63) }

// MaskHas reports whether token t is allowed by mask m.
func MaskHas(m []uint64, t int32) bool { return m[t>>6]&(1<<(uint(t)&63)) != 0 }

// mask computes the tokens allowed in set id from a clean start (no UTF-8
// sequence left open by the previous token), walking the vocabulary trie:
// a subtree is skipped as soon as its prefix leads nowhere.
func (u *universe) mask(id int32) []uint64 {
	v := u.v
	out := newMask(v.n)
	if u.sets[id].complete {
		for _, t := range v.eog {
			setBit(out, t)
		}
	}
	// states[d] is the set reached by the first d code points of the
	// current path.
	states := u.states[:0]
	for range v.maxDepth + 1 {
		states = append(states, deadSet)
	}
	u.states = states
	states[0] = id
	u.nodeTokens(out, 0, id)
	nodes := int32(len(v.nodeCP))
	classes := u.nodeClass
	depth, skip, tokAt, ownEnd, trieTok, clean := v.nodeDepth, v.nodeSkip, v.nodeTok, v.nodeOwn, v.trieTok, v.trieClean
	for i := int32(1); i < nodes; {
		from := u.sets[states[depth[i]-1]]
		k := classes[i]
		var to int32
		if from.next != nil && from.next[k] != 0 {
			to = from.next[k] - 1
		} else {
			to = u.stepClass(states[depth[i]-1], k)
		}
		if to == deadSet {
			i = skip[i]
			continue
		}
		states[depth[i]] = to
		// Tokens ending here; most end on a whole character.
		for j := tokAt[i]; j < ownEnd[i]; j++ {
			t := trieTok[j]
			if clean[j] || u.endOK(to, v.end[t]) {
				out[t>>6] |= 1 << (uint(t) & 63)
			}
		}
		if len(u.sets[to].tokens) > 0 {
			u.tokenElements(out, i, to)
		}
		i++
	}
	return out
}

// nodeTokens marks the tokens that node i decides in set id: those ending
// at i (allowed when the open sequence they leave, if any, can go on), and
// those token elements take (see tokenElements).
func (u *universe) nodeTokens(out []uint64, i int32, id int32) {
	v := u.v
	for _, t := range v.trieTok[v.nodeTok[i]:v.nodeOwn[i]] {
		if u.endOK(id, v.end[t]) {
			setBit(out, t)
		}
	}
	if len(u.sets[id].tokens) > 0 {
		u.tokenElements(out, i, id)
	}
}

// tokenElements marks the tokens below node i (longer than its prefix)
// that set id's token elements take whole: <[t]> takes t, !<[t]> every
// other.
func (u *universe) tokenElements(out []uint64, i int32, id int32) {
	v := u.v
	below := v.trieTok[v.nodeOwn[i]:v.nodeTok[v.nodeSkip[i]]]
	for _, st := range u.sets[id].tokens {
		e := u.m.elems[u.stackTop[st]]
		if e.Type == Token {
			t := int32(e.Value)
			if t >= 0 && int(t) < v.n {
				if n := v.tokNode[t]; n > i && n < v.nodeSkip[i] {
					setBit(out, t)
				}
			}
			continue
		}
		for _, t := range below {
			if uint32(t) != e.Value {
				setBit(out, t)
			}
		}
	}
}

// openMask computes the tokens allowed in set id when the previous token
// left the sequence p open: only tokens starting with a continuation byte
// can go on (any other is invalid UTF-8 there), each decoded from p.
func (u *universe) openMask(id int32, p partial) []uint64 {
	v := u.v
	out := newMask(v.n)
	if u.sets[id].complete {
		for _, t := range v.eog {
			setBit(out, t)
		}
	}
	for _, t := range v.contTail {
		cps, end, ok := decodePiece(u.cpbuf, v.pieces[t], p)
		u.cpbuf = cps
		if ok && u.evalToken(id, t, cps, end) {
			setBit(out, t)
		}
	}
	return out
}
