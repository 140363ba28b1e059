package model

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/internal/synth"
)

// These tests run on models internal/synth writes in-process, so they need
// nothing beside the checkout. The comparisons with llama.cpp itself are in
// model_test.go and qwen_test.go, on ../shared's files.

// writeSynth writes s into the test's temporary directory.
func writeSynth(t testing.TB, s synth.Spec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.gguf")
	if err := synth.Write(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// openWith is openModel with a choice of KV cache type and load options.
func openWith(t testing.TB, path string, threads, slots int, kvF32 bool, opts Options) *runner {
	t.Helper()
	return openCtx(t, path, threads, slots, 256, kvF32, opts)
}

// openCtx is openWith with ctx positions per cache slot (the most tokens a
// decoder's text to embed may have).
func openCtx(t testing.TB, path string, threads, slots, ctx int, kvF32 bool, opts Options) *runner {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(f, opts)
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	kv, err := kvcache.New(kvcache.Config{Layers: m.Config.Layers, Slots: slots, Context: ctx, KVDim: m.KVHeads * m.HeadDim, F32: kvF32})
	if err != nil {
		t.Fatal(err)
	}
	pool := tensor.NewPool(threads)
	r := &runner{m: m, st: NewState(m, pool), kv: kv, pool: pool}
	r.st.aloneBelow = 0 // the team even for a tiny model's single token
	r.st.splitBelow = 0 // and for every pass (split_test.go tests splitting)
	r.close = func() { pool.Close(); f.Close() }
	t.Cleanup(r.close)
	return r
}

// refModel is a plain float64 forward pass over the file's weights,
// dequantized: the definition the engine's arithmetic approximates.
type refModel struct {
	c       Config
	vocab   int
	w       map[string][]float64
	k, v    [][][]float64 // [layer][pos] cached keys and values
	neox    bool
	eps     float64
	nLayers int
}

func newRef(t *testing.T, path string) *refModel {
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	r := &refModel{c: c, w: map[string][]float64{}, neox: c.RopeType == RopeNeox, eps: float64(c.RMSEps), nLayers: c.Layers}
	for i := range f.Tensors {
		tt := f.Tensors[i]
		n := int(tt.Elements())
		out := make([]float32, n)
		if err := quant.Dequantize(tt.Type, out, tt.Data); err != nil {
			t.Fatal(err)
		}
		w := make([]float64, n)
		for j, v := range out {
			w[j] = float64(v)
		}
		r.w[tt.Name] = w
	}
	r.vocab = len(r.w["token_embd.weight"]) / c.Embd
	if r.w["output.weight"] == nil {
		r.w["output.weight"] = r.w["token_embd.weight"]
	}
	r.k = make([][][]float64, c.Layers)
	r.v = make([][][]float64, c.Layers)
	return r
}

func (r *refModel) matvec(name string, x []float64, rows int) []float64 {
	w := r.w[name]
	cols := len(x)
	out := make([]float64, rows)
	for i := range out {
		var s float64
		for j, xv := range x {
			s += w[i*cols+j] * xv
		}
		out[i] = s
	}
	if b := r.w[name[:len(name)-len("weight")]+"bias"]; b != nil {
		for i := range out {
			out[i] += b[i]
		}
	}
	return out
}

func (r *refModel) rmsNorm(x []float64, w []float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+r.eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * scale * w[i]
	}
	return out
}

func (r *refModel) rope(x []float64, pos int, heads int) {
	c := r.c
	hd, half := c.HeadDim, c.RopeDims/2
	for h := 0; h < heads; h++ {
		v := x[h*hd : (h+1)*hd]
		for j := 0; j < half; j++ {
			theta := float64(pos) * math.Pow(float64(c.RopeBase), -2*float64(j)/float64(c.RopeDims))
			a, b := 2*j, 2*j+1
			if r.neox {
				a, b = j, j+half
			}
			x0, x1 := v[a], v[b]
			v[a] = x0*math.Cos(theta) - x1*math.Sin(theta)
			v[b] = x0*math.Sin(theta) + x1*math.Cos(theta)
		}
	}
}

// token runs one token at the next position and returns its logits.
func (r *refModel) token(tok int32) []float64 {
	c := r.c
	pos := len(r.k[0])
	hd := c.HeadDim
	x := append([]float64(nil), r.w["token_embd.weight"][int(tok)*c.Embd:(int(tok)+1)*c.Embd]...)
	for l := 0; l < r.nLayers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		xb := r.rmsNorm(x, r.w[p+"attn_norm.weight"])
		q := r.matvec(p+"attn_q.weight", xb, c.Heads*hd)
		k := r.matvec(p+"attn_k.weight", xb, c.KVHeads*hd)
		v := r.matvec(p+"attn_v.weight", xb, c.KVHeads*hd)
		if qn := r.w[p+"attn_q_norm.weight"]; qn != nil {
			for h := 0; h < c.Heads; h++ {
				copy(q[h*hd:], r.rmsNorm(q[h*hd:(h+1)*hd], qn))
			}
			kn := r.w[p+"attn_k_norm.weight"]
			for h := 0; h < c.KVHeads; h++ {
				copy(k[h*hd:], r.rmsNorm(k[h*hd:(h+1)*hd], kn))
			}
		}
		r.rope(q, pos, c.Heads)
		r.rope(k, pos, c.KVHeads)
		r.k[l] = append(r.k[l], k)
		r.v[l] = append(r.v[l], v)
		att := make([]float64, c.Heads*hd)
		for h := 0; h < c.Heads; h++ {
			kvh := h / (c.Heads / c.KVHeads)
			sc := make([]float64, pos+1)
			mx := math.Inf(-1)
			first := 0
			if c.SWA != nil && c.SWA[l] {
				first = max(0, pos-c.Window+1) // the keys a sliding window leaves
			}
			for j := range first {
				sc[j] = math.Inf(-1)
			}
			for j := first; j <= pos; j++ {
				var s float64
				for d := 0; d < hd; d++ {
					s += q[h*hd+d] * r.k[l][j][kvh*hd+d]
				}
				sc[j] = s / math.Sqrt(float64(hd))
				mx = math.Max(mx, sc[j])
			}
			var sum float64
			for j := range sc {
				sc[j] = math.Exp(sc[j] - mx)
				sum += sc[j]
			}
			for j := range sc {
				for d := 0; d < hd; d++ {
					att[h*hd+d] += sc[j] / sum * r.v[l][j][kvh*hd+d]
				}
			}
		}
		o := r.matvec(p+"attn_output.weight", att, c.Embd)
		for i := range x {
			x[i] += o[i]
		}
		xb = r.rmsNorm(x, r.w[p+"ffn_norm.weight"])
		g := r.matvec(p+"ffn_gate.weight", xb, c.FF)
		u := r.matvec(p+"ffn_up.weight", xb, c.FF)
		for i := range g {
			g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
		}
		d := r.matvec(p+"ffn_down.weight", g, c.Embd)
		for i := range x {
			x[i] += d[i]
		}
	}
	return r.matvec("output.weight", r.rmsNorm(x, r.w["output_norm.weight"]), r.vocab)
}

// spread is the standard deviation of xs.
func spread(xs []float64) float64 {
	var s, ss float64
	for _, v := range xs {
		s += v
		ss += v * v
	}
	n := float64(len(xs))
	return math.Sqrt(ss/n - (s/n)*(s/n))
}

// TestForwardMatchesReference runs a prompt and then decode steps through
// Forward and through the float64 reference, for every architecture and
// weight type the synthetic writer makes, at every kernel level, and
// compares the logits relative to their spread. F32 weights with an F32
// cache differ only by float32 rounding; quantized weights also by the
// 8-bit activations of ggml's scheme.
func TestForwardMatchesReference(t *testing.T) {
	prompt := []int32{1, 300, 301, 7, 288, 42, 310}
	steps := []int32{265, 270, 299}
	type tc struct {
		name  string
		spec  synth.Spec
		kvF32 bool
		tol   float64 // rms(diff) / spread of the reference logits
	}
	base := synth.Tiny()
	k := synth.Spec{Arch: "llama", Embd: 256, Layers: 2, Heads: 4, KVHeads: 2, FF: 512, Context: 256, Seed: 3}
	var cases []tc
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		s := base
		s.Arch = arch
		s.Tied = arch == "qwen2"
		cases = append(cases, tc{arch + "/f32/kvf32", s, true, 1e-5}, tc{arch + "/f32/kvf16", s, false, 2e-3})
	}
	hd := base
	hd.HeadDim = 32 // heads wider than embd/heads
	cases = append(cases, tc{"llama/headdim32", hd, true, 1e-5})
	// A Mistral-style sliding window shorter than the prompt.
	win := base
	win.Metadata = map[string]gguf.Value{"llama.attention.sliding_window": gguf.Uint32(3)}
	cases = append(cases, tc{"llama/window3/kvf32", win, true, 1e-5}, tc{"llama/window3/kvf16", win, false, 2e-3})
	for _, typ := range []gguf.GGMLType{gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1,
		gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K} {
		s := k
		s.Type = typ
		tol := 0.05 // 8-bit activations
		if typ == gguf.TypeF16 || typ == gguf.TypeBF16 {
			tol = 1e-2 // activations rounded to the weights' type
		}
		cases = append(cases, tc{typ.String(), s, false, tol})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeSynth(t, c.spec)
			ref := newRef(t, path)
			want := [][]float64{}
			for i, tok := range prompt {
				l := ref.token(tok)
				if i == len(prompt)-1 {
					want = append(want, l)
				}
			}
			for _, tok := range steps {
				want = append(want, ref.token(tok))
			}
			forEachLevel(t, func(t *testing.T) {
				for _, noPack := range []bool{false, true} {
					r := openWith(t, path, 2, 1, c.kvF32, Options{NoPack: noPack})
					got := [][]float32{r.prompt(t, 0, prompt)}
					for i, tok := range steps {
						got = append(got, r.step(t, 0, tok, len(prompt)+i))
					}
					for i := range want {
						var ss float64
						for j, w := range want[i] {
							d := float64(got[i][j]) - w
							ss += d * d
						}
						rel := math.Sqrt(ss/float64(len(want[i]))) / spread(want[i])
						if rel > c.tol || math.IsNaN(rel) {
							t.Fatalf("noPack %v, position %d: rms(logit - reference) is %.3g of the logits' spread %.3g, tolerance %.3g",
								noPack, len(prompt)-1+i, rel, spread(want[i]), c.tol)
						}
						if i == 0 && !noPack {
							t.Logf("rms(logit - reference) = %.2g of the spread", rel)
						}
					}
				}
			})
		})
	}
}

// TestTinyBatchedSequencesAreIndependent decodes two prompts in one batch
// and checks each gets, bit for bit, the logits it gets alone: attention
// must not look across sequences, and a token's kernels must not depend on
// its neighbours in the batch.
func TestTinyBatchedSequencesAreIndependent(t *testing.T) {
	for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeQ8_0, gguf.TypeQ4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			s := synth.Tiny()
			s.Type = typ
			testBatchedSequencesAreIndependent(t, writeSynth(t, s))
		})
	}
}

// TestAloneMatchesTeam: a pass small enough to run on the caller alone
// (aloneBytes) gives the logits the two-thread team gives, bit for bit,
// for single decode steps and a short prompt; and a tiny model's passes
// are small enough.
func TestAloneMatchesTeam(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(path, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	alone, team := openWith(t, path, 2, 1, false, Options{}), openWith(t, path, 2, 1, false, Options{})
	alone.st.aloneBelow = aloneBytes
	if 3*alone.m.WeightBytes >= aloneBytes {
		t.Fatalf("the tiny model (%d weight bytes) would not run three tokens alone", alone.m.WeightBytes)
	}
	ids := []int32{1, 17, 42}
	a, b := alone.greedy(t, 0, ids, 12), team.greedy(t, 0, ids, 12)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("token %d: %d alone, %d with the team", i, a[i], b[i])
		}
	}
	alone.kv.Clear(0)
	team.kv.Clear(0)
	la, lb := alone.prompt(t, 0, ids), team.prompt(t, 0, ids)
	for i := range la {
		if math.Float32bits(la[i]) != math.Float32bits(lb[i]) {
			t.Fatalf("logit %d: %v alone, %v with the team", i, la[i], lb[i])
		}
	}
	la, lb = alone.step(t, 0, 5, len(ids)), team.step(t, 0, 5, len(ids))
	for i := range la {
		if math.Float32bits(la[i]) != math.Float32bits(lb[i]) {
			t.Fatalf("step logit %d: %v alone, %v with the team", i, la[i], lb[i])
		}
	}
}
