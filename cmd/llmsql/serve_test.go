package main

// End-to-end tests of `llmsql serve`: a server started in-process on a
// random loopback port, driven through go-sql-driver/mysql (and the mysql
// command-line client when installed). They run over a fake backend (see
// sqlfuncstest.Fake) that consults the real model registry, so switching a
// test to the engine is one line: newServer(t, cfg, realEngine).

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/sqlfuncs"
	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// backendChoice picks what the SQL functions run on in a test server.
type backendChoice func(t testing.TB, p *engine.Pool) sqlfuncs.Backend

// fakeEngine is the deterministic stand-in: it knows exactly the models the
// pool has registered.
var fakeEngine backendChoice = func(t testing.TB, p *engine.Pool) sqlfuncs.Backend {
	return &sqlfuncstest.Fake{Known: func(name string) bool {
		for _, m := range p.Models() {
			if m.Name == name {
				return true
			}
		}
		return false
	}}
}

// realEngine runs the functions on the engine itself.
var realEngine backendChoice = func(t testing.TB, p *engine.Pool) sqlfuncs.Backend { return p }

type testServer struct {
	t    testing.TB
	srv  *llmServer
	fake *sqlfuncstest.Fake // nil with realEngine
	logs *syncBuffer
	cfg  serveConfig
}

// syncBuffer is a log destination shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newServer starts a server on a random loopback port; cfg.Memory or
// cfg.DataDir chooses the storage. It is closed when the test ends.
func newServer(t testing.TB, cfg serveConfig, backend backendChoice) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, logs: &syncBuffer{}}
	cfg.Listener = ln
	cfg.Logger = slog.New(slog.NewTextHandler(ts.logs, nil))
	cfg.Backend = func(p *engine.Pool) sqlfuncs.Backend {
		b := backend(t, p)
		ts.fake, _ = b.(*sqlfuncstest.Fake)
		return b
	}
	ts.cfg = cfg
	ts.srv, err = startServer(cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("starting the server: %v", err)
	}
	t.Cleanup(func() {
		ts.close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

func (ts *testServer) close() {
	if ts.srv != nil {
		if err := ts.srv.Close(); err != nil {
			ts.t.Errorf("closing the server: %v", err)
		}
		ts.srv = nil
	}
}

// db opens a connection pool to the server as root, or as the given user.
func (ts *testServer) db(userPass ...string) *sql.DB {
	ts.t.Helper()
	user, pass := "root", ""
	if len(userPass) == 2 {
		user, pass = userPass[0], userPass[1]
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = user, pass, "tcp", ts.srv.Addr()
	c.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(c)
	if err != nil {
		ts.t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	ts.t.Cleanup(func() { db.Close() })
	return db
}

// writeTinyModel writes a GGUF holding only metadata: enough for the
// registry and the catalog, not for inference.
func writeTinyModel(t *testing.T, dir, name string, vocab int) string {
	t.Helper()
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	w.Set("llama.context_length", gguf.Uint32(256))
	toks := make([]string, vocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("<%d>", i)
	}
	w.Set("tokenizer.ggml.tokens", gguf.ArrayValue(toks))
	path := filepath.Join(dir, name+".gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func memoryWithModel(t *testing.T) serveConfig {
	return serveConfig{Memory: true, Models: []modelFlag{{"m", writeTinyModel(t, t.TempDir(), "m", 32)}}}
}

// sqlRunner is a *sql.DB or a *sql.Conn.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func mustExec(t testing.TB, db sqlRunner, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// queryRows returns a query's rows as strings ("NULL" for NULL), one row per
// element with columns joined by "|".
func queryRows(t testing.TB, db sqlRunner, q string) []string {
	t.Helper()
	rows, err := rowsOf(db, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

// rowsOf is queryRows for goroutines other than the test's: it returns
// the error.
func rowsOf(db sqlRunner, q string) ([]string, error) {
	r, err := db.QueryContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return out, err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, r.Err()
}

func expectRows(t *testing.T, db sqlRunner, q string, want ...string) {
	t.Helper()
	got := queryRows(t, db, q)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot  %q\nwant %q", q, got, want)
	}
}

func expectError(t *testing.T, db sqlRunner, q, want string) {
	t.Helper()
	r, err := db.QueryContext(context.Background(), q)
	if err == nil {
		for r.Next() {
		}
		err = r.Err()
		r.Close()
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: got error %v, want one containing %q", q, err, want)
	}
}

func TestServeGenerate(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	// New connections start in the default database.
	expectRows(t, db, "SELECT DATABASE()", "llmsql")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
	mustExec(t, db, "INSERT INTO t (id, prompt) VALUES (1, 'one'), (2, 'two'), (3, NULL)")

	expectRows(t, db, "SELECT id, generate('m', prompt) FROM t ORDER BY id", "1|ONE", "2|TWO", "3|NULL")
	expectRows(t, db, `SELECT generate('m', 'hello', '{"temperature": 0, "max_tokens": 3}')`, "HEL")
	expectRows(t, db, "SELECT generate('m', 'hello', 0.5, 2)", "HE")

	mustExec(t, db, "UPDATE t SET answer = generate('m', CONCAT('about ', prompt), 0) WHERE prompt IS NOT NULL")
	expectRows(t, db, "SELECT answer FROM t ORDER BY id", "ABOUT ONE", "ABOUT TWO", "NULL")

	mustExec(t, db, "CREATE TABLE t2 (id INT PRIMARY KEY, g TEXT)")
	mustExec(t, db, "INSERT INTO t2 SELECT id, generate('m', prompt, 0, 1) FROM t")
	expectRows(t, db, "SELECT id, g FROM t2 ORDER BY id", "1|O", "2|T", "3|NULL")

	expectRows(t, db, "SELECT id FROM t WHERE generate('m', prompt, 0) LIKE 'T%'", "2")
	mustExec(t, db, "CREATE VIEW v AS SELECT id, generate('m', prompt, 0) AS g FROM t")
	expectRows(t, db, "SELECT g FROM v WHERE id = 2", "TWO")

	expectRows(t, db, "SELECT JSON_LENGTH(tokenize('m', 'hello')), count_tokens('m', 'hello')", "6|6")
	expectRows(t, db, "SELECT tokenize('m', 'hi')", "[1, 107, 108]")
	expectRows(t, db, "SELECT detokenize('m', tokenize('m', 'back again'))", "back again")
	expectRows(t, db, "SELECT tokenize('m', NULL), count_tokens('m', NULL), detokenize('m', NULL), generate(NULL, 'x')",
		"NULL|NULL|NULL|NULL")
	if n := ts.fake.Generates(); n < 10 {
		t.Fatalf("the fake saw %d generate calls", n)
	}
}

func TestServeErrors(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	conn, err := ts.db().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct{ q, want string }{
		{"SELECT generate('nope', 'x')", "model 'nope' is not registered; see SELECT name FROM llm.models"},
		{"SELECT generate('m', 'x', 101)", "option temperature out of range: allowed 0 to 100"},
		{`SELECT generate('m', 'x', '{"top_p": 2}')`, "option top_p out of range: allowed greater than 0, at most 1"},
		{`SELECT generate('m', 'x', '{"colour": 1}')`, `unknown option "colour"`},
		{"SELECT generate('m')", "function 'generate' expected 2, 3 or 4 arguments, 1 received"},
		{"SELECT count_tokens('m', 'a', 'b')", "expected 2 arguments, 3 received"},
		{"SELECT detokenize('m', '[1, \"x\"]')", "element 1 (x) is not a token id"},
	} {
		expectError(t, conn, c.q, c.want)
		// The same connection keeps working.
		expectRows(t, conn, "SELECT generate('m', 'still here', 0)", "STILL HERE")
	}
}

func TestServeCatalog(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	dir := t.TempDir()
	other := writeTinyModel(t, dir, "other", 100)

	expectRows(t, db, "SELECT name, architecture, context_length, vocab_size, loaded FROM llm.models", "m|llama|256|32|0")
	mustExec(t, db, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('other', '%s')", other))
	expectRows(t, db, "SELECT name FROM llm.models ORDER BY name", "m", "other")
	expectRows(t, db, "SHOW TABLES FROM llm", "cache", "endpoints", "m", "models", "other", "progress", "usage")
	expectRows(t, db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'llm' ORDER BY 1",
		"cache", "endpoints", "m", "models", "other", "progress", "usage")
	expectRows(t, db, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'llm' AND table_name = 'other' ORDER BY ordinal_position",
		"key", "type", "value")
	if got := queryRows(t, db, "DESCRIBE llm.models"); len(got) != 24 || !strings.HasPrefix(got[0], "name|varchar(64)|NO|PRI") || !strings.HasPrefix(got[12], "chat_template|longtext") ||
		!strings.HasPrefix(got[17], "endpoint|longtext") {
		t.Fatalf("DESCRIBE llm.models: %q", got)
	}
	expectRows(t, db, "SELECT `type`, value FROM llm.other WHERE `key` = 'tokenizer.ggml.tokens'", "array[string]|[100 items]")
	expectRows(t, db, "SELECT value FROM llm.other WHERE `key` = 'general.architecture'", "llama")
	// The new model is usable at once, and gone once deleted.
	expectRows(t, db, "SELECT generate('other', 'x', 0)", "X")
	expectError(t, db, "INSERT INTO llm.models (name, path) VALUES ('bad', '/no/such.gguf')", "no such file")
	mustExec(t, db, "DELETE FROM llm.models WHERE name = 'other'")
	expectRows(t, db, "SELECT name FROM llm.models", "m")
	expectError(t, db, "SELECT generate('other', 'x')", "model 'other' is not registered")
	expectError(t, db, "DROP DATABASE llm", "cannot be dropped")
}

func TestServeKillQuery(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
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
	// Sampling calls run inside the plan; greedy ones (temperature 0) may
	// be deferred to the server's row spooling. Both must stop.
	for _, temp := range []string{"", ", 0"} {
		done := make(chan error, 1)
		go func() {
			_, err := conn.ExecContext(ctx, "SELECT generate('m', '"+sqlfuncstest.BlockPrefix+"a long story'"+temp+")")
			done <- err
		}()
		deadline := time.Now().Add(time.Minute)
		for ts.fake.Blocked() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the long generate never started")
			}
			time.Sleep(5 * time.Millisecond)
		}
		mustExec(t, db, fmt.Sprintf("KILL QUERY %d", id))
		// The fake blocks until cancelled, so only the kill ends it (no
		// bound on how soon: a loaded machine can take seconds).
		select {
		case err := <-done:
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1317 {
				t.Fatalf("the killed query: %v, want error 1317", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("KILL QUERY did not stop generate")
		}
		expectRows(t, conn, "SELECT generate('m', 'after the kill', 0)", "AFTER THE KILL")
	}
}

func TestServeConcurrentClients(t *testing.T) {
	const clients = 8
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	db.SetMaxOpenConns(clients)
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT)")
	for i := 0; i < 20; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO p VALUES (%d, 'row %d')", i, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			// Each client first waits for all the others to be generating
			// (proving the server runs them concurrently), then generates
			// over a table.
			var met string
			q := fmt.Sprintf("SELECT generate('m', '%s%d:client %d', 0)", sqlfuncstest.MeetPrefix, clients, c)
			if err := db.QueryRow(q).Scan(&met); err != nil {
				errs <- fmt.Errorf("client %d: %v", c, err)
				return
			}
			r, err := db.Query(fmt.Sprintf("SELECT id, generate('m', CONCAT(prompt, ' c%d'), 0) FROM p ORDER BY id", c))
			if err != nil {
				errs <- fmt.Errorf("client %d: %v", c, err)
				return
			}
			defer r.Close()
			n := 0
			for r.Next() {
				var id int
				var g string
				if err := r.Scan(&id, &g); err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprintf("ROW %d C%d", id, c); g != want {
					errs <- fmt.Errorf("client %d row %d: got %q, want %q", c, id, g, want)
					return
				}
				n++
			}
			if err := r.Err(); err != nil || n != 20 {
				errs <- fmt.Errorf("client %d: %d rows, %v", c, n, err)
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := ts.fake.MaxParallel(); p < clients {
		t.Fatalf("at most %d generations ran at once, want %d", p, clients)
	}
}

func TestServeAuth(t *testing.T) {
	cfg := memoryWithModel(t)
	cfg.User, cfg.Password = "alice", "s3cret"
	ts := newServer(t, cfg, fakeEngine)

	for _, up := range [][2]string{{"alice", "wrong"}, {"alice", ""}, {"root", ""}, {"root", "s3cret"}} {
		err := ts.db(up[0], up[1]).Ping()
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1045 {
			t.Errorf("%s/%q: got %v, want access denied (1045)", up[0], up[1], err)
		}
	}
	db := ts.db("alice", "s3cret")
	expectRows(t, db, "SELECT generate('m', 'let me in', 0)", "LET ME IN")
	expectError(t, db, "CREATE USER bob IDENTIFIED BY 'x'", "cannot be changed through SQL")
	if err := ts.db("bob", "x").Ping(); err == nil {
		t.Fatal("an account created through SQL could connect")
	}
	expectRows(t, db, "SELECT 1", "1")
}

func TestServeDoltRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Dolt twice")
	}
	dataDir := t.TempDir()
	model := writeTinyModel(t, t.TempDir(), "kept", 50)
	cfg := serveConfig{DataDir: dataDir}

	ts := newServer(t, cfg, fakeEngine)
	db := ts.db()
	mustExec(t, db, "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT, summary TEXT)")
	mustExec(t, db, "INSERT INTO notes (id, body) VALUES (1, 'first'), (2, 'second')")
	expectError(t, db, "UPDATE notes SET summary = generate('kept', body, 0)", "model 'kept' is not registered")
	mustExec(t, db, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('kept', '%s')", model))
	mustExec(t, db, "UPDATE notes SET summary = generate('kept', body, 0)")
	mustExec(t, db, "CALL dolt_commit('-Am', 'notes')")
	db.Close()
	ts.close()

	ts2 := newServer(t, cfg, fakeEngine)
	db2 := ts2.db()
	expectRows(t, db2, "SELECT id, body, summary FROM llmsql.notes ORDER BY id", "1|first|FIRST", "2|second|SECOND")
	expectRows(t, db2, "SELECT name, vocab_size FROM llm.models", "kept|50")
	expectRows(t, db2, "SELECT generate('kept', 'again', 0)", "AGAIN")
	expectRows(t, db2, "SELECT message FROM dolt_log LIMIT 1", "notes")
	if _, err := os.Stat(filepath.Join(dataDir, registrationsFile)); err != nil {
		t.Fatalf("registrations file: %v", err)
	}
}

func TestServeMySQLClient(t *testing.T) {
	client, err := exec.LookPath("mysql")
	if err != nil {
		t.Skip("the mysql client is not installed (apt-get install default-mysql-client)")
	}
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	host, port, _ := net.SplitHostPort(ts.srv.Addr())
	out, err := exec.Command(client, "-h", host, "-P", port, "-u", "root", "--batch", "--skip-column-names",
		"-e", "CREATE TABLE c (p TEXT); INSERT INTO c VALUES ('from the client'); "+
			"SELECT generate('m', p, 0) FROM c; SELECT name FROM llm.models;").CombinedOutput()
	if err != nil {
		t.Fatalf("mysql client: %v\n%s", err, out)
	}
	if got, want := string(out), "FROM THE CLIENT\nm\n"; got != want {
		t.Fatalf("mysql client printed %q, want %q", got, want)
	}
}

func TestServeShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := memoryWithModel(t)
	cfg.Listener = ln
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	var fake *sqlfuncstest.Fake
	cfg.Backend = func(p *engine.Pool) sqlfuncs.Backend {
		fake = fakeEngine(t, p).(*sqlfuncstest.Fake)
		return fake
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	served := make(chan error, 1)
	go func() { served <- serveUntil(ctx, cfg, stdout, nil) }()

	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "llmsql ready on ") {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line; log:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, want := stdout.String(), "llmsql ready on "+ln.Addr().String()+"\n"; got != want {
		t.Fatalf("ready line %q, want %q", got, want)
	}
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr = "root", "tcp", ln.Addr().String()
	connector, _ := mysql.NewConnector(c)
	db := sql.OpenDB(connector)
	defer db.Close()
	queried := make(chan error, 1)
	go func() {
		_, err := db.Exec("SELECT generate('m', '" + sqlfuncstest.BlockPrefix + "until shutdown')")
		queried <- err
	}()
	for fake == nil || fake.Blocked() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the long generate never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // what SIGINT or SIGTERM does
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	if err := <-queried; err == nil {
		t.Fatal("the running query succeeded through shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
	if !strings.Contains(logs.String(), "shutting down") || !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("log:\n%s", logs)
	}
}

func TestServeFlagsAndModels(t *testing.T) {
	var stderr bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "--data-dir", "x"}, "exclude each other"},
		{[]string{"--user", "u"}, "--user and --password go together"},
		{[]string{"--model", "nopath"}, "want NAME=PATH"},
		{[]string{"--threads", "-1"}, "--threads must be 0 or more"},
		{[]string{"--max-sequences", "-2"}, "--max-sequences must be 0 to 1024"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		err := runServe(c.args, &stderr, &stderr)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
	if _, err := startServer(serveConfig{Memory: true, Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "without --user and --password") {
		t.Errorf("non-loopback without an account: %v", err)
	}
	if _, err := startServer(serveConfig{Memory: true, Addr: "127.0.0.1:0", Models: []modelFlag{{"x", "/no/such.gguf"}}}); err == nil ||
		!strings.Contains(err.Error(), "--model x=/no/such.gguf") {
		t.Errorf("bad --model: %v", err)
	}

	dir := t.TempDir()
	writeTinyModel(t, dir, "alpha", 8)
	writeTinyModel(t, dir, "beta", 9)
	if err := os.WriteFile(filepath.Join(dir, "broken.gguf"), []byte("not a gguf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serveConfig{Memory: true, ModelsDir: dir}, fakeEngine)
	expectRows(t, ts.db(), "SELECT name, vocab_size FROM llm.models ORDER BY name", "alpha|8", "beta|9")
	if !strings.Contains(ts.logs.String(), "broken.gguf") {
		t.Errorf("no warning about broken.gguf in the log:\n%s", ts.logs)
	}
}

// TestServeMemoryHasNoDolt: with --memory, CALL dolt_commit(...) says that
// Dolt's procedures need the Dolt storage (it said only that the procedure
// does not exist), with MySQL's error 1305; other procedures are unchanged.
func TestServeMemoryHasNoDolt(t *testing.T) {
	ts := newServer(t, serveConfig{Memory: true}, fakeEngine)
	db := ts.db()
	for _, call := range []string{"CALL dolt_commit('-Am', 'x')", "CALL DOLT_BRANCH('b')", "CALL llmsql.dolt_checkout('main')"} {
		_, err := db.Exec(call)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1305 || !strings.Contains(me.Message, "need the Dolt storage, and this server runs with --memory") {
			t.Errorf("%s: %v", call, err)
		}
	}
	expectError(t, db, "CALL nothing_here()", "does not exist")
	mustExec(t, db, "CREATE PROCEDURE p() SELECT 7")
	expectRows(t, db, "CALL p()", "7")
	// The help says so.
	var stderr strings.Builder
	run([]string{"serve", "-h"}, io.Discard, &stderr)
	if !strings.Contains(stderr.String(), "no dolt_ procedures (CALL dolt_commit), system tables or AS OF") {
		t.Errorf("serve -h does not say what --memory lacks:\n%s", stderr.String())
	}
}
