// Package kvcache stores attention keys and values for many sequences in one
// preallocated block of memory. Each sequence owns a slot: a run of
// positions 0..Context-1 in every layer. Values are F16 by default, as in
// llama.cpp, which halves the memory and is what its outputs were made with;
// F32 is available for experiments.
package kvcache

import (
	"fmt"
	"math/big"
)

// Config sizes a cache.
type Config struct {
	Layers  int
	Slots   int // sequences held at once
	Context int // positions per slot
	KVDim   int // key/value width per position: kv heads x head size
	F32     bool
}

// Cache is the store. It is not safe for concurrent mutation of one slot;
// different slots may be written concurrently.
type Cache struct {
	cfg Config
	// k16/v16 (or k32/v32) are laid out [layer][slot][pos][KVDim].
	k16, v16 []uint16
	k32, v32 []float32
	lens     []int // positions filled per slot
}

// New allocates a cache. It refuses sizes that overflow or exceed 64 GiB,
// which always mean a configuration mistake.
func New(cfg Config) (*Cache, error) {
	bytes, err := Bytes(cfg)
	if err != nil {
		return nil, err
	}
	if bytes > 64<<30 {
		return nil, fmt.Errorf("kvcache: %d layers x %d slots x %d positions x %d would need %d bytes", cfg.Layers, cfg.Slots, cfg.Context, cfg.KVDim, bytes)
	}
	elems := int64(cfg.Layers) * int64(cfg.Slots) * int64(cfg.Context) * int64(cfg.KVDim)
	c := &Cache{cfg: cfg, lens: make([]int, cfg.Slots)}
	if cfg.F32 {
		c.k32 = make([]float32, elems)
		c.v32 = make([]float32, elems)
	} else {
		c.k16 = make([]uint16, elems)
		c.v16 = make([]uint16, elems)
	}
	return c, nil
}

// Bytes is the memory a cache of cfg's size takes (keys and values), so a
// caller can check it fits before allocating. Sizes that overflow are an
// error.
func Bytes(cfg Config) (int64, error) {
	if cfg.Layers <= 0 || cfg.Slots <= 0 || cfg.Context <= 0 || cfg.KVDim <= 0 {
		return 0, fmt.Errorf("kvcache: invalid size %+v", cfg)
	}
	per := int64(2)
	if cfg.F32 {
		per = 4
	}
	n := big.NewInt(2 * per)
	for _, d := range []int{cfg.Layers, cfg.Slots, cfg.Context, cfg.KVDim} {
		n.Mul(n, big.NewInt(int64(d)))
	}
	if !n.IsInt64() {
		return 0, fmt.Errorf("kvcache: %d layers x %d slots x %d positions x %d overflows", cfg.Layers, cfg.Slots, cfg.Context, cfg.KVDim)
	}
	return n.Int64(), nil
}

// Config returns the cache's dimensions.
func (c *Cache) Config() Config { return c.cfg }

// IsF32 reports whether values are stored as F32 rather than F16.
func (c *Cache) IsF32() bool { return c.cfg.F32 }

func (c *Cache) index(layer, slot, pos int) int {
	return ((layer*c.cfg.Slots+slot)*c.cfg.Context + pos) * c.cfg.KVDim
}

// K16 returns the F16 keys of slot in layer for positions [0, n).
func (c *Cache) K16(layer, slot, n int) []uint16 {
	i := c.index(layer, slot, 0)
	return c.k16[i : i+n*c.cfg.KVDim]
}

// V16 returns the F16 values of slot in layer for positions [0, n).
func (c *Cache) V16(layer, slot, n int) []uint16 {
	i := c.index(layer, slot, 0)
	return c.v16[i : i+n*c.cfg.KVDim]
}

// K32 and V32 are K16 and V16 for an F32 cache.
func (c *Cache) K32(layer, slot, n int) []float32 {
	i := c.index(layer, slot, 0)
	return c.k32[i : i+n*c.cfg.KVDim]
}

func (c *Cache) V32(layer, slot, n int) []float32 {
	i := c.index(layer, slot, 0)
	return c.v32[i : i+n*c.cfg.KVDim]
}

// Len is the number of positions filled in slot.
func (c *Cache) Len(slot int) int { return c.lens[slot] }

// SetLen records that slot holds positions [0, n). The forward pass calls
// it after writing a batch.
func (c *Cache) SetLen(slot, n int) { c.lens[slot] = n }

// Clear empties slot so a new sequence can use it. The memory is not
// zeroed: positions beyond Len are never read.
func (c *Cache) Clear(slot int) { c.lens[slot] = 0 }

// CopyPrefix makes dst hold the first n positions of src, in every layer:
// sequences that share a prompt prefix compute it once.
func (c *Cache) CopyPrefix(dst, src, n int) error {
	if n > c.lens[src] {
		return fmt.Errorf("kvcache: slot %d holds %d positions, cannot copy %d", src, c.lens[src], n)
	}
	if dst == src {
		c.lens[dst] = n
		return nil
	}
	w := n * c.cfg.KVDim
	for l := 0; l < c.cfg.Layers; l++ {
		s, d := c.index(l, src, 0), c.index(l, dst, 0)
		if c.cfg.F32 {
			copy(c.k32[d:d+w], c.k32[s:s+w])
			copy(c.v32[d:d+w], c.v32[s:s+w])
		} else {
			copy(c.k16[d:d+w], c.k16[s:s+w])
			copy(c.v16[d:d+w], c.v16[s:s+w])
		}
	}
	c.lens[dst] = n
	return nil
}

// BytesPerToken is the memory one position takes across all layers (keys
// and values).
func (c *Cache) BytesPerToken() int64 {
	per := int64(2)
	if c.cfg.F32 {
		per = 4
	}
	return 2 * int64(c.cfg.Layers) * int64(c.cfg.KVDim) * per
}

// BytesPerSlot is the memory of one full-context slot.
func (c *Cache) BytesPerSlot() int64 { return c.BytesPerToken() * int64(c.cfg.Context) }

// Bytes is the whole cache's memory.
func (c *Cache) Bytes() int64 { return c.BytesPerSlot() * int64(c.cfg.Slots) }
