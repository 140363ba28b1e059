package main

// Real-engine end-to-end tests: the same server as serve_test.go, with the
// SQL functions running on the engine (realEngine) over the shared
// stories260K model. Add further real-engine server tests here.

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/testutil"
)

// sharedFile returns the path of a file under ../shared (beside the module
// root), skipping the test when it is absent.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	return testutil.Shared(t, rel)
}

type greedyRef struct {
	Prompt          string    `json:"prompt"`
	PromptIDs       []int     `json:"prompt_ids"`
	GeneratedPieces []string  `json:"generated_pieces"`
	Margins         []float64 `json:"top1_top2_logit_margin"`
}

func TestServeRealEngineGreedy(t *testing.T) {
	model := sharedFile(t, "models/stories260K.gguf")
	refPath := sharedFile(t, "ref/stories260K_greedy.json")
	b, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	var refs []greedyRef
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{"stories", model}}}, realEngine)
	db := ts.db()

	ref := refs[0]
	var probe string
	if err := db.QueryRow("SELECT generate('stories', 'x', 0, 1)").Scan(&probe); err != nil &&
		strings.Contains(err.Error(), "not available") {
		t.Skipf("the engine does not generate yet: %v", err)
	}

	ids, _ := json.Marshal(ref.PromptIDs)
	expectRows(t, db, "SELECT tokenize('stories', '"+ref.Prompt+"')", strings.ReplaceAll(string(ids), ",", ", "))

	// Greedy ids must match llama.cpp up to the first step whose top two
	// logits are too close to call.
	safe := len(ref.GeneratedPieces)
	for i, m := range ref.Margins {
		if m < 1e-3 {
			safe = i
			break
		}
	}
	want := strings.Join(ref.GeneratedPieces[:safe], "")
	var got string
	q := `SELECT generate('stories', '` + ref.Prompt + `', '{"temperature": 0, "max_tokens": 64, "ignore_eos": true}')`
	if err := db.QueryRow(q).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, want) {
		t.Fatalf("greedy generation:\ngot  %q\nwant %q...", got, want)
	}
}

// TestServeDetokenizeStories: the ids on the real model give
// valid UTF-8, as node-llama-cpp's detokenize does ("a\uFFFD"), and text
// round-trips.
func TestServeDetokenizeStories(t *testing.T) {
	model := sharedFile(t, "models/stories260K.gguf")
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{"s", model}}}, realEngine)
	db := ts.db()
	expectRows(t, db, "SELECT HEX(detokenize('s', '[1,100,200]'))", "61EFBFBD")
	expectRows(t, db, "SELECT detokenize('s', tokenize('s', 'Hello world')) = 'Hello world', detokenize('s', tokenize('s', ' emoji 😀 ok'))", "1| emoji 😀 ok")
	expectError(t, db, "SELECT detokenize('s', '[1,100] 200')", "nothing after it")
}
