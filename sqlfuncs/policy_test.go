package sqlfuncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// warnings returns the session's warnings as "code|message" and clears them.
func (h *harness) warnings() []string {
	var out []string
	for _, w := range h.sess.Warnings() {
		out = append(out, fmt.Sprintf("%d|%s", w.Code, w.Message))
	}
	h.sess.ClearWarnings()
	return out
}

// policyHarness is a batching harness whose fake model has a context of
// 20 positions (a byte a token, BOS included), over rows 1..5 and a sixth
// row whose prompt is too long.
func policyHarness(t *testing.T) *harness {
	h, _ := newBatchHarness(t, 5)
	h.fake.Context = 20
	h.exec("INSERT INTO p (id, prompt) VALUES (6, 'a prompt much too long for the context')")
	h.sess.ClearWarnings()
	return h
}

// TestOnError: a row whose prompt does not fit is NULL with a warning
// naming the row and the cause under @@llm_on_error = 'null' (the
// default), and fails the statement under 'error'; the call option wins.
// Errors in the call itself fail the statement either way.
func TestOnError(t *testing.T) {
	for _, size := range []int{64, 0} {
		h := policyHarness(t)
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		h.exec("UPDATE p SET answer = generate('m', prompt, 0)")
		w := h.warnings()
		if got := strs(h.exec("SELECT id, answer FROM p ORDER BY id")); strings.Join(got, ",") != "1|ROW 1,2|ROW 2,3|ROW 3,4|ROW 4,5|ROW 5,6|<nil>" {
			t.Fatalf("batch %d: %q", size, got)
		}
		want := "generate() at row 6: prompt is 39 tokens, longer than the model's context of 20 tokens; the value is NULL (on_error 'null')"
		if len(w) != 1 || w[0] != "1105|"+want {
			t.Fatalf("batch %d: warnings %q, want %q", size, w, want)
		}
		h.exec("SET @@llm_on_error = 'error'")
		h.fails("UPDATE p SET answer = CONCAT('x', generate('m', prompt, 0))", "prompt is 39 tokens")
		// The statement rolled back.
		if got := h.one("SELECT COUNT(*) FROM p WHERE answer LIKE 'x%'"); fmt.Sprint(got) != "0" {
			t.Fatalf("batch %d: the failed statement left %v rows", size, got)
		}
		if got := strs(h.exec(`SELECT generate('m', prompt, '{"temperature": 0, "on_error": "null"}') FROM p WHERE id = 6`)); got[0] != "<nil>" {
			t.Fatalf("batch %d: on_error null over the session's error: %q", size, got)
		}
		h.exec("SET @@llm_on_error = 'null'")
		h.fails(`SELECT generate('m', prompt, '{"temperature": 0, "on_error": "error"}') FROM p`, "longer than the model's context")
		h.fails("SELECT generate('nope', prompt, 0) FROM p", "model 'nope' is not registered")
		h.fails(`SELECT generate('m', prompt, '{"on_error": "maybe"}') FROM p`, `option on_error must be "null" or "error"`)
		h.fails("SET @@llm_on_error = 'maybe'", "maybe")
	}
}

// TestTruncateOption fits a long prompt from its start or its end, with a
// warning.
func TestTruncateOption(t *testing.T) {
	h := policyHarness(t)
	got := strs(h.exec(`SELECT generate('m', prompt, '{"temperature": 0, "max_tokens": 4, "truncate": "start"}'),
		generate('m', prompt, '{"temperature": 0, "max_tokens": 4, "truncate": "end"}') FROM p WHERE id = 6`))
	// 20 - 2 - 4 = 14 bytes of the prompt are kept, and 4 generated.
	if len(got) != 1 || got[0] != "OR T|A PR" {
		t.Fatalf("truncated: %q", got)
	}
	w := h.warnings()
	sort.Strings(w)
	if len(w) != 2 || w[0] != "1265|generate() at row 1: the prompt did not fit the context; 24 tokens were cut from its end (option truncate)" ||
		w[1] != "1265|generate() at row 1: the prompt did not fit the context; 24 tokens were cut from its start (option truncate)" {
		t.Fatalf("warnings: %q", w)
	}
	h.fails(`SELECT generate('m', prompt, '{"truncate": "middle"}') FROM p`, `option truncate out of range: allowed "start" or "end"`)
}

// TestDetails: "details": true returns the text with why it ended and
// what it cost; a failed row gives its error there.
func TestDetails(t *testing.T) {
	h := policyHarness(t)
	rows := h.exec(`SELECT id, generate('m', prompt, '{"temperature": 0, "max_tokens": 3, "details": true}') FROM p WHERE id IN (1, 6) ORDER BY id`)
	var d1, d6 map[string]any
	if err := json.Unmarshal([]byte(rows[0][1].(string)), &d1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(rows[1][1].(string)), &d6); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d1) != "map[error:<nil> finish_reason:length generated_tokens:3 prompt_tokens:6 text:ROW]" {
		t.Fatalf("details: %v", d1)
	}
	if d6["text"] != nil || d6["finish_reason"] != nil || !strings.Contains(fmt.Sprint(d6["error"]), "prompt is 39 tokens") {
		t.Fatalf("details of a failed row: %v", d6)
	}
	if got := rows[0][1].(string); !strings.HasPrefix(got, `{"text":"ROW","finish_reason":"length","prompt_tokens":6,"generated_tokens":3,"error":null}`) {
		t.Fatalf("key order: %s", got)
	}
	h.warnings()
	// Cut by the context: finish_reason "context" and a warning.
	got := h.one(`SELECT generate('m', 'twelve bytes', '{"temperature": 0, "details": true}')`).(string)
	if !strings.Contains(got, `"finish_reason":"context"`) {
		t.Fatalf("context: %s", got)
	}
	if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "the answer was cut off where the sequence filled the model's context, after 7 generated tokens") {
		t.Fatalf("context warning: %q", w)
	}
	for reason, opts := range map[string]string{"stop": `{"temperature": 0}`, "stop_string": `{"temperature": 0, "stop": "W"}`} {
		got := h.one(`SELECT JSON_EXTRACT(generate('m', 'row', '` + strings.TrimSuffix(opts, "}") + `, "details": true}'), '$.finish_reason')`)
		if fmt.Sprint(got) != `"`+reason+`"` {
			t.Errorf("%s: finish_reason %v", opts, got)
		}
	}
}

// TestTokenBudgets: past @@llm_max_tokens_per_statement (or _per_session)
// the remaining rows follow on_error with the cause "token budget
// reached".
func TestTokenBudgets(t *testing.T) {
	h, _ := newBatchHarness(t, 5)
	h.exec("SET @@llm_batch_size = 0") // one row after another, so the cut is exact
	// Each row costs 6 prompt + 5 generated tokens.
	h.exec("SET @@llm_max_tokens_per_statement = 30")
	got := strs(h.exec("SELECT id, generate('m', prompt, 0) FROM p ORDER BY id"))
	if strings.Join(got, ",") != "1|ROW 1,2|ROW 2,3|ROW 3,4|<nil>,5|<nil>" {
		t.Fatalf("statement budget: %q", got)
	}
	w := h.warnings()
	if len(w) != 2 || !strings.Contains(w[0], "token budget reached (@@llm_max_tokens_per_statement = 30); the value is NULL") {
		t.Fatalf("warnings: %q", w)
	}
	// The next statement has its own budget.
	if got := strs(h.exec("SELECT generate('m', prompt, 0) FROM p WHERE id = 1")); got[0] != "ROW 1" {
		t.Fatalf("next statement: %q", got)
	}
	h.exec("SET @@llm_max_tokens_per_statement = 0")
	h.exec("SET @@llm_on_error = 'error'")
	h.exec("SET @@llm_max_tokens_per_session = 1") // already spent
	h.fails("SELECT generate('m', prompt, 0) FROM p", "token budget reached (@@llm_max_tokens_per_session = 1)")
	h.exec("SET @@llm_max_tokens_per_session = 0")
	if got := strs(h.exec("SELECT generate('m', prompt, 0) FROM p WHERE id = 2")); got[0] != "ROW 2" {
		t.Fatalf("no budget: %q", got)
	}
}

// TestSampledCallsAreIndependent: two sampling calls that ask the same in
// one row are two draws, as RAND(), RAND() are; identical greedy calls
// share one computation.
func TestSampledCallsAreIndependent(t *testing.T) {
	for _, size := range []int{64, 0} {
		h, _ := newBatchHarness(t, 4)
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		for _, r := range h.exec("SELECT generate('m', 'poem', 0.8, 8), generate('m', 'poem', 0.8, 8) FROM p") {
			if r[0] == r[1] {
				t.Fatalf("batch %d: two sampled calls gave the same draw %q", size, r[0])
			}
		}
		if n := h.fake.Generates(); n != 8 {
			t.Fatalf("batch %d: %d generations for 4 rows of two sampled calls", size, n)
		}
		h.exec("UPDATE p SET prompt = generate('m', 'poem', 0.8), answer = generate('m', 'poem', 0.8)")
		if got := h.one("SELECT COUNT(*) FROM p WHERE prompt = answer"); fmt.Sprint(got) != "0" {
			t.Fatalf("batch %d: UPDATE SET a = sample, b = sample gave equal draws", size)
		}
		before := h.fake.Generates()
		h.exec("SELECT generate('m', 'poem', 0, 8), generate('m', 'poem', 0, 8) FROM p")
		if n := h.fake.Generates() - before; n != 4 {
			t.Fatalf("batch %d: %d generations for 4 rows of two identical greedy calls", size, n)
		}
	}
}

// TestProgressWhileGenerating: llm.progress counts a row's tokens as they
// are generated, not only when the row finishes.
func TestProgressWhileGenerating(t *testing.T) {
	h, tracker := newBatchHarness(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.queryCtx(ctx, "SELECT generate('m', '"+sqlfuncstest.SlowPrefix+"a long answer of many tokens', 0)")
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p := tracker.Running(); len(p) == 1 && p[0].RowsDone == 0 && p[0].TokensGenerated >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tokens counted while the row generated: %+v", tracker.Running())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

// TestDetokenizeValidUTF8: ids that split a character give U+FFFD for
// the bytes that are not valid UTF-8 (as llama.cpp's detokenizer reaches
// clients), never invalid text; text after the JSON array is an error.
func TestDetokenizeValidUTF8(t *testing.T) {
	h := newHarness(t)
	// The fake maps id b+3 to byte b: 0xC5 (200) alone is not UTF-8.
	for q, want := range map[string]string{
		"SELECT HEX(detokenize('m', '[100, 200]'))":           "61EFBFBD",
		"SELECT HEX(detokenize('m', '[200, 100, 200, 200]'))": "EFBFBD61EFBFBDEFBFBD",
		"SELECT HEX(detokenize('m', '[200, 136]'))":           "C585", // 0xC5 0x85 is U+0145
		"SELECT detokenize('m', ' [104, 108] ')":              "ei",
	} {
		if got := h.one(q); fmt.Sprint(got) != want {
			t.Errorf("%s = %v, want %s", q, got, want)
		}
	}
	h.fails("SELECT detokenize('m', '[104] and more')", "with nothing after it")
	h.fails("SELECT detokenize('m', '[104][105]')", "with nothing after it")
}
