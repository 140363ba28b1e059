package model

import (
	"fmt"
	"math"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

// TestSplitMatchesTeam: a pass split by sequence (each member running its
// sequences' whole pass alone) gives the logits the team gives, bit for
// bit, and leaves the same cache: for decode steps beside prompts of
// several lengths (runs of four and single tokens), a scored prompt
// token, weight types whose kernels group tokens differently (packed
// F32, Q8_0, Q4_0, Q4_K's gemm and gemv orders), both cache types, the
// eight-head attention kernels, Gemma 2 and a mixture of experts.
func TestSplitMatchesTeam(t *testing.T) {
	eight := synth.Tiny()
	eight.Heads, eight.KVHeads = 8, 4
	kq := synth.Tiny()
	kq.Embd, kq.FF, kq.Type = 256, 256, gguf.TypeQ4_K
	cases := []struct {
		name  string
		spec  synth.Spec
		kvF32 bool
	}{
		{"f32", synth.Tiny(), false},
		{"f32/kv-f32", synth.Tiny(), true},
		{"q8_0", withType(synth.Tiny(), gguf.TypeQ8_0), false},
		{"q4_0", withType(synth.Tiny(), gguf.TypeQ4_0), false},
		{"f16", withType(synth.Tiny(), gguf.TypeF16), false},
		{"q4_k", kq, false},
		{"eight-heads", eight, false},
		// Sliding windows and soft caps; a mixture of experts.
		{"gemma2", synth.Goldens[synth.GoldenName("gemma2", gguf.TypeF32)].Spec, false},
		{"qwen3moe", synth.Goldens[synth.GoldenName("qwen3moe", gguf.TypeQ8_0)].Spec, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeSynth(t, c.spec)
			const slots = 7
			team := openWith(t, path, 2, slots, c.kvF32, Options{})
			split := openWith(t, path, 2, slots, c.kvF32, Options{})
			split.st.splitBelow = math.MaxInt64
			alone := openWith(t, path, 1, slots, c.kvF32, Options{})
			// Split on a closed pool: RunEach runs the members one after
			// the other, so the first takes every part (runParts).
			caller := openWith(t, path, 2, slots, c.kvF32, Options{})
			caller.st.splitBelow = math.MaxInt64
			caller.pool.Close()
			runners := []*runner{team, split, alone, caller}
			names := []string{"team", "split", "one thread", "split, all parts on the caller"}

			// Cached prompts for slots 0-3, one sequence a pass.
			cached := [][]int32{{1, 40, 41, 42, 43}, {1, 50, 51}, {1, 60, 61, 62, 63, 64, 65, 66, 67}, {1}}
			for slot, p := range cached {
				for _, r := range runners {
					r.prompt(t, slot, p)
				}
			}
			// A pass of decode steps for slots 0-3, then prompts for 4-6
			// (slot 5's second token scored), then decode steps for all.
			var mixed Batch
			for slot, p := range cached {
				mixed.Add(int32(100+slot), int32(len(p)), int32(slot), true)
			}
			mixed.Decode = len(cached)
			prompts := map[int][]int32{4: {1, 70, 71, 72, 73, 74, 75, 76, 77}, 5: {1, 80}, 6: {1, 90, 91, 92, 93, 94}}
			for slot := 4; slot < slots; slot++ {
				p := prompts[slot]
				for i, id := range p {
					mixed.Add(id, int32(i), int32(slot), i == len(p)-1 || (slot == 5 && i == 0))
				}
			}
			var step Batch
			for slot := 0; slot < slots; slot++ {
				pos := len(prompts[slot])
				if slot < len(cached) {
					pos = len(cached[slot]) + 1
				}
				step.Add(int32(110+slot), int32(pos), int32(slot), true)
			}
			step.Decode = slots

			for k, b := range []*Batch{&mixed, &step} {
				var want []float32
				for i, r := range runners {
					before := r.st.splitPasses
					got, err := r.st.Forward(b, r.kv)
					if err != nil {
						t.Fatal(err)
					}
					if didSplit := r.st.splitPasses > before; didSplit != (r == split || r == caller) {
						t.Fatalf("pass %d: %s split the pass: %v", k, names[i], didSplit)
					}
					if r == caller && caller.st.partsTaken.Load() != int64(k+1) {
						t.Fatalf("pass %d: the caller took %d parts not its own, want %d", k, caller.st.partsTaken.Load(), k+1)
					}
					if i == 0 {
						want = append([]float32(nil), got...)
						continue
					}
					if len(got) != len(want) {
						t.Fatalf("pass %d: %s gave %d logits, the team %d", k, names[i], len(got), len(want))
					}
					for j := range got {
						if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
							t.Fatalf("pass %d: logit %d (row %d): %v with %s, %v with the team", k, j, j/team.m.Vocab, got[j], names[i], want[j])
						}
					}
				}
			}
		})
	}
}

func withType(s synth.Spec, t gguf.GGMLType) synth.Spec {
	s.Type = t
	return s
}

// TestSplitParts: which passes split, and how. Sequences go whole, in
// batch order, to the member with fewer tokens, decode steps first in
// each part; a sequence whose tokens are not together, a single
// sequence, texts to embed, weights over the bound and a part with most
// of a large pass stay on the team.
func TestSplitParts(t *testing.T) {
	path := writeSynth(t, synth.Tiny())
	r := openWith(t, path, 2, 8, false, Options{})
	r.st.splitBelow = math.MaxInt64
	build := func(seqs []int32, decode int) *Batch {
		b := &Batch{Decode: decode}
		pos := map[int32]int32{}
		for _, s := range seqs {
			b.Add(1, pos[s], s, true)
			pos[s]++
		}
		return b
	}
	parts := func() string {
		s := ""
		for k := range r.st.parts {
			p := &r.st.parts[k]
			s += fmt.Sprintf("[%v d%d %v]", p.b.Seq, p.b.Decode, p.from)
		}
		return s
	}
	for _, c := range []struct {
		seqs   []int32
		decode int
		want   string // "" = no split
	}{
		{[]int32{0, 1, 2, 3}, 4, "[[0 2] d2 [0 2]][[1 3] d2 [1 3]]"},
		{[]int32{0, 1, 2, 2, 2, 3, 3}, 2, "[[0 2 2 2] d1 [0 2 3 4]][[1 3 3] d1 [1 5 6]]"},
		{[]int32{5, 6, 6, 6, 6, 6}, 0, "[[5] d0 [0]][[6 6 6 6 6] d0 [1 2 3 4 5]]"},
		{[]int32{0, 1, 0}, 0, ""},                      // sequence 0 is not together
		{[]int32{3, 3, 3}, 0, ""},                      // one sequence
		{[]int32{0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, ""}, // nine tenths in one part
	} {
		b := build(c.seqs, c.decode)
		got := ""
		if r.st.split(b, r.kv) {
			got = parts()
		}
		if got != c.want {
			t.Errorf("%v (%d decode): parts %q, want %q", c.seqs, c.decode, got, c.want)
		}
	}
	b := build([]int32{0, 1}, 2)
	r.st.splitBelow = r.m.WeightBytes - 1
	if r.st.split(b, r.kv) {
		t.Error("split a model over the bound")
	}
	r.st.splitBelow = math.MaxInt64
	b.Embed = []Span{{Start: 2, End: 3}}
	if r.st.split(b, r.kv) {
		t.Error("split a pass with a text to embed")
	}
}

// TestSplitAllocatesNothing: once its parts' buffers have grown, a split
// decode step allocates nothing.
func TestSplitAllocatesNothing(t *testing.T) {
	const seqs = 6
	r := openWith(t, writeSynth(t, synth.Tiny()), 2, seqs, false, Options{})
	r.st.splitBelow = math.MaxInt64
	pos := make([]int32, seqs)
	for slot := range seqs {
		r.prompt(t, slot, []int32{1, int32(30 + slot), 7})
		pos[slot] = 3
	}
	var b Batch
	step := func() {
		b.Reset()
		for slot := range seqs {
			b.Add(int32(50+slot), pos[slot], int32(slot), true)
			pos[slot]++
		}
		b.Decode = seqs
		if _, err := r.st.Forward(&b, r.kv); err != nil {
			t.Fatal(err)
		}
	}
	step() // the parts' buffers grow
	before := r.st.splitPasses
	if a := testing.AllocsPerRun(50, step); a != 0 {
		t.Fatalf("%v allocations a split step", a)
	}
	if r.st.splitPasses-before < 50 {
		t.Fatalf("only %d of the steps split", r.st.splitPasses-before)
	}
}
