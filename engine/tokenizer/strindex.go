package tokenizer

import (
	"hash/maphash"
	"math/bits"
)

// strIndex finds a string's position in a list of strings. It is an
// open-addressing hash table over indexes into the list, which builds two
// to four times faster than a map[string]int32 for the hundreds of
// thousands of tokens and merges of large vocabularies, and keeps lookups
// to one probe in the common case.
type strIndex struct {
	keys  []string
	seed  maphash.Seed
	mask  uint64
	slots []uint64 // 0 when empty, else hash tag << 32 | (index + 1)
}

// newStrIndex indexes keys[i] for every i that include accepts (all when
// include is nil). When a key repeats, the first index is kept and dup is
// called with both indexes; a non-nil error from dup stops the build.
func newStrIndex(keys []string, include func(i int) bool, dup func(first, again int) error) (*strIndex, error) {
	n := uint64(len(keys))
	// A load factor between 1/3 and 2/3 keeps the table small enough to
	// stay in cache; the tags make probing past other keys cheap.
	size := uint64(1) << bits.Len64((n+n/2)|15)
	x := &strIndex{keys: keys, seed: maphash.MakeSeed(), mask: size - 1, slots: make([]uint64, size)}
	for i, k := range keys {
		if include != nil && !include(i) {
			continue
		}
		h := maphash.String(x.seed, k)
		tag := h >> 32
		for p := h & x.mask; ; p = (p + 1) & x.mask {
			s := x.slots[p]
			if s == 0 {
				x.slots[p] = tag<<32 | uint64(i+1)
				break
			}
			if s>>32 == tag && keys[s&0xffffffff-1] == k {
				if dup != nil {
					if err := dup(int(s&0xffffffff-1), i); err != nil {
						return nil, err
					}
				}
				break
			}
		}
	}
	return x, nil
}

// find returns the index of s.
func (x *strIndex) find(s string) (int32, bool) {
	h := maphash.String(x.seed, s)
	tag := h >> 32
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		e := x.slots[p]
		if e == 0 {
			return -1, false
		}
		if e>>32 == tag {
			if i := e&0xffffffff - 1; x.keys[i] == s {
				return int32(i), true
			}
		}
	}
}

// findBytes is find for a byte slice, without converting it.
func (x *strIndex) findBytes(b []byte) (int32, bool) {
	h := maphash.Bytes(x.seed, b)
	tag := h >> 32
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		e := x.slots[p]
		if e == 0 {
			return -1, false
		}
		if e>>32 == tag {
			if i := e&0xffffffff - 1; x.keys[i] == string(b) {
				return int32(i), true
			}
		}
	}
}
