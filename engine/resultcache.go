package engine

import (
	"container/list"
	"context"
	"encoding/binary"
	"hash/fnv"
	"math"
	"sync"
)

// resultCache remembers the text of deterministic generations (greedy, or
// sampled with a fixed seed): the same model file, prompt and options give
// the same text, so a repeated call need not run the model. Concurrent
// identical calls run once; the others wait for its answer.
type resultCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      *list.List // of *cacheEntry, most recent first
	entries  map[cacheKey]*list.Element
	inflight map[cacheKey]*flight
	hits     int64
	misses   int64
}

type cacheKey struct {
	hash uint64
	// The full key is compared too, so a hash collision cannot return a
	// wrong answer.
	full string
}

type cacheEntry struct {
	key cacheKey
	res cachedResult
}

// cachedResult is what a generation gave: the text and how it ended.
type cachedResult struct {
	text            string
	finishReason    string
	promptTokens    int
	generatedTokens int
	truncated       int
	incomplete      bool // a grammar's reply that ended before it was complete
}

type flight struct {
	done chan struct{}
	res  cachedResult
	err  error
}

// CacheStats are the result cache's counters.
type CacheStats struct {
	Hits    int64
	Misses  int64
	Entries int
	Bytes   int64
	Enabled bool
}

func newResultCache(maxBytes int64) *resultCache {
	return &resultCache{maxBytes: maxBytes, lru: list.New(),
		entries: map[cacheKey]*list.Element{}, inflight: map[cacheKey]*flight{}}
}

// deterministic reports whether opts always give the same text.
func deterministic(opts GenerateOptions) bool { return opts.Temperature == 0 || opts.HasSeed }

// makeKey identifies a generation: the model file (path, size, modification
// time), the prompt and every option that changes the text.
func makeKey(fileID, prompt string, o GenerateOptions) cacheKey {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	f32 := func(f float32) { b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f)) }
	str(fileID)
	str(prompt)
	f32(o.Temperature)
	f32(o.TopP)
	f32(o.MinP)
	f32(o.RepeatPenalty)
	f32(o.FrequencyPenalty)
	f32(o.PresencePenalty)
	b = binary.AppendVarint(b, int64(o.TopK))
	b = binary.AppendVarint(b, int64(o.RepeatLastN))
	b = binary.AppendVarint(b, int64(o.MaxTokens))
	if o.Temperature != 0 {
		b = binary.LittleEndian.AppendUint64(b, o.Seed)
	}
	var flags byte
	if o.IgnoreEOS {
		flags |= 1
	}
	if o.KeepThinking {
		flags |= 2
	}
	switch o.Truncate {
	case TruncateStart:
		flags |= 4
	case TruncateEnd:
		flags |= 8
	}
	b = append(b, flags)
	str(o.Grammar)
	b = binary.AppendUvarint(b, uint64(len(o.Stop)))
	for _, s := range o.Stop {
		str(s)
	}
	h := fnv.New64a()
	h.Write(b)
	return cacheKey{hash: h.Sum64(), full: string(b)}
}

// do returns the cached text for key, or runs gen once for all concurrent
// callers with that key and caches its answer.
func (c *resultCache) do(ctx context.Context, key cacheKey, gen func() (cachedResult, error)) (cachedResult, error) {
	for {
		c.mu.Lock()
		if el, ok := c.entries[key]; ok {
			c.lru.MoveToFront(el)
			c.hits++
			res := el.Value.(*cacheEntry).res
			c.mu.Unlock()
			return res, nil
		}
		if f, ok := c.inflight[key]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return cachedResult{}, ctx.Err()
			}
			if f.err == nil {
				c.mu.Lock()
				c.hits++
				c.mu.Unlock()
				return f.res, nil
			}
			// The first caller failed (perhaps it was cancelled): try again
			// as the runner.
			continue
		}
		c.misses++
		f := &flight{done: make(chan struct{})}
		c.inflight[key] = f
		c.mu.Unlock()

		f.res, f.err = gen()
		c.mu.Lock()
		delete(c.inflight, key)
		if f.err == nil {
			c.addLocked(key, f.res)
		}
		c.mu.Unlock()
		close(f.done)
		return f.res, f.err
	}
}

// entrySize is what an entry counts against maxBytes.
func entrySize(key cacheKey, res cachedResult) int64 {
	return int64(len(key.full) + len(res.text) + len(res.finishReason) + 96)
}

func (c *resultCache) addLocked(key cacheKey, res cachedResult) {
	size := entrySize(key, res)
	if size > c.maxBytes {
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key, res})
	c.bytes += size
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.entries, e.key)
		c.bytes -= entrySize(e.key, e.res)
	}
}

func (c *resultCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits, Misses: c.misses, Entries: len(c.entries), Bytes: c.bytes, Enabled: true}
}

// clear drops every entry (counters are kept).
func (c *resultCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	c.entries = map[cacheKey]*list.Element{}
	c.bytes = 0
}
