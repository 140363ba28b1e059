package gguf_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/fakehub"
)

// TestOpenSplit opens a model cut in three parts as llama.cpp's gguf-split
// does: the first part brings every tensor, with the data of its own part.
func TestOpenSplit(t *testing.T) {
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	w.Set("general.name", gguf.String("split test"))
	for i := 0; i < 7; i++ {
		data := make([]byte, 4*(16+i))
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		if err := w.AddTensor(fmt.Sprintf("t%d", i), gguf.TypeF32, []uint64{uint64(16 + i)}, data); err != nil {
			t.Fatal(err)
		}
	}
	var whole bytes.Buffer
	if _, err := w.WriteTo(&whole); err != nil {
		t.Fatal(err)
	}
	orig, err := gguf.Parse(whole.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	parts, err := fakehub.Split(orig, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prefix := filepath.Join(dir, "m-Q8_0")
	for i, p := range parts {
		if err := os.WriteFile(gguf.SplitPath(prefix, i+1, 3), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first := gguf.SplitPath(prefix, 1, 3)
	if first != filepath.Join(dir, "m-Q8_0-00001-of-00003.gguf") {
		t.Fatalf("SplitPath: %s", first)
	}

	// Mapped (Open) and read into memory (Load), every part.
	for _, open := range []func(string) (*gguf.File, error){gguf.Open, gguf.Load} {
		f, err := open(first)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != len(orig.Tensors) {
			t.Fatalf("%d tensors, want %d", len(f.Tensors), len(orig.Tensors))
		}
		for _, o := range orig.Tensors {
			g := f.Tensor(o.Name)
			if g == nil || !bytes.Equal(g.Data, o.Data) || g.Type != o.Type {
				t.Errorf("tensor %s differs", o.Name)
			}
		}
		if name, _ := f.String("general.name"); name != "split test" {
			t.Errorf("metadata: %q", name)
		}
		f.Prefetch()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := gguf.Open(gguf.SplitPath(prefix, 2, 3)); err == nil || !strings.Contains(err.Error(), "open the first part") {
		t.Errorf("part 2: %v", err)
	}
	os.Remove(gguf.SplitPath(prefix, 3, 3))
	if _, err := gguf.Open(first); err == nil || !strings.Contains(err.Error(), "part 3 of 3") {
		t.Errorf("missing part: %v", err)
	}
	if _, err := gguf.Load(first); err == nil || !strings.Contains(err.Error(), "part 3 of 3") {
		t.Errorf("missing part, loaded: %v", err)
	}
	renamed := filepath.Join(dir, "renamed.gguf")
	os.Rename(first, renamed)
	if _, err := gguf.Open(renamed); err == nil || !strings.Contains(err.Error(), "cannot be found") {
		t.Errorf("first part renamed: %v", err)
	}
}
