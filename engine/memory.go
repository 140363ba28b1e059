package engine

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/model"
	"github.com/llmsql/llmsql/engine/tensor"
)

// A loaded model holds its weights (mapped from the file, resident once
// read, plus allocated copies of the ones repacked for faster kernels) and
// a KV cache allocated whole at load: slots x context positions. A cache
// that does not fit kills the process when it is allocated, so every load
// is sized first (PlanMemory) and refused, naming the bytes, when it does
// not fit: the pool's memory budget at registration and before loading,
// and the memory the system has available when the cache is allocated.

// MemoryNeed is what loading a model takes.
type MemoryNeed struct {
	Weights int64 // tensor data in the file (mapped, or read into memory)
	Packed  int64 // allocated copies of repacked weights
	KVCache int64 // allocated at load
	Slots   int   // sequences decoded at once
	Context int   // positions per sequence
	// Resident is true when the weights are to be read into the
	// process's memory (gguf.Load) rather than mapped.
	Resident bool
}

// Total is the memory the model holds once loaded and used.
func (n MemoryNeed) Total() int64 { return n.Weights + n.Packed + n.KVCache }

// allocated is the part that is not backed by the file: all of it when
// the weights are to be read into memory (Resident).
func (n MemoryNeed) allocated() int64 {
	if n.Resident {
		return n.Weights + n.Packed + n.KVCache
	}
	return n.Packed + n.KVCache
}

// resolve fills in LoadConfig's defaults for the model mc (its training
// context, whether it is an encoder).
func (cfg LoadConfig) resolve(mc model.Config) LoadConfig {
	if cfg.Slots <= 0 {
		cfg.Slots = DefaultSlots
	}
	if mc.Encoder {
		// An encoder embeds whole texts in the pass's own buffers and
		// never writes the cache: one slot, whose pages stay unmapped.
		cfg.Slots = 1
	}
	if cfg.Context <= 0 {
		cfg.Context = min(mc.ContextLen, 4096)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 512
	}
	return cfg
}

// PlanMemory sizes a model's runtime under cfg from its file's metadata
// and tensor table, without loading anything.
func PlanMemory(f *gguf.File, cfg LoadConfig) (MemoryNeed, error) {
	mc, err := model.ReadConfig(f)
	if err != nil {
		return MemoryNeed{}, err
	}
	return planMemory(f, mc, cfg.resolve(mc))
}

func planMemory(f *gguf.File, mc model.Config, cfg LoadConfig) (MemoryNeed, error) {
	n := MemoryNeed{Slots: cfg.Slots, Context: cfg.Context}
	kv, err := kvcache.Bytes(kvcache.Config{Layers: mc.Layers, Slots: cfg.Slots, Context: cfg.Context,
		KVDim: mc.KVHeads * mc.HeadDim, F32: cfg.KVF32})
	if err != nil {
		return MemoryNeed{}, fmt.Errorf("sizing the KV cache: %w", err)
	}
	if !mc.Encoder { // an encoder's cache is never written (resolve)
		n.KVCache = kv
	}
	for _, t := range f.Tensors {
		n.Weights += int64(len(t.Data))
		// Matrices are packed, and so are a mixture of experts' 3-D
		// tensors, an expert at a time.
		if !cfg.NoPack && (len(t.Dims) == 2 || len(t.Dims) == 3) && t.Name != "token_embd.weight" {
			experts := int64(1)
			if len(t.Dims) == 3 {
				experts = int64(t.Dims[2])
			}
			n.Packed += experts * tensor.PackedBytes(t.Type, int(t.Dims[1]), int(t.Dims[0]))
		}
	}
	return n, nil
}

// MemoryError is a model that does not fit the memory it may use.
type MemoryError struct {
	Model string // "" when not loaded through a pool
	Need  MemoryNeed
	// Limit is what the model may use: the pool's budget, or the
	// system's available memory for what a load allocates.
	Limit int64
	// Budget is true when Limit is the pool's memory budget, Machine when
	// it is the machine's (or cgroup's) memory; otherwise it is the memory
	// available now.
	Budget, Machine bool
	// InUse is the memory held by other models that are in use (and so
	// cannot be unloaded to make room).
	InUse int64
}

func (e *MemoryError) Error() string {
	var b strings.Builder
	if e.Model != "" {
		fmt.Fprintf(&b, "model '%s' ", e.Model)
	} else {
		b.WriteString("the model ")
	}
	n := e.Need
	if e.Budget {
		fmt.Fprintf(&b, "needs %s: a KV cache of %s (%d sequences x %d positions) and weights of %s",
			FormatBytes(n.Total()), FormatBytes(n.KVCache), n.Slots, n.Context, FormatBytes(n.Weights+n.Packed))
		fmt.Fprintf(&b, ", more than the memory budget of %s", FormatBytes(e.Limit))
		if e.InUse > 0 {
			fmt.Fprintf(&b, " with %s held by models in use", FormatBytes(e.InUse))
		}
		b.WriteString("; lower the sequences (--max-sequences) or the context (--context), or raise --memory-budget")
		return b.String()
	}
	fmt.Fprintf(&b, "needs to allocate %s: a KV cache of %s (%d sequences x %d positions)",
		FormatBytes(n.allocated()), FormatBytes(n.KVCache), n.Slots, n.Context)
	if n.Packed > 0 {
		fmt.Fprintf(&b, " and repacked weights of %s", FormatBytes(n.Packed))
	}
	if n.Resident {
		fmt.Fprintf(&b, " and weights read into memory of %s (LLMSQL_MMAP=1 maps them from the file instead)", FormatBytes(n.Weights))
	}
	what := "memory available now"
	if e.Machine {
		what = "memory this machine has"
	}
	fmt.Fprintf(&b, ", more than the %s of %s; lower the sequences (--max-sequences) or the context (--context)", FormatBytes(e.Limit), what)
	return b.String()
}

// FormatBytes prints a byte count exactly and in binary units:
// "34359738368 bytes (32.0 GiB)".
func FormatBytes(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	f, u := float64(n)/1024, 0
	for f >= 1024 && u < len(units)-1 {
		f, u = f/1024, u+1
	}
	return fmt.Sprintf("%d bytes (%.1f %s)", n, f, units[u])
}

// checkAvailable refuses a load whose allocations exceed the memory the
// system has available now.
func checkAvailable(need MemoryNeed) error {
	if avail := AvailableMemory(); avail >= 0 && need.allocated() > avail {
		return &MemoryError{Need: need, Limit: avail}
	}
	return nil
}

// AvailableMemory is the memory the process can still allocate: the
// kernel's MemAvailable, or less if a cgroup limit is closer; -1 if
// unknown.
func AvailableMemory() int64 {
	avail := meminfo("MemAvailable")
	if lim, cur := cgroupMemory(); lim > 0 && cur >= 0 && (avail < 0 || lim-cur < avail) {
		avail = max(lim-cur, 0)
	}
	return avail
}

// TotalMemory is the memory of the machine, or of the cgroup if it is
// limited to less; -1 if unknown.
func TotalMemory() int64 {
	total := meminfo("MemTotal")
	if lim, _ := cgroupMemory(); lim > 0 && (total < 0 || lim < total) {
		total = lim
	}
	return total
}

// meminfo reads a field of /proc/meminfo in bytes, or -1.
func meminfo(field string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return -1
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1
		}
		return kb * 1024
	}
	return -1
}

// cgroupMemory reads the cgroup v2 memory limit and usage of this process
// (-1 each when there is none or it is not readable).
func cgroupMemory() (limit, current int64) {
	read := func(name string) int64 {
		b, err := os.ReadFile("/sys/fs/cgroup/" + name)
		if err != nil {
			return -1
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return -1
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return read("memory.max"), read("memory.current")
}
