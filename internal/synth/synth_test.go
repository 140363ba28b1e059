package synth

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/model"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

func build(t *testing.T, s Spec) []byte {
	t.Helper()
	w, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEveryArchAndTypeLoads writes each architecture in several weight
// types and loads it as the engine does: hyperparameters, weights and the
// tokenizer.
func TestEveryArchAndTypeLoads(t *testing.T) {
	for arch := range Archs {
		for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_K} {
			t.Run(arch+"/"+typ.String(), func(t *testing.T) {
				s := Spec{Arch: arch, Embd: 256, Layers: 2, Heads: 4, KVHeads: 2, FF: 512, Seed: 2, Type: typ,
					Types: map[string]gguf.GGMLType{"output.weight": gguf.TypeQ6_K}}
				f, err := gguf.Parse(build(t, s))
				if err != nil {
					t.Fatal(err)
				}
				m, err := model.Load(f, model.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if m.Arch != arch || m.Embd != 256 || m.Layers != 2 || m.KVHeads != 2 || m.FF != 512 || m.Vocab != 512 || m.ContextLen != 512 {
					t.Fatalf("config %+v", m.Config)
				}
				up := m.Blocks[1].Up
				if m.Experts > 0 {
					up = m.Blocks[1].UpExps[0]
				}
				if up.Type != typ || m.Embed.Type != typ {
					t.Fatalf("types: up %s, embedding %s", up.Type, m.Embed.Type)
				}
				// Encoders have no output head; the decoders' output
				// takes its override, but for Gemma 2, whose output is
				// always the embedding.
				wantOut := gguf.TypeQ6_K
				if arch == "gemma2" {
					wantOut = typ
				}
				if m.Encoder == m.CanGenerate() || m.CanGenerate() && m.Output.Type != wantOut {
					t.Fatalf("encoder %v, output %+v", m.Encoder, m.Output.Type)
				}
				if _, err := tokenizer.Load(f); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := build(t, Tiny())
	for range 5 {
		if !bytes.Equal(a, build(t, Tiny())) {
			t.Fatal("the same spec wrote different bytes")
		}
	}
	s := Tiny()
	s.Seed++
	if bytes.Equal(a, build(t, s)) {
		t.Fatal("another seed wrote the same bytes")
	}
}

// TestBuiltinVocab: the words of the tests' prompts are single pieces,
// anything else falls back to bytes, and decoding gives the text back.
func TestBuiltinVocab(t *testing.T) {
	f, err := gguf.Parse(build(t, Tiny()))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if ids := tok.Encode("Once upon a time", true, false); len(ids) != 5 || ids[0] != 1 {
		t.Fatalf("Once upon a time: %v", ids)
	}
	for _, text := range []string{"Once upon a time", "The little dog, a cat!", "naïve — 日本"} {
		ids := tok.Encode(text, false, false)
		if got := tok.Decode(ids); got != text && got != " "+text {
			t.Errorf("%q decodes to %q", text, got)
		}
	}
	if _, err := BuiltinVocab(10); err == nil {
		t.Error("a vocabulary without the byte tokens was accepted")
	}
}

func TestBadSpecs(t *testing.T) {
	for _, c := range []struct {
		s    Spec
		want string
	}{
		{Spec{Arch: "mamba", Embd: 64, Layers: 1, Heads: 4, FF: 64}, "unknown architecture"},
		{Spec{Embd: 64, Layers: 1, Heads: 3, KVHeads: 2, FF: 64}, "bad shape"},
		{Spec{Embd: 64, Layers: 1, Heads: 4, FF: 64, Type: gguf.TypeQ4_K}, "cannot be stored as Q4_K"},
		{Spec{Embd: 64, Layers: 1, Heads: 4, FF: 64, Vocab: filepath.Join(t.TempDir(), "none.gguf")}, "no such file"},
	} {
		if _, err := Build(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.s, err, c.want)
		}
	}
}
