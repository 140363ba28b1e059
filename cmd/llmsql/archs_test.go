package main

// Every architecture beyond Llama's through the commands a user runs:
// inspect, generate and serve (llm.models and generate()), on the small
// synthetic files whose forward passes engine/model tests against
// llama.cpp's outputs (testdata/arch).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/internal/synth"
)

// archCommandModels are the architectures added after llama/qwen2/qwen3,
// each as a golden file of one weight type.
var archCommandModels = []struct{ arch, golden string }{
	{"gemma2", "gemma2-q8_0"}, {"gemma3", "gemma3-f16"}, {"phi3", "phi3-q4_0"},
	{"granite", "granite-f32"}, {"qwen3moe", "qwen3moe-q8_0"},
}

const archPrompt = "Once upon a time there was a little dog"

func TestArchsThroughCommands(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{}
	want := map[string]string{} // the engine's greedy text after archPrompt
	for _, m := range archCommandModels {
		path := filepath.Join(dir, m.golden+".gguf")
		if err := synth.Write(path, synth.Goldens[m.golden].Spec); err != nil {
			t.Fatal(err)
		}
		paths[m.arch] = path

		// inspect names the architecture.
		var out, errb bytes.Buffer
		if code := run([]string{"inspect", path, "--json"}, &out, &errb); code != 0 {
			t.Fatalf("%s: inspect exit %d: %s", m.arch, code, errb.String())
		}
		var ins struct {
			Architecture string `json:"architecture"`
			Parameters   uint64 `json:"parameters"`
		}
		if err := json.Unmarshal(out.Bytes(), &ins); err != nil {
			t.Fatalf("%s: inspect: %v", m.arch, err)
		}
		if ins.Architecture != m.arch || ins.Parameters == 0 {
			t.Errorf("inspect %s: architecture %q, %d parameters", m.golden, ins.Architecture, ins.Parameters)
		}

		// generate gives the engine's greedy tokens.
		// The context the commands choose by default, the file's: it
		// picks Phi-3's LongRoPE factors.
		mod, err := engine.LoadModel(path, engine.LoadConfig{Slots: 1, Context: synth.Goldens[m.golden].Spec.Context})
		if err != nil {
			t.Fatal(err)
		}
		opts := engine.DefaultGenerateOptions()
		opts.Temperature, opts.MaxTokens, opts.IgnoreEOS = 0, 8, true
		res, err := mod.Generate(context.Background(), engine.Request{Prompt: archPrompt, Options: opts})
		mod.Close()
		if err != nil {
			t.Fatal(err)
		}
		want[m.arch] = res.Text
		out.Reset()
		errb.Reset()
		if code := run([]string{"generate", "-m", path, "-p", archPrompt, "-n", "8", "--temp", "0", "--ignore-eos",
			"--json", "--threads", "1"}, &out, &errb); code != 0 {
			t.Fatalf("%s: generate exit %d: %s", m.arch, code, errb.String())
		}
		var gen struct {
			GeneratedIDs []int32 `json:"generated_ids"`
			Text         string  `json:"text"`
		}
		if err := json.Unmarshal(out.Bytes(), &gen); err != nil {
			t.Fatalf("%s: generate: %v", m.arch, err)
		}
		if fmt.Sprint(gen.GeneratedIDs) != fmt.Sprint(res.GeneratedIDs) || gen.Text != res.Text {
			t.Errorf("generate %s: %v %q, the engine %v %q", m.golden, gen.GeneratedIDs, gen.Text, res.GeneratedIDs, res.Text)
		}
	}

	// serve: llm.models shows each architecture, generate() runs each.
	cfg := serveConfig{Memory: true, MaxSequences: 2}
	for _, m := range archCommandModels {
		cfg.Models = append(cfg.Models, modelFlag{m.arch, paths[m.arch]})
	}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	for _, m := range archCommandModels {
		rows := queryRows(t, db, fmt.Sprintf("SELECT architecture FROM llm.models WHERE name = '%s'", m.arch))
		if len(rows) != 1 || rows[0] != m.arch {
			t.Errorf("llm.models: %s's architecture %v", m.arch, rows)
		}
		rows = queryRows(t, db, fmt.Sprintf(
			`SELECT generate('%s', '%s', '{"temperature": 0, "max_tokens": 8, "ignore_eos": true, "raw": true}')`, m.arch, archPrompt))
		if len(rows) != 1 || rows[0] != want[m.arch] {
			t.Errorf("generate() on %s: %q, the engine %q", m.arch, rows, want[m.arch])
		}
	}
}
