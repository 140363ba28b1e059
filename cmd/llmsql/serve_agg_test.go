package main

// End-to-end tests of summarize_agg() and reduce_agg() on the real
// engine: a tiny synthetic model (always) and stories260K (where ../shared
// is present), counting the scheduler's forward passes.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/internal/testutil"
)

// aggDetails is what "details": true returns for a group.
type aggDetails struct {
	Text    *string
	Rows    int
	Prompts int
	Levels  int
	Error   *string
}

func parseDetails(t *testing.T, s string) aggDetails {
	t.Helper()
	var d aggDetails
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("details %q: %v", s, err)
	}
	return d
}

// aggTable makes r(id, g, body): groups 1..10 of 3 rows (group 1 with a
// NULL body), group 100 of large rows enough for several map-reduce
// levels in 256 positions, and group 200 of NULL bodies only.
func aggTable(t *testing.T, db sqlRunner, large int) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE r (id INT PRIMARY KEY, g INT, body TEXT)")
	var vals []string
	id := 0
	row := func(g int, body string) {
		id++
		vals = append(vals, fmt.Sprintf("(%d, %d, %s)", id, g, body))
	}
	for g := 1; g <= 10; g++ {
		for i := range 3 {
			if g == 1 && i == 1 {
				row(g, "NULL")
				continue
			}
			row(g, "'"+storyPrompt(g*10+i)+"'")
		}
	}
	for i := range large {
		row(100, "'"+storyPrompt(1000+i)+"'")
	}
	row(200, "NULL")
	row(200, "NULL")
	mustExec(t, db, "INSERT INTO r VALUES "+strings.Join(vals, ", "))
}

// TestServeAggregates runs the aggregates over GROUP BY on the tiny model
// with 256 positions: small groups in one prompt, a large group over
// several levels, NULLs, a group of NULLs; batched and one group at a time
// give the same answers, batched in far fewer forward passes.
func TestServeAggregates(t *testing.T) {
	for _, storage := range []string{"memory", "dolt"} {
		t.Run(storage, func(t *testing.T) {
			if storage == "dolt" && testing.Short() {
				t.Skip("starts Dolt")
			}
			cfg := serveConfig{Memory: true, Models: []modelFlag{{"m", tinyModelFile(t)}}, MaxSequences: 16}
			if storage == "dolt" {
				cfg.Memory, cfg.DataDir = false, t.TempDir()
			}
			ts := newServer(t, cfg, realEngine)
			db := ts.db()
			db.SetMaxOpenConns(1)
			mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
			aggTable(t, db, 100)
			expectRowCount(t, db, "SELECT generate('m', 'x', 0, 1)", 1) // load the model

			q := `SELECT g, summarize_agg('m', body, '{"temperature": 0, "max_tokens": 12, "details": true}') FROM r GROUP BY g ORDER BY g`
			passes := func(size int) ([]string, int64, int64) {
				mustExec(t, db, fmt.Sprintf("SET @@llm_batch_size = %d", size))
				calls := usageCalls(t, db)
				st, _ := ts.srv.pool.SchedStats("m")
				var rows []string
				if size == 0 {
					rows = queryRows(t, db, q)
				} else {
					rows = ts.heldAggregate(db, "m", 11, q)
				}
				if len(rows) != 12 {
					t.Fatalf("%s: %d rows, want 12", q, len(rows))
				}
				after, _ := ts.srv.pool.SchedStats("m")
				return rows, after.Passes - st.Passes, usageCalls(t, db) - calls
			}
			seq, seqPasses, seqCalls := passes(0)
			batched, batchedPasses, batchedCalls := passes(64)
			if strings.Join(seq, "\n") != strings.Join(batched, "\n") {
				t.Fatalf("batched and one group at a time differ:\n%q\n%q", batched, seq)
			}
			t.Logf("%d groups: %d forward passes batched, %d one group at a time", len(batched), batchedPasses, seqPasses)
			if batchedPasses*2 > seqPasses {
				t.Errorf("batched took %d passes, one group at a time %d", batchedPasses, seqPasses)
			}
			prompts := 0
			for _, r := range batched {
				g, js, _ := strings.Cut(r, "|")
				if g == "200" {
					if js != "NULL" {
						t.Fatalf("a group of NULL texts: %s", js)
					}
					continue
				}
				d := parseDetails(t, js)
				prompts += d.Prompts
				switch {
				case d.Text == nil || *d.Text == "" && d.Rows == 0:
					t.Fatalf("group %s: %s", g, js)
				case g == "1" && (d.Rows != 2 || d.Prompts != 1 || d.Levels != 1):
					t.Fatalf("group 1 (a NULL skipped): %s", js)
				case g != "1" && g != "100" && (d.Rows != 3 || d.Prompts != 1 || d.Levels != 1):
					t.Fatalf("small group %s: %s", g, js)
				case g == "100" && (d.Rows != 100 || d.Levels < 3):
					t.Fatalf("large group: %s, want several levels", js)
				}
			}
			// Every prompt is one call of the model (llm.usage).
			if int64(prompts) != batchedCalls || batchedCalls != seqCalls {
				t.Fatalf("%d prompts, llm.usage counted %d calls batched and %d one group at a time", prompts, batchedCalls, seqCalls)
			}

			// Without GROUP BY; over nothing; over NULLs only.
			if got := queryRows(t, db, `SELECT summarize_agg('m', body, '{"temperature": 0, "max_tokens": 8}') IS NOT NULL FROM r WHERE g <= 3`); got[0] != "1" {
				t.Fatalf("no GROUP BY: %q", got)
			}
			expectRows(t, db, "SELECT summarize_agg('m', body) FROM r WHERE id < 0", "NULL")
			expectRows(t, db, "SELECT summarize_agg('m', body) FROM r WHERE g = 200", "NULL")
			expectRows(t, db, "SELECT g, summarize_agg('m', body) FROM r WHERE id < 0 GROUP BY g")
		})
	}
}

// heldAggregate runs the aggregate statement q on conn with model's
// scheduler held until its groups (groups of them with rows) have started
// and every prompt submitted waits in the scheduler, so that the groups'
// first prompts surely meet in the same passes (goroutines reach the
// scheduler as the machine lets them, and the tiny model's passes take
// microseconds); later levels follow as prompts end. It returns q's rows.
func (ts *testServer) heldAggregate(conn sqlRunner, model string, groups int, q string) []string {
	t := ts.t
	t.Helper()
	mon := ts.db() // conn's pool may have no other connection
	before := ts.modelPasses(model)
	ts.srv.pool.PassLimit(model, before)
	defer ts.srv.pool.PassLimit(model, -1)
	done := queryAsync(conn, q)
	deadline := time.Now().Add(time.Minute)
	for {
		var started, chunks int64
		err := mon.QueryRow("SELECT rows_submitted, chunks_submitted FROM llm.progress").Scan(&started, &chunks)
		st, _ := ts.srv.pool.SchedStats(model)
		if err == nil && started == int64(groups) && chunks > 0 && int64(st.Waiting) == chunks {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("%s ended while the scheduler was held: %v", q, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d groups started, %d prompts submitted, %d waiting (%v)", q, started, chunks, st.Waiting, err)
		}
		time.Sleep(time.Millisecond)
	}
	ts.srv.pool.PassLimit(model, -1)
	r := <-done
	if r.err != nil {
		t.Fatalf("%s: %v", q, r.err)
	}
	return r.rows
}

func usageCalls(t *testing.T, db sqlRunner) int64 {
	t.Helper()
	var n int64
	rows := queryRows(t, db, "SELECT COALESCE(SUM(calls), 0) FROM llm.usage")
	fmt.Sscan(rows[0], &n)
	return n
}

// TestServeAggregateJSON: reduce_agg() with a JSON schema returns JSON the
// schema allows, at every level.
func TestServeAggregateJSON(t *testing.T) {
	// A grammar's JSON may take many tokens on a random model (spaces are
	// allowed): room for max_tokens 128 and two answers a prompt.
	cfg := serveConfig{Memory: true, Models: []modelFlag{{"m", tinyModelFile(t)}}, MaxSequences: 16, Context: 1024}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	aggTable(t, db, 100)
	schema := `{"type": "object", "properties": {"sentiment": {"enum": ["good", "bad", "mixed"]}}, "required": ["sentiment"], "additionalProperties": false}`
	q := `SELECT g, reduce_agg('m', body, 'Is the mood good, bad or mixed?', '{"temperature": 0, "max_tokens": 128, "details": true, "json_schema": ` + schema + `}') FROM r WHERE g <> 200 GROUP BY g ORDER BY g`
	rows := expectRowCount(t, db, q, 11)
	for _, r := range rows {
		g, js, _ := strings.Cut(r, "|")
		d := parseDetails(t, js)
		if d.Text == nil {
			t.Fatalf("group %s: no answer: %s", g, js)
		}
		var v struct{ Sentiment string }
		dec := json.NewDecoder(strings.NewReader(*d.Text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || (v.Sentiment != "good" && v.Sentiment != "bad" && v.Sentiment != "mixed") {
			t.Fatalf("group %s: %q is not what the schema allows (%v)", g, *d.Text, err)
		}
		if g == "100" && d.Levels < 2 {
			t.Fatalf("the large group took %d levels", d.Levels)
		}
	}
}

// TestServeAggregateKill: KILL QUERY stops an aggregate statement: every
// group's prompts stop within a few forward passes, llm.progress forgets
// it, and the connection goes on.
func TestServeAggregateKill(t *testing.T) {
	cfg := serveConfig{Memory: true, Models: []modelFlag{{"m", tinyModelFile(t)}}, MaxSequences: 8, Context: 2048}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	ctx := context.Background()
	aggTable(t, db, 0)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	expectRowCount(t, db, "SELECT generate('m', 'x', 0, 1)", 1) // load the model
	// Ten groups of 1500 tokens each (minutes if it ran to the end), held
	// after 50 passes (startHeld: unheld, a busy machine could finish the
	// tiny model's groups before the kill): surely running when killed.
	before, done := ts.startHeld(conn, "m", 10,
		`SELECT g, summarize_agg('m', body, '{"temperature": 0, "max_tokens": 1500, "ignore_eos": true}') FROM r WHERE g <= 10 GROUP BY g`)
	ts.runPasses("m", before, 50)
	var chunks, tokens int64
	err = db.QueryRowContext(ctx, "SELECT chunks_submitted, tokens_generated FROM llm.progress WHERE connection_id = ?", id).Scan(&chunks, &tokens)
	if err != nil || chunks != 10 || tokens == 0 {
		t.Fatalf("the statement does not have its 10 prompts running (%d, %d, %v)", chunks, tokens, err)
	}
	expectRows(t, db, fmt.Sprintf("SELECT rows_submitted, levels FROM llm.progress WHERE connection_id = %d", id), "10|1")
	mustExec(t, db, fmt.Sprintf("KILL QUERY %d", id))
	atKill := ts.modelPasses("m")
	// Every group's prompt ends: once the scheduler may run again it has
	// nothing of the statement's to step (held, no pass was running when
	// the kill came). Wait for the passes to go quiet, then count them.
	ts.srv.pool.PassLimit("m", -1)
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatal("the killed statement succeeded")
		}
	case <-time.After(time.Minute):
		t.Fatal("the killed statement did not end")
	}
	expectNoPassesAfter(t, func() int64 { return ts.modelPasses("m") }, atKill)
	deadline := time.Now().Add(30 * time.Second)
	for len(queryRows(t, db, "SELECT * FROM llm.progress")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("llm.progress after the kill: %q", queryRows(t, db, "SELECT * FROM llm.progress"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	expectRows(t, conn, "SELECT COUNT(*) FROM r WHERE g = 1", "3")
}

// TestServeAggregateStories is the closing figure on stories260K: a
// statement over 100 groups, batched and one group at a time, the same
// answers and the forward passes of each.
func TestServeAggregateStories(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K.gguf")
	// 512 positions (of the 2048 it was trained on) keep prompts short
	// and give the large group several levels.
	cfg := serveConfig{Memory: true, Models: []modelFlag{{storiesModel, model}}, MaxSequences: 64, Context: 512}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	mustExec(t, db, "CREATE TABLE r (id INT PRIMARY KEY, g INT, body TEXT)")
	var vals []string
	for i := 1; i <= 400; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d, '%s')", i, (i-1)%100+1, storyPrompt(i)))
	}
	mustExec(t, db, "INSERT INTO r VALUES "+strings.Join(vals, ", "))
	expectRowCount(t, db, "SELECT generate('stories', 'Once', 0, 1)", 1)

	q := `SELECT g, summarize_agg('stories', body, '{"temperature": 0, "max_tokens": 16, "details": true}') FROM r GROUP BY g ORDER BY g`
	mustExec(t, db, "SET @@llm_batch_size = 0")
	seq, seqPasses := ts.rowsAndPasses(db, q)
	mustExec(t, db, "SET @@llm_batch_size = 64")
	batched, batchedPasses := ts.rowsAndPasses(db, q)
	if len(batched) != 100 || strings.Join(seq, "\n") != strings.Join(batched, "\n") {
		t.Fatalf("batched and one group at a time differ:\n%q\n%q", batched, seq)
	}
	var promptTokens, generated int
	for _, r := range batched {
		_, js, _ := strings.Cut(r, "|")
		var d struct {
			PromptTokens    int `json:"prompt_tokens"`
			GeneratedTokens int `json:"generated_tokens"`
			Prompts         int
		}
		if err := json.Unmarshal([]byte(js), &d); err != nil || d.Prompts != 1 {
			t.Fatalf("%s: %v, want one prompt a group", js, err)
		}
		promptTokens += d.PromptTokens
		generated += d.GeneratedTokens
	}
	t.Logf("100 groups of 4 rows, max_tokens 16 (%d prompt tokens, %d generated): %d forward passes batched (@@llm_batch_size = 64, 64 sequences), %d one group at a time (@@llm_batch_size = 0)",
		promptTokens, generated, batchedPasses, seqPasses)
	if batchedPasses*5 > seqPasses {
		t.Errorf("batched took %d passes, one group at a time %d", batchedPasses, seqPasses)
	}
	// 150 rows in one group: several levels (22 prompts over three
	// levels on this file).
	got := queryRows(t, db, `SELECT summarize_agg('stories', body, '{"temperature": 0, "max_tokens": 48, "details": true}') FROM r WHERE id <= 150`)
	if d := parseDetails(t, got[0]); d.Text == nil || d.Rows != 150 || d.Levels < 3 {
		t.Fatalf("one group of 150 rows: %s", got[0])
	}
}

// rowsAndPasses runs q and returns its rows and the forward passes it took.
func (ts *testServer) rowsAndPasses(db sqlRunner, q string) ([]string, int64) {
	ts.t.Helper()
	before := ts.passes()
	rows := queryRows(ts.t, db, q)
	return rows, ts.passes() - before
}

// modelPasses returns the forward passes model has run.
func (ts *testServer) modelPasses(model string) int64 {
	ts.t.Helper()
	st, ok := ts.srv.pool.SchedStats(model)
	if !ok {
		ts.t.Fatalf("model %s is not loaded", model)
	}
	return st.Passes
}
