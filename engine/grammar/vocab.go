package grammar

import (
	"slices"
)

// Vocab is what the grammar engine precomputes once per vocabulary: each
// token's text decoded to code points, and a trie of those code point
// sequences, so a grammar state's token mask is one walk over shared
// prefixes instead of one match per token. A Vocab is immutable and may be
// shared by any number of grammars and goroutines.
type Vocab struct {
	n      int
	kind   []tokKind
	pieces [][]byte // text up to the first NUL (llama.cpp's C-string view)

	// Each token decoded from a clean start (no sequence left open).
	cpOff []int32 // token -> its code points are cps[cpOff[t]:cpOff[t+1]]
	cps   []uint32
	end   []partial // the sequence the token leaves open, if any

	// The trie, in preorder. Node 0 is the root (the empty sequence).
	nodeCP    []uint32
	nodeDepth []int32
	nodeSkip  []int32 // the first node after this node's subtree
	nodeTok   []int32 // tokens ending at node i are trieTok[nodeTok[i]:nodeOwn[i]]
	nodeOwn   []int32 // ... and those below it trieTok[nodeOwn[i]:nodeTok[nodeSkip[i]]]
	trieTok   []int32
	trieClean []bool  // trieTok[j] ends on a whole character
	tokNode   []int32 // token -> the node it ends at, -1 if not in the trie
	maxDepth  int

	eog      []int32 // end-of-generation tokens
	contTail []int32 // tokens whose text starts with a continuation byte: the only ones a state with an open sequence can accept
}

type tokKind uint8

const (
	tokNormal  tokKind = iota
	tokEOG             // allowed exactly when the grammar may end
	tokNever           // empty text or a leading NUL: never allowed
	tokInvalid         // invalid UTF-8 from a clean start; may finish a sequence an earlier token left open
)

// NewVocab prepares a vocabulary of n tokens. piece returns a token's text
// as llama.cpp's grammar sees it (token_to_piece with special tokens
// rendered); isEOG marks end-of-generation tokens.
func NewVocab(n int, piece func(id int32) []byte, isEOG func(id int32) bool) *Vocab {
	v := &Vocab{n: n, kind: make([]tokKind, n), pieces: make([][]byte, n),
		cpOff: make([]int32, n+1), end: make([]partial, n), tokNode: make([]int32, n)}
	var buf []uint32
	for id := 0; id < n; id++ {
		p := cstring(piece(int32(id)))
		v.pieces[id] = p
		switch {
		case isEOG(int32(id)):
			v.kind[id] = tokEOG
			v.eog = append(v.eog, int32(id))
		case len(p) == 0:
			v.kind[id] = tokNever
		default:
			if p[0]>>6 == 2 {
				v.contTail = append(v.contTail, int32(id))
			}
			cps, end, ok := decodePiece(buf, p, partial{})
			buf = cps
			if !ok {
				v.kind[id] = tokInvalid
			} else {
				v.cps = append(v.cps, cps...)
				v.end[id] = end
			}
		}
		v.cpOff[id+1] = int32(len(v.cps))
	}
	v.buildTrie()
	return v
}

// Size is the number of tokens.
func (v *Vocab) Size() int { return v.n }

func (v *Vocab) tokenCPs(id int32) []uint32 { return v.cps[v.cpOff[id]:v.cpOff[id+1]] }

func (v *Vocab) buildTrie() {
	var order []int32
	for id := range v.n {
		v.tokNode[id] = -1
		if v.kind[id] == tokNormal {
			order = append(order, int32(id))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := slices.Compare(v.tokenCPs(a), v.tokenCPs(b)); c != 0 {
			return c
		}
		return int(a - b)
	})
	// At most one node per code point of the vocabulary.
	v.nodeCP = append(make([]uint32, 0, len(v.cps)+1), 0)
	v.nodeDepth = append(make([]int32, 0, len(v.cps)+1), 0)
	v.nodeTok = append(make([]int32, 0, len(v.cps)+2), 0)
	v.trieTok = make([]int32, 0, len(order))
	v.trieClean = make([]bool, 0, len(order))
	path := []int32{0} // node at each depth along the current path
	var prev []uint32
	for _, id := range order {
		cps := v.tokenCPs(id)
		common := 0
		for common < len(cps) && common < len(prev) && cps[common] == prev[common] {
			common++
		}
		path = path[:common+1]
		for d := common; d < len(cps); d++ {
			node := int32(len(v.nodeCP))
			v.nodeCP = append(v.nodeCP, cps[d])
			v.nodeDepth = append(v.nodeDepth, int32(d+1))
			v.nodeTok = append(v.nodeTok, int32(len(v.trieTok)))
			path = append(path, node)
		}
		v.tokNode[id] = path[len(path)-1]
		v.trieTok = append(v.trieTok, id)
		v.trieClean = append(v.trieClean, v.end[id].n == 0)
		v.maxDepth = max(v.maxDepth, len(cps))
		prev = cps
	}
	nodes := len(v.nodeCP)
	v.nodeTok = append(v.nodeTok, int32(len(v.trieTok))) // sentinel
	v.nodeCP, v.nodeDepth, v.nodeTok = slices.Clip(v.nodeCP), slices.Clip(v.nodeDepth), slices.Clip(v.nodeTok)
	// Own tokens of a node are those added before its first child was made.
	v.nodeOwn = make([]int32, nodes)
	for i := 0; i < nodes; i++ {
		v.nodeOwn[i] = v.nodeTok[i+1]
	}
	// Subtree ends: the next node at the same or a lower depth.
	v.nodeSkip = make([]int32, nodes)
	var stack []int32
	for i := 0; i < nodes; i++ {
		for len(stack) > 0 && v.nodeDepth[stack[len(stack)-1]] >= v.nodeDepth[i] {
			v.nodeSkip[stack[len(stack)-1]] = int32(i)
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	for _, s := range stack {
		v.nodeSkip[s] = int32(nodes)
	}
}

// TrieNodes is the number of nodes in the token trie (for benchmarks).
func (v *Vocab) TrieNodes() int { return len(v.nodeCP) }
