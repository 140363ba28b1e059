package catalog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/catalog"
	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/gguf"
)

// writeModel writes a tensor-less GGUF with llama metadata and a
// vocabulary of vocab tokens, enough for the registry to describe it.
func writeModel(t *testing.T, dir, name string, vocab int) string {
	t.Helper()
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	w.Set("general.name", gguf.String(name))
	w.Set("llama.context_length", gguf.Uint32(128))
	w.Set("general.file_type", gguf.Uint32(0))
	toks := make([]string, vocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	w.Set("tokenizer.ggml.tokens", gguf.ArrayValue(toks))
	w.Set("tokenizer.ggml.eos_token_id", gguf.Uint32(2))
	w.Set("small.array", gguf.ArrayValue([]int32{1, 2, 3}))
	path := filepath.Join(dir, name+".gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

type harness struct {
	t     *testing.T
	dir   string
	pool  *engine.Pool
	cat   *catalog.Catalog
	store catalog.FileStore
	eng   *sqle.Engine
	sess  sql.Session
}

func newHarness(t *testing.T, dir string) *harness {
	t.Helper()
	h := &harness{t: t, dir: dir, pool: engine.NewPool(engine.PoolConfig{})}
	h.store = catalog.FileStore{Path: filepath.Join(dir, "models.json")}
	h.cat = catalog.New(h.pool, h.store)
	pro := memory.NewDBProvider(memory.NewDatabase("db"), h.cat.Database())
	h.eng = sqle.NewDefault(pro)
	t.Cleanup(func() { h.eng.Close() })
	h.sess = memory.NewSession(sql.NewBaseSession(), pro)
	return h
}

func (h *harness) query(q string) ([]sql.Row, error) {
	ctx := sql.NewContext(context.Background(), sql.WithSession(h.sess))
	ctx.SetCurrentDatabase("db")
	_, iter, _, err := h.eng.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return sql.RowIterToRows(ctx, iter)
}

func (h *harness) exec(q string) string {
	h.t.Helper()
	rows, err := h.query(q)
	if err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return fmt.Sprint(rows)
}

func (h *harness) fails(q, want string) {
	h.t.Helper()
	_, err := h.query(q)
	if err == nil || !strings.Contains(err.Error(), want) {
		h.t.Fatalf("%s: got %v, want an error containing %q", q, err, want)
	}
}

func (h *harness) savedNames() string {
	h.t.Helper()
	regs, err := h.store.Load()
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, r := range regs {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func TestModelsTable(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	tiny := writeModel(t, dir, "tiny", 100)
	st, _ := os.Stat(tiny)

	if got := h.exec("SELECT * FROM llm.models"); got != "[]" {
		t.Fatalf("empty catalog: %s", got)
	}
	h.exec(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('tiny', '%s')", tiny))
	want := fmt.Sprintf("[[tiny %s llama 0 ALL_F32 128 100 %d 0 <nil> <nil> <nil> chatml fallback <nil> <nil> <nil> none <nil> <nil> <nil> <nil> <nil> <nil> <nil>]]", tiny, st.Size())
	if got := h.exec("SELECT * FROM llm.models"); got != want {
		t.Fatalf("models: got %s, want %s", got, want)
	}
	if got := h.savedNames(); got != "tiny" {
		t.Fatalf("saved: %q", got)
	}
	if got := h.exec("SHOW TABLES FROM llm"); got != "[[cache] [endpoints] [models] [progress] [tiny] [usage]]" {
		t.Fatalf("SHOW TABLES: %s", got)
	}
	if got := h.exec("SELECT name FROM llm.models WHERE vocab_size > 50"); got != "[[tiny]]" {
		t.Fatalf("filter: %s", got)
	}

	h.fails(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('tiny', '%s')", tiny), "already registered")
	h.fails("INSERT INTO llm.models (name, path) VALUES ('gone', '/no/such/file.gguf')", "no such file")
	h.fails(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('Models', '%s')", tiny), "reserved")
	h.fails(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('usage', '%s')", tiny), "reserved for the table llm.usage")
	h.fails(fmt.Sprintf("INSERT INTO llm.models (name, path, vocab_size) VALUES ('x', '%s', 3)", tiny), "only name and path can be set; vocab_size")
	h.fails("INSERT INTO llm.models (name) VALUES ('x')", "path")
	// UPDATE re-registers: a bad path fails and keeps the registration.
	h.fails("UPDATE llm.models SET path = 'x'", "no such file")
	if got := h.exec("SELECT name FROM llm.models"); got != "[[tiny]]" {
		t.Fatalf("after a failed UPDATE: %s", got)
	}
	h.fails("CREATE TABLE llm.mine (a INT)", "tables cannot be created on database llm")

	// A failing row undoes the rows of its statement that succeeded.
	other := writeModel(t, dir, "other", 10)
	h.fails(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('other', '%s'), ('bad', '/nope.gguf')", other), "no such file")
	if got := h.exec("SELECT name FROM llm.models"); got != "[[tiny]]" {
		t.Fatalf("after failed statement: %s", got)
	}
	if got := h.savedNames(); got != "tiny" {
		t.Fatalf("saved after failed statement: %q", got)
	}

	h.exec("DELETE FROM llm.models WHERE name = 'tiny'")
	if got := h.exec("SELECT name FROM llm.models"); got != "[]" {
		t.Fatalf("after delete: %s", got)
	}
	if got := h.savedNames(); got != "" {
		t.Fatalf("saved after delete: %q", got)
	}
	h.fails("SELECT * FROM llm.tiny", "not found")
}

func TestMetadataTable(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	path := writeModel(t, dir, "Tiny", 40)
	if _, err := h.cat.Register("Tiny", path, false); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT type, value FROM llm.Tiny WHERE `key` = 'general.architecture'":  "[[string llama]]",
		"SELECT type, value FROM llm.tiny WHERE `key` = 'tokenizer.ggml.tokens'": "[[array[string] [40 items]]]",
		"SELECT type, value FROM llm.TINY WHERE `key` = 'small.array'":           "[[array[i32] [1, 2, 3]]]",
		"SELECT value FROM llm.Tiny WHERE `key` = 'llama.context_length'":        "[[128]]",
		"SELECT COUNT(*) FROM llm.Tiny":                                          "[[7]]",
	} {
		if got := h.exec(q); got != want {
			t.Errorf("%s: got %s, want %s", q, got, want)
		}
	}
	// A run-only registration is not saved.
	if got := h.savedNames(); got != "" {
		t.Fatalf("flag registration was saved: %q", got)
	}
	// Dropped from the registry, the table disappears.
	if err := h.cat.Unregister("Tiny"); err != nil {
		t.Fatal(err)
	}
	h.fails("SELECT * FROM llm.Tiny", "not found")
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	a := writeModel(t, dir, "a", 5)
	b := writeModel(t, dir, "b", 5)
	h := newHarness(t, dir)
	h.exec(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('a', '%s'), ('b', '%s')", a, b))

	// A restart: a new registry over the same store. A run-only
	// registration of "a" wins over the saved one; "b" has lost its file.
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, dir)
	a2 := writeModel(t, t.TempDir(), "a2", 7)
	if _, err := h2.cat.Register("a", a2, false); err != nil {
		t.Fatal(err)
	}
	restored, failed, err := h2.cat.Restore()
	if err != nil {
		t.Fatal(err)
	}
	if len(restored) != 0 || len(failed) != 1 || !strings.Contains(failed[0].Error(), "saved model 'b'") {
		t.Fatalf("restore: %v, %v", restored, failed)
	}
	if got := h2.exec("SELECT name, vocab_size FROM llm.models"); got != "[[a 7]]" {
		t.Fatalf("after restore: %s", got)
	}
	// The failed one stays saved for the next start, until unregistered.
	if got := h2.savedNames(); got != "a,b" {
		t.Fatalf("saved: %q", got)
	}
	if err := h2.cat.Unregister("b"); err != nil {
		t.Fatalf("forgetting a saved model that failed to restore: %v", err)
	}
	if got := h2.savedNames(); got != "a" {
		t.Fatalf("saved after forgetting b: %q", got)
	}

	h3 := newHarness(t, dir)
	restored, failed, err = h3.cat.Restore()
	if err != nil || len(failed) != 0 || len(restored) != 1 || restored[0].Name != "a" || restored[0].Path != a {
		t.Fatalf("second restart: %v %v %v", restored, failed, err)
	}
}

// TestRestoreRestricted: a registration saved by a run that allowed any
// path is not registered again by a run restricted to a models directory
// (it stays saved for an unrestricted run), while one inside is.
func TestRestoreRestricted(t *testing.T) {
	dir, models := t.TempDir(), t.TempDir()
	outside := writeModel(t, dir, "outside", 5)
	inside := writeModel(t, models, "inside", 6)
	h := newHarness(t, dir)
	h.exec(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('o', '%s'), ('i', '%s')", outside, inside))

	h2 := newHarness(t, dir)
	h2.cat.RestrictPaths(models)
	restored, failed, err := h2.cat.Restore()
	if err != nil || len(restored) != 1 || restored[0].Name != "i" || len(failed) != 1 ||
		!strings.Contains(failed[0].Error(), "saved model 'o'") || !strings.Contains(failed[0].Error(), "must be in the models directory") {
		t.Fatalf("restricted restore: %v, %v, %v", restored, failed, err)
	}
	if got := h2.exec("SELECT name FROM llm.models"); got != "[[i]]" {
		t.Fatalf("after a restricted restore: %s", got)
	}
	if got := h2.savedNames(); got != "i,o" {
		t.Fatalf("saved: %q", got)
	}

	h3 := newHarness(t, dir)
	if restored, failed, err := h3.cat.Restore(); err != nil || len(restored) != 2 || len(failed) != 0 {
		t.Fatalf("unrestricted restore: %v, %v, %v", restored, failed, err)
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	s := catalog.FileStore{Path: filepath.Join(dir, "m.json")}
	if regs, err := s.Load(); err != nil || regs != nil {
		t.Fatalf("missing file: %v %v", regs, err)
	}
	want := []catalog.Registration{{Name: "a", Path: "/x/a.gguf"}, {Name: "b", Path: "/y/b.gguf"}, {Name: "r", RemoteFields: catalog.RemoteFields{Endpoint: "http://h:1/v1", RemoteModel: "m", MaxConcurrency: 4}}}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(s.Path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "m.json") {
		t.Fatalf("corrupt file: %v", err)
	}
	if err := os.WriteFile(s.Path, []byte(`{"models":[{"name":"a"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "no name or no path") {
		t.Fatalf("entry without path: %v", err)
	}
}
