package remote

import (
	"context"
	"sync"
	"time"
)

// bucket paces a per-minute limit: it refills at limit/60 per second and
// holds at most a second's worth (at least 1), so requests go out evenly
// instead of in a burst the server would refuse.
type bucket struct {
	mu       sync.Mutex
	capacity float64
	rate     float64 // per second
	level    float64
	last     time.Time
}

func newBucket(perMinute int) *bucket {
	c := float64(perMinute) / 60
	if c < 1 {
		c = 1
	}
	return &bucket{capacity: c, rate: float64(perMinute) / 60, level: c, last: time.Now()}
}

func (b *bucket) refill(now time.Time) {
	b.level += now.Sub(b.last).Seconds() * b.rate
	if b.level > b.capacity {
		b.level = b.capacity
	}
	b.last = now
}

// take waits until n can be taken and returns what it took: n capped at
// the capacity, so a large request waits for a full bucket rather than
// forever. A nil bucket does not pace.
func (b *bucket) take(ctx context.Context, n int) (int, error) {
	if b == nil {
		return 0, nil
	}
	need := float64(n)
	if need > b.capacity {
		need = b.capacity
	}
	for {
		b.mu.Lock()
		b.refill(time.Now())
		if b.level >= need {
			b.level -= need
			b.mu.Unlock()
			return int(need), nil
		}
		wait := time.Duration((need - b.level) / b.rate * float64(time.Second))
		b.mu.Unlock()
		if err := sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

// give returns n (or, negative, takes -n more, which may leave the bucket
// below zero: later requests then wait for what was overspent).
func (b *bucket) give(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.refill(time.Now())
	b.level += float64(n)
	if b.level > b.capacity {
		b.level = b.capacity
	}
	b.mu.Unlock()
}
