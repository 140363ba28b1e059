package sqlfuncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
	"github.com/llmsql/llmsql/sqlfuncs"
)

// The structured functions end to end on the real engine: tiny synthetic
// models (internal/synth, written in-process, so these run on a fresh
// clone), one without a chat template (conversations render with the ChatML
// fallback) and one with Llama 2's (the reply after a space, then </s>),
// and stories260K where ../shared is present.

// llama2Template is Llama 2's chat template, cut to user and assistant
// turns.
const llama2Template = "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}{{ '[INST] ' + m.content + ' [/INST]' }}" +
	"{% elif m.role == 'assistant' %}{{ ' ' + m.content + ' ' + eos_token }}{% endif %}{% endfor %}"

// tinyModels writes the tiny model as "tiny" (no template) and "tchat"
// (Llama 2's template), with a context long enough for the instructions in
// the built-in vocabulary (which spells most words letter by letter).
func tinyModels(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, tmpl := range map[string]string{"tiny": "", "tchat": llama2Template} {
		spec := synth.Tiny()
		spec.Context = 2048
		if tmpl != "" {
			spec.Metadata = map[string]gguf.Value{"tokenizer.chat_template": gguf.String(tmpl)}
		}
		path := filepath.Join(t.TempDir(), name+".gguf")
		if err := synth.Write(path, spec); err != nil {
			t.Fatal(err)
		}
		out[name] = path
	}
	return out
}

// meetPool is the pool as the functions' backend, with a meeting point
// that proves a statement's rows reach the engine together: with Meet set
// to n, each call waits (up to a minute) until n calls are running at once
// before it runs. MaxParallel says how many did.
type meetPool struct {
	*engine.Pool
	Meet atomic.Int64

	mu       sync.Mutex
	inFlight int
	maxPar   int
}

func (b *meetPool) enter(ctx context.Context) func() {
	b.mu.Lock()
	b.inFlight++
	b.maxPar = max(b.maxPar, b.inFlight)
	b.mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for n := int(b.Meet.Load()); b.MaxParallel() < n && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(time.Millisecond)
	}
	return func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}
}

// MaxParallel is the most calls that ran at once, and resets it.
func (b *meetPool) MaxParallel() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.maxPar
}

func (b *meetPool) reset() {
	b.mu.Lock()
	b.maxPar = 0
	b.mu.Unlock()
}

func (b *meetPool) Run(ctx context.Context, model string, req engine.Request) (engine.GenResult, error) {
	defer b.enter(ctx)()
	return b.Pool.Run(ctx, model, req)
}

func (b *meetPool) Score(ctx context.Context, model string, req engine.ScoreRequest) (engine.ScoreResult, error) {
	defer b.enter(ctx)()
	return b.Pool.Score(ctx, model, req)
}

// realHarness runs SQL with batching over a pool of real models. The
// result cache is off, so every statement computes what it asks.
func realHarness(t *testing.T, models map[string]string) (*harness, *meetPool) {
	t.Helper()
	pool := &meetPool{Pool: engine.NewPool(engine.PoolConfig{ResultCacheBytes: -1, Threads: 1})}
	t.Cleanup(pool.Close)
	for name, path := range models {
		if _, err := pool.Register(name, path); err != nil {
			t.Fatal(err)
		}
	}
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	t.Cleanup(func() { eng.Close() })
	if err := sqlfuncs.Register(eng, pool); err != nil {
		t.Fatal(err)
	}
	if err := sqlfuncs.EnableBatching(eng, sqlfuncs.NewTracker()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, sess: memory.NewSession(sql.NewBaseSession(), pro)}
	h.exec("CREATE TABLE docs (id INT PRIMARY KEY, body TEXT)")
	h.exec(`INSERT INTO docs VALUES (1, 'Once upon a time there was a little dog.'), (2, 'The cat sat on the mat.'),
		(3, NULL), (4, 'Hello world, said the little cat to the dog.'), (5, 'It was a day in the park with a dog and a cat.'),
		(6, 'The little dog ran to the cat.'), (7, 'She was in the house.'), (8, 'He is a big dog!')`)
	return h, pool
}

// docRows is the rows of docs with a text.
const docRows = 7

// batchedAndSingle runs q batched, its calls meeting (all docRows rows'
// calls running at once), and row by row (@@llm_batch_size = 0), and
// returns both results.
func batchedAndSingle(h *harness, pool *meetPool, q string) (batched, single []sql.Row) {
	h.t.Helper()
	h.exec("SET @@llm_batch_size = 64")
	pool.reset()
	pool.Meet.Store(docRows)
	batched = h.exec(q)
	pool.Meet.Store(0)
	if got := pool.MaxParallel(); got != docRows {
		h.t.Fatalf("%s: %d calls ran at once, want the %d rows' together", q, got, docRows)
	}
	h.exec("SET @@llm_batch_size = 0")
	pool.reset()
	single = h.exec(q)
	if got := pool.MaxParallel(); got != 1 {
		h.t.Fatalf("%s: %d calls at once row by row", q, got)
	}
	h.exec("SET @@llm_batch_size = 64")
	return batched, single
}

// canon is a JSON value as canonical text.
func canon(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return "<nil>"
	}
	b, err := json.Marshal(jsonOf(t, v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClassifyEndToEnd runs classify() over a table on real models:
// always one of the labels, the most probable by its "scores", which are
// the engine's scores of the same conversation normalised; batched over
// rows (fewer forward passes than row by row) with answers equal to row
// by row; NULL in -> NULL out.
func TestClassifyEndToEnd(t *testing.T) {
	h, pool := realHarness(t, tinyModels(t))
	// "dog" is the start of "dog and cat", "the" of "the dog": the
	// end-of-turn token keeps them complete answers.
	labelList := []string{"dog", "cat", "dog and cat", "the", "the dog"}
	lj, _ := json.Marshal(labelList)
	labels := "'" + string(lj) + "'"
	for _, model := range []string{"tiny", "tchat"} {
		q := "SELECT id, classify('" + model + "', body, " + labels + ", '{\"scores\": true}') FROM docs ORDER BY id"
		batched, single := batchedAndSingle(h, pool, q)
		plain := h.exec("SELECT id, classify('" + model + "', body, " + labels + ") FROM docs ORDER BY id")
		for i := range batched {
			id := batched[i][0]
			if id == int32(3) {
				if batched[i][1] != nil || plain[i][1] != nil {
					t.Fatalf("%s: a NULL text gave %v, %v", model, batched[i][1], plain[i][1])
				}
				continue
			}
			if a, b := canon(t, batched[i][1]), canon(t, single[i][1]); a != b {
				t.Fatalf("%s row %v: batched %s, row by row %s", model, id, a, b)
			}
			ps := jsonOf(t, batched[i][1]).(map[string]any)
			best, sum := "", 0.0
			for _, l := range labelList {
				p, ok := ps[l].(float64)
				if !ok {
					t.Fatalf("%s row %v: no probability for %q in %v", model, id, l, ps)
				}
				if best == "" || p > ps[best].(float64) {
					best = l
				}
				sum += p
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Fatalf("%s row %v: probabilities sum to %v", model, id, sum)
			}
			if plain[i][1] != best {
				t.Fatalf("%s row %v: classify gave %v, its scores favour %q (%v)", model, id, plain[i][1], best, ps)
			}
		}
		// The scores are the engine's, for the conversation classify()
		// builds (TestClassifyPrompt pins its text).
		body := "The cat sat on the mat."
		var head strings.Builder
		head.WriteString("Classify the text.\n\nLabels:\n")
		for _, l := range labelList {
			head.WriteString("- " + l + "\n")
		}
		head.WriteString("\nAnswer with exactly one of the labels, as written above, and nothing else.\n\nText:\n" + body)
		res, err := pool.Pool.Score(context.Background(), model, engine.ScoreRequest{
			Messages: []chattmpl.Message{{Role: "user", Content: head.String()}}, Replies: labelList})
		if err != nil {
			t.Fatal(err)
		}
		ps := jsonOf(t, batched[1][1]).(map[string]any)
		var z float64
		for _, lp := range res.LogProbs {
			z += math.Exp(lp - res.LogProbs[0])
		}
		for k, l := range labelList {
			if want := math.Exp(res.LogProbs[k]-res.LogProbs[0]) / z; math.Abs(ps[l].(float64)-want) > 1e-12 {
				t.Errorf("%s: %q has probability %v, the engine's scores give %v", model, l, ps[l], want)
			}
		}

		// multi: the labels at or above 1/5, most probable first.
		multi := h.exec("SELECT id, classify('" + model + "', body, " + labels + ", '{\"multi\": true}') FROM docs WHERE id = 2")
		var want []string
		for _, l := range labelList {
			if ps[l].(float64) >= 0.2 {
				want = append(want, l)
			}
		}
		got := jsonOf(t, multi[0][1]).([]any)
		if len(got) != len(want) || len(got) == 0 || got[0] != plain[1][1] {
			t.Errorf("%s: multi %v, want the labels %v (most probable first)", model, got, want)
		}
	}
}

// TestClassifyExamplesSharePrefix: with few-shot examples, the rows of a
// statement share the instruction and examples as a cached prefix.
func TestClassifyExamplesSharePrefix(t *testing.T) {
	h, pool := realHarness(t, tinyModels(t))
	pool.Meet.Store(docRows)
	before, _ := pool.SchedStats("tchat")
	q := `SELECT id, classify('tchat', body, '["dog", "cat"]', '{"instruction": "Which animal is it about?", "examples": [["A dog barked.", "dog"], ["A cat slept.", "cat"]]}') FROM docs ORDER BY id`
	rows := h.exec(q)
	after, _ := pool.SchedStats("tchat")
	pool.Meet.Store(0)
	for _, r := range rows {
		if r[0] != int32(3) && r[1] != "dog" && r[1] != "cat" {
			t.Fatalf("row %v: %v", r[0], r[1])
		}
	}
	if reused := after.ReusedTokens - before.ReusedTokens; reused < 7*20 {
		t.Errorf("%d prompt tokens reused over 7 rows: the instruction and examples were not shared", reused)
	}
	h.exec("SET @@llm_batch_size = 0")
	if got, want := strs(h.exec(q)), strs(rows); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("row by row %q, batched %q", got, want)
	}
}

// TestClassifyStories runs classify() on stories260K (../shared), a
// model trained on children's stories without a chat template.
func TestClassifyStories(t *testing.T) {
	h, pool := realHarness(t, map[string]string{"stories": testutil.Shared(t, "models/stories260K.gguf")})
	rows, single := batchedAndSingle(h, pool, `SELECT id, classify('stories', body, '["dog", "cat", "girl"]', '{"scores": true}') FROM docs ORDER BY id`)
	for i, r := range rows {
		if canon(t, r[1]) != canon(t, single[i][1]) {
			t.Fatalf("row %v: batched %s, row by row %s", r[0], canon(t, r[1]), canon(t, single[i][1]))
		}
	}
}

// extractSchema bounds every string and number, so a model of random
// weights finishes within max_tokens.
const extractSchema = `{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":0,"maximum":99},"pet":{"enum":["dog","cat"]},"happy":{"type":"boolean"}},"required":["name","age","pet"],"additionalProperties":false}`

func compileSchema(t *testing.T, schema string) *validator.Schema {
	t.Helper()
	doc, err := validator.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := validator.NewCompiler()
	if err := c.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validates reports whether a query's JSON value validates against s.
func validates(t *testing.T, s *validator.Schema, v any) error {
	t.Helper()
	text := canon(t, v)
	doc, err := validator.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("%s is not JSON: %v", text, err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s: %v", text, err)
	}
	return nil
}

// TestExtractEndToEnd runs extract() over a table on real models: JSON
// that validates, under both names (`extract` quoted, and extract_json),
// batched = row by row, NULL in -> NULL out, a reply cut at max_tokens
// NULL with a warning, clear errors for bad schemas; EXTRACT(unit FROM
// date) still works.
func TestExtractEndToEnd(t *testing.T) {
	h, pool := realHarness(t, tinyModels(t))
	sch := compileSchema(t, extractSchema)
	for _, model := range []string{"tiny", "tchat"} {
		q := "SELECT id, `extract`('" + model + "', body, '" + extractSchema + "') FROM docs ORDER BY id"
		batched, single := batchedAndSingle(h, pool, q)
		alias := h.exec("SELECT id, extract_json('" + model + "', body, '" + extractSchema + "') FROM docs ORDER BY id")
		for i, r := range batched {
			if r[0] == int32(3) {
				if r[1] != nil {
					t.Fatalf("%s: a NULL text gave %v", model, r[1])
				}
				continue
			}
			if _, ok := r[1].(sql.JSONWrapper); !ok {
				t.Fatalf("%s row %v: %T %v, want a JSON value (%q)", model, r[0], r[1], r[1], h.warnings())
			}
			if err := validates(t, sch, r[1]); err != nil {
				t.Fatalf("%s row %v: %v", model, r[0], err)
			}
			if a, b, c := canon(t, r[1]), canon(t, single[i][1]), canon(t, alias[i][1]); a != b || a != c {
				t.Fatalf("%s row %v: batched %s, row by row %s, extract_json %s", model, r[0], a, b, c)
			}
		}
		sch2, _, _, err := h.eng.Query(h.ctx(context.Background()), q)
		if err != nil {
			t.Fatal(err)
		}
		if !sch2[1].Type.Equals(types.JSON) {
			t.Errorf("extract()'s type is %v, want JSON", sch2[1].Type)
		}
	}

	// Cut at max_tokens: NULL and a warning, never half a document.
	h.sess.ClearWarnings()
	if v := h.one("SELECT extract_json('tiny', 'The dog.', '" + extractSchema + "', '{\"max_tokens\": 3}')"); v != nil {
		t.Fatalf("a reply cut at max_tokens gave %v", v)
	}
	if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "the output was cut at max_tokens (3)") {
		t.Fatalf("warnings %q", w)
	}
	for _, q := range []string{
		"SELECT extract_json(NULL, 'x', '{}')",
		"SELECT extract_json('tiny', NULL, '{}')",
		"SELECT `extract`('tiny', 'x', NULL)",
	} {
		if v := h.one(q); v != nil {
			t.Errorf("%s: %v, want NULL", q, v)
		}
	}
	for _, c := range []struct{ q, want string }{
		{`SELECT extract_json('tiny', 'x', '{"type": "string", "format": "email"}')`, `extract_json: schema: `},
		{`SELECT extract_json('tiny', 'x', '{"type": "string", "format": "email"}')`, `unsupported format "email"`},
		{`SELECT extract_json('tiny', 'x', '{"type": "object", "patternProperties": {}}')`, `patternProperties`},
		{`SELECT extract_json('tiny', 'x', 'not json')`, `extract_json: schema: `},
		{`SELECT extract_json('tiny', 'x', '{}', '{"json": true}')`, `extract_json() sets the grammar itself`},
		{`SELECT extract_json('tiny', 'x', '{}', '{"raw": true}')`, `option raw does not apply to extract_json()`},
		{`SELECT extract_json('tiny', 'x', '{}', '{"nope": 1}')`, `unknown option "nope"`},
		{`SELECT extract_json('tiny', 'x', '{}', '{"instruction": 5}')`, `option instruction must be a non-empty string`},
		{`SELECT extract_json('tiny', 'x')`, `3 or 4`},
		{"SELECT `extract`('tiny', 'x', '{}', '{}', 5)", `2 (EXTRACT's unit and date) or 3 or 4`},
		// EXTRACT is a keyword: unquoted, a model name where the unit
		// goes does not parse (the README says to write `extract` or
		// extract_json).
		{`SELECT extract('tiny', 'x', '{}')`, `syntax error`},
	} {
		h.fails(c.q, c.want)
	}
	// go-mysql-server's EXTRACT, in both its forms.
	if v := h.one("SELECT EXTRACT(YEAR FROM '2024-05-06')"); fmt.Sprint(v) != "2024" {
		t.Errorf("EXTRACT(YEAR FROM ...) = %v", v)
	}
	if v := h.one("SELECT `extract`('MONTH', '2024-05-06')"); fmt.Sprint(v) != "5" {
		t.Errorf("`extract`('MONTH', ...) = %v", v)
	}
	// An instruction in place of the default task.
	if err := validates(t, sch, h.one(`SELECT extract_json('tchat', 'Tim is 7.', '`+extractSchema+`', '{"instruction": "Describe the child."}')`)); err != nil {
		t.Fatal(err)
	}
}

// TestJudgeEndToEndTiny runs judge() on the tiny models: a BOOLEAN,
// batched = row by row, usable in WHERE, NULL in -> NULL out, and the
// policy's on_error for a row too long for the context.
func TestJudgeEndToEndTiny(t *testing.T) {
	h, pool := realHarness(t, tinyModels(t))
	for _, model := range []string{"tiny", "tchat"} {
		q := "SELECT id, judge('" + model + "', 'Is it about a dog?', body) FROM docs ORDER BY id"
		batched, single := batchedAndSingle(h, pool, q)
		if got, want := strs(batched), strs(single); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: batched %q, row by row %q", model, got, want)
		}
		yes := 0
		for _, r := range batched {
			switch {
			case r[0] == int32(3):
				if r[1] != nil {
					t.Fatalf("%s: NULL text gave %v", model, r[1])
				}
			case r[1] == int8(1):
				yes++
			case r[1] != int8(0):
				t.Fatalf("%s row %v: %T %v, want a BOOLEAN", model, r[0], r[1], r[1])
			}
		}
		if where := h.exec("SELECT id FROM docs WHERE judge('" + model + "', 'Is it about a dog?', body)"); len(where) != yes {
			t.Fatalf("%s: WHERE kept %d rows, the SELECT said %d are yes", model, len(where), yes)
		}
	}
	// A text too long for the context: NULL with a warning, or an error.
	long := "REPEAT('dog ', 3000)"
	h.sess.ClearWarnings()
	if v := h.one("SELECT judge('tiny', 'Is it about a dog?', " + long + ")"); v != nil {
		t.Fatalf("a text over the context gave %v", v)
	}
	if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "longer than the model's context") {
		t.Fatalf("warnings %q", w)
	}
	h.fails("SELECT judge('tiny', 'q', "+long+", '{\"on_error\": \"error\"}')", "longer than the model's context")
	h.fails(`SELECT judge('tiny', 'q', 'x', '{"details": true}')`, "option details does not apply to judge()")
}

// TestStructuredQwen3 runs classify(), extract() and judge() on a tiny
// model with Qwen3's vocabulary and chat template (../shared): special
// tokens, an end-of-turn token (<|im_end|>), a template with a thinking
// mode, a vocabulary of 151,936 tokens.
func TestStructuredQwen3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qwen3.gguf")
	spec := synth.Spec{Arch: "qwen3", Embd: 32, Layers: 2, Heads: 4, KVHeads: 2, FF: 64, Context: 1024, Seed: 7,
		Vocab: testutil.Shared(t, "vocab/ggml-vocab-qwen3.gguf")}
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	h, pool := realHarness(t, map[string]string{"qwen": path})
	labels := `'["bug", "feature request", "question"]'`
	batched, single := batchedAndSingle(h, pool, "SELECT id, classify('qwen', body, "+labels+", '{\"scores\": true}') FROM docs ORDER BY id")
	for i, r := range batched {
		if canon(t, r[1]) != canon(t, single[i][1]) {
			t.Fatalf("classify row %v: batched %s, row by row %s", r[0], canon(t, r[1]), canon(t, single[i][1]))
		}
	}
	sch := compileSchema(t, extractSchema)
	batched, single = batchedAndSingle(h, pool, "SELECT id, extract_json('qwen', body, '"+extractSchema+"') FROM docs ORDER BY id")
	for i, r := range batched {
		if r[0] == int32(3) {
			continue
		}
		if err := validates(t, sch, r[1]); err != nil {
			t.Fatalf("extract row %v: %v (%q)", r[0], err, h.warnings())
		}
		if canon(t, r[1]) != canon(t, single[i][1]) {
			t.Fatalf("extract row %v: batched %s, row by row %s", r[0], canon(t, r[1]), canon(t, single[i][1]))
		}
	}
	batched, single = batchedAndSingle(h, pool, "SELECT id, judge('qwen', 'Is it a bug report?', body) FROM docs ORDER BY id")
	if got, want := strs(batched), strs(single); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("judge: batched %q, row by row %q", got, want)
	}
}
