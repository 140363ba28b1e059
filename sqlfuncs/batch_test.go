package sqlfuncs_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// newBatchHarness is newHarness with batching enabled and a table p of n
// rows (id, prompt = "row <id>", answer NULL).
func newBatchHarness(t *testing.T, n int) (*harness, *sqlfuncs.Tracker) {
	t.Helper()
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	fake := &sqlfuncstest.Fake{Known: func(m string) bool { return m == "m" }, VarySampled: true}
	if err := sqlfuncs.Register(eng, fake); err != nil {
		t.Fatal(err)
	}
	tracker := sqlfuncs.NewTracker()
	if err := sqlfuncs.EnableBatching(eng, tracker); err != nil {
		t.Fatal(err)
	}
	if err := sqlfuncs.EnableBatching(eng, tracker); err == nil {
		t.Fatal("enabling batching twice did not fail")
	}
	t.Cleanup(func() { eng.Close() })
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro), fake: fake}
	h.exec("CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
	if n > 0 {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = fmt.Sprintf("(%d, 'row %d')", i+1, i+1)
		}
		h.exec("INSERT INTO p (id, prompt) VALUES " + strings.Join(vals, ", "))
	}
	return h, tracker
}

// strs renders rows as "a|b" strings.
func strs(rows []sql.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = fmt.Sprint(v)
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

func TestBatchRunsRowsTogether(t *testing.T) {
	const n = 12
	h, _ := newBatchHarness(t, n)
	// Each call waits until n calls are running at once: the query can
	// only finish if the rows' calls were started together.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := h.queryCtx(ctx, fmt.Sprintf("SELECT id, generate('m', CONCAT('meet:%d:', prompt), 0) FROM p ORDER BY id", n))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range strs(rows) {
		if want := fmt.Sprintf("%d|MEET:%d:ROW %d", i+1, n, i+1); r != want {
			t.Fatalf("row %d = %q, want %q (answers must stay with their rows)", i, r, want)
		}
	}
	if got := h.fake.MaxParallel(); got < n {
		t.Fatalf("at most %d calls ran at once, want %d", got, n)
	}
}

func TestBatchSizeVariable(t *testing.T) {
	h, _ := newBatchHarness(t, 10)
	if got := h.one("SELECT @@llm_batch_size"); fmt.Sprint(got) != "64" {
		t.Fatalf("default @@llm_batch_size = %v", got)
	}
	h.exec("SET @@llm_batch_size = 0")
	h.exec("SELECT id, generate('m', prompt, 0) FROM p")
	if got := h.fake.MaxParallel(); got != 1 {
		t.Fatalf("with @@llm_batch_size = 0, %d calls ran at once", got)
	}
	h.exec("SET @@llm_batch_size = 4")
	h.exec("SELECT id, generate('m', CONCAT('meet:4:', prompt), 0) FROM p")
	if got := h.fake.MaxParallel(); got != 4 {
		t.Fatalf("with @@llm_batch_size = 4, %d calls ran at once", got)
	}
	for _, bad := range []string{"-1", "100000", "'many'"} {
		if _, err := h.query("SET @@llm_batch_size = " + bad); err == nil {
			t.Errorf("SET @@llm_batch_size = %s was accepted", bad)
		}
	}
}

// TestBatchOncePerRow: go-mysql-server evaluates some expressions several
// times per row; every evaluation must see one answer, and the model must
// run once per row.
func TestBatchOncePerRow(t *testing.T) {
	const n = 20
	for _, c := range []struct {
		name, q string
		rows    int
	}{
		{"select", "SELECT id, generate('m', prompt, 0.7) FROM p", n},
		{"order by call", "SELECT id, generate('m', prompt, 0.7) FROM p ORDER BY generate('m', prompt, 0.7)", n},
		{"order by alias", "SELECT id, generate('m', prompt, 0.7) AS g FROM p ORDER BY g DESC", n},
		{"order by limit", "SELECT id, generate('m', prompt, 0.7) AS g FROM p ORDER BY g LIMIT 5", 5},
		{"where and select", "SELECT id, generate('m', prompt, 0.7) FROM p WHERE generate('m', prompt, 0.7) LIKE 'ROW 1%'", 11},
		{"group by", "SELECT generate('m', prompt, 0.7) AS g, COUNT(*) FROM p GROUP BY g ORDER BY g", n},
		{"where, order, select", "SELECT generate('m', prompt, 0.7) AS g FROM p WHERE generate('m', prompt, 0.7) LIKE '%#%' ORDER BY generate('m', prompt, 0.7)", n},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, size := range []int{64, 3, 0} {
				h, _ := newBatchHarness(t, n)
				h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
				rows := h.exec(c.q)
				if len(rows) != c.rows {
					t.Fatalf("batch %d: %d rows, want %d", size, len(rows), c.rows)
				}
				if calls := h.fake.Generates(); calls != n {
					t.Fatalf("batch %d: %d calls for %d rows", size, calls, n)
				}
				// The text shown is the text sorted by.
				shown := make([]string, len(rows))
				for i, r := range rows {
					shown[i] = fmt.Sprint(r[len(r)-1])
					if strings.HasPrefix(c.q, "SELECT generate") {
						shown[i] = fmt.Sprint(r[0])
					}
				}
				if strings.Contains(c.q, "ORDER BY") && !strings.Contains(c.q, "DESC") && !sort.StringsAreSorted(shown) {
					t.Fatalf("batch %d: rows not in the order of the text shown: %q", size, shown)
				}
				if strings.Contains(c.q, "DESC") && !sort.IsSorted(sort.Reverse(sort.StringSlice(shown))) {
					t.Fatalf("batch %d: rows not in descending order of the text shown: %q", size, shown)
				}
			}
		})
	}
}

// TestBatchSameAsSequential runs statements with read-ahead and without,
// over greedy and seeded calls (the fake is deterministic for both), and
// compares everything the statements leave behind.
func TestBatchSameAsSequential(t *testing.T) {
	queries := []string{
		"SELECT id, generate('m', prompt, 0) FROM p ORDER BY id",
		`SELECT id, generate('m', prompt, '{"temperature": 0.9, "seed": 7, "max_tokens": 4}') FROM p`,
		"SELECT id FROM p WHERE generate('m', prompt, 0) LIKE '%7' ORDER BY id",
		"SELECT id, CASE WHEN id % 3 = 0 THEN generate('m', prompt, 0) ELSE 'skip' END FROM p",
		"SELECT id, IF(id > 5, generate('m', prompt, 0, 3), NULL), COALESCE(answer, generate('m', 'x', 0)) FROM p",
		"SELECT id, generate('m', generate('m', prompt, 0), 0, 2) FROM p",
		"SELECT id, generate('m', prompt, 0) FROM p LIMIT 3",
		"SELECT id, generate('m', prompt, 0) FROM p LIMIT 2 OFFSET 4",
		"SELECT id, generate(IF(id = 9, NULL, 'm'), prompt, 0) FROM p",
		"SELECT COUNT(generate('m', prompt, 0)), MAX(generate('m', prompt, 0)) FROM p",
		"SELECT id, (SELECT generate('m', q.prompt, 0) FROM p q WHERE q.id = p.id + 1) FROM p",
		"SELECT * FROM (SELECT id, generate('m', prompt, 0) g FROM p) s WHERE s.id > 8",
		"SELECT g, COUNT(*) FROM v GROUP BY g ORDER BY g",
		"SELECT a.id, generate('m', CONCAT(a.prompt, b.prompt), 0) FROM p a JOIN p b ON a.id = b.id + 1 ORDER BY a.id",
		"UPDATE p SET answer = generate('m', CONCAT('about ', prompt), 0) WHERE id > 2",
		"SELECT id, answer FROM p ORDER BY id",
		"INSERT INTO q SELECT id, generate('m', prompt, 0, 5) FROM p WHERE id < 8",
		"SELECT * FROM q ORDER BY id",
		"UPDATE p SET answer = generate('m', prompt, 0) ORDER BY id LIMIT 2",
		"SELECT id, answer FROM p ORDER BY id",
	}
	run := func(size int) ([][]string, int64) {
		h, _ := newBatchHarness(t, 10)
		h.exec("CREATE TABLE q (id INT PRIMARY KEY, g TEXT)")
		h.exec("CREATE VIEW v AS SELECT id, generate('m', prompt, 0, 5) AS g FROM p")
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		var out [][]string
		for _, q := range queries {
			out = append(out, strs(h.exec(q)))
		}
		return out, h.fake.Generates()
	}
	seq, seqCalls := run(0)
	for _, size := range []int{1, 4, 64} {
		got, calls := run(size)
		for i := range queries {
			if !reflect.DeepEqual(got[i], seq[i]) {
				t.Errorf("batch %d: %s\ngot  %q\nwant %q", size, queries[i], got[i], seq[i])
			}
		}
		// Read-ahead may start calls for rows a LIMIT then drops, but
		// never many more than sequential evaluation makes.
		if calls < seqCalls || calls > seqCalls+int64(size)*4 {
			t.Errorf("batch %d made %d calls, sequential %d", size, calls, seqCalls)
		}
	}
}

// TestBatchSkipsUntakenBranches: read-ahead starts only the calls the row
// will ask for.
func TestBatchSkipsUntakenBranches(t *testing.T) {
	for _, c := range []struct {
		q     string
		calls int64
	}{
		{"SELECT CASE WHEN id > 7 THEN generate('m', prompt, 0) END FROM p", 3},
		{"SELECT CASE id WHEN 2 THEN generate('m', prompt, 0) WHEN 3 THEN 'x' ELSE generate('m', 'e', 0) END FROM p", 9},
		{"SELECT id FROM p WHERE id < 3 AND generate('m', prompt, 0) <> ''", 2},
		{"SELECT id FROM p WHERE id < 3 OR generate('m', prompt, 0) = ''", 8},
		{"SELECT IF(id = 1, generate('m', prompt, 0), NULL) FROM p", 1},
		{"SELECT IFNULL(IF(id = 4, NULL, 'x'), generate('m', prompt, 0)) FROM p", 1},
		{"SELECT id, generate('m', prompt, 0) FROM p LIMIT 2", 2},
	} {
		h, _ := newBatchHarness(t, 10)
		h.exec(c.q)
		if got := h.fake.Generates(); got != c.calls {
			t.Errorf("%s: %d calls, want %d", c.q, got, c.calls)
		}
	}
}

func TestBatchLimitBoundsReadAhead(t *testing.T) {
	h, _ := newBatchHarness(t, 200)
	h.exec("SET @@llm_batch_size = 16")
	// A filter below the generate() node: LIMIT cannot bound its rows, the
	// batch size does.
	h.exec("SELECT id, generate('m', prompt, 0) FROM p WHERE id > 0 LIMIT 3")
	if got := h.fake.Generates(); got < 3 || got > 3+16 {
		t.Fatalf("LIMIT 3 with batch 16 made %d calls", got)
	}
}

func TestBatchErrorsStayWithTheirRow(t *testing.T) {
	h, _ := newBatchHarness(t, 10)
	q := "SELECT id, generate(IF(id = 8, 'nope', 'm'), prompt, 0) FROM p"
	if _, err := h.query(q); err == nil || !strings.Contains(err.Error(), "model 'nope' is not registered") {
		t.Fatalf("got %v", err)
	}
	// Row 8's call may run ahead, but its error belongs to row 8 only.
	if rows := h.exec(q + " WHERE id < 8"); len(rows) != 7 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows := h.exec(q + " LIMIT 5"); len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
}

// startBlocked runs q, whose model calls block in the fake until
// cancelled, and returns once n of them (what: "calls", "prompts") are
// blocked.
func (h *harness) startBlocked(q string, n int64, what string) (cancel func(), done <-chan error) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := h.queryCtx(ctx, q)
		errs <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for h.fake.Blocked() < n {
		if time.Now().After(deadline) {
			cancel()
			h.t.Fatalf("only %d %s started", h.fake.Blocked(), what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return cancel, errs
}

// cancelAndDrain cancels a query startBlocked started, expects it to
// return context.Canceled, and waits for its blocked calls to end. It
// returns when it cancelled.
func (h *harness) cancelAndDrain(cancel func(), done <-chan error, what string) (start time.Time) {
	h.t.Helper()
	start = time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			h.t.Fatalf("cancelled query returned %v", err)
		}
	case <-time.After(time.Minute):
		h.t.Fatal("the cancelled query did not return")
	}
	for h.fake.Blocked() > 0 {
		if time.Since(start) > time.Minute {
			h.t.Fatalf("%d %s still running after cancellation", h.fake.Blocked(), what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return start
}

func TestBatchCancel(t *testing.T) {
	h, tracker := newBatchHarness(t, 30)
	cancel, done := h.startBlocked("SELECT id, generate('m', CONCAT('"+sqlfuncstest.BlockPrefix+"', prompt), 0) FROM p", 30, "calls")
	if p := tracker.Running(); len(p) != 1 || p[0].RowsSubmitted != 30 || p[0].RowsDone != 0 {
		t.Fatalf("progress while blocked: %+v", p)
	}
	h.cancelAndDrain(cancel, done, "calls")
	if p := tracker.Running(); len(p) != 0 {
		t.Fatalf("progress after the query: %+v", p)
	}
}

func TestBatchProgress(t *testing.T) {
	h, tracker := newBatchHarness(t, 6)
	h.exec("SET @@llm_batch_size = 2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	// Rows 1 to 4 answer at once; row 5 blocks, with row 6 read ahead.
	go func() {
		_, err := h.queryCtx(ctx, "SELECT id, generate('m', IF(id >= 5, CONCAT('"+sqlfuncstest.BlockPrefix+"', prompt), prompt), 0) FROM p")
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := tracker.Running()
		if len(p) == 1 && p[0].RowsSubmitted == 6 && p[0].RowsDone == 4 {
			q := p[0]
			if !strings.HasPrefix(q.Query, "SELECT id, generate(") || q.TokensGenerated != int64(4*len("ROW 1")) ||
				q.Started.IsZero() || q.TokensPerSecond <= 0 {
				t.Fatalf("progress: %+v", q)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress never reached 4 of 6 rows: %+v", p)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
}

// countingBuilder stands for a hook installed before batching (Dolt has
// one): it must still be asked about every node.
type countingBuilder struct{ nodes map[string]int }

func (c *countingBuilder) Build(_ *sql.Context, n sql.Node, _ sql.Row) (sql.RowIter, error) {
	c.nodes[fmt.Sprintf("%T", n)]++
	return nil, nil
}

func TestBatchChainsToPreviousHook(t *testing.T) {
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	defer eng.Close()
	prev := &countingBuilder{nodes: map[string]int{}}
	eng.Analyzer.ExecBuilder.PriorityBuilder = prev
	fake := &sqlfuncstest.Fake{}
	if err := sqlfuncs.Register(eng, fake); err != nil {
		t.Fatal(err)
	}
	if err := sqlfuncs.EnableBatching(eng, nil); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro), fake: fake}
	h.exec("CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT)")
	h.exec("INSERT INTO p VALUES (1, 'a'), (2, 'b')")
	if got := strs(h.exec("SELECT id, generate('m', prompt, 0) FROM p ORDER BY id")); !reflect.DeepEqual(got, []string{"1|A", "2|B"}) {
		t.Fatalf("got %q", got)
	}
	if prev.nodes["*plan.Project"] == 0 || prev.nodes["*plan.IndexedTableAccess"]+prev.nodes["*plan.ResolvedTable"] == 0 {
		t.Fatalf("the previous hook saw %v", prev.nodes)
	}
}

// TestBatchSamplesPerRow: a sampling call with the same prompt on every row
// draws a sample per row (rows are told apart even when the query reads
// no column), and each row keeps its own sample wherever it is evaluated.
func TestBatchSamplesPerRow(t *testing.T) {
	for _, q := range []string{
		"SELECT generate('m', 'poem', 0.8) FROM p",
		"SELECT generate('m', 'poem', 0.8) AS g FROM p ORDER BY g",
		"SELECT generate('m', 'poem', 0.8) FROM p ORDER BY generate('m', 'poem', 0.8)",
		// (A filter on literals alone is evaluated by the planner; make it
		// depend on the row.)
		"SELECT generate('m', 'poem', 0.8) FROM p WHERE generate('m', IF(id > 0, 'poem', ''), 0.8) LIKE 'POEM#%'",
	} {
		for _, size := range []int{64, 0} {
			h, _ := newBatchHarness(t, 10)
			h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
			got := strs(h.exec(q))
			distinct := map[string]bool{}
			for _, g := range got {
				distinct[g] = true
			}
			if len(got) != 10 || len(distinct) != 10 || h.fake.Generates() != 10 {
				t.Errorf("batch %d: %s: %d rows, %d distinct, %d calls: %q", size, q, len(got), len(distinct), h.fake.Generates(), got)
			}
			if strings.Contains(q, "ORDER BY") && !sort.StringsAreSorted(got) {
				t.Errorf("batch %d: %s: not sorted by the text shown: %q", size, q, got)
			}
		}
	}
}
