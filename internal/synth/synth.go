// Package synth writes small deterministic models with random weights, in
// any architecture the engine runs, with a real tokenizer copied from a
// vocabulary file. Tests regenerate them on the fly (they are megabytes, not
// worth checking in); golden outputs recorded with llama.cpp over the same
// files live in testdata/.
package synth

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Spec describes the model to write.
type Spec struct {
	Arch    string // llama, qwen2 or qwen3
	Embd    int
	Layers  int
	Heads   int
	KVHeads int
	FF      int
	Context int
	Seed    uint64
	// Tied leaves out output.weight so the embedding doubles as the output.
	Tied bool
	// Vocab is a GGUF file whose tokenizer.* metadata is copied.
	Vocab string
}

// Write creates the model file at path.
func Write(path string, s Spec) error {
	vf, err := gguf.Open(s.Vocab)
	if err != nil {
		return err
	}
	defer vf.Close()
	tokens, err := vf.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return err
	}
	nv := len(tokens)
	w := gguf.NewWriter()
	a := s.Arch
	w.Set("general.architecture", gguf.String(a))
	w.Set("general.name", gguf.String("synth-"+a))
	w.Set("general.file_type", gguf.Uint32(1))
	w.Set(a+".context_length", gguf.Uint32(uint32(s.Context)))
	w.Set(a+".embedding_length", gguf.Uint32(uint32(s.Embd)))
	w.Set(a+".block_count", gguf.Uint32(uint32(s.Layers)))
	w.Set(a+".feed_forward_length", gguf.Uint32(uint32(s.FF)))
	w.Set(a+".attention.head_count", gguf.Uint32(uint32(s.Heads)))
	w.Set(a+".attention.head_count_kv", gguf.Uint32(uint32(s.KVHeads)))
	w.Set(a+".rope.freq_base", gguf.Float32(1000000))
	w.Set(a+".attention.layer_norm_rms_epsilon", gguf.Float32(1e-6))
	hd := s.Embd / s.Heads
	if a == "qwen3" {
		w.Set(a+".attention.key_length", gguf.Uint32(uint32(hd)))
		w.Set(a+".attention.value_length", gguf.Uint32(uint32(hd)))
	}
	for _, kv := range vf.Metadata {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			w.Set(kv.Key, kv.Value)
		}
	}

	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	f16 := func(name string, cols, rows int, std float64) error {
		data := make([]byte, 2*cols*rows)
		for i := 0; i < cols*rows; i++ {
			binary.LittleEndian.PutUint16(data[2*i:], f32to16(float32(rng.NormFloat64()*std)))
		}
		return w.AddTensor(name, gguf.TypeF16, []uint64{uint64(cols), uint64(rows)}, data)
	}
	f32 := func(name string, n int, mean, std float64) error {
		data := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(mean+rng.NormFloat64()*std)))
		}
		return w.AddTensor(name, gguf.TypeF32, []uint64{uint64(n)}, data)
	}
	// Weights are wider than a trained model's so the logits spread out and
	// greedy choices are decided by clear margins.
	std := 1 / math.Sqrt(float64(s.Embd))
	// A tied output multiplies the final state by the embedding itself, so
	// each token would predict itself with logit ~Embd; a small output norm
	// brings that down to a few units.
	outNorm := 1.0
	if s.Tied {
		outNorm = 0.1
	}
	errs := []error{
		f16("token_embd.weight", s.Embd, nv, 1),
		f32("output_norm.weight", s.Embd, outNorm, outNorm/10),
	}
	if !s.Tied {
		errs = append(errs, f16("output.weight", s.Embd, nv, std*2))
	}
	kvDim := s.KVHeads * hd
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		errs = append(errs,
			f32(p+"attn_norm.weight", s.Embd, 1, 0.1),
			f16(p+"attn_q.weight", s.Embd, s.Embd, std*2),
			f16(p+"attn_k.weight", s.Embd, kvDim, std*2),
			f16(p+"attn_v.weight", s.Embd, kvDim, std),
			f16(p+"attn_output.weight", s.Embd, s.Embd, std),
			f32(p+"ffn_norm.weight", s.Embd, 1, 0.1),
			f16(p+"ffn_gate.weight", s.Embd, s.FF, std),
			f16(p+"ffn_up.weight", s.Embd, s.FF, std),
			f16(p+"ffn_down.weight", s.FF, s.Embd, 1/math.Sqrt(float64(s.FF))),
		)
		if a == "qwen2" {
			errs = append(errs,
				f32(p+"attn_q.bias", s.Embd, 0, 0.5),
				f32(p+"attn_k.bias", kvDim, 0, 0.5),
				f32(p+"attn_v.bias", kvDim, 0, 0.1))
		}
		if a == "qwen3" {
			errs = append(errs,
				f32(p+"attn_q_norm.weight", hd, 1, 0.2),
				f32(p+"attn_k_norm.weight", hd, 1, 0.2))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return w.WriteFile(path)
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
