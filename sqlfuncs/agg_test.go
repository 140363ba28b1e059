package sqlfuncs_test

import (
	"context"

	"encoding/json"
	"fmt"
	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// The aggregates over the fake backend. The fake's Reply answers a
// conversation from its message; echo returns the message itself, so the
// answers show the prompts the aggregates wrote.

func echo(msg string) string { return msg }

var wordRE = regexp.MustCompile(`w\d\d\d`)

// rangeReply answers "first-last" of the words wNNN in the message: a
// map-reduce that keeps every row in order ends with the group's first and
// last words.
func rangeReply(msg string) string {
	ws := wordRE.FindAllString(msg, -1)
	if len(ws) == 0 {
		return "none"
	}
	return ws[0] + "-" + ws[len(ws)-1]
}

// aggHarnesses returns a harness without the batching hook and one with it.
func aggHarnesses(t *testing.T) map[string]*harness {
	b, _ := newBatchHarness(t, 0)
	return map[string]*harness{"plain": newHarness(t), "batched": b}
}

// reviews fills a table r(id, g, body) with the rows given as "g:body"
// ("g:" for a NULL body).
func (h *harness) reviews(rows ...string) {
	h.t.Helper()
	h.exec("CREATE TABLE r (id INT PRIMARY KEY, g INT, body TEXT)")
	vals := make([]string, len(rows))
	for i, r := range rows {
		g, body, _ := strings.Cut(r, ":")
		b := "'" + body + "'"
		if body == "" {
			b = "NULL"
		}
		vals[i] = fmt.Sprintf("(%d, %s, %s)", i+1, g, b)
	}
	h.exec("INSERT INTO r VALUES " + strings.Join(vals, ", "))
}

// words fills r with n rows w001.. in g groups (row i in group i % g).
func (h *harness) words(n, groups int) {
	h.t.Helper()
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("%d:w%03d", (i+1)%groups, i+1)
	}
	h.reviews(rows...)
}

const greedy = `'{"temperature": 0, "max_tokens": 1000}'`

func TestAggregateForms(t *testing.T) {
	for name, h := range aggHarnesses(t) {
		t.Run(name, func(t *testing.T) {
			h.fake.Reply = echo
			h.reviews("1:a", "1:b", "2:c", "2:", "3:")
			got := strs(h.exec("SELECT g, reduce_agg('m', body, 'List them.', " + greedy + ") FROM r GROUP BY g ORDER BY g"))
			want := []string{
				"1|List them.\n\nText 1:\na\n\nText 2:\nb",
				"2|List them.\n\nText 1:\nc",
				"3|<nil>", // NULL texts only
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("GROUP BY:\n%q\nwant\n%q", got, want)
			}
			// Without GROUP BY: one answer over every row.
			want1 := "Summarize the following texts in a few sentences. Reply with the summary only.\n\nText 1:\na\n\nText 2:\nb\n\nText 3:\nc"
			if got := h.one("SELECT summarize_agg('m', body, " + greedy + ") FROM r"); got != want1 {
				t.Fatalf("no GROUP BY: %q", got)
			}
			// An empty input: NULL without GROUP BY, no rows with it.
			if got := h.one("SELECT summarize_agg('m', body) FROM r WHERE id > 100"); got != nil {
				t.Fatalf("empty input: %v", got)
			}
			if rows := h.exec("SELECT g, summarize_agg('m', body) FROM r WHERE id > 100 GROUP BY g"); len(rows) != 0 {
				t.Fatalf("empty input with GROUP BY: %v", rows)
			}
			// Beside other aggregates, in HAVING, over an expression, and
			// with a column's value as the instruction.
			got = strs(h.exec("SELECT g, COUNT(*), summarize_agg('m', UPPER(body), " + greedy + ") IS NOT NULL FROM r GROUP BY g HAVING COUNT(body) > 0 ORDER BY g"))
			if strings.Join(got, ",") != "1|2|true,2|2|true" {
				t.Fatalf("with COUNT and HAVING: %q", got)
			}
			got = strs(h.exec("SELECT g, reduce_agg('m', body, CONCAT('Group ', g), " + greedy + ") FROM r WHERE g = 1 GROUP BY g"))
			if len(got) != 1 || got[0] != "1|Group 1\n\nText 1:\na\n\nText 2:\nb" {
				t.Fatalf("instruction from a column: %q", got)
			}
			// INSERT ... SELECT and a view.
			h.exec("CREATE TABLE s (g INT PRIMARY KEY, summary TEXT)")
			h.exec("INSERT INTO s SELECT g, reduce_agg('m', body, 'x', " + greedy + ") FROM r GROUP BY g")
			if got := strs(h.exec("SELECT g, summary FROM s ORDER BY g")); strings.Join(got, ",") != "1|x\n\nText 1:\na\n\nText 2:\nb,2|x\n\nText 1:\nc,3|<nil>" {
				t.Fatalf("INSERT ... SELECT: %q", got)
			}
			h.exec("CREATE VIEW v AS SELECT g, reduce_agg('m', body, 'x', " + greedy + ") AS a FROM r GROUP BY g")
			if got := h.one("SELECT a FROM v WHERE g = 2"); got != "x\n\nText 1:\nc" {
				t.Fatalf("view: %q", got)
			}
			// A NULL model or instruction skips the row, like a NULL text.
			if got := h.one("SELECT reduce_agg(IF(id = 1, NULL, 'm'), body, IF(id = 2, NULL, 'x'), " + greedy + ") FROM r"); got != "x\n\nText 1:\nc" {
				t.Fatalf("NULL model or instruction: %q", got)
			}
		})
	}
}

// TestAggregateMapReduce: groups far beyond the context are packed into
// prompts that fit, answered, and combined level by level into one answer
// that covers every row in order; the same with groups run one at a time.
func TestAggregateMapReduce(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.fake.Context = 400
	h.fake.Reply = rangeReply
	h.words(600, 3)
	q := `SELECT g, reduce_agg('m', body, 'Range.', '{"temperature": 0, "max_tokens": 12, "details": true}') FROM r GROUP BY g ORDER BY g`
	var answers [][]string
	for _, size := range []int{64, 0} {
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		before := len(h.fake.Runs())
		rows := h.exec(q)
		if len(rows) != 3 {
			t.Fatalf("%d groups", len(rows))
		}
		var got []string
		for i, r := range rows {
			var d struct {
				Text          string
				Rows, Prompts int
				Levels        int
			}
			if err := json.Unmarshal([]byte(r[1].(string)), &d); err != nil {
				t.Fatal(err)
			}
			// Group g holds w00g (w003 for g = 0) to w60x.
			first, last := []int{3, 1, 2}[i], []int{600, 598, 599}[i]
			if want := fmt.Sprintf("w%03d-w%03d", first, last); d.Text != want || d.Rows != 200 {
				t.Fatalf("group %d: %+v, want %s over 200 rows", i, d, want)
			}
			if d.Levels < 3 {
				t.Fatalf("group %d: %d levels, want several", i, d.Levels)
			}
			got = append(got, r[1].(string))
		}
		answers = append(answers, got)
		// Every prompt fits the context with room for max_tokens.
		runs := h.fake.Runs()[before:]
		levels := map[bool]int{}
		for _, r := range runs {
			n, err := h.fake.PromptTokens(context.Background(), "m", r)
			if err != nil || n > 400-12-1 {
				t.Fatalf("a prompt of %d tokens (%v) in a context of 400 with max_tokens 12", n, err)
			}
			levels[strings.Contains(r.Messages[0].Content, "Answer for part 1:")]++
		}
		if levels[false] < 3*10 || levels[true] < 3*2 {
			t.Fatalf("prompts: %d of rows, %d combining answers", levels[false], levels[true])
		}
	}
	if strings.Join(answers[0], "\n") != strings.Join(answers[1], "\n") {
		t.Fatalf("batched and one group at a time differ:\n%q\n%q", answers[0], answers[1])
	}
}

// TestAggregateGroupsRunTogether: the prompts of all groups of a statement
// run at the same time (each waits until 8 run at once).
func TestAggregateGroupsRunTogether(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.words(16, 8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := h.queryCtx(ctx, "SELECT g, reduce_agg('m', body, '"+sqlfuncstest.MeetPrefix+"8:x', "+greedy+") FROM r GROUP BY g")
	if err != nil || len(rows) != 8 {
		t.Fatalf("%v, %d rows: the groups' prompts did not run together", err, len(rows))
	}
	// One group at a time runs one prompt at a time.
	h2, _ := newBatchHarness(t, 0)
	h2.words(16, 8)
	h2.exec("SET @@llm_batch_size = 0")
	h2.exec("SELECT g, summarize_agg('m', body) FROM r GROUP BY g")
	if p := h2.fake.MaxParallel(); p != 1 {
		t.Fatalf("@@llm_batch_size = 0 ran %d prompts at once", p)
	}
}

// TestAggregateOrder: the rows go into the prompts in the order the GROUP
// BY reads them, which a derived table's ORDER BY sets.
func TestAggregateOrder(t *testing.T) {
	for name, h := range aggHarnesses(t) {
		t.Run(name, func(t *testing.T) {
			h.fake.Reply = rangeReply
			h.fake.Context = 320
			h.words(60, 2)
			q := `SELECT g, reduce_agg('m', body, 'Range.', '{"temperature": 0, "max_tokens": 12}') FROM (SELECT * FROM r ORDER BY id %s) t GROUP BY g ORDER BY g`
			if got := strs(h.exec(fmt.Sprintf(q, "ASC"))); strings.Join(got, ",") != "0|w002-w060,1|w001-w059" {
				t.Fatalf("ascending: %q", got)
			}
			if got := strs(h.exec(fmt.Sprintf(q, "DESC"))); strings.Join(got, ",") != "0|w060-w002,1|w059-w001" {
				t.Fatalf("descending: %q", got)
			}
		})
	}
}

// TestAggregateLongText: a text longer than a prompt is cut into parts.
func TestAggregateLongText(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.fake.Context = 400
	h.fake.Reply = rangeReply
	var long []string
	for i := 1; i <= 200; i++ {
		long = append(long, fmt.Sprintf("w%03d", i))
	}
	h.reviews("1:w000", "1:"+strings.Join(long, " "), "1:w999")
	got := h.one(`SELECT reduce_agg('m', body, 'Range.', '{"temperature": 0, "max_tokens": 12, "details": true}') FROM r`)
	var d struct {
		Text    string
		Prompts int
	}
	if err := json.Unmarshal([]byte(got.(string)), &d); err != nil || d.Text != "w000-w999" || d.Prompts < 4 {
		t.Fatalf("%v: %+v", err, d)
	}
}

func TestAggregateErrors(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.reviews("1:a", "1:b", "2:c")
	for q, want := range map[string]string{
		"SELECT reduce_agg(IF(id = 2, 'n', 'm'), body, 'x') FROM r":                       "reduce_agg: the model must be the same on every row of a group ('m', then 'n')",
		"SELECT reduce_agg('m', body, CONCAT('x', id)) FROM r":                            "the instruction must be the same on every row",
		"SELECT summarize_agg('m', body, IF(id = 1, '{}', '{\"max_tokens\": 3}')) FROM r": "the options must be the same on every row",
		"SELECT reduce_agg('m', body, ' ') FROM r":                                        "reduce_agg: the instruction is empty",
		"SELECT summarize_agg('nope', body) FROM r":                                       "model 'nope' is not registered",
		`SELECT summarize_agg('m', body, '{"raw": true}') FROM r`:                         "option raw applies to generate() only",
		`SELECT summarize_agg('m', body, '{"truncate": "end"}') FROM r`:                   "option truncate does not apply",
		`SELECT summarize_agg('m', body, '{"max_tokens": -1}') FROM r`:                    "option max_tokens out of range",
		`SELECT summarize_agg('m', body, '{"bogus": 1}') FROM r`:                          `unknown option "bogus"`,
		`SELECT summarize_agg('m', body, 'not json') FROM r`:                              "options must be a JSON object",
		"SELECT summarize_agg('m') FROM r":                                                "summarize_agg",
		"SELECT reduce_agg('m', body) FROM r":                                             "reduce_agg",
		"SELECT id, summarize_agg('m', body) OVER (PARTITION BY g) FROM r":                "syntax error",
		"SELECT summarize_agg('m', body ORDER BY id) FROM r":                              "syntax error",
	} {
		h.fails(q, want)
	}
	// max_tokens that leave room for one answer per prompt cannot combine.
	h.fake.Context = 300
	h.exec("CREATE TABLE many (id INT PRIMARY KEY, body TEXT)")
	var vals []string
	for i := 1; i <= 40; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'some text of row %d')", i, i))
	}
	h.exec("INSERT INTO many VALUES " + strings.Join(vals, ", "))
	h.fails(`SELECT reduce_agg('m', body, 'x', '{"temperature": 0, "max_tokens": 60}') FROM many`, "do not fit two to a prompt")
	h.fails(`SELECT reduce_agg('m', body, 'x', '{"temperature": 0, "max_tokens": 299}') FROM many`, "max_tokens (299) leaves no room for a prompt")
	h.fails(`SELECT summarize_agg('m', body, '{"temperature": 0, "max_tokens": 200}') FROM many`, "the task alone takes")
}

// TestAggregateOnError: a group whose prompts fail (here the statement's
// token budget) is NULL with a warning naming the group, or fails the
// statement under 'error'; details carry the error.
func TestAggregateOnError(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.reviews("1:a", "2:b", "3:c")
	h.exec("SET @@llm_batch_size = 0") // groups in order: the budget runs out at group 2
	h.exec("SET @@llm_max_tokens_per_statement = 10")
	h.sess.ClearWarnings()
	got := strs(h.exec("SELECT g, summarize_agg('m', body, " + greedy + ") IS NULL FROM r GROUP BY g ORDER BY g"))
	if strings.Join(got, ",") != "1|false,2|true,3|true" {
		t.Fatalf("budget: %q", got)
	}
	w := h.warnings()
	// (Newest first.)
	if len(w) != 2 || !strings.Contains(w[1], "summarize_agg() for group 2: token budget reached") || !strings.HasPrefix(w[1], "1105|") ||
		!strings.Contains(w[0], "summarize_agg() for group 3: token budget reached") {
		t.Fatalf("warnings: %q", w)
	}
	d := h.exec(`SELECT g, summarize_agg('m', body, '{"temperature": 0, "details": true}') FROM r GROUP BY g ORDER BY g`)
	if s := d[1][1].(string); !strings.Contains(s, `"text":null`) || !strings.Contains(s, `"error":"token budget reached`) || !strings.Contains(s, `"rows":1`) {
		t.Fatalf("details of a failed group: %s", s)
	}
	h.exec("SET @@llm_on_error = 'error'")
	h.fails("SELECT g, summarize_agg('m', body) FROM r GROUP BY g", "token budget reached")
	h.exec("SET @@llm_on_error = 'null'")
	h.fails(`SELECT g, summarize_agg('m', body, '{"on_error": "error"}') FROM r GROUP BY g`, "token budget reached")
}

// TestAggregateCancel: cancelling the statement (KILL QUERY) stops every
// group's prompts; progress shows the groups and prompts meanwhile and
// nothing after.
func TestAggregateCancel(t *testing.T) {
	h, tracker := newBatchHarness(t, 0)
	h.words(10, 5)
	cancel, done := h.startBlocked("SELECT g, reduce_agg('m', body, '"+sqlfuncstest.BlockPrefix+"x', "+greedy+") FROM r GROUP BY g", 5, "prompts")
	p := tracker.Running()
	if len(p) != 1 || p[0].RowsSubmitted != 5 || p[0].RowsDone != 0 || p[0].ChunksSubmitted != 5 || p[0].ChunksDone != 0 || p[0].Levels != 1 {
		t.Fatalf("progress while blocked: %+v", p)
	}
	start := h.cancelAndDrain(cancel, done, "prompts")
	for len(tracker.Running()) > 0 {
		if time.Since(start) > time.Minute {
			t.Fatalf("progress after the query: %+v", tracker.Running())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestAggregateProgressLevels: llm.progress counts the prompts of every
// level while they run.
func TestAggregateProgressLevels(t *testing.T) {
	h, tracker := newBatchHarness(t, 0)
	h.fake.Context = 400
	var mu sync.Mutex
	var seen []sqlfuncs.QueryProgress
	h.fake.Reply = func(msg string) string {
		if strings.Contains(msg, "Answer for part 1:") {
			mu.Lock()
			seen = append(seen, tracker.Running()...)
			mu.Unlock()
		}
		return rangeReply(msg)
	}
	h.words(400, 2)
	h.exec(`SELECT g, reduce_agg('m', body, 'Range.', '{"temperature": 0, "max_tokens": 12}') FROM r GROUP BY g`)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("no progress seen while combining")
	}
	var deepest sqlfuncs.QueryProgress
	for _, p := range seen {
		if p.RowsSubmitted != 2 || p.ChunksDone >= p.ChunksSubmitted || p.Levels < 2 {
			t.Fatalf("progress while combining: %+v", p)
		}
		if p.Levels > deepest.Levels {
			deepest = p
		}
	}
	if deepest.Levels < 3 || deepest.ChunksSubmitted < 12 {
		t.Fatalf("deepest progress: %+v", deepest)
	}
	if len(tracker.Running()) != 0 {
		t.Fatal("progress left after the statement")
	}
}

// TestAggregateOverGenerate: generate() inside the aggregate is batched
// over the rows as anywhere else.
func TestAggregateOverGenerate(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.reviews("1:a", "1:b", "2:c")
	before := h.fake.Generates()
	got := strs(h.exec("SELECT g, reduce_agg('m', generate('m', body, 0), 'x', " + greedy + ") FROM r GROUP BY g ORDER BY g"))
	if len(got) != 2 || !strings.Contains(got[0], "TEXT 1:\nA") || !strings.Contains(got[0], "TEXT 2:\nB") {
		t.Fatalf("%q", got)
	}
	if n := h.fake.Generates() - before; n != 3+2 {
		t.Fatalf("%d generations, want 3 rows and 2 groups", n)
	}
}

// unmeasured is a backend that cannot measure prompts.
type unmeasured struct {
	sqlfuncs.Backend
	sqlfuncs.ChatBackend
}

// TestAggregateWithoutMeasure: a backend that cannot measure prompts gets
// each group's texts in one prompt.
func TestAggregateWithoutMeasure(t *testing.T) {
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	fake := &sqlfuncstest.Fake{Reply: echo}
	if err := sqlfuncs.Register(eng, unmeasured{fake, fake}); err != nil {
		t.Fatal(err)
	}
	if err := sqlfuncs.EnableBatching(eng, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro), fake: fake}
	h.reviews("1:a", "1:b", "2:c")
	got := strs(h.exec("SELECT g, reduce_agg('m', body, 'x', " + greedy + ") FROM r GROUP BY g ORDER BY g"))
	if strings.Join(got, ",") != "1|x\n\nText 1:\na\n\nText 2:\nb,2|x\n\nText 1:\nc" {
		t.Fatalf("%q", got)
	}
}

// The aggregates use generate()'s option defaults and pass options on.
func TestAggregateOptions(t *testing.T) {
	h, _ := newBatchHarness(t, 0)
	h.reviews("1:a")
	h.exec(`SELECT summarize_agg('m', body, '{"temperature": 0.5, "seed": 3, "max_tokens": 7, "system": "Be brief.", "stop": ["x"]}') FROM r`)
	r := h.fake.LastRequest()
	if o := r.Options; o.Temperature != 0.5 || o.Seed != 3 || o.MaxTokens != 7 || len(o.Stop) != 1 || r.Messages[0].Role != "system" || r.Messages[0].Content != "Be brief." {
		t.Fatalf("request: %+v", r)
	}
	h.exec(`SELECT summarize_agg('m', body) FROM r`)
	if o := h.fake.LastRequest().Options; o.Temperature != engine.DefaultGenerateOptions().Temperature || o.MaxTokens != engine.DefaultGenerateOptions().MaxTokens {
		t.Fatalf("defaults: %+v", o)
	}
	h.exec(`SELECT summarize_agg('m', body, 0) FROM r`)
	if o := h.fake.LastRequest().Options; o.Temperature != 0 {
		t.Fatalf("a number as the temperature: %+v", o)
	}
}
