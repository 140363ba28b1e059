package engine

import (
	"container/list"
	"sync"

	"github.com/llmsql/llmsql/engine/grammar"
)

// grammarCache keeps a model's compiled grammars, so the rows of a
// statement (and later statements) with the same grammar share one, and
// with it the token masks its states have computed. It also holds the
// model's vocabulary as the grammar engine sees it, prepared on first use.
type grammarCache struct {
	mu      sync.Mutex
	vocab   *grammar.Vocab
	lru     *list.List // of *grammarEntry, most recent first
	entries map[string]*list.Element
}

type grammarEntry struct {
	src string
	c   *grammar.Compiled
}

// maxGrammars bounds the compiled grammars a model keeps.
const maxGrammars = 32

// Grammar returns src (GBNF) parsed and compiled for the model's
// vocabulary. <token> elements are tokenized with the model's tokenizer.
// A grammar that does not parse is a *grammar.ParseError naming the rule
// and position.
func (m *Model) Grammar(src string) (*grammar.Compiled, error) {
	gc := &m.grammars
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if gc.entries == nil {
		gc.lru, gc.entries = list.New(), map[string]*list.Element{}
	}
	if el, ok := gc.entries[src]; ok {
		gc.lru.MoveToFront(el)
		return el.Value.(*grammarEntry).c, nil
	}
	g, err := grammar.Parse(src, grammar.Options{Tokenize: func(s string) []int32 { return m.Tok.Encode(s, false, true) }})
	if err != nil {
		return nil, err
	}
	if gc.vocab == nil {
		tok := m.Tok
		gc.vocab = grammar.NewVocab(tok.VocabSize(), func(id int32) []byte { return []byte(tok.PieceSpecial(id)) }, tok.IsEOG)
	}
	c, err := grammar.Compile(g, gc.vocab)
	if err != nil {
		return nil, err
	}
	gc.entries[src] = gc.lru.PushFront(&grammarEntry{src, c})
	for gc.lru.Len() > maxGrammars {
		el := gc.lru.Back()
		gc.lru.Remove(el)
		delete(gc.entries, el.Value.(*grammarEntry).src)
	}
	return c, nil
}
