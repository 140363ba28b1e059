package sqlfuncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// jsonOf turns a JSON value as a query returns it into Go values.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case sql.JSONWrapper:
		s, err := types.JsonToMySqlString(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		text = s
	default:
		t.Fatalf("%T %v is not JSON", v, v)
	}
	var out any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return out
}

// TestClassifyWithFake checks classify()'s answers, modes and NULLs on
// the fake backend, whose scores favour the label the text contains.
func TestClassifyWithFake(t *testing.T) {
	h := newHarness(t)
	labels := `'["one", "two", "three"]'`
	got := strs(h.exec("SELECT id, classify('m', prompt, " + labels + ") FROM t ORDER BY id"))
	if strings.Join(got, ",") != "1|one,2|two,3|<nil>" {
		t.Fatalf("classify: %q", got)
	}
	for _, q := range []string{
		"SELECT classify(NULL, 'one', " + labels + ")",
		"SELECT classify('m', NULL, " + labels + ")",
		"SELECT classify('m', 'one', NULL)",
	} {
		if v := h.one(q); v != nil {
			t.Errorf("%s: %v, want NULL", q, v)
		}
	}
	// A NULL options argument keeps the defaults.
	if v := h.one("SELECT classify('m', 'two', " + labels + ", NULL)"); v != "two" {
		t.Errorf("NULL options: %v", v)
	}
	// Ties go to the label listed first: "zz" and "yy" score alike here.
	if v := h.one(`SELECT classify('m', 'neither', '["zz", "yy"]')`); v != "zz" {
		t.Errorf("tie: %v", v)
	}

	// scores: probabilities normalised over the labels.
	obj, ok := jsonOf(t, h.one(`SELECT classify('m', 'one', '["one", "two"]', '{"scores": true}')`)).(map[string]any)
	if !ok || len(obj) != 2 {
		t.Fatalf("scores: %v", obj)
	}
	// "one" scores 5 - 0.3, "two" -0.3.
	if p := obj["one"].(float64); math.Abs(p-1/(1+math.Exp(-5))) > 1e-12 || math.Abs(p+obj["two"].(float64)-1) > 1e-12 {
		t.Errorf("scores: %v", obj)
	}

	// multi: the labels at or above the threshold, most probable first.
	multi := func(text, opts string) string {
		t.Helper()
		v := jsonOf(t, h.one(`SELECT classify('m', '`+text+`', '["one", "two", "three"]', '`+opts+`')`))
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, c := range []struct{ text, opts, want string }{
		{"one", `{"multi": true}`, `["one"]`},                                       // default threshold 1/3
		{"one and two", `{"multi": true}`, `["one","two"]`},                         // 0.5 each, less a little for "three"'s share
		{"one and two", `{"multi": true, "threshold": 0.6}`, `[]`},                  // neither reaches it
		{"one and two", `{"multi": true, "threshold": 0}`, `["one","two","three"]`}, // all, most probable first
		{"two", `{"multi": true, "scores": true, "threshold": 0.5}`, ``},            // checked below
	} {
		got := multi(c.text, c.opts)
		if c.want != "" && got != c.want {
			t.Errorf("%s %s: %s, want %s", c.text, c.opts, got, c.want)
		}
		if c.want == "" && (!strings.HasPrefix(got, `{"two":0.98`) || strings.Contains(got, "one")) {
			t.Errorf("%s %s: %s, want only two with its probability", c.text, c.opts, got)
		}
	}

	// The column is JSON for a constant options argument asking for JSON.
	for q, want := range map[string]sql.Type{
		"SELECT classify('m', 'one', " + labels + ")":                             types.LongText,
		"SELECT classify('m', 'one', " + labels + ", '{\"multi\": true}')":        types.JSON,
		"SELECT classify('m', 'one', " + labels + ", '{\"scores\": true}')":       types.JSON,
		"SELECT classify('m', 'one', " + labels + ", '{\"instruction\": \"x\"}')": types.LongText,
	} {
		sch, _, _, err := h.eng.Query(h.ctx(context.Background()), q)
		if err != nil {
			t.Fatal(err)
		}
		if !sch[0].Type.Equals(want) {
			t.Errorf("%s: type %v, want %v", q, sch[0].Type, want)
		}
	}
}

// TestClassifyPrompt checks the conversation classify() scores the labels
// after: the instruction and labels first, examples as earlier turns, the
// text last.
func TestClassifyPrompt(t *testing.T) {
	h := newHarness(t)
	h.exec(`SELECT classify('m', 'It crashes', '["bug", "feature"]')`)
	req := h.fake.LastScore()
	want := "Classify the text.\n\nLabels:\n- bug\n- feature\n\nAnswer with exactly one of the labels, as written above, and nothing else.\n\nText:\nIt crashes"
	if len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.Messages[0].Content != want {
		t.Fatalf("messages %+v", req.Messages)
	}
	if strings.Join(req.Replies, ",") != "bug,feature" {
		t.Fatalf("replies %q", req.Replies)
	}
	h.exec(`SELECT classify('m', 'Add dark mode', '["bug", "feature"]', '{"instruction": "Sort the ticket.", "examples": [["The app crashes", "bug"], {"text": "Please add export", "label": "feature"}]}')`)
	req = h.fake.LastScore()
	var roles, contents []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
		contents = append(contents, m.Content)
	}
	if strings.Join(roles, ",") != "user,assistant,user,assistant,user" {
		t.Fatalf("roles %q", roles)
	}
	if !strings.HasPrefix(contents[0], "Sort the ticket.\n\nLabels:\n- bug\n- feature\n") || !strings.HasSuffix(contents[0], "Text:\nThe app crashes") ||
		contents[1] != "bug" || contents[2] != "Text:\nPlease add export" || contents[3] != "feature" || contents[4] != "Text:\nAdd dark mode" {
		t.Fatalf("contents %q", contents)
	}
}

// TestClassifyErrors: bad labels and options are errors that say what is
// wrong.
func TestClassifyErrors(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ q, want string }{
		{`SELECT classify('m', 'x', 'bug')`, `classify: labels: must be a JSON array of strings`},
		{`SELECT classify('m', 'x', '{"a": 1}')`, `labels: must be a JSON array of strings`},
		{`SELECT classify('m', 'x', '["only"]')`, `give at least two labels to choose from (1 given)`},
		{`SELECT classify('m', 'x', '["a", 3]')`, `label 2 is a number, not a string`},
		{`SELECT classify('m', 'x', '["a", " "]')`, `label 2 is empty`},
		{`SELECT classify('m', 'x', '["a", "b", "a"]')`, `label "a" is given twice`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"temperature": 0}')`, `unknown option "temperature" (classify() takes details, examples, instruction, multi, on_error, scores, threshold)`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"threshold": 0.5}')`, `option threshold applies with "multi": true`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"multi": true, "threshold": 2}')`, `option threshold must be a probability from 0 to 1`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"multi": "yes"}')`, `option multi must be true or false`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"examples": [["t", "c"]]}')`, `example 1's label "c" is not one of the labels`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"examples": [["t"]]}')`, `example 1 must be a [text, label] pair`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"examples": "t"}')`, `option examples must be an array`},
		{`SELECT classify('m', 'x', '["a", "b"]', '{"instruction": ""}')`, `option instruction must be a non-empty string`},
		{`SELECT classify('m', 'x', '["a", "b"]', 'nope')`, `options are not valid JSON`},
		{`SELECT classify('nope', 'x', '["a", "b"]')`, `nope`},
		{`SELECT classify('m', 'x')`, `3 or 4`},
	} {
		h.fails(c.q, c.want)
	}
}

// TestClassifyPolicy: classify() follows the policy of model calls: a row
// too long for the context is NULL with a warning, or fails the statement
// with on_error 'error'; details reports the tokens.
func TestClassifyPolicy(t *testing.T) {
	for _, size := range []int{64, 0} {
		h := policyHarness(t)
		h.fake.Context = 260 // the instruction and labels take most of it
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		q := `SELECT id, classify('m', CONCAT(prompt, REPEAT('x', id * 10)), '["row 1", "row 2"]') FROM p ORDER BY id`
		rows := strs(h.exec(q))
		w := h.warnings()
		if !strings.HasPrefix(rows[0], "1|row 1") || rows[5] != "6|<nil>" {
			t.Fatalf("batch %d: %q", size, rows)
		}
		if len(w) != 1 || !strings.Contains(w[0], "classify() at row 6: prompt is") || !strings.Contains(w[0], "the value is NULL (on_error 'null')") {
			t.Fatalf("batch %d: warnings %q", size, w)
		}
		h.fails(`SELECT classify('m', CONCAT(prompt, REPEAT('x', id * 10)), '["a", "b"]', '{"on_error": "error"}') FROM p`, "longer than the model's context")
		d := jsonOf(t, h.one(`SELECT classify('m', 'row 2', '["row 1", "row 2"]', '{"details": true}')`)).(map[string]any)
		if d["text"] != "row 2" || d["prompt_tokens"].(float64) < 100 || d["generated_tokens"].(float64) != 0 {
			t.Fatalf("batch %d: details %v", size, d)
		}
	}
}

// noScore is a backend that cannot score.
type noScore struct{ sqlfuncs.Backend }

// TestClassifyNeedsScoring: on a backend without scoring classify() says
// so.
func TestClassifyNeedsScoring(t *testing.T) {
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	defer eng.Close()
	if err := sqlfuncs.Register(eng, noScore{&sqlfuncstest.Fake{}}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro)}
	h.fails(`SELECT classify('m', 'x', '["a", "b"]')`, "classify: this server's model backend does not score replies")
}

var _ sqlfuncs.ScoreBackend = (*engine.Pool)(nil)
