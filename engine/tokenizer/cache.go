package tokenizer

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// wordCache remembers the tokens of recently seen words (BPE words, SPM
// space-delimited chunks). A word's tokens depend on nothing else, so the
// cache changes speed only, never results. It is direct-mapped and
// lock-free: a slot holds an immutable entry that a newer word may replace.
type wordCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[cacheEntry]
}

type cacheEntry struct {
	word string
	ids  []int32
}

const (
	cacheSlots   = 1 << 14
	cacheMaxWord = 64 // longer words are rare and not worth keeping
)

func newWordCache() *wordCache {
	return &wordCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[cacheEntry], cacheSlots)}
}

func (c *wordCache) slot(word string) *atomic.Pointer[cacheEntry] {
	return &c.slots[maphash.String(c.seed, word)&(cacheSlots-1)]
}

// get returns the cached tokens of word. A nil cache is always empty.
func (c *wordCache) get(word string) ([]int32, bool) {
	if c == nil || len(word) > cacheMaxWord {
		return nil, false
	}
	if e := c.slot(word).Load(); e != nil && e.word == word {
		return e.ids, true
	}
	return nil, false
}

// put records ids as the tokens of word, copying both.
func (c *wordCache) put(word string, ids []int32) {
	if c == nil || len(word) > cacheMaxWord {
		return
	}
	c.slot(word).Store(&cacheEntry{word: strings.Clone(word), ids: append([]int32(nil), ids...)})
}
