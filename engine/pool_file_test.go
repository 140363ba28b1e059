package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

// writeSpec writes spec to a new file and returns its bytes and path.
func writeSpec(t *testing.T, spec synth.Spec) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// answer is what a fresh pool answers on path.
func answer(t *testing.T, path, prompt string) string {
	t.Helper()
	p := NewPool(PoolConfig{ResultCacheBytes: -1})
	defer p.Close()
	if _, err := p.Register("fresh", path); err != nil {
		t.Fatal(err)
	}
	out, err := p.Generate(context.Background(), "fresh", prompt, greedy(12))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func modelInfo(t *testing.T, p *Pool, name string) ModelInfo {
	t.Helper()
	for _, m := range p.Models() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("%s is not registered", name)
	return ModelInfo{}
}

// TestPoolFileChanges: a registered model's file rewritten in place,
// replaced by a rename, broken or removed. The pool follows the file: its
// description (llm.models) and answers are the new file's, not the loaded
// copy's; a file that cannot be read is an error for that call only.
func TestPoolFileChanges(t *testing.T) {
	const prompt = "Once upon a time"
	a := tinySpec
	b := tinySpec
	b.Seed, b.Type = 2, gguf.TypeQ8_0
	c := tinySpec
	c.Seed, c.Layers = 3, 3
	pathA, bytesA := writeSpec(t, a)
	pathB, bytesB := writeSpec(t, b)
	pathC, _ := writeSpec(t, c)
	wantA, wantB, wantC := answer(t, pathA, prompt), answer(t, pathB, prompt), answer(t, pathC, prompt)
	if wantA == wantB || wantA == wantC {
		t.Fatalf("the test models answer alike: %q %q %q", wantA, wantB, wantC)
	}

	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, bytesA, 0o644); err != nil {
		t.Fatal(err)
	}
	p := NewPool(PoolConfig{})
	defer p.Close()
	if _, err := p.Register("m", path); err != nil {
		t.Fatal(err)
	}
	gen := func() (string, error) { return p.Generate(context.Background(), "m", prompt, greedy(12)) }
	if got, err := gen(); err != nil || got != wantA {
		t.Fatalf("before: %q, %v; want %q", got, err, wantA)
	}

	// Rewritten in place with a different (smaller) file: a Q8_0 model.
	if err := os.WriteFile(path, bytesB, 0o644); err != nil {
		t.Fatal(err)
	}
	if info := modelInfo(t, p, "m"); info.FileBytes != int64(len(bytesB)) || info.Loaded {
		t.Fatalf("after rewriting: %+v, want %d bytes and not loaded", info, len(bytesB))
	}
	if got, err := gen(); err != nil || got != wantB {
		t.Fatalf("rewritten in place: %q, %v; want %q", got, err, wantB)
	}

	// Replaced by a rename (a new inode; the old mapping stays valid).
	tmp := path + ".new"
	if err := os.Link(pathC, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got, err := gen(); err != nil || got != wantC {
		t.Fatalf("replaced: %q, %v; want %q", got, err, wantC)
	}

	// Broken, then removed: errors for those calls, and the model comes
	// back with its file.
	if err := os.WriteFile(path, []byte("GGUF and then nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gen(); err == nil || !strings.Contains(err.Error(), "changed and cannot be used now") {
		t.Fatalf("broken file: %v", err)
	}
	os.Remove(path)
	if _, err := gen(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("removed file: %v", err)
	}
	if err := os.WriteFile(path, bytesA, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := gen(); err != nil || got != wantA {
		t.Fatalf("restored: %q, %v; want %q", got, err, wantA)
	}
}

// TestPoolFileShrinksWhileGenerating: the file is truncated while a
// generation reads its weights. Mapped (Mmap), the reads fault (SIGBUS);
// the generation fails with an error that says why, and the process lives
// on. Read into memory (the default), the generation does not notice and
// gives what it gives with the file intact.
func TestPoolFileShrinksWhileGenerating(t *testing.T) {
	spec := tinySpec
	spec.Embd, spec.FF, spec.Heads, spec.KVHeads = 256, 512, 4, 2 // enough pages to fault on
	path, orig := writeSpec(t, spec)
	want := answer(t, path, "Once upon a time")
	opts := greedy(200)
	opts.IgnoreEOS = true
	whole := func(mmap bool) string {
		p := NewPool(PoolConfig{Threads: 2, ResultCacheBytes: -1, Mmap: mmap})
		defer p.Close()
		if _, err := p.Register("m", path); err != nil {
			t.Fatal(err)
		}
		got, err := p.Generate(context.Background(), "m", "Once upon a time", opts)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}(false)
	for _, mmap := range []bool{true, false} {
		p := NewPool(PoolConfig{Threads: 2, ResultCacheBytes: -1, Mmap: mmap})
		if _, err := p.Register("m", path); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		got, err := p.Run(context.Background(), "m", Request{Prompt: "Once upon a time", Options: opts, OnText: func(string) error {
			once.Do(func() {
				if err := os.Truncate(path, 100); err != nil {
					t.Error(err)
				}
			})
			return nil
		}})
		if mmap {
			if err == nil || !strings.Contains(err.Error(), "changed on disk while in use") {
				t.Fatalf("mapped: got %v, want an error saying the file changed", err)
			}
			t.Logf("error: %v", err)
		} else if err != nil || got.Text != whole {
			t.Fatalf("read into memory: %q, %v; want %q", got.Text, err, whole)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := p.Generate(context.Background(), "m", "Once upon a time", greedy(12))
		if err != nil || g != want {
			t.Fatalf("after restoring the file (mapped %v): %q, %v; want %q", mmap, g, err, want)
		}
		p.Close()
	}
}
