package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/testutil"
)

// sample builds a small file holding every value type, a nested array and
// tensors of several types.
func sample(t testing.TB) (*Writer, []byte) {
	w := NewWriter()
	w.Set("general.architecture", String("llama"))
	w.Set("u8", Uint8(200))
	w.Set("i8", Int8(-5))
	w.Set("u16", Uint16(60000))
	w.Set("i16", Int16(-30000))
	w.Set("u32", Uint32(4000000000))
	w.Set("i32", Int32(-2000000000))
	w.Set("f32", Float32(1.5))
	w.Set("bool", Bool(true))
	w.Set("str", String("héllo\x00world"))
	w.Set("u64", Uint64(math.MaxUint64))
	w.Set("i64", Int64(math.MinInt64))
	w.Set("f64", Float64(-2.25))
	w.Set("strs", ArrayValue([]string{"a", "", "ccc"}))
	w.Set("f32s", ArrayValue([]float32{1, 2, 3}))
	w.Set("i32s", ArrayValue([]int32{-1, 0, 1}))
	w.Set("bools", ArrayValue([]bool{true, false}))
	w.Set("u8s", ArrayValue([]uint8{1, 2}))
	inner1 := ArrayValue([]string{"x", "y"}).Array()
	inner2 := ArrayValue([]int64{7}).Array()
	w.Set("nested", ArrayValue([]*Array{inner1, inner2}))
	w.Set("empty", ArrayValue([]string{}))
	f32 := make([]byte, 4*6)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(float32(i)))
	}
	must(t, w.AddTensor("a", TypeF32, []uint64{3, 2}, f32))
	must(t, w.AddTensor("b", TypeQ8_0, []uint64{64}, bytes.Repeat([]byte{7}, 68)))
	must(t, w.AddTensor("c", TypeF16, []uint64{5}, bytes.Repeat([]byte{1}, 10)))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return w, buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	w, data := sample(t)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || len(f.Metadata) != len(w.kvs) || len(f.Tensors) != 3 {
		t.Fatalf("version %d, %d kvs, %d tensors", f.Version, len(f.Metadata), len(f.Tensors))
	}
	for i, kv := range w.kvs {
		got := f.Metadata[i]
		if got.Key != kv.Key || got.Value.Type != kv.Value.Type {
			t.Fatalf("kv %d: got %s %s, want %s %s", i, got.Key, got.Value.Type, kv.Key, kv.Value.Type)
		}
		if !reflect.DeepEqual(got.Value.JSON(), kv.Value.JSON()) {
			t.Errorf("%s: got %v, want %v", kv.Key, got.Value.JSON(), kv.Value.JSON())
		}
	}
	if s, _ := f.String("str"); s != "héllo\x00world" {
		t.Errorf("str = %q", s)
	}
	if n, _ := f.Int("i64"); n != math.MinInt64 {
		t.Errorf("i64 = %d", n)
	}
	if n, _ := f.Uint("u64"); n != math.MaxUint64 {
		t.Errorf("u64 = %d", n)
	}
	if _, err := f.Int("u64"); err == nil {
		t.Error("u64 above MaxInt64 read as int64")
	}
	nested, err := f.Array("nested")
	must(t, err)
	if nested.Len() != 2 || nested.Index(0).Array().Index(1).Any() != "y" {
		t.Errorf("nested = %v", nested.Index(0).Format(-1))
	}
	a := f.Tensor("a")
	if a == nil || a.Rows() != 2 || a.Elements() != 6 || len(a.Data) != 24 || a.Offset%32 != 0 {
		t.Fatalf("tensor a = %+v", a)
	}
	if math.Float32frombits(binary.LittleEndian.Uint32(a.Data[20:])) != 5 {
		t.Error("tensor a data wrong")
	}
	for _, tt := range f.Tensors {
		if (int64(tt.Offset)+f.DataOffset)%32 != 0 {
			t.Errorf("tensor %s misaligned", tt.Name)
		}
	}
	if b := f.Tensor("b"); !bytes.Equal(b.Data, bytes.Repeat([]byte{7}, 68)) {
		t.Error("tensor b data wrong")
	}
	// Writing what was read gives the same bytes.
	w2 := NewWriter()
	w2.CopyMetadata(f)
	for _, tt := range f.Tensors {
		must(t, w2.AddTensor(tt.Name, tt.Type, tt.Dims, tt.Data))
	}
	var buf bytes.Buffer
	_, err = w2.WriteTo(&buf)
	must(t, err)
	if !bytes.Equal(buf.Bytes(), data) {
		t.Error("rewrite differs from the original")
	}
}

func TestAccessorErrors(t *testing.T) {
	_, data := sample(t)
	f, err := Parse(data)
	must(t, err)
	_, err = f.String("u32")
	if err == nil || !strings.Contains(err.Error(), `"u32"`) || !strings.Contains(err.Error(), "expected string, found u32") {
		t.Errorf("String(u32): %v", err)
	}
	_, err = f.Strings("f32s")
	if err == nil || !strings.Contains(err.Error(), "expected array of string, found array of f32") {
		t.Errorf("Strings(f32s): %v", err)
	}
	_, err = f.Float("missing.key")
	if !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("Float(missing): %v", err)
	}
	if _, err := f.Bool("str"); err == nil {
		t.Error("Bool(str) succeeded")
	}
	if _, err := f.Uint("i8"); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("Uint(i8 = -5): %v", err)
	}
	if v, err := f.IntOr("absent", 42); err != nil || v != 42 {
		t.Errorf("IntOr = %d, %v", v, err)
	}
	if _, err := f.IntOr("str", 1); err == nil {
		t.Error("IntOr on a string succeeded")
	}
	if ints, err := f.Ints("i32s"); err != nil || !reflect.DeepEqual(ints, []int64{-1, 0, 1}) {
		t.Errorf("Ints = %v, %v", ints, err)
	}
}

func TestAlignment(t *testing.T) {
	w := NewWriter()
	w.Alignment = 64
	must(t, w.AddTensor("x", TypeF32, []uint64{3}, make([]byte, 12)))
	must(t, w.AddTensor("y", TypeF32, []uint64{1}, make([]byte, 4)))
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	must(t, err)
	f, err := Parse(buf.Bytes())
	must(t, err)
	if f.Alignment != 64 || f.DataOffset%64 != 0 || f.Tensor("y").Offset != 64 {
		t.Errorf("alignment %d, data at %d, y at %d", f.Alignment, f.DataOffset, f.Tensor("y").Offset)
	}
}

func TestSharedFilesOpen(t *testing.T) {
	dir := testutil.Shared(t, "")
	var paths []string
	for _, pat := range []string{"models/*.gguf", "vocab/*.gguf"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		paths = append(paths, m...)
	}
	if len(paths) < 10 {
		t.Fatalf("found only %d GGUF files in %s", len(paths), dir)
	}
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if f.Architecture() == "" {
			t.Errorf("%s: no architecture", p)
		}
		if _, err := f.Strings("tokenizer.ggml.tokens"); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	f, err := Open(filepath.Join(dir, "models/stories260K.gguf"))
	must(t, err)
	defer f.Close()
	if n, _ := f.Int("llama.block_count"); n != 5 || len(f.Tensors) != 48 {
		t.Errorf("stories260K: %d layers, %d tensors", n, len(f.Tensors))
	}
}

// corrupt describes one way to damage a valid file and the error expected.
type corrupt struct {
	name string
	make func(t *testing.T) []byte
	want string
}

// fileWith builds a file from raw header parts: it lets a test say exactly
// which bytes are wrong.
type raw struct{ bytes.Buffer }

func (r *raw) u32(v uint32) *raw { binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) u64(v uint64) *raw { binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }
func (r *raw) header(nT, nKV uint64) *raw {
	r.WriteString("GGUF")
	return r.u32(3).u64(nT).u64(nKV)
}
func (r *raw) tensor(name string, typ uint32, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}
func (r *raw) pad(align int) *raw {
	for r.Len()%align != 0 {
		r.WriteByte(0)
	}
	return r
}

func corruptCases(t *testing.T) []corrupt {
	_, good := sample(t)
	clone := func() []byte { return append([]byte(nil), good...) }
	return []corrupt{
		{"empty", func(*testing.T) []byte { return nil }, "truncated"},
		{"bad magic", func(*testing.T) []byte { b := clone(); copy(b, "GGML"); return b }, "not a GGUF file"},
		{"version 1", func(*testing.T) []byte { b := clone(); b[4] = 1; return b }, "version 1 is not supported"},
		{"version 99", func(*testing.T) []byte { b := clone(); b[4] = 99; return b }, "unsupported GGUF version 99"},
		{"big endian", func(*testing.T) []byte {
			b := clone()
			binary.BigEndian.PutUint32(b[4:], 3)
			return b
		}, "big-endian"},
		{"truncated header", func(*testing.T) []byte { return good[:10] }, "truncated"},
		{"truncated in metadata", func(*testing.T) []byte { return good[:100] }, "left in the file"},
		{"truncated tensor data", func(*testing.T) []byte { return good[:len(good)-25] }, "outside the file"},
		{"huge tensor count", func(*testing.T) []byte {
			b := clone()
			binary.LittleEndian.PutUint64(b[8:], 1<<60)
			return b
		}, "tensor count"},
		{"huge kv count", func(*testing.T) []byte {
			b := clone()
			binary.LittleEndian.PutUint64(b[16:], 1<<40)
			return b
		}, "metadata count"},
		{"huge string length", func(*testing.T) []byte {
			r := new(raw).header(0, 1).u64(1 << 50)
			r.Write(make([]byte, 64))
			return r.Bytes()
		}, "exceeds"},
		{"huge array length", func(*testing.T) []byte {
			return new(raw).header(0, 1).str("k").u32(uint32(ArrayType)).u32(uint32(StringType)).u64(1 << 40).Bytes()
		}, "length of array"},
		{"unknown value type", func(*testing.T) []byte {
			return new(raw).header(0, 1).str("k").u32(77).u32(0).Bytes()
		}, "unknown value type 77"},
		{"unknown array element type", func(*testing.T) []byte {
			return new(raw).header(0, 1).str("k").u32(uint32(ArrayType)).u32(99).u64(0).Bytes()
		}, "array of unknown value type 99"},
		{"bad bool", func(*testing.T) []byte {
			r := new(raw).header(0, 1).str("k").u32(uint32(BoolType))
			r.WriteByte(2)
			return r.Bytes()
		}, "bool byte is 2"},
		{"deep nesting", func(*testing.T) []byte {
			r := new(raw).header(0, 1).str("k").u32(uint32(ArrayType))
			for i := 0; i < 20; i++ {
				r.u32(uint32(ArrayType)).u64(1)
			}
			r.u32(uint32(Uint8Type)).u64(0)
			return r.Bytes()
		}, "nested deeper"},
		{"duplicate key", func(*testing.T) []byte {
			return new(raw).header(0, 2).str("k").u32(uint32(Uint8Type)).u32(1).str("k").u32(uint32(Uint8Type)).u32(1).Bytes()[:0:0]
		}, ""},
		{"alignment not power of two", func(*testing.T) []byte {
			return new(raw).header(0, 1).str("general.alignment").u32(uint32(Uint32Type)).u32(48).Bytes()
		}, "not a power of two"},
		{"alignment wrong type", func(*testing.T) []byte {
			return new(raw).header(0, 1).str("general.alignment").u32(uint32(StringType)).str("32").Bytes()
		}, "general.alignment must be u32"},
		{"zero dims", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 0).Bytes()
		}, "has 0 dimensions"},
		{"five dims", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).Bytes()
		}, "has 5 dimensions"},
		{"dims overflow", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 0, 1<<32, 1<<32).Bytes()
		}, "overflows"},
		{"negative dim", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 0, math.MaxUint64).Bytes()
		}, "negative"},
		{"unknown tensor type", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 4, 0, 32).Bytes()
		}, "unknown ggml type 4"},
		{"row not a block multiple", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", uint32(TypeQ4_0), 0, 33).Bytes()
		}, "not a multiple of Q4_0's block size 32"},
		{"misaligned offset", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 4, 1).pad(32).Bytes()
		}, "not a multiple of the alignment"},
		{"data beyond file", func(*testing.T) []byte {
			r := new(raw).header(1, 0).tensor("t", 0, 0, 100).pad(32)
			r.Write(make([]byte, 16))
			return r.Bytes()
		}, "outside the file"},
		{"offset beyond file", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, 1<<62, 1).pad(32).Bytes()
		}, "outside the file"},
		{"offset overflows", func(*testing.T) []byte {
			return new(raw).header(1, 0).tensor("t", 0, math.MaxUint64-31, 8).pad(32).Bytes()
		}, "outside the file"},
		{"overlapping tensors", func(*testing.T) []byte {
			r := new(raw).header(2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 16).pad(32)
			r.Write(make([]byte, 128))
			return r.Bytes()
		}, "overlaps"},
		{"duplicate tensor names", func(*testing.T) []byte {
			r := new(raw).header(2, 0).tensor("a", 0, 0, 8).tensor("a", 0, 32, 8).pad(32)
			r.Write(make([]byte, 64))
			return r.Bytes()
		}, "duplicate tensor name"},
		{"truncated tensor info", func(*testing.T) []byte {
			return new(raw).header(1, 0).str("t").u32(2).u64(4).Bytes()
		}, "truncated"},
	}
}

func TestCorruptFiles(t *testing.T) {
	cases := corruptCases(t)
	// The duplicate-key case is built here: raw's chaining above cannot
	// express two keys without a helper.
	dup := new(raw).header(0, 2)
	dup.str("k").u32(uint32(Uint8Type)).WriteByte(1)
	dup.str("k").u32(uint32(Uint8Type)).WriteByte(1)
	dupBytes := dup.Bytes()
	for i := range cases {
		if cases[i].name == "duplicate key" {
			cases[i].make = func(*testing.T) []byte { return dupBytes }
			cases[i].want = "duplicate metadata key"
		}
	}
	if len(cases) < 20 {
		t.Fatalf("only %d corrupt cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.make(t)
			_, err := Parse(data)
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FormatError with a byte offset", err)
			}
			if fe.Offset < 0 || fe.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside the %d-byte file", fe.Offset, len(data))
			}
			// The same bytes through Open (mmap) fail the same way.
			p := filepath.Join(t.TempDir(), "bad.gguf")
			must(t, os.WriteFile(p, data, 0o644))
			if _, err := Open(p); err == nil {
				t.Fatal("Open succeeded")
			}
			if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Fatalf("Load: %v, want an error naming %s", err, p)
			}
		})
	}
}

// TestLoad: a file Load reads into memory holds what Open maps, in memory
// of its own (not the file's: rewriting the file does not change it),
// starting on a huge page.
func TestLoad(t *testing.T) {
	_, data := sample(t)
	p := filepath.Join(t.TempDir(), "m.gguf")
	must(t, os.WriteFile(p, data, 0o644))
	mapped, err := Open(p)
	must(t, err)
	defer mapped.Close()
	f, err := Load(p)
	must(t, err)
	if !f.resident || mapped.resident {
		t.Fatalf("resident: Load %v, Open %v", f.resident, mapped.resident)
	}
	if !bytes.Equal(f.mapping, data) {
		t.Fatal("Load's bytes differ from the file's")
	}
	if a := addrOf(f.mapping); a%hugePage != 0 {
		t.Errorf("data at %#x, not on a %d-byte page", a, hugePage)
	}
	if !reflect.DeepEqual(f.Metadata, mapped.Metadata) || len(f.Tensors) != len(mapped.Tensors) {
		t.Fatal("Load's metadata or tensors differ from Open's")
	}
	for i, tt := range f.Tensors {
		m := mapped.Tensors[i]
		if tt.Name != m.Name || tt.Type != m.Type || !bytes.Equal(tt.Data, m.Data) {
			t.Fatalf("tensor %s differs", tt.Name)
		}
	}
	// The file changing under a loaded model does not reach its weights.
	changed := append([]byte(nil), data...)
	last := f.Tensors[len(f.Tensors)-1]
	changed[int(f.DataOffset)+int(last.Offset)] ^= 0xff
	must(t, os.WriteFile(p, changed, 0o644))
	if !bytes.Equal(f.mapping, data) {
		t.Fatal("a loaded file changed with the file on disk")
	}
	f.Prefetch()
	must(t, f.Close())
	if _, err := Load(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

// TestEveryTruncation cuts a valid file at every byte: each prefix must
// fail cleanly (no panic), and the error must point inside the prefix.
func TestEveryTruncation(t *testing.T) {
	_, good := sample(t)
	f, err := Parse(good)
	must(t, err)
	// The file ends with padding after the last tensor; cutting only that
	// leaves a valid file.
	last := f.Tensors[len(f.Tensors)-1]
	end := int(f.DataOffset) + int(last.Offset) + len(last.Data)
	for n := 0; n < end; n++ {
		_, err := Parse(good[:n])
		if err == nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
}

func TestTypeTable(t *testing.T) {
	want := map[string][2]int{"Q4_0": {32, 18}, "Q8_0": {32, 34}, "Q4_K": {256, 144}, "Q6_K": {256, 210}, "Q8_K": {256, 292}, "IQ4_XS": {256, 136}, "MXFP4": {32, 17}, "BF16": {1, 2}, "TQ2_0": {256, 66}}
	for name, bs := range want {
		typ, ok := ParseGGMLType(strings.ToLower(name))
		if !ok || typ.BlockSize() != bs[0] || typ.TypeSize() != bs[1] || typ.String() != name {
			t.Errorf("%s: %v %d %d", name, ok, typ.BlockSize(), typ.TypeSize())
		}
	}
	if GGMLType(4).Known() || GGMLType(4).String() != "type(4)" {
		t.Error("type 4 (removed Q4_2) should be unknown")
	}
	if len(AllTypes()) != 35 {
		t.Errorf("%d types", len(AllTypes()))
	}
}

func FuzzParse(f *testing.F) {
	_, good := sample(f)
	f.Add(good)
	for _, name := range []string{"models/stories260K.gguf", "vocab/ggml-vocab-gpt-2.gguf"} {
		p := filepath.Join(testutil.ModuleRoot(f), "..", "shared", name)
		if data, err := os.ReadFile(p); err == nil {
			if len(data) > 64<<10 {
				data = data[:64<<10] // the header is what the fuzzer should work on
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, tt := range file.Tensors {
			if uint64(len(tt.Data)) != tt.Bytes() {
				t.Fatalf("tensor %s: %d bytes, want %d", tt.Name, len(tt.Data), tt.Bytes())
			}
		}
		for _, kv := range file.Metadata {
			_ = kv.Value.String()
		}
	})
}

func BenchmarkOpenLlamaBPE(b *testing.B) {
	p := testutil.Shared(b, "vocab/ggml-vocab-llama-bpe.gguf")
	for i := 0; i < b.N; i++ {
		f, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
