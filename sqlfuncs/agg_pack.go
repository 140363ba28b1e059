package sqlfuncs

import (
	"errors"
	"fmt"
)

// Packing texts into prompts that fit the context.
//
// A prompt of an aggregate is a head (the task, rendered through the chat
// template) and a list of entries (the rows' texts at the first level, the
// parts' answers at the next ones). A packer fills one prompt at a time in
// entry order: it adds entries while the head and the entries measured one
// by one fit the budget (the context less the answer's max_tokens), then
// measures the whole prompt once, since tokens do not add up exactly
// across the joins, and hands entries back to the next prompt until the
// prompt fits. A text longer than a prompt's room is cut into pieces at
// token boundaries, each an entry of its own. The same entries in the same
// order always pack into the same prompts.

// measurer counts tokens with the model's tokenizer for a packer.
type measurer interface {
	// entryTokens is the tokens text adds to a prompt as one entry.
	entryTokens(text string) (int, error)
	// promptTokens is the tokens of the whole prompt holding entries.
	promptTokens(entries []string) (int, error)
	// cut splits text into pieces of at most n tokens each.
	cut(text string, n int) ([]string, error)
}

// packEntry is one entry with its measured tokens.
type packEntry struct {
	text   string
	tokens int
}

// packer fills prompts. budget is the most tokens a prompt may take;
// head the tokens of a prompt without entries.
type packer struct {
	m      measurer
	budget int
	head   int
	// minEntries is the fewest entries a prompt must hold when more are
	// waiting (2 when combining answers, so that each level shrinks);
	// fewer is errTooFewPerPrompt.
	minEntries int

	open []packEntry // the prompt being filled
	used int         // head + the open entries' tokens
}

// errTooFewPerPrompt: a prompt cannot hold minEntries entries.
var errTooFewPerPrompt = errors.New("too few entries fit one prompt")

func newPacker(m measurer, budget, minEntries int) (*packer, error) {
	head, err := m.promptTokens(nil)
	if err != nil {
		return nil, err
	}
	if head >= budget {
		return nil, fmt.Errorf("the task alone takes %d tokens, leaving no room for texts in a prompt of %d", head, budget)
	}
	return &packer{m: m, budget: budget, head: head, minEntries: max(minEntries, 1), used: head}, nil
}

// room is the most tokens one entry may take.
func (p *packer) room() int { return p.budget - p.head }

// add puts text in the prompt being filled, and returns the prompts it
// closed (each a list of entries, in order).
func (p *packer) add(text string) ([][]string, error) {
	n, err := p.m.entryTokens(text)
	if err != nil {
		return nil, err
	}
	if n > p.room() {
		return p.addLong(text)
	}
	return p.addEntry(packEntry{text, n})
}

// addLong cuts a text longer than a prompt into pieces and adds them.
func (p *packer) addLong(text string) ([][]string, error) {
	pieces, err := p.m.cut(text, p.pieceTokens(p.room()))
	if err != nil {
		return nil, err
	}
	var closed [][]string
	for _, piece := range pieces {
		n, err := p.m.entryTokens(piece)
		if err != nil {
			return nil, err
		}
		if n > p.room() {
			n = p.room() // the prompt's measure decides; see closeOpen
		}
		c, err := p.addEntry(packEntry{piece, n})
		if err != nil {
			return nil, err
		}
		closed = append(closed, c...)
	}
	return closed, nil
}

// pieceTokens is the size to cut long texts to for room tokens: a little
// less, for the entry's label and the joins.
func (p *packer) pieceTokens(room int) int {
	return max(room-room/16-8, 1)
}

func (p *packer) addEntry(e packEntry) ([][]string, error) {
	var closed [][]string
	for len(p.open) > 0 && p.used+e.tokens > p.budget {
		c, err := p.closeOpen(false)
		if err != nil {
			return nil, err
		}
		closed = append(closed, c...)
	}
	p.open = append(p.open, e)
	p.used += e.tokens
	return closed, nil
}

// flush closes the prompts still open, at the end of the entries.
func (p *packer) flush() ([][]string, error) {
	var closed [][]string
	for len(p.open) > 0 {
		c, err := p.closeOpen(true)
		if err != nil {
			return nil, err
		}
		closed = append(closed, c...)
	}
	return closed, nil
}

// closeOpen measures the open prompt and closes as much of it as fits
// (at least one entry, cut if need be); the entries handed back start the
// next prompt. last says no entries follow.
func (p *packer) closeOpen(last bool) ([][]string, error) {
	entries := p.open
	var carry []packEntry
	for {
		texts := make([]string, len(entries))
		for i, e := range entries {
			texts[i] = e.text
		}
		n, err := p.m.promptTokens(texts)
		if err != nil {
			return nil, err
		}
		if n <= p.budget {
			break
		}
		if len(entries) > 1 {
			carry = append([]packEntry{entries[len(entries)-1]}, carry...)
			entries = entries[:len(entries)-1]
			continue
		}
		// One entry that measured short: cut it to what the overflow says.
		target := p.pieceTokens(entries[0].tokens - (n - p.budget))
		pieces, err := p.m.cut(entries[0].text, target)
		if err != nil {
			return nil, err
		}
		if len(pieces) < 2 {
			return nil, fmt.Errorf("a text of %d tokens does not fit a prompt of %d tokens and cannot be cut", entries[0].tokens, p.budget)
		}
		rest := make([]packEntry, 0, len(pieces)-1)
		for _, piece := range pieces[1:] {
			pn, err := p.m.entryTokens(piece)
			if err != nil {
				return nil, err
			}
			rest = append(rest, packEntry{piece, min(pn, p.room())})
		}
		carry = append(rest, carry...)
		first, err := p.m.entryTokens(pieces[0])
		if err != nil {
			return nil, err
		}
		entries = []packEntry{{pieces[0], min(first, p.room())}}
	}
	if len(entries) < p.minEntries && (len(carry) > 0 || !last) {
		return nil, errTooFewPerPrompt
	}
	texts := make([]string, len(entries))
	for i, e := range entries {
		texts[i] = e.text
	}
	p.open, p.used = carry, p.head
	for _, e := range carry {
		p.used += e.tokens
	}
	return [][]string{texts}, nil
}
