package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/synth"
)

func writeEmbedModel(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".gguf")
	if err := synth.Write(path, synth.EmbeddingModels()[name]); err != nil {
		t.Fatal(err)
	}
	return path
}

func parseVector(t *testing.T, line string) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(line) {
		x, err := strconv.ParseFloat(f, 32)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		v = append(v, x)
	}
	return v
}

// TestEmbedCLI: one vector per text, unit length by default, raw with
// --no-normalize (llama.cpp's first value for "hello world" on bert-mean
// is 0.4474557, testdata/embed_golden.json), the same in --json, with
// --sequential, and from -f; reranker scores with --rerank.
func TestEmbedCLI(t *testing.T) {
	bert := writeEmbedModel(t, "bert-mean-f32")
	code, out, errs := runCLI("embed", "-m", bert, "hello world", "once upon a time")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(errs, "2 texts") {
		t.Fatalf("exit %d, %d lines, stderr %q", code, len(lines), errs)
	}
	unit := parseVector(t, lines[0])
	var norm float64
	for _, x := range unit {
		norm += x * x
	}
	if len(unit) != 64 || math.Abs(norm-1) > 1e-5 {
		t.Fatalf("%d values, squared norm %g", len(unit), norm)
	}
	_, raw, _ := runCLI("embed", "-m", bert, "--no-normalize", "--sequential", "--", "hello world")
	rv := parseVector(t, raw)
	if math.Abs(rv[0]-0.4474557) > 1e-5 || math.Abs(unit[0]-rv[0]/math.Sqrt(dotF(rv, rv))) > 1e-6 {
		t.Fatalf("raw %v..., unit %v...", rv[:2], unit[:2])
	}
	list := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(list, []byte("hello world\nonce upon a time\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, fromFile, _ := runCLI("embed", "-m", bert, "-f", list)
	if fromFile != out {
		t.Fatal("-f gave other vectors than the arguments")
	}
	code, js, errs := runCLI("embed", "-m", bert, "--json", "hello world")
	var doc struct {
		Pooling string `json:"pooling"`
		Dim     int    `json:"dim"`
		Data    []struct {
			Tokens    int       `json:"tokens"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		TextsPerS float64 `json:"texts_per_s"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s %s", code, err, js, errs)
	}
	if doc.Pooling != "mean" || doc.Dim != 64 || len(doc.Data) != 1 || doc.Data[0].Tokens != 4 || doc.TextsPerS <= 0 ||
		math.Abs(doc.Data[0].Embedding[0]-unit[0]) > 1e-7 {
		t.Fatalf("json %+v", doc)
	}

	rank := writeEmbedModel(t, "bert-rank-f32")
	code, out, errs = runCLI("embed", "-m", rank, "--rerank", "refund policy", "the refund policy is in the database")
	if code != 0 {
		t.Fatalf("rerank: %d %s", code, errs)
	}
	if s := parseVector(t, out); len(s) != 1 || math.Abs(s[0]-(-1.9406881)) > 1e-3 {
		t.Fatalf("rerank score %v", s)
	}
}

func dotF(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestEmbedCLIErrors(t *testing.T) {
	bert := writeEmbedModel(t, "bert-cls-f32")
	long := strings.Repeat("dog ", 200)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"embed", "hello"}, 2, "-m MODEL is required"},
		{[]string{"embed", "-m", bert}, 2, "at least one TEXT"},
		{[]string{"embed", "-m", bert, long}, 1, "text 1: text is 202 tokens"},
		{[]string{"embed", "-m", bert, "--rerank", "q", "doc"}, 1, "not a reranker"},
		{[]string{"embed", "-m", bert, "-f", filepath.Join(t.TempDir(), "none.txt")}, 1, "no such file"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args[1:], code, errs, c.code, c.want)
		}
	}
	if code, out, _ := runCLI("embed", "-m", bert, "--truncate", long); code != 0 || len(strings.Fields(out)) != 64 {
		t.Errorf("--truncate: exit %d", code)
	}
}
