package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// TestGenerateJSONContract runs `llmsql generate --json` greedily on
// stories260K: the JSON keys are a contract with scripts, and the ids
// must be llama.cpp's.
func TestGenerateJSONContract(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K.gguf")
	var refs []struct {
		Prompt       string  `json:"prompt"`
		PromptIDs    []int32 `json:"prompt_ids"`
		GeneratedIDs []int32 `json:"generated_ids"`
		Text         string  `json:"text"`
	}
	readJSONFile(t, testutil.Shared(t, "ref/stories260K_greedy.json"), &refs)
	ref := refs[0]
	logits := filepath.Join(t.TempDir(), "logits.json")
	var out, errb bytes.Buffer
	code := run([]string{"generate", "-m", model, "-p", ref.Prompt, "-n", "64", "--temp", "0", "--ignore-eos",
		"--json", "--logits-out", logits, "--threads", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	for _, k := range []string{"prompt_ids", "generated_ids", "text", "prompt_tokens_per_s", "gen_tokens_per_s"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out.String())
		}
	}
	if got["text"] != ref.Text {
		t.Errorf("text %q, llama.cpp %q", got["text"], ref.Text)
	}
	ids := got["generated_ids"].([]any)
	for i, id := range ids {
		if int32(id.(float64)) != ref.GeneratedIDs[i] {
			t.Fatalf("token %d: %v, llama.cpp %d", i, id, ref.GeneratedIDs[i])
		}
	}
	var l []float64
	data, err := os.ReadFile(logits)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &l); err != nil || len(l) != 512 {
		t.Fatalf("logits file: %d values, %v", len(l), err)
	}
	var lref struct{ Logits []float64 }
	readJSONFile(t, testutil.Shared(t, "ref/stories260K_logits_once.json"), &lref)
	for i := range l {
		if math.Abs(l[i]-lref.Logits[i]) > 1e-4 {
			t.Fatalf("logit %d: %g, llama.cpp %g", i, l[i], lref.Logits[i])
		}
	}
}

func TestBenchJSONContract(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(model, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "-m", model, "-p", "32", "-n", "8", "-t", "1", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got map[string]float64
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if got["prompt_tokens_per_s"] <= 0 || got["gen_tokens_per_s"] <= 0 {
		t.Fatalf("rates %v", got)
	}
}

// TestBenchSequencesJSONContract: bench --sequences prints a JSON line per
// count with the keys scripts read (sequences, prompt_tokens_per_s,
// gen_tokens_per_s, totals across the sequences).
func TestBenchSequencesJSONContract(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(model, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "-m", model, "-p", "16", "-n", "8", "-t", "2", "--sequences", "1,3", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line per count, got %q", out.String())
	}
	for i, want := range []float64{1, 3} {
		var got map[string]float64
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("line %q: %v", lines[i], err)
		}
		if got["sequences"] != want || got["prompt_tokens_per_s"] <= 0 || got["gen_tokens_per_s"] <= 0 || got["threads"] != 2 {
			t.Fatalf("line %d: %v", i, got)
		}
	}
}

func TestGenerateAndBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "-p", "x"},                      // no model
		{"generate", "-m", "x.gguf", "--top-p", "7"}, // bad option
		{"generate", "-m", "x.gguf", "--nope"},       // unknown flag
		{"bench", "-m", "x.gguf", "-p", "-1"},
		{"bench", "-m", "x.gguf", "--sequences", "0"},
		{"bench", "-m", "x.gguf", "--sequences", "4,x"},
		{"bench", "-m", "x.gguf", "--sequences", "4", "-n", "0"},
		{"bench"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d (want 2): %s", args, code, errb.String())
		}
		if strings.Count(errb.String(), "\n") > 3 || strings.Contains(errb.String(), "goroutine") {
			t.Errorf("%v: not a short error: %s", args, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"generate", "-m", "/does/not/exist.gguf", "-p", "x"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no such file") {
		t.Errorf("missing model: exit %d: %s", code, errb.String())
	}
}
