package main

// End-to-end tests of batched generate(): the server hands many rows'
// calls to the engine at once, which decodes them in shared forward passes.
// They run the real engine on ../shared/models/stories260K.gguf and count
// the scheduler's forward passes.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/internal/testutil"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

const storiesModel = "stories"

// storyServer starts a real-engine server over stories260K with room for
// 64 sequences at once, the result cache off (so that repeated statements
// really run), and a table p of n rows with distinct prompts.
func storyServer(t testing.TB, dolt bool, n int) (*testServer, *sql.DB) {
	t.Helper()
	model := testutil.Shared(t, "models/stories260K.gguf")
	cfg := serveConfig{Memory: true, Models: []modelFlag{{storiesModel, model}}, MaxSequences: 64}
	if dolt {
		cfg = serveConfig{DataDir: t.TempDir(), Models: cfg.Models, MaxSequences: 64}
	}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(4)
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
	if n > 0 {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = fmt.Sprintf("(%d, '%s')", i+1, storyPrompt(i+1))
		}
		mustExec(t, db, "INSERT INTO p (id, prompt) VALUES "+strings.Join(vals, ", "))
	}
	// Load the model before anything counts passes.
	expectRowCount(t, db, "SELECT generate('stories', 'Once', 0, 1)", 1)
	return ts, db
}

var storyNames = []string{"Lily", "Tom", "Sue", "Ben", "Max", "Mia", "Tim", "Ann", "Sam", "Zoe", "Jack", "Lucy"}
var storyThings = []string{"a red ball", "a big dog", "a little bird", "a toy car", "a tree", "the sun", "a cake",
	"a boat", "a cat", "the park", "a box"}

// storyPrompt is a distinct prompt for row i.
func storyPrompt(i int) string {
	return fmt.Sprintf("Once upon a time, %s saw %s and %s number %d.",
		storyNames[i%len(storyNames)], storyThings[i%len(storyThings)], storyNames[(i/7)%len(storyNames)], i)
}

func expectRowCount(t testing.TB, db sqlRunner, q string, n int) []string {
	t.Helper()
	rows := queryRows(t, db, q)
	if len(rows) != n {
		t.Fatalf("%s: %d rows, want %d", q, len(rows), n)
	}
	return rows
}

// passes returns the forward passes the loaded model has run.
func (ts *testServer) passes() int64 {
	ts.t.Helper()
	st, ok := ts.srv.pool.SchedStats(storiesModel)
	if !ok {
		ts.t.Fatal("the model is not loaded")
	}
	return st.Passes
}

// expectNoPassesAfter waits for the pass count passes() to stop moving
// and fails unless it stopped at atKill, the count when a KILL landed.
func expectNoPassesAfter(t *testing.T, passes func() int64, atKill int64) {
	t.Helper()
	last := passes()
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(300 * time.Millisecond)
		now := passes()
		if now == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the model still runs passes 10 s after the kill (%d since)", now-atKill)
		}
		last = now
	}
	if after := last - atKill; after != 0 {
		t.Fatalf("the model ran %d passes after the kill", after)
	}
}

// countPasses runs q on conn and returns the forward passes it took.
func (ts *testServer) countPasses(conn sqlRunner, q string) int64 {
	ts.t.Helper()
	before := ts.passes()
	mustExec(ts.t, conn, q)
	return ts.passes() - before
}

// queryResult is what a statement run in the background gave.
type queryResult struct {
	rows []string
	err  error
}

// queryAsync runs q on conn in a goroutine; its rows or error arrive on
// the channel.
func queryAsync(conn sqlRunner, q string) <-chan queryResult {
	done := make(chan queryResult, 1)
	go func() {
		rows, err := rowsOf(conn, q)
		done <- queryResult{rows, err}
	}()
	return done
}

// startHeld holds model's scheduler before its next forward pass, starts
// q on conn in the background and waits until want sequences wait in the
// scheduler; it returns the passes run so far and the statement's result
// to come. Goroutines reach the scheduler as the machine lets them: on a
// busy machine stories260K (passes of microseconds) can finish a row
// before the next arrives, or a whole statement before the test looks at
// it; held, the sequences surely meet in the same passes and the
// statement is surely still running. The caller moves the limit on
// (ts.srv.pool.PassLimit) or lifts it; it is lifted when the test ends.
func (ts *testServer) startHeld(conn sqlRunner, model string, want int, q string) (int64, <-chan queryResult) {
	t := ts.t
	t.Helper()
	before := ts.modelPasses(model)
	if !ts.srv.pool.PassLimit(model, before) {
		t.Fatalf("model %s is not loaded", model)
	}
	t.Cleanup(func() {
		if ts.srv != nil {
			ts.srv.pool.PassLimit(model, -1)
		}
	})
	done := queryAsync(conn, q)
	deadline := time.Now().Add(time.Minute)
	for {
		st, _ := ts.srv.pool.SchedStats(model)
		if st.Waiting >= want {
			return before, done
		}
		select {
		case r := <-done:
			t.Fatalf("%s ended with %d of its %d sequences in the held scheduler: %v", q, st.Waiting, want, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d sequences reached the scheduler in a minute, want %d", q, st.Waiting, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitWaiting waits until want sequences wait in model's held scheduler.
func waitWaiting(t *testing.T, ts *testServer, model string, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if st, _ := ts.srv.pool.SchedStats(model); st.Waiting >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sequences never reached the scheduler", want)
		}
		time.Sleep(time.Millisecond)
	}
}

// heldQuery runs q on conn with its want sequences held until they all
// reached the scheduler (startHeld), and returns its rows and the forward
// passes it took.
func (ts *testServer) heldQuery(conn sqlRunner, model string, want int, q string) ([]string, int64) {
	ts.t.Helper()
	before, done := ts.startHeld(conn, model, want, q)
	ts.srv.pool.PassLimit(model, -1)
	r := <-done
	if r.err != nil {
		ts.t.Fatalf("%s: %v", q, r.err)
	}
	return r.rows, ts.modelPasses(model) - before
}

// runPasses lets model's held scheduler run n passes from before and
// waits until it has.
func (ts *testServer) runPasses(model string, before, n int64) {
	ts.t.Helper()
	ts.srv.pool.PassLimit(model, before+n)
	deadline := time.Now().Add(time.Minute)
	for ts.modelPasses(model) < before+n {
		if time.Now().After(deadline) {
			ts.t.Fatalf("%d passes allowed, %d run in a minute", n, ts.modelPasses(model)-before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestServeBatchForwardPasses(t *testing.T) {
	const n = 100
	for _, storage := range []string{"memory", "dolt"} {
		t.Run(storage, func(t *testing.T) {
			if storage == "dolt" && testing.Short() {
				t.Skip("starts Dolt")
			}
			ts, db := storyServer(t, storage == "dolt", n)
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			mustExec(t, conn, "CREATE TABLE g (id INT PRIMARY KEY, answer TEXT)")
			statements := []string{
				"SELECT id, generate('stories', prompt, 0, 8) FROM p",
				"UPDATE p SET answer = generate('stories', prompt, 0, 8)",
				"INSERT INTO g SELECT id, generate('stories', prompt, 0, 8) FROM p",
			}
			// The sequential baseline (and the comparison of answers) runs
			// on one storage only: it takes 2400 passes.
			var sequential []int64
			var seqAnswers []string
			if storage == "memory" {
				mustExec(t, conn, "SET @@llm_batch_size = 0")
				for _, q := range statements {
					sequential = append(sequential, ts.countPasses(conn, q))
				}
				seqAnswers = queryRows(t, conn, "SELECT p.id, p.answer, g.answer FROM p JOIN g ON p.id = g.id ORDER BY p.id")
				mustExec(t, conn, "UPDATE p SET answer = NULL")
				mustExec(t, conn, "DELETE FROM g")
			}

			// Every row read ahead (64 run at once, the rest wait for a
			// slot), each statement held until all n rows' sequences
			// reached the scheduler (startHeld).
			mustExec(t, conn, "SET @@llm_batch_size = 128")
			for i, q := range statements {
				_, batched := ts.heldQuery(conn, storiesModel, n, q)
				if sequential == nil {
					t.Logf("%s: %d forward passes batched", q, batched)
				} else {
					t.Logf("%s: %d forward passes batched, %d sequential", q, batched, sequential[i])
					// Sequentially each row takes a prompt pass and 7
					// decode steps; batched, rows share them.
					if sequential[i] < 7*n {
						t.Errorf("%s: only %d passes sequentially; is the cache on?", q, sequential[i])
					}
				}
				// 64 rows' prompts, then their 7 decode steps while the
				// other 36 take the slots that free: 17 passes (sequential
				// is 8 per row).
				if batched > 30 {
					t.Errorf("%s: %d forward passes for %d rows of 8 tokens, want about 17", q, batched, n)
				}
			}
			if sequential == nil {
				// The session variable reaches this storage's sessions too.
				mustExec(t, conn, "SET @@llm_batch_size = 0")
				if seq := ts.countPasses(conn, "SELECT generate('stories', prompt, 0, 8) FROM p WHERE id <= 10"); seq < 70 {
					t.Errorf("@@llm_batch_size = 0: 10 rows took %d passes, want one row at a time", seq)
				}
			}
			got := queryRows(t, conn, "SELECT p.id, p.answer, g.answer FROM p JOIN g ON p.id = g.id ORDER BY p.id")
			if len(got) != n || strings.Contains(strings.Join(got, "\n"), "NULL") {
				t.Fatalf("answers missing after the batched statements: %q", got)
			}
			if seqAnswers != nil && strings.Join(got, "\n") != strings.Join(seqAnswers, "\n") {
				t.Fatalf("batched answers differ from sequential ones:\n%q\n%q", got, seqAnswers)
			}
		})
	}
}

// TestServeBatchMatchesSequential: batched and sequential runs give the same
// text in the same rows, greedy and with a fixed seed.
func TestServeBatchMatchesSequential(t *testing.T) {
	const n = 40
	ts, db := storyServer(t, false, n)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SELECT id, generate('stories', prompt, 0, 12) FROM p ORDER BY id",
		`SELECT id, generate('stories', prompt, '{"temperature": 0.9, "seed": 1234, "max_tokens": 12}') FROM p ORDER BY id`,
		`SELECT id, generate('stories', prompt, '{"temperature": 1.5, "top_k": 0, "top_p": 1, "min_p": 0, "seed": 7, "max_tokens": 12}') FROM p ORDER BY id`,
	} {
		mustExec(t, conn, "SET @@llm_batch_size = 0")
		seq := queryRows(t, conn, q)
		mustExec(t, conn, "SET @@llm_batch_size = 64")
		batched, passes := ts.heldQuery(conn, storiesModel, n, q)
		if strings.Join(batched, "\n") != strings.Join(seq, "\n") {
			t.Fatalf("%s:\nbatched    %q\nsequential %q", q, batched, seq)
		}
		// Distinct prompts give distinct texts, so equal lists also show
		// that each answer is in its own row.
		distinct := map[string]bool{}
		for _, r := range batched {
			_, text, _ := strings.Cut(r, "|")
			distinct[text] = true
		}
		if len(distinct) < n/4 {
			t.Fatalf("%s: only %d distinct answers for %d prompts", q, len(distinct), n)
		}
		// Held until all 40 wait (heldQuery): the prompts in a pass or
		// two, then 11 decode steps together (sequential is 12 per row).
		t.Logf("%s: %d passes batched", q, passes)
		if passes > 20 {
			t.Fatalf("%s: %d passes batched for %d rows", q, passes, n)
		}
		// And a row alone gives the same answer as in the batch.
		for _, i := range []int{1, n / 2, n} {
			single := strings.Replace(q, "FROM p ORDER BY id", fmt.Sprintf("FROM p WHERE id = %d", i), 1)
			expectRows(t, conn, single, batched[i-1])
		}
	}
}

// longGen is a generation long enough to still be running while a test
// looks at it: 400 tokens past end-of-story.
const longGen = `'{"temperature": 0, "max_tokens": 400, "ignore_eos": true}'`

func TestServeBatchKill(t *testing.T) {
	ts, db := storyServer(t, false, 100)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	// The UPDATE runs 20 of its 400 steps and is held there (startHeld;
	// unheld, stories260K can finish it before the kill on a busy
	// machine): it is surely running when killed.
	before, done := ts.startHeld(conn, storiesModel, 64, "UPDATE p SET answer = generate('stories', prompt, "+longGen+")")
	ts.runPasses(storiesModel, before, 20)
	waitProgress(t, db, id, 64)
	mustExec(t, db, fmt.Sprintf("KILL QUERY %d", id))
	atKill := ts.passes()
	// Every sequence of the query ends: once the scheduler may run again
	// it has nothing of the query's to step (held, no pass was running
	// when the kill came). Wait for the passes to go quiet, then count
	// them.
	ts.srv.pool.PassLimit(storiesModel, -1)
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatal("the killed UPDATE succeeded")
		}
		t.Logf("killed: %v", r.err)
	case <-time.After(time.Minute):
		t.Fatal("KILL QUERY did not stop the batched UPDATE")
	}
	expectNoPassesAfter(t, ts.passes, atKill)
	// Their slots are free: a full batch on the same model runs.
	expectRows(t, conn, "SELECT COUNT(*) FROM (SELECT generate('stories', prompt, 0, 4) g FROM p LIMIT 64) s WHERE g IS NOT NULL", "64")
	expectRows(t, db, "SELECT COUNT(*) FROM llm.progress", "0")
	expectRows(t, conn, "SELECT COUNT(*) FROM p WHERE answer IS NOT NULL", "0")
}

// waitProgress waits until llm.progress shows connection conn's query with
// at least rows rows submitted.
func waitProgress(t *testing.T, db *sql.DB, conn int64, rows int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var submitted int
		err := db.QueryRowContext(context.Background(),
			"SELECT rows_submitted FROM llm.progress WHERE connection_id = ?", conn).Scan(&submitted)
		if err == nil && submitted >= rows {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the query never reached %d rows submitted (%d, %v)", rows, submitted, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeBatchConcurrentQueriesSharePasses: while one query generates, a
// second one's sequences join the same forward passes.
func TestServeBatchConcurrentQueriesSharePasses(t *testing.T) {
	ts, db := storyServer(t, false, 8)
	ctx := context.Background()
	long := "SELECT id, generate('stories', prompt, " + longGen + ") FROM p WHERE id <= 4"
	short := `SELECT id, generate('stories', prompt, '{"temperature": 0, "max_tokens": 60, "ignore_eos": true}') FROM p WHERE id > 4`

	connA, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer connA.Close()
	connB, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer connB.Close()
	alone := ts.countPasses(connA, long) + ts.countPasses(connB, short)

	// The long query runs its first 10 steps (held there, startHeld: on a
	// busy machine it could otherwise end before the short one's rows
	// reach the scheduler), then the short one's sequences join it.
	before, doneA := ts.startHeld(connA, storiesModel, 4, long)
	ts.runPasses(storiesModel, before, 10)
	doneB := queryAsync(connB, short)
	waitWaiting(t, ts, storiesModel, 4)
	ts.srv.pool.PassLimit(storiesModel, -1)
	if r := <-doneB; r.err != nil {
		t.Fatal(r.err)
	}
	if r := <-doneA; r.err != nil {
		t.Fatal(r.err)
	}
	together := ts.passes() - before
	t.Logf("forward passes: %d one after the other, %d together", alone, together)
	// The short query's 60 steps ride along in the long one's passes.
	if together > alone-40 {
		t.Fatalf("%d passes together, %d apart: the queries did not share passes", together, alone)
	}
}

// TestServeBatchOncePerRow counts backend calls through the server, where
// go-mysql-server would otherwise evaluate a sort key and the text shown
// separately (and a greedy projection in the spooling goroutine).
func TestServeBatchOncePerRow(t *testing.T) {
	for _, storage := range []string{"memory", "dolt"} {
		t.Run(storage, func(t *testing.T) {
			if storage == "dolt" && testing.Short() {
				t.Skip("starts Dolt")
			}
			cfg := memoryWithModel(t)
			if storage == "dolt" {
				cfg = serveConfig{DataDir: t.TempDir(), Models: cfg.Models}
			}
			ts := newServer(t, cfg, variedFake)
			db := ts.db()
			const n = 30
			mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
			mustExec(t, db, "CREATE TABLE t2 (id INT PRIMARY KEY, g TEXT)")
			mustExec(t, db, "CREATE VIEW v AS SELECT id, generate('m', prompt, 0.5) AS g FROM t")
			vals := make([]string, n)
			for i := range vals {
				vals[i] = fmt.Sprintf("(%d, 'row %d')", i+1, i+1)
			}
			mustExec(t, db, "INSERT INTO t (id, prompt) VALUES "+strings.Join(vals, ", "))
			for _, c := range []struct {
				q     string
				rows  int
				order bool
			}{
				{"SELECT id, generate('m', prompt, 0.5) AS g FROM t ORDER BY g", n, true},
				{"SELECT id, generate('m', prompt, 0.5) FROM t ORDER BY generate('m', prompt, 0.5)", n, true},
				{"SELECT id, generate('m', prompt, 0) FROM t ORDER BY generate('m', prompt, 0)", n, true},
				{"SELECT id, generate('m', prompt, 0.5) AS g FROM t WHERE generate('m', prompt, 0.5) LIKE 'ROW 1%' ORDER BY g", 11, true},
				{"SELECT id, g FROM v WHERE g LIKE 'ROW 2%' ORDER BY g", 11, true},
				{"UPDATE t SET answer = generate('m', prompt, 0.5)", 1, false},
				{"INSERT INTO t2 SELECT id, generate('m', prompt, 0.5) FROM t", 1, false},
			} {
				before := ts.fake.Generates()
				rows := queryRows(t, db, c.q)
				if len(rows) != c.rows && !strings.HasPrefix(c.q, "UPDATE") && !strings.HasPrefix(c.q, "INSERT") {
					t.Fatalf("%s: %d rows, want %d", c.q, len(rows), c.rows)
				}
				if calls := ts.fake.Generates() - before; calls != n {
					t.Errorf("%s: %d backend calls for %d rows", c.q, calls, n)
				}
				if c.order {
					shown := make([]string, len(rows))
					for i, r := range rows {
						_, shown[i], _ = strings.Cut(r, "|")
					}
					if !sortedStrings(shown) {
						t.Errorf("%s: rows not in the order of the text shown: %q", c.q, shown)
					}
				}
			}
			expectRows(t, db, "SELECT COUNT(*) FROM t WHERE answer LIKE 'ROW %#%'", fmt.Sprint(n))
			expectRows(t, db, "SELECT COUNT(*) FROM t2 JOIN t ON t.id = t2.id WHERE t2.g LIKE CONCAT(UPPER(t.prompt), '#%')", fmt.Sprint(n))
			// Each call waits for n to be running: this finishes only if
			// the rows' calls were started together.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE t SET answer = generate('m', CONCAT('%s%d:', prompt), 0)", sqlfuncstest.MeetPrefix, n)); err != nil {
				t.Fatalf("batched UPDATE: %v", err)
			}
		})
	}
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] < s[i-1] {
			return false
		}
	}
	return true
}

// variedFake is fakeEngine whose sampled answers differ from call to call.
var variedFake backendChoice = func(t testing.TB, p *engine.Pool) sqlfuncs.Backend {
	f := fakeEngine(t, p).(*sqlfuncstest.Fake)
	f.VarySampled = true
	return f
}

func TestServeProgressAndProcessList(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT)")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, '"+sqlfuncstest.BlockPrefix+"d')")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	q := "SELECT id, generate('m', prompt, 0) FROM t ORDER BY id"
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, q)
		done <- err
	}()
	waitProgress(t, db, id, 4)
	deadline := time.Now().Add(time.Minute)
	for {
		rows := queryRows(t, db, fmt.Sprintf("SELECT query, rows_submitted, rows_done, tokens_generated, tokens_per_s > 0, started <= NOW() FROM llm.progress WHERE connection_id = %d", id))
		if len(rows) == 1 && rows[0] == q+"|4|3|3|1|1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("llm.progress: %q", rows)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var found bool
	for _, r := range queryRows(t, db, "SHOW PROCESSLIST") {
		if strings.HasPrefix(r, fmt.Sprintf("%d|", id)) {
			found = true
			if !strings.Contains(r, "generate(): 3 of 4 rows done, 3 tokens") || !strings.Contains(r, q) {
				t.Fatalf("SHOW PROCESSLIST row: %q", r)
			}
		}
	}
	if !found {
		t.Fatal("the query is not in SHOW PROCESSLIST")
	}
	mustExec(t, db, fmt.Sprintf("KILL QUERY %d", id))
	if err := <-done; err == nil {
		t.Fatal("killed query succeeded")
	}
	expectRows(t, db, "SELECT COUNT(*) FROM llm.progress", "0")
}

func TestServeUsageAndCache(t *testing.T) {
	model := testutil.Shared(t, "models/stories260K.gguf")
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{storiesModel, model}}}, realEngine)
	db := ts.db()
	expectRows(t, db, "SELECT @@llm_result_cache, enabled FROM llm.cache", "1|1")
	q := "SELECT generate('stories', 'Once upon a time', 0, 10)"
	first := queryRows(t, db, q)
	expectRows(t, db, q, first...)
	expectRows(t, db, "SELECT model, calls, cache_hits, prompt_tokens > 0, generated_tokens FROM llm.usage", "stories|2|1|1|10")
	expectRows(t, db, "SELECT hits, misses, entries, bytes > 0, enabled FROM llm.cache", "1|1|1|1|1")
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	expectRows(t, db, "SELECT enabled, entries FROM llm.cache", "0|0")
	expectRows(t, db, q, first...)
	expectRows(t, db, "SELECT calls, cache_hits, generated_tokens FROM llm.usage", "3|1|20")
	mustExec(t, db, "SET GLOBAL llm_result_cache = ON")
	expectRows(t, db, "SELECT @@global.llm_result_cache, enabled FROM llm.cache", "1|1")
	expectError(t, db, "SET GLOBAL llm_result_cache = 'maybe'", "llm_result_cache")
}
