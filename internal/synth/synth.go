// Package synth writes small deterministic models with random weights, in
// any architecture the engine runs. Tests write them on the fly (they are
// kilobytes to megabytes, not worth checking in), so the forward pass, the
// scheduler, the pool and generation are tested on a fresh clone; golden
// outputs recorded with llama.cpp over the same files live in testdata/.
//
// A model is a Spec: an architecture (a key of Archs), shapes, the type of
// the weight matrices and a vocabulary, either the built-in one (a small
// SentencePiece vocabulary that needs no file) or one copied from a GGUF
// file. The same Spec always writes the same bytes.
//
//	path := filepath.Join(t.TempDir(), "tiny.gguf")
//	err := synth.Write(path, synth.Tiny())                    // llama, F32, built-in vocabulary
//	err = synth.Write(path, synth.Spec{Arch: "qwen3", Embd: 256, Layers: 2, Heads: 4, KVHeads: 2,
//		FF: 512, Context: 512, Type: gguf.TypeQ4_K})          // K-quants need rows of 256
//
// To add an architecture, add an Arch to Archs (see arch.go): the
// metadata keys it needs beyond the common ones and its tensors in file
// order. LlamaBlock gives the usual attention and feed-forward tensors of a
// layer for architectures that are variations on Llama's.
package synth

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
)

// Spec describes the model to write.
type Spec struct {
	Arch    string // general.architecture, a key of Archs; "" = "llama"
	Embd    int    // residual stream width
	Layers  int
	Heads   int
	KVHeads int // 0 = Heads
	// HeadDim is the width of a query/key head; 0 = Embd/Heads. A value
	// other than Embd/Heads is written as attention.key_length and
	// value_length.
	HeadDim int
	FF      int // feed-forward width
	Context int // training context; 0 = 512
	Seed    uint64
	// Tied leaves out output.weight so the embedding doubles as the output.
	Tied bool
	// Type is the type of the 2-D weight matrices (the embedding
	// included): F32 (the zero value), F16, BF16 or any type engine/quant
	// writes (Q8_0, Q4_0, Q4_K, ...; rows must be whole blocks). Values are
	// drawn as float32 and converted, so a Spec that differs only in Type
	// describes the same model at another precision.
	Type gguf.GGMLType
	// Types overrides Type for the tensors whose name ends with a key,
	// e.g. {"ffn_down.weight": gguf.TypeQ8_0, "output.weight": gguf.TypeQ6_K}.
	// The longest matching key wins.
	Types map[string]gguf.GGMLType
	// Vocab is a GGUF file whose tokenizer.* metadata is copied; "" uses
	// the built-in vocabulary of VocabSize tokens (see BuiltinVocab).
	Vocab     string
	VocabSize int // built-in vocabulary size; 0 = 512 (at least 259)
	// Pooling is written as {arch}.pooling_type: "none", "mean", "cls",
	// "last" or "rank" ("rank" gives a bert file a classification head,
	// a qwen3 file Qwen3-Reranker's head and rerank prompt);
	// "" writes no key.
	Pooling string
	// Metadata adds keys or replaces the written ones (applied last).
	Metadata map[string]gguf.Value
}

// Tiny is the default small model of the tests: Llama-shaped, two layers,
// grouped-query attention, F32 weights, the built-in vocabulary. It writes
// in milliseconds and runs a token in microseconds.
func Tiny() Spec {
	return Spec{Arch: "llama", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 96, Context: 256, Seed: 1}
}

// headDim is the query/key width per head.
func (s Spec) headDim() int {
	if s.HeadDim > 0 {
		return s.HeadDim
	}
	return s.Embd / s.Heads
}

func (s Spec) kvHeads() int {
	if s.KVHeads > 0 {
		return s.KVHeads
	}
	return s.Heads
}

// typeOf is the stored type of the matrix called name.
func (s Spec) typeOf(name string) gguf.GGMLType {
	t, best := s.Type, -1
	for suffix, tt := range s.Types {
		if strings.HasSuffix(name, suffix) && len(suffix) > best {
			t, best = tt, len(suffix)
		}
	}
	return t
}

// Tensor is one tensor to write: Shape in ggml order (Shape[0] is the row
// length), values drawn from N(Mean, Std). Matrix tensors are stored in
// the Spec's weight type, the others (norms, biases) in F32.
type Tensor struct {
	Name      string
	Shape     []int
	Mean, Std float64
	Matrix    bool
}

// Arch is what an architecture adds to the common layout.
type Arch struct {
	// Metadata sets the architecture's own keys. Every architecture gets
	// context_length, embedding_length, block_count, feed_forward_length,
	// attention.head_count, attention.head_count_kv, rope.freq_base and
	// attention.layer_norm_rms_epsilon (all under "ARCH.").
	Metadata func(s Spec, set func(key string, v gguf.Value))
	// Tensors lists the model's tensors in file order (the random draws
	// follow it). nv is the vocabulary size.
	Tensors func(s Spec, nv int) []Tensor
	// Vocab is the built-in vocabulary of n tokens (nil = BuiltinVocab,
	// SentencePiece).
	Vocab func(n int) ([]gguf.KV, error)
}

// Write creates the model file at path.
func Write(path string, s Spec) error {
	w, err := Build(s)
	if err != nil {
		return err
	}
	return w.WriteFile(path)
}

// Build returns the model as a gguf.Writer, for callers that want the
// bytes (w.WriteTo) rather than a file.
func Build(s Spec) (*gguf.Writer, error) { return buildSpec(s, true) }

// buildSpec is Build, without the tensors unless withTensors.
func buildSpec(s Spec, withTensors bool) (*gguf.Writer, error) {
	if s.Arch == "" {
		s.Arch = "llama"
	}
	arch, ok := Archs[s.Arch]
	if !ok {
		names := make([]string, 0, len(Archs))
		for n := range Archs {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("synth: unknown architecture %q (have %s)", s.Arch, strings.Join(names, ", "))
	}
	if s.Context == 0 {
		s.Context = 512
	}
	if s.Embd <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.FF <= 0 || s.kvHeads() <= 0 || s.Heads%s.kvHeads() != 0 || s.headDim() <= 0 {
		return nil, fmt.Errorf("synth: bad shape (embd %d, layers %d, heads %d, kv heads %d, head dim %d, ff %d)",
			s.Embd, s.Layers, s.Heads, s.kvHeads(), s.headDim(), s.FF)
	}
	w := gguf.NewWriter()
	a := s.Arch
	w.Set("general.architecture", gguf.String(a))
	w.Set("general.name", gguf.String("synth-"+a))
	w.Set("general.file_type", gguf.Uint32(fileTypes[s.Type]))
	w.Set(a+".context_length", gguf.Uint32(uint32(s.Context)))
	w.Set(a+".embedding_length", gguf.Uint32(uint32(s.Embd)))
	w.Set(a+".block_count", gguf.Uint32(uint32(s.Layers)))
	w.Set(a+".feed_forward_length", gguf.Uint32(uint32(s.FF)))
	w.Set(a+".attention.head_count", gguf.Uint32(uint32(s.Heads)))
	w.Set(a+".attention.head_count_kv", gguf.Uint32(uint32(s.kvHeads())))
	w.Set(a+".rope.freq_base", gguf.Float32(1000000))
	w.Set(a+".attention.layer_norm_rms_epsilon", gguf.Float32(1e-6))
	if s.HeadDim > 0 && s.HeadDim != s.Embd/s.Heads {
		w.Set(a+".attention.key_length", gguf.Uint32(uint32(s.HeadDim)))
		w.Set(a+".attention.value_length", gguf.Uint32(uint32(s.HeadDim)))
	}
	if s.Pooling != "" {
		pt, ok := PoolingTypes[s.Pooling]
		if !ok {
			return nil, fmt.Errorf("synth: unknown pooling %q (none, mean, cls, last, rank)", s.Pooling)
		}
		w.Set(a+".pooling_type", gguf.Uint32(pt))
	}
	if arch.Metadata != nil {
		arch.Metadata(s, func(k string, v gguf.Value) { w.Set(k, v) })
	}
	nv, err := setVocab(w, s, arch.Vocab)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(s.Metadata))
	for k := range s.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order would change the file's bytes
	for _, k := range keys {
		w.Set(k, s.Metadata[k])
	}

	if !withTensors {
		return w, nil
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	for _, t := range arch.Tensors(s, nv) {
		if err := addTensor(w, rng, s, t); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// addTensor draws t's values and adds it in its stored type.
func addTensor(w *gguf.Writer, rng *rand.Rand, s Spec, t Tensor) error {
	n := 1
	dims := make([]uint64, len(t.Shape))
	for i, d := range t.Shape {
		n *= d
		dims[i] = uint64(d)
	}
	if !t.Matrix {
		data := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(t.Mean+rng.NormFloat64()*t.Std)))
		}
		return w.AddTensor(t.Name, gguf.TypeF32, dims, data)
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(t.Mean + rng.NormFloat64()*t.Std)
	}
	typ := s.typeOf(t.Name)
	var data []byte
	switch typ {
	case gguf.TypeF32:
		data = make([]byte, 4*n)
		for i, v := range vals {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
	case gguf.TypeF16:
		data = make([]byte, 2*n)
		for i, v := range vals {
			binary.LittleEndian.PutUint16(data[2*i:], f32to16(v))
		}
	default:
		row := t.Shape[0]
		if !typ.Known() || row%typ.BlockSize() != 0 {
			return fmt.Errorf("synth: %s: rows of %d cannot be stored as %s", t.Name, row, typ)
		}
		data = make([]byte, n/row*typ.RowSize(row))
		rs := typ.RowSize(row)
		for r := 0; r < n/row; r++ {
			if err := quant.Quantize(typ, data[r*rs:(r+1)*rs], vals[r*row:(r+1)*row]); err != nil {
				return fmt.Errorf("synth: %s: %w", t.Name, err)
			}
		}
	}
	return w.AddTensor(t.Name, typ, dims, data)
}

// fileTypes is general.file_type for a file whose matrices are mostly of
// a type (the K-quants' "medium" mixes).
var fileTypes = map[gguf.GGMLType]uint32{
	gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ4_0: 2, gguf.TypeQ4_1: 3, gguf.TypeQ8_0: 7,
	gguf.TypeQ5_0: 8, gguf.TypeQ5_1: 9, gguf.TypeQ2_K: 10, gguf.TypeQ3_K: 12, gguf.TypeQ4_K: 15,
	gguf.TypeQ5_K: 17, gguf.TypeQ6_K: 18, gguf.TypeBF16: 32,
}

// setVocab writes the tokenizer metadata and returns the vocabulary size.
func setVocab(w *gguf.Writer, s Spec, builtin func(int) ([]gguf.KV, error)) (int, error) {
	if s.Vocab == "" {
		n := s.VocabSize
		if n == 0 {
			n = 512
		}
		if builtin == nil {
			builtin = BuiltinVocab
		}
		kv, err := builtin(n)
		if err != nil {
			return 0, err
		}
		for _, e := range kv {
			w.Set(e.Key, e.Value)
		}
		return n, nil
	}
	if _, err := os.Stat(s.Vocab); err != nil {
		return 0, err
	}
	vf, err := gguf.Open(s.Vocab)
	if err != nil {
		return 0, err
	}
	defer vf.Close()
	tokens, err := vf.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return 0, err
	}
	for _, kv := range vf.Metadata {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			w.Set(kv.Key, kv.Value)
		}
	}
	return len(tokens), nil
}

// f32to16 rounds to the nearest F16 (ties to even). The generator keeps its
// own conversion so that it does not depend on the code it tests.
func f32to16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b >> 23) & 0xff)
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - e)
		half := uint32(1) << (shift - 1)
		r := mant >> shift
		rem := mant & ((1 << shift) - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}
