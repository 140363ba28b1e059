package gguf_test

import (
	"bytes"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/testutil"
)

// TestFileType: general.file_type when the file has it, llama.cpp's guess
// from the tensors when not (F32 files converted from llama2.c had none,
// and llm.models showed no quantization for them).
func TestFileType(t *testing.T) {
	type tensor struct {
		name string
		typ  gguf.GGMLType
	}
	build := func(fileType int, ts ...tensor) *gguf.File {
		t.Helper()
		w := gguf.NewWriter()
		w.Set("general.architecture", gguf.String("llama"))
		if fileType >= 0 {
			w.Set("general.file_type", gguf.Uint32(uint32(fileType)))
		}
		for _, x := range ts {
			info, _ := x.typ.Info()
			data := make([]byte, info.TypeSize)
			if err := w.AddTensor(x.name, x.typ, []uint64{uint64(info.BlockSize)}, data); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct {
		name    string
		f       *gguf.File
		want    string
		guessed bool
	}{
		{"stated", build(15, tensor{"a", gguf.TypeF32}), "MOSTLY_Q4_K_M", false},
		{"all F32", build(-1, tensor{"a", gguf.TypeF32}, tensor{"blk.0.b", gguf.TypeF32}), "ALL_F32", true},
		{"mostly Q4_K", build(-1, tensor{"output_norm.weight", gguf.TypeF32}, tensor{"blk.0.attn_norm.weight", gguf.TypeF32},
			tensor{"blk.0.attn_q.weight", gguf.TypeQ4_K}, tensor{"blk.0.attn_k.weight", gguf.TypeQ4_K}, tensor{"blk.1.attn_q.weight", gguf.TypeQ4_K}), "MOSTLY_Q4_K_M", true},
		// A tie goes to the type that took the lead first in llama.cpp's
		// order: blocks by number (blk.2 before blk.10), then the rest.
		{"tie", build(-1, tensor{"blk.10.x", gguf.TypeF16}, tensor{"blk.2.x", gguf.TypeQ8_0}, tensor{"a", gguf.TypeQ8_0}, tensor{"z", gguf.TypeF16}), "MOSTLY_Q8_0", true},
		{"tie, other order", build(-1, tensor{"blk.2.x", gguf.TypeF16}, tensor{"blk.10.x", gguf.TypeQ8_0}, tensor{"a", gguf.TypeF16}, tensor{"z", gguf.TypeQ8_0}), "MOSTLY_F16", true},
		{"no guess for the type", build(-1, tensor{"a", gguf.TypeQ8_1}), "ALL_F32", true},
	} {
		ft, guessed, err := c.f.FileType()
		if err != nil || ft.String() != c.want || guessed != c.guessed {
			t.Errorf("%s: %v (guessed %v), %v; want %s (guessed %v)", c.name, ft, guessed, err, c.want, c.guessed)
		}
	}

	// The real F32 file without general.file_type.
	f, err := gguf.Open(testutil.Shared(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Has("general.file_type") {
		t.Fatal("stories260K.gguf now has general.file_type; the guess is not exercised")
	}
	if ft, guessed, err := f.FileType(); err != nil || ft.String() != "ALL_F32" || !guessed {
		t.Errorf("stories260K: %v, %v, %v", ft, guessed, err)
	}
}
