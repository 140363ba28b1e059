package sqlfuncs_test

import (
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/internal/testutil"
	"github.com/llmsql/llmsql/sqlfuncs"
)

// TestGenerateWithSchemaEndToEnd runs generate() with a JSON schema on a
// real model over a table: every row's value parses and validates, a NULL
// prompt gives NULL, and a row cut at max_tokens is NULL with a warning.
func TestGenerateWithSchemaEndToEnd(t *testing.T) {
	pool := engine.NewPool(engine.PoolConfig{})
	defer pool.Close()
	if _, err := pool.Register("stories", testutil.Shared(t, "models/stories260K.gguf")); err != nil {
		t.Fatal(err)
	}
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	defer eng.Close()
	if err := sqlfuncs.Register(eng, pool); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro)}
	h.exec("CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT)")
	h.exec("INSERT INTO t VALUES (1, 'Once upon a time'), (2, 'The little dog'), (3, NULL), (4, 'Lily wanted')")

	schema := `{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":1,"maximum":99},"mood":{"enum":["happy","sad"]}},"required":["name","age","mood"]}`
	comp := validator.NewCompiler()
	doc, err := validator.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	rows := h.exec(`SELECT id, generate('stories', prompt, '{"temperature": 0, "max_tokens": 80, "json_schema": ` + schema + `}') FROM t ORDER BY id`)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if r[0] == int32(3) {
			if r[1] != nil {
				t.Fatalf("NULL prompt gave %v", r[1])
			}
			continue
		}
		text, ok := r[1].(string)
		if !ok {
			t.Fatalf("row %v: %T %v", r[0], r[1], r[1])
		}
		v, err := validator.UnmarshalJSON(strings.NewReader(text))
		if err != nil {
			t.Fatalf("row %v: %q is not JSON: %v", r[0], text, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Fatalf("row %v: %q does not validate: %v", r[0], text, err)
		}
	}

	// Too few tokens for the document: NULL and a warning.
	ctx := h.ctx(t.Context())
	q := `SELECT generate('stories', 'Once upon a time', '{"temperature": 0, "max_tokens": 4, "json_schema": ` + schema + `}')`
	_, iter, _, err := h.eng.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0][0] != nil {
		t.Fatalf("cut output gave %v, want NULL", got)
	}
	warned := false
	for _, w := range ctx.Warnings() {
		if strings.Contains(w.Message, "cut at max_tokens (4)") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning about max_tokens: %v", ctx.Warnings())
	}

	h.fails(`SELECT generate('stories', 'x', '{"json_schema": {"type":"string","format":"email"}}')`, `unsupported format "email"`)
	h.fails(`SELECT generate('stories', 'x', '{"grammar": "root ::= [a-z"}')`, `rule "root"`)
}

// TestJudgeEndToEnd runs judge() over a table on a real model: batched
// like generate(), NULL in -> NULL out, a BOOLEAN usable in WHERE.
func TestJudgeEndToEnd(t *testing.T) {
	pool := engine.NewPool(engine.PoolConfig{})
	defer pool.Close()
	if _, err := pool.Register("stories", testutil.Shared(t, "models/stories260K.gguf")); err != nil {
		t.Fatal(err)
	}
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	defer eng.Close()
	if err := sqlfuncs.Register(eng, pool); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro)}
	h.exec("CREATE TABLE r (id INT PRIMARY KEY, body TEXT)")
	h.exec("INSERT INTO r VALUES (1, 'The dog ran to the park.'), (2, 'Lily ate a big red apple.'), (3, NULL), (4, 'Tim was sad.')")

	rows := h.exec(`SELECT id, judge('stories', 'Is this about a dog?', body) FROM r ORDER BY id`)
	yes := 0
	for _, r := range rows {
		switch {
		case r[0] == int32(3):
			if r[1] != nil {
				t.Fatalf("NULL text gave %v", r[1])
			}
		case r[1] == int8(1):
			yes++
		case r[1] != int8(0):
			t.Fatalf("row %v: judge gave %T %v, want a BOOLEAN", r[0], r[1], r[1])
		}
	}
	where := h.exec(`SELECT id FROM r WHERE judge('stories', 'Is this about a dog?', body) ORDER BY id`)
	if len(where) != yes {
		t.Fatalf("WHERE judge(...) kept %d rows, the SELECT said %d are yes", len(where), yes)
	}

	h.fails(`SELECT judge('stories', 'q', 'x', '{"json": true}')`, "sets the grammar itself")
}
