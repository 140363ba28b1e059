package sqlfuncs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// harness runs SQL on an in-memory go-mysql-server engine with the
// functions registered over a fake backend that knows the model "m".
type harness struct {
	t    *testing.T
	eng  *sqle.Engine
	sess sql.Session
	fake *sqlfuncstest.Fake
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	fake := &sqlfuncstest.Fake{Known: func(m string) bool { return m == "m" }}
	if err := sqlfuncs.Register(eng, fake); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro), fake: fake}
	h.exec("CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
	h.exec("INSERT INTO t (id, prompt) VALUES (1, 'one'), (2, 'two'), (3, NULL)")
	return h
}

func (h *harness) ctx(parent context.Context) *sql.Context {
	ctx := sql.NewContext(parent, sql.WithSession(h.sess))
	ctx.SetCurrentDatabase("db")
	return ctx
}

func (h *harness) query(q string) ([]sql.Row, error) {
	return h.queryCtx(context.Background(), q)
}

func (h *harness) queryCtx(parent context.Context, q string) ([]sql.Row, error) {
	ctx := h.ctx(parent).WithQuery(q)
	_, iter, _, err := h.eng.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return sql.RowIterToRows(ctx, iter)
}

func (h *harness) exec(q string) []sql.Row {
	h.t.Helper()
	rows, err := h.query(q)
	if err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return rows
}

// one runs a query that returns a single value.
func (h *harness) one(q string) any {
	h.t.Helper()
	rows := h.exec(q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		h.t.Fatalf("%s: got %v, want one value", q, rows)
	}
	return rows[0][0]
}

func (h *harness) fails(q, want string) {
	h.t.Helper()
	_, err := h.query(q)
	if err == nil || !strings.Contains(err.Error(), want) {
		h.t.Fatalf("%s: got error %v, want one containing %q", q, err, want)
	}
}

func TestGenerateForms(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		q    string
		want any
	}{
		{"SELECT generate('m', 'hello')", "HELLO"},
		{"SELECT generate('m', 'hello', 0)", "HELLO"},
		{"SELECT generate('m', 'hello', 0.5, 3)", "HEL"},
		{"SELECT generate('m', 'hello', '{\"max_tokens\": 2}')", "HE"},
		{`SELECT generate('m', 'hello world', '{"stop": [" "], "temperature": 0}')`, "HELLO"},
		{`SELECT generate('m', 'hello', CAST('{"max_tokens": 4}' AS JSON))`, "HELL"},
		{"SELECT generate('m', 'hello', '0.1')", "HELLO"},
		{"SELECT generate('m', 'hello', NULL, 1)", "H"},
		{"SELECT generate('m', 'hello', NULL)", "HELLO"},
		{"SELECT generate('m', NULL)", nil},
		{"SELECT generate(NULL, 'x')", nil},
		{"SELECT generate('m', 42)", "42"},
		{"SELECT GENERATE('m', 'case')", "CASE"},
	} {
		if got := h.one(c.q); got != c.want {
			t.Errorf("%s = %#v, want %#v", c.q, got, c.want)
		}
	}
}

func TestGenerateOptionsReachBackend(t *testing.T) {
	h := newHarness(t)
	h.exec(`SELECT generate('m', 'x', '{"top_k": 7, "seed": 9, "temperature": 1.5}')`)
	o, ctx := h.fake.Last()
	if o.TopK != 7 || !o.HasSeed || o.Seed != 9 || o.Temperature != 1.5 || o.MaxTokens != engine.DefaultGenerateOptions().MaxTokens {
		t.Fatalf("backend got %+v", o)
	}
	if _, ok := ctx.(*sql.Context); !ok {
		t.Fatalf("backend got a %T, want the query's *sql.Context", ctx)
	}
	// "seed": -1 is random, as --seed -1 is in the CLI (it was an error).
	h.exec(`SELECT generate('m', 'x', '{"seed": -1, "temperature": 0.9}')`)
	if o, _ := h.fake.Last(); o.HasSeed || o.Temperature != 0.9 {
		t.Fatalf("seed -1: backend got %+v", o)
	}
	h.exec("SELECT generate('m', 'x')")
	def := engine.DefaultGenerateOptions()
	if o, _ := h.fake.Last(); o.Temperature != def.Temperature || o.TopK != def.TopK || o.TopP != def.TopP ||
		o.MinP != def.MinP || o.MaxTokens != def.MaxTokens || o.HasSeed || o.Stop != nil {
		t.Fatalf("defaults: got %+v", o)
	}
}

func TestGenerateErrors(t *testing.T) {
	h := newHarness(t)
	h.fails("SELECT generate('nope', 'x')", "model 'nope' is not registered; see SELECT name FROM llm.models")
	h.fails("SELECT generate('m', 'x', 200)", "option temperature out of range: allowed 0 to 100")
	h.fails("SELECT generate('m', 'x', 0.5, -1)", "option max_tokens out of range")
	h.fails("SELECT generate('m', 'x', 0.5, 2.5)", "max_tokens: 2.5 is not an integer")
	h.fails("SELECT generate('m', 'x', 'hot')", `temperature: "hot" is not a number`)
	h.fails(`SELECT generate('m', 'x', '{"tempreature": 1}')`, `unknown option "tempreature"`)
	h.fails("SELECT generate('m')", "function 'generate' expected 2, 3 or 4 arguments, 1 received")
	h.fails("SELECT generate('m', 'a', 1, 2, 3)", "expected 2, 3 or 4 arguments, 5 received")
	h.fails("SELECT tokenize('m')", "expected 2 arguments, 1 received")
	// The engine keeps working after errors.
	if got := h.one("SELECT generate('m', 'ok')"); got != "OK" {
		t.Fatalf("after errors: %v", got)
	}
}

func TestGenerateOverTables(t *testing.T) {
	h := newHarness(t)
	rows := h.exec("SELECT id, generate('m', prompt, 0) FROM t ORDER BY id")
	want := []sql.Row{{int32(1), "ONE"}, {int32(2), "TWO"}, {int32(3), nil}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("select: got %v, want %v", rows, want)
	}

	h.exec("UPDATE t SET answer = generate('m', CONCAT('re ', prompt), 0) WHERE prompt IS NOT NULL")
	rows = h.exec("SELECT answer FROM t ORDER BY id")
	if fmt.Sprint(rows) != "[[RE ONE] [RE TWO] [<nil>]]" {
		t.Fatalf("update: got %v", rows)
	}

	h.exec("CREATE TABLE t2 (id INT PRIMARY KEY, answer TEXT)")
	h.exec("INSERT INTO t2 SELECT id, generate('m', prompt, '{\"max_tokens\": 1}') FROM t")
	rows = h.exec("SELECT * FROM t2 ORDER BY id")
	if fmt.Sprint(rows) != "[[1 O] [2 T] [3 <nil>]]" {
		t.Fatalf("insert select: got %v", rows)
	}

	rows = h.exec("SELECT id FROM t WHERE generate('m', prompt, 0) = 'TWO'")
	if fmt.Sprint(rows) != "[[2]]" {
		t.Fatalf("where: got %v", rows)
	}

	h.exec("CREATE VIEW v AS SELECT id, generate('m', prompt, 0, 2) AS g FROM t")
	rows = h.exec("SELECT g FROM v WHERE id = 1")
	if fmt.Sprint(rows) != "[[ON]]" {
		t.Fatalf("view: got %v", rows)
	}
}

func TestTokenFunctions(t *testing.T) {
	h := newHarness(t)
	doc := h.one("SELECT tokenize('m', 'hi')")
	js, ok := doc.(sql.JSONWrapper)
	if !ok {
		t.Fatalf("tokenize returned %T, want JSON", doc)
	}
	s, err := types.JsonToMySqlString(context.Background(), js)
	if err != nil || s != "[1, 107, 108]" {
		t.Fatalf("tokenize = %q, %v", s, err)
	}
	if got := h.one("SELECT JSON_LENGTH(tokenize('m', 'hello'))"); fmt.Sprint(got) != "6" {
		t.Fatalf("JSON_LENGTH = %v", got)
	}
	if got := h.one("SELECT count_tokens('m', 'hello')"); got != int64(6) {
		t.Fatalf("count_tokens = %#v", got)
	}
	if got := h.one("SELECT detokenize('m', tokenize('m', 'round trip'))"); got != "round trip" {
		t.Fatalf("round trip = %#v", got)
	}
	if got := h.one("SELECT detokenize('m', '[107, 108]')"); got != "hi" {
		t.Fatalf("detokenize text = %#v", got)
	}
	if got := h.one("SELECT detokenize('m', JSON_ARRAY(107, 108.0))"); got != "hi" {
		t.Fatalf("detokenize JSON_ARRAY = %#v", got)
	}
	for _, q := range []string{"SELECT tokenize('m', NULL)", "SELECT count_tokens(NULL, 'x')", "SELECT detokenize('m', NULL)"} {
		if got := h.one(q); got != nil {
			t.Errorf("%s = %#v, want NULL", q, got)
		}
	}
	h.fails("SELECT detokenize('m', '[1, -2]')", "element 1 (-2) is not a token id")
	h.fails("SELECT detokenize('m', '[1.5]')", "element 0 (1.5) is not a token id")
	h.fails("SELECT detokenize('m', '{\"a\": 1}')", "want a JSON array of token ids")
	h.fails("SELECT detokenize('m', 'nonsense')", "want a JSON array of token ids")
	h.fails("SELECT count_tokens('x', 'y')", "model 'x' is not registered")
}

func TestGenerateCancellation(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.queryCtx(ctx, "SELECT generate('m', '"+sqlfuncstest.BlockPrefix+"forever')")
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for h.fake.Blocked() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("generate never started")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) && (err == nil || !strings.Contains(err.Error(), "cancel")) {
			t.Fatalf("got %v, want a cancellation error", err)
		}
	case <-time.After(time.Minute): // it blocks until cancelled: any bound catches the bug
		t.Fatal("generate did not stop when the query's context was cancelled")
	}
}

func TestDeterminism(t *testing.T) {
	b := &sqlfuncstest.Fake{}
	fn := sqlfuncs.NewProvider(b)
	f, ok := fn.Function(nil, "", "GeNeRaTe")
	if !ok {
		t.Fatal("provider has no generate")
	}
	ctx := sql.NewEmptyContext()
	lit := func(v any, typ sql.Type) sql.Expression { return expression.NewLiteral(v, typ) }
	model, prompt := lit("m", types.LongText), lit("p", types.LongText)
	for _, c := range []struct {
		name   string
		args   []sql.Expression
		greedy bool
	}{
		{"default", []sql.Expression{model, prompt}, false},
		{"temperature 0", []sql.Expression{model, prompt, lit(int8(0), types.Int8)}, true},
		{"temperature 0.7", []sql.Expression{model, prompt, lit(0.7, types.Float64)}, false},
		{"options greedy", []sql.Expression{model, prompt, lit(`{"temperature": 0}`, types.LongText)}, true},
		{"options sampled", []sql.Expression{model, prompt, lit(`{"top_k": 3}`, types.LongText)}, false},
		{"column temperature", []sql.Expression{model, prompt, expression.NewGetField(0, types.Float64, "t", true)}, false},
		{"greedy, column max_tokens", []sql.Expression{model, prompt, lit(int8(0), types.Int8), expression.NewGetField(0, types.Int64, "n", true)}, true},
		{"NULL temperature", []sql.Expression{model, prompt, lit(nil, types.Null)}, false},
	} {
		e, err := f.NewInstance(ctx, c.args)
		if err != nil {
			t.Fatal(err)
		}
		_, nondet := e.(sql.NonDeterministicExpression)
		if nondet == c.greedy {
			t.Errorf("%s: NonDeterministicExpression = %v, want %v", c.name, nondet, !c.greedy)
		}
		g, ok := sqlfuncs.AsGenerate(e)
		if !ok || g.FunctionName() != "generate" {
			t.Errorf("%s: AsGenerate failed on %T", c.name, e)
		}
		// WithChildren keeps the decision tied to the arguments.
		if len(c.args) == 3 {
			e2, err := e.WithChildren(ctx, model, prompt, lit(int8(0), types.Int8))
			if err != nil {
				t.Fatal(err)
			}
			if _, nondet := e2.(sql.NonDeterministicExpression); nondet {
				t.Errorf("%s: a literal 0 temperature via WithChildren should be deterministic", c.name)
			}
		}
	}
}

func TestRegisterTwice(t *testing.T) {
	eng := sqle.NewDefault(memory.NewDBProvider())
	defer eng.Close()
	b := &sqlfuncstest.Fake{}
	if err := sqlfuncs.Register(eng, b); err != nil {
		t.Fatal(err)
	}
	if err := sqlfuncs.Register(eng, b); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("second Register: %v", err)
	}
}
