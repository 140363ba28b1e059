package engine

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestPlanMemory: the plan made from the file alone is what a load takes.
func TestPlanMemory(t *testing.T) {
	path := tiny(t)
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, cfg := range []LoadConfig{{}, {Slots: 3, Context: 100}, {Slots: 2, KVF32: true}} {
		need, err := PlanMemory(f, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m, err := LoadModel(path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if need.KVCache != m.kv.Bytes() || need.Weights != m.Net.WeightBytes || need.Context != m.Context() || need.Slots != m.kv.Config().Slots {
			t.Errorf("%+v: planned %+v; loaded KV %d, weights %d, context %d, slots %d", cfg, need, m.kv.Bytes(), m.Net.WeightBytes, m.Context(), m.kv.Config().Slots)
		}
		m.Close()
	}
}

// TestMemoryRefusals: a KV cache that cannot fit is refused before it is
// allocated, with a message naming the bytes; before, allocating it killed
// the process.
func TestMemoryRefusals(t *testing.T) {
	path := tiny(t)
	huge := LoadConfig{Slots: 1024, Context: 1 << 24}
	var me *MemoryError
	// Loading directly (the CLI's path): against the memory available.
	if _, err := LoadModel(path, huge); !errors.As(err, &me) || !strings.Contains(err.Error(), "bytes (") ||
		!strings.Contains(err.Error(), "1024 sequences x 16777216 positions") {
		t.Fatalf("LoadModel with a huge cache: %v", err)
	}
	// Registering in a pool: against the machine, and against the budget.
	p := NewPool(PoolConfig{MaxSequences: huge.Slots, Context: huge.Context})
	if _, err := p.Register("m", path); !errors.As(err, &me) || !me.Machine || !strings.Contains(err.Error(), "memory this machine has") {
		t.Fatalf("Register with a huge cache: %v", err)
	}
	p.Close()
	p = NewPool(PoolConfig{MemoryBudget: 1 << 10})
	if _, err := p.Register("m", path); !errors.As(err, &me) || !me.Budget || !strings.Contains(err.Error(), "memory budget of 1024 bytes") {
		t.Fatalf("Register over the budget: %v", err)
	}
	p.Close()
	// Registered, it says how it runs.
	p = NewPool(PoolConfig{Context: 100})
	defer p.Close()
	info, err := p.Register("m", path)
	if err != nil || info.Context != 100 || info.MemoryBytes == 0 {
		t.Fatalf("Register: %+v, %v", info, err)
	}
}

// TestMemoryBudgetUnloads: loading a model past the budget unloads idle
// ones, least recently used first, and is refused while the others are in
// use.
func TestMemoryBudgetUnloads(t *testing.T) {
	a, b, c := tiny(t), tiny(t), tiny(t)
	probe := NewPool(PoolConfig{})
	info, err := probe.Register("x", a)
	probe.Close()
	if err != nil {
		t.Fatal(err)
	}
	per := info.MemoryBytes
	p := NewPool(PoolConfig{MemoryBudget: 2*per + per/2, ResultCacheBytes: -1}) // two fit, not three
	defer p.Close()
	for n, path := range map[string]string{"a": a, "b": b, "c": c} {
		if _, err := p.Register(n, path); err != nil {
			t.Fatal(err)
		}
	}
	loaded := func() string {
		var s []string
		for _, m := range p.Models() {
			if m.Loaded {
				s = append(s, m.Name)
			}
		}
		return strings.Join(s, ",")
	}
	ctx := context.Background()
	use := func(name string) {
		t.Helper()
		if _, err := p.Generate(ctx, name, "Once", greedy(2)); err != nil {
			t.Fatal(err)
		}
	}
	use("a")
	use("b")
	use("a") // b is now the least recently used
	use("c")
	if got := loaded(); got != "a,c" {
		t.Fatalf("loaded after using a, b, a, c: %s, want a,c", got)
	}
	// With a and c in use, b cannot be loaded.
	_, relA, err := p.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	_, relC, err := p.Acquire(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	var me *MemoryError
	if _, err := p.Generate(ctx, "b", "Once", greedy(2)); !errors.As(err, &me) || !strings.Contains(err.Error(), "held by models in use") {
		t.Fatalf("b while a and c are in use: %v", err)
	}
	relA()
	relC()
	use("b")
	if got := loaded(); got != "b,c" {
		t.Fatalf("loaded: %s, want b,c", got)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		100: "100 bytes", 2048: "2048 bytes (2.0 KiB)", 34359738368: "34359738368 bytes (32.0 GiB)",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if AvailableMemory() <= 0 || TotalMemory() < AvailableMemory() {
		if _, err := os.Stat("/proc/meminfo"); err == nil {
			t.Errorf("available %d, total %d", AvailableMemory(), TotalMemory())
		}
	}
}

// TestResidentWeightsCount: weights to be read into memory count as
// allocated, so that a file too big for the memory available is refused
// before it is read, with an error that says so and how to map it instead;
// mapped, the same weights do not count.
func TestResidentWeightsCount(t *testing.T) {
	avail := AvailableMemory()
	if avail < 0 {
		t.Skip("available memory unknown here")
	}
	need := MemoryNeed{Weights: 4 * avail, Packed: 1 << 20, KVCache: 1 << 20, Slots: 1, Context: 16}
	if err := checkAvailable(need); err != nil {
		t.Fatalf("mapped weights counted: %v", err)
	}
	need.Resident = true
	err := checkAvailable(need)
	var me *MemoryError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "weights read into memory of") || !strings.Contains(err.Error(), "LLMSQL_MMAP=1") {
		t.Fatalf("resident weights of 4x the available memory: %v", err)
	}
	if me.Need.allocated() != need.Weights+need.Packed+need.KVCache {
		t.Fatalf("allocated %d", me.Need.allocated())
	}
}
