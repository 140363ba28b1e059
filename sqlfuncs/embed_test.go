package sqlfuncs_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

var _ sqlfuncs.EmbedBackend = (*engine.Pool)(nil)

// vec decodes a VECTOR value.
func vec(t *testing.T, v any) []float32 {
	t.Helper()
	b, ok := v.([]byte)
	if !ok || len(b)%4 != 0 {
		t.Fatalf("not a vector: %T %v", v, v)
	}
	return engine.DecodeVector(b)
}

func unit(v []float32) []float32 {
	out := append([]float32(nil), v...)
	engine.Normalize(out)
	return out
}

func sameVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return true
}

// embed(), similarity() and rerank() over the fake backend: values,
// options, NULLs and errors.
func TestEmbedFunctions(t *testing.T) {
	h := newHarness(t)
	if got := vec(t, h.one("SELECT embed('m', 'hello')")); !sameVec(got, unit(sqlfuncstest.FakeVector("hello"))) {
		t.Fatalf("embed: %v", got)
	}
	if got := vec(t, h.one(`SELECT embed('m', 'hello', '{"normalize": false}')`)); !sameVec(got, sqlfuncstest.FakeVector("hello")) {
		t.Fatalf("raw embed: %v", got)
	}
	// The VECTOR functions of go-mysql-server take it.
	if got := h.one("SELECT VECTOR_TO_STRING(embed('m', 'hello'))"); !strings.HasPrefix(got.(string), "[") {
		t.Fatalf("VECTOR_TO_STRING: %v", got)
	}
	d := h.one("SELECT vec_distance_cosine(embed('m', 'hello'), embed('m', 'hello'))")
	if f, ok := d.(float64); !ok || math.Abs(f) > 1e-6 {
		t.Fatalf("distance to itself: %v", d)
	}
	a, b := sqlfuncstest.FakeVector("dog"), sqlfuncstest.FakeVector("a cat")
	if got := h.one("SELECT similarity('m', 'dog', 'a cat')").(float64); math.Abs(got-engine.Cosine(a, b)) > 1e-9 {
		t.Fatalf("similarity %v, want %v", got, engine.Cosine(a, b))
	}
	h.fake.Known = func(m string) bool { return m == "m" || m == "m-rerank" }
	if got := h.one("SELECT rerank('m-rerank', 'little dog', 'the little dog ran')"); got != float64(2) {
		t.Fatalf("rerank %v", got)
	}
	long := strings.Repeat("x", 100)
	if got := vec(t, h.one(fmt.Sprintf(`SELECT embed('m', '%s', '{"truncate": true}')`, long))); !sameVec(got, unit(sqlfuncstest.FakeVector(long))) {
		t.Fatalf("truncated: %v", got)
	}
	for _, q := range []string{"SELECT embed('m', NULL)", "SELECT embed(NULL, 'x')", "SELECT similarity('m', 'a', NULL)", "SELECT rerank('m-rerank', NULL, 'd')"} {
		if got := h.one(q); got != nil {
			t.Fatalf("%s = %v, want NULL", q, got)
		}
	}
	for q, want := range map[string]string{
		fmt.Sprintf(`SELECT embed('m', '%s', '{"on_error": "error"}')`, long): "text is 100 tokens, longer than the 64",
		`SELECT embed('m', 'x', '{"on_error": "maybe"}')`:                     "on_error must be 'null' or 'error'",
		`SELECT embed('m', 'x', '{"normalise": true}')`:                       `embed: unknown option "normalise" (embed takes normalize, truncate, on_error)`,
		`SELECT embed('m', 'x', '{"truncate": 1}')`:                           `embed: option truncate must be true, false or "end"`,
		`SELECT similarity('m', 'a', 'b', '{"normalize": false}')`:            `unknown option "normalize" (similarity takes truncate, on_error)`,
		`SELECT embed('m', 'x', '[1]')`:                                       "options must be a JSON object",
		"SELECT embed('nope', 'x')":                                           "model 'nope' is not registered",
		"SELECT rerank('m', 'q', 'd')":                                        "not a reranker",
		"SELECT embed('m')":                                                   "embed",
	} {
		h.fails(q, want)
	}
}

// embed() has the VECTOR type of the model's length when the model is a
// constant, so CREATE TABLE ... AS SELECT makes a VECTOR(n) column.
func TestEmbedType(t *testing.T) {
	h := newHarness(t)
	h.exec("CREATE TABLE v AS SELECT id, embed('m', prompt) AS e FROM t WHERE prompt IS NOT NULL")
	rows := h.exec("SHOW CREATE TABLE v")
	if ddl := fmt.Sprint(rows[0][1]); !strings.Contains(strings.ToLower(ddl), fmt.Sprintf("vector(%d)", sqlfuncstest.EmbedDim)) {
		t.Fatalf("column type: %s", ddl)
	}
}

// embed() over many rows is batched as generate() is: the rows' calls run
// together (meet:N proves N ran at once), once per row, each vector with
// its row; UPDATE writes each row's own vector into a VECTOR column.
func TestEmbedBatched(t *testing.T) {
	const n = 10
	h, _ := newBatchHarness(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := h.queryCtx(ctx, fmt.Sprintf("SELECT id, embed('m', CONCAT('meet:%d:', prompt)) FROM p ORDER BY id", n))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if want := unit(sqlfuncstest.FakeVector(fmt.Sprintf("meet:%d:row %d", n, i+1))); !sameVec(vec(t, r[1]), want) {
			t.Fatalf("row %d: %v, want %v", i+1, vec(t, r[1]), want)
		}
	}
	before := h.fake.Embeds()
	rows = h.exec("SELECT id, embed('m', prompt) AS e FROM p ORDER BY e, id")
	if len(rows) != n || h.fake.Embeds()-before != n {
		t.Fatalf("ORDER BY embed(): %d rows, %d calls", len(rows), h.fake.Embeds()-before)
	}
	h.exec(fmt.Sprintf("CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, v VECTOR(%d))", sqlfuncstest.EmbedDim))
	h.exec("INSERT INTO docs (id, body) SELECT id, prompt FROM p")
	h.exec("UPDATE docs SET v = embed('m', body)")
	for _, r := range h.exec("SELECT body, v FROM docs ORDER BY id") {
		if !sameVec(vec(t, r[1]), unit(sqlfuncstest.FakeVector(r[0].(string)))) {
			t.Fatalf("%v: stored %v", r[0], vec(t, r[1]))
		}
	}
	// Nearest neighbour by cosine distance to a query's embedding.
	got := h.exec("SELECT id FROM docs ORDER BY vec_distance_cosine(v, embed('m', 'row 7')), id LIMIT 1")
	if len(got) != 1 || fmt.Sprint(got[0][0]) != "7" {
		t.Fatalf("nearest: %v", got)
	}
	// similarity() and rerank() batch too (fresh fakes: meet counts the
	// most calls ever in flight at once).
	for _, q := range []string{
		fmt.Sprintf("SELECT similarity('m', CONCAT('meet:%d:', prompt), 'x') FROM p", n),
		fmt.Sprintf("SELECT rerank('m-rerank', CONCAT('meet:%d:', prompt), prompt) FROM p", n),
	} {
		h, _ := newBatchHarness(t, n)
		h.fake.Known = func(m string) bool { return m == "m" || m == "m-rerank" }
		if rows, err := h.queryCtx(ctx, q); err != nil || len(rows) != n {
			t.Fatalf("%s: %d rows, %v", q, len(rows), err)
		}
	}
}
