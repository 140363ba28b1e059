package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
	"github.com/llmsql/llmsql/internal/testutil"
)

func quantizeCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runQuantize(args, &out, &errb)
	return out.String(), errb.String(), err
}

// TestQuantizeStoriesMatchesLlamaQuantize quantizes the F32 stories260K to
// Q8_0 and Q4_0 and compares with the files llama-quantize made: every
// tensor (name, type, shape, bytes), general.file_type, and in the end the
// whole file.
func TestQuantizeStoriesMatchesLlamaQuantize(t *testing.T) {
	in := testutil.Shared(t, "models/stories260K.gguf")
	for _, c := range []struct{ typ, ref string }{{"Q8_0", "models/stories260K-q8_0.gguf"}, {"q4_0", "models/stories260K-q4_0.gguf"}} {
		ref := testutil.Shared(t, c.ref)
		out := filepath.Join(t.TempDir(), "out.gguf")
		stdout, stderr, err := quantizeCmd(t, in, out, c.typ)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if stderr != "" || !strings.Contains(stdout, "quantized") || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%s: want one summary line on stdout and nothing on stderr, got %q / %q", c.typ, stdout, stderr)
		}
		compareGGUF(t, out, ref)
	}
}

func compareGGUF(t *testing.T, got, want string) {
	t.Helper()
	g, err := gguf.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	w, err := gguf.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(g.Tensors) != len(w.Tensors) {
		t.Fatalf("%d tensors, want %d", len(g.Tensors), len(w.Tensors))
	}
	for i, wt := range w.Tensors {
		gt := g.Tensors[i]
		if gt.Name != wt.Name || gt.Type != wt.Type || fmt.Sprint(gt.Dims) != fmt.Sprint(wt.Dims) {
			t.Errorf("tensor %d: %s %s %v, want %s %s %v", i, gt.Name, gt.Type, gt.Dims, wt.Name, wt.Type, wt.Dims)
		} else if !bytes.Equal(gt.Data, wt.Data) {
			t.Errorf("tensor %s (%s): data differs", wt.Name, wt.Type)
		}
	}
	for _, key := range []string{"general.file_type", "general.quantization_version"} {
		gv, _ := g.Uint(key)
		wv, err := w.Uint(key)
		if err != nil || gv != wv {
			t.Errorf("%s = %d, want %d (%v)", key, gv, wv, err)
		}
	}
	gb, _ := os.ReadFile(got)
	wb, _ := os.ReadFile(want)
	if !t.Failed() && !bytes.Equal(gb, wb) {
		t.Errorf("%s and %s differ outside tensor data", got, want)
	}
}

// mixModel is a small llama model written by the test, made to exercise
// llama-quantize's per-tensor choices: eight layers (so use_more_bits picks
// some and not others), grouped-query attention, and in gqa4-f16 a
// feed-forward width (352) that no K-quant fits, so ffn_down falls back.
type mixModel struct {
	name           string
	typ            gguf.GGMLType
	tied           bool
	heads, kvHeads int
	ff             int
}

var mixModels = []mixModel{
	{"gqa4-f16", gguf.TypeF16, false, 8, 2, 352},
	{"tied-f32", gguf.TypeF32, true, 4, 4, 512},
	{"gqa8-bf16", gguf.TypeBF16, false, 8, 1, 256},
}

const mixEmbd, mixLayers, mixVocab = 256, 8, 300

// splitmix64, for weights that are the same on every run and platform.
type testRNG struct{ s uint64 }

func (r *testRNG) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// normal approximates N(0,1) by a sum of four uniforms.
func (r *testRNG) normal() float32 {
	var s int64
	for range 4 {
		s += int64(r.next()>>40) - 1<<23
	}
	return float32(float64(s) * 0x1p-23 * 0.866)
}

func writeMixModel(path string, m mixModel) error {
	w := gguf.NewWriter()
	hd := mixEmbd / m.heads
	toks := make([]string, mixVocab)
	scores := make([]float32, mixVocab)
	types := make([]int32, mixVocab)
	for i := range toks {
		toks[i], types[i] = fmt.Sprintf("t%d", i), 1
	}
	for _, kv := range []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("llama")},
		{Key: "general.name", Value: gguf.String("mix-" + m.name)},
		{Key: "llama.context_length", Value: gguf.Uint32(256)},
		{Key: "llama.embedding_length", Value: gguf.Uint32(mixEmbd)},
		{Key: "llama.block_count", Value: gguf.Uint32(mixLayers)},
		{Key: "llama.feed_forward_length", Value: gguf.Uint32(uint32(m.ff))},
		{Key: "llama.attention.head_count", Value: gguf.Uint32(uint32(m.heads))},
		{Key: "llama.attention.head_count_kv", Value: gguf.Uint32(uint32(m.kvHeads))},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.Float32(1e-5)},
		{Key: "llama.rope.dimension_count", Value: gguf.Uint32(uint32(hd))},
		{Key: "tokenizer.ggml.model", Value: gguf.String("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.ArrayValue(toks)},
		{Key: "tokenizer.ggml.scores", Value: gguf.ArrayValue(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.ArrayValue(types)},
	} {
		w.Set(kv.Key, kv.Value)
	}
	rng := &testRNG{uint64(len(m.name))*1000 + uint64(m.ff)}
	add := func(name string, typ gguf.GGMLType, dims ...uint64) error {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		x := make([]float32, n)
		for i := range x {
			if len(dims) == 1 { // norms near 1
				x[i] = 1 + 0.1*rng.normal()
				continue
			}
			x[i] = 0.02 * rng.normal()
			if rng.next()%97 == 0 { // occasional outliers, as real weights have
				x[i] *= 8
			}
		}
		data := make([]byte, typ.RowSize(n))
		if err := quant.Quantize(typ, data, x); err != nil {
			return err
		}
		return w.AddTensor(name, typ, dims, data)
	}
	must := []error{
		add("token_embd.weight", m.typ, mixEmbd, mixVocab),
		add("output_norm.weight", gguf.TypeF32, mixEmbd),
	}
	if !m.tied {
		must = append(must, add("output.weight", m.typ, mixEmbd, mixVocab))
	}
	for l := range mixLayers {
		p := fmt.Sprintf("blk.%d.", l)
		kv := uint64(m.kvHeads * hd)
		must = append(must,
			add(p+"attn_norm.weight", gguf.TypeF32, mixEmbd),
			add(p+"attn_q.weight", m.typ, mixEmbd, mixEmbd),
			add(p+"attn_k.weight", m.typ, mixEmbd, kv),
			add(p+"attn_v.weight", m.typ, mixEmbd, kv),
			add(p+"attn_output.weight", m.typ, mixEmbd, mixEmbd),
			add(p+"ffn_norm.weight", gguf.TypeF32, mixEmbd),
			add(p+"ffn_gate.weight", m.typ, mixEmbd, uint64(m.ff)),
			add(p+"ffn_down.weight", m.typ, uint64(m.ff), mixEmbd),
			add(p+"ffn_up.weight", m.typ, mixEmbd, uint64(m.ff)),
		)
	}
	for _, err := range must {
		if err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}

// tensorHashes lists "name type sha256" for each tensor, with the hash cut
// to hexLen digits, and returns the whole file's sha256.
func tensorHashes(t *testing.T, path string, hexLen int) (lines []string, file string) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, ts := range f.Tensors {
		h := sha256.Sum256(ts.Data)
		lines = append(lines, fmt.Sprintf("%s %s %s", ts.Name, ts.Type, hex.EncodeToString(h[:])[:hexLen]))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return lines, hex.EncodeToString(h[:])
}

// mixGoldenMixes are the llama-quantize types testdata/mixes.golden covers.
var mixGoldenMixes = []string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
	"Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"}

// TestQuantizeMixesMatchLlamaQuantize quantizes the test's small models to
// every supported type and compares each tensor's type and bytes, and the
// whole file, with what llama.cpp's llama_model_quantize produced from the
// same files (testdata/mixes.golden, made by testdata/quantize_golden.py).
// With LLMSQL_WRITE_MIX_MODELS=DIR it only writes the models there, for
// that script.
func TestQuantizeMixesMatchLlamaQuantize(t *testing.T) {
	if dir := os.Getenv("LLMSQL_WRITE_MIX_MODELS"); dir != "" {
		for _, m := range mixModels {
			if err := writeMixModel(filepath.Join(dir, m.name+".gguf"), m); err != nil {
				t.Fatal(err)
			}
		}
		t.Skipf("wrote the mix models to %s", dir)
	}
	golden := readMixGolden(t)
	dir := t.TempDir()
	for _, m := range mixModels {
		in := filepath.Join(dir, m.name+".gguf")
		if err := writeMixModel(in, m); err != nil {
			t.Fatal(err)
		}
		for _, mix := range mixGoldenMixes {
			if testing.Short() && strings.Contains(mix, "_K") && mix != "Q4_K_M" {
				continue
			}
			key := m.name + " " + mix
			want, ok := golden[key]
			if !ok {
				t.Fatalf("no golden entry for %s", key)
			}
			out := filepath.Join(dir, "out.gguf")
			if _, _, err := quantizeCmd(t, in, out, mix, "--threads", "2"); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			got, file := tensorHashes(t, out, 16)
			if len(got) != len(want.tensors) {
				t.Errorf("%s: %d tensors, want %d", key, len(got), len(want.tensors))
				continue
			}
			for i := range got {
				if got[i] != want.tensors[i] {
					t.Errorf("%s: got %s\n\twant %s", key, got[i], want.tensors[i])
				}
			}
			if file != want.file {
				t.Errorf("%s: the files differ outside tensor data", key)
			}
		}
	}
}

type mixGolden struct {
	file    string   // sha256 of the whole file
	tensors []string // "name type sha256-prefix", in file order
}

// readMixGolden parses testdata/mixes.golden: "= MODEL MIX FILE-SHA256"
// lines, each followed by its tensors.
func readMixGolden(t *testing.T) map[string]*mixGolden {
	t.Helper()
	f, err := os.Open("testdata/mixes.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]*mixGolden{}
	var cur *mixGolden
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 4 && fs[0] == "=":
			cur = &mixGolden{file: fs[3]}
			m[fs[1]+" "+fs[2]] = cur
		case len(fs) == 3 && cur != nil:
			cur.tensors = append(cur.tensors, sc.Text())
		default:
			t.Fatalf("bad golden line %q", sc.Text())
		}
	}
	return m
}

// TestQuantizeSynth quantizes the 2.2 GB TinyLlama-shaped synthetic model
// (../shared/tools/gensynth) to Q8_0 and compares every tensor with
// llama-quantize's hashes in ../shared/ref/synth/synth_q8_0.tensorhash; with
// LLMSQL_SYNTH_Q4_K_M=1 also to Q4_K_M against testdata/synth_q4_k_m.tensorhash
// (llama.cpp's llama_model_quantize through node-llama-cpp's library). It
// takes seconds (Q8_0) to a minute (Q4_K_M), so it runs when LLMSQL_SYNTH
// or LLMSQL_SYNTH_F16 (which .ci/run sets) names the f16 file.
func TestQuantizeSynth(t *testing.T) {
	in := os.Getenv("LLMSQL_SYNTH")
	if in == "" {
		in = os.Getenv("LLMSQL_SYNTH_F16")
	}
	if in == "" || testing.Short() {
		t.Skip("set LLMSQL_SYNTH_F16 to the gensynth f16 model (e.g. /tmp/llmsql-ci/synth-f16.gguf; .ci/run makes it) to run")
	}
	refs := map[string]string{"Q8_0": testutil.Shared(t, "ref/synth/synth_q8_0.tensorhash")}
	if os.Getenv("LLMSQL_SYNTH_Q4_K_M") != "" {
		refs["Q4_K_M"] = "testdata/synth_q4_k_m.tensorhash"
	}
	for mix, ref := range refs {
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "synth.gguf")
		stdout, _, err := quantizeCmd(t, in, out, mix)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(strings.TrimSpace(stdout))
		got, _ := tensorHashes(t, out, 64)
		wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
		if len(got) != len(wantLines) {
			t.Fatalf("%s: %d tensors, reference has %d", mix, len(got), len(wantLines))
		}
		bad := 0
		for i := range got {
			if got[i] != wantLines[i] {
				if bad++; bad <= 5 {
					t.Errorf("%s: got %s, want %s", mix, got[i], wantLines[i])
				}
			}
		}
		if bad == 0 {
			t.Logf("%s: all %d tensors match", mix, len(got))
		} else {
			t.Errorf("%s: %d of %d tensors differ", mix, bad, len(got))
		}
		os.Remove(out)
	}
}

func TestQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "m.gguf")
	if err := writeMixModel(good, mixModels[0]); err != nil {
		t.Fatal(err)
	}
	q8 := filepath.Join(dir, "q8.gguf")
	if _, _, err := quantizeCmd(t, good, q8, "Q8_0"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.gguf")
	cases := []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{good, out}, true, "want IN.gguf OUT.gguf TYPE"},
		{[]string{good, out, "Q9_9"}, true, `unknown quantization type "Q9_9"`},
		{[]string{good, out, "IQ2_XXS"}, true, "unknown quantization type"},
		{[]string{good, out, "Q8_0", "--threads", "0"}, true, "--threads"},
		{[]string{filepath.Join(dir, "missing.gguf"), out, "Q8_0"}, false, "no such file"},
		{[]string{q8, out, "Q4_K_M"}, false, "already quantized (Q8_0)"},
		{[]string{good, filepath.Join(dir, "nodir", "out.gguf"), "Q8_0"}, false, "no such file"},
	}
	for _, c := range cases {
		_, _, err := quantizeCmd(t, c.args...)
		if err == nil {
			t.Errorf("%v: succeeded", c.args)
			continue
		}
		_, isUsage := err.(*usageError)
		if isUsage != c.usage || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %q (usage %v), want one line containing %q (usage %v)", c.args, err, isUsage, c.want, c.usage)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run left an output file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("failed runs left files behind: %v", ents)
	}
	// Requantizing works when asked for, and copies tensors already in
	// the target type.
	if _, _, err := quantizeCmd(t, q8, out, "Q4_K_M", "--allow-requantize"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := quantizeCmd(t, q8, out, "Q8_0"); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(q8)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Error("quantizing a Q8_0 file to Q8_0 changed it")
	}
}

// TestQuantizeRejectsNonFinite refuses a model holding Inf, as llama.cpp's
// loader does, and leaves no output behind.
func TestQuantizeRejectsNonFinite(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.gguf")
	if err := writeMixModel(in, mixModels[1]); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	tq := f.Tensor("blk.3.attn_q.weight")
	off := int(f.DataOffset) + int(tq.Offset) + 4*100
	copy(b[off:], []byte{0, 0, 0x80, 0x7f}) // +Inf
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.gguf")
	_, _, err = quantizeCmd(t, in, out, "Q4_0")
	if err == nil || !strings.Contains(err.Error(), "blk.3.attn_q.weight") || !strings.Contains(err.Error(), "+Inf") {
		t.Fatalf("got %v, want an error naming the tensor and the Inf", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite the error")
	}
}

// TestQuantizeOutputPermissions: the output file gets a new file's
// permissions, 0666 less the umask, as llama-quantize's does (it was
// always 0600), or keeps those of the file it replaces.
func TestQuantizeOutputPermissions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.gguf")
	if err := writeMixModel(in, mixModels[0]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Umask(syscall.Umask(0o022))
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o027, 0o640}, {0o002, 0o664}} {
		syscall.Umask(c.umask)
		out := filepath.Join(dir, fmt.Sprintf("out-%o.gguf", c.umask))
		if _, _, err := quantizeCmd(t, in, out, "Q8_0"); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(out); err != nil || st.Mode().Perm() != c.want {
			t.Errorf("umask %#o: %v, mode %v, want %v", c.umask, err, st.Mode().Perm(), c.want)
		}
	}
	syscall.Umask(0o022)
	out := filepath.Join(dir, "kept.gguf")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := quantizeCmd(t, in, out, "Q8_0"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o640 || st.Size() == 0 {
		t.Errorf("replacing a 0640 file: %v, %v", err, st.Mode())
	}
}
