package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/llmsql/llmsql/internal/testutil"
)

// End to end: a second llmsql process serves stories260K over HTTP, and
// this server registers it as a remote model. Greedy generate() and chat()
// over a table give what the same model gives locally; llm.usage counts
// the tokens the remote reported and llm.endpoints its requests.
func TestServeRemoteModel(t *testing.T) {
	stories := testutil.Shared(t, "models/stories260K.gguf")
	worker := startChild(t, childOptions{}, "--memory", "--model", "stories="+stories, "--http", "127.0.0.1:0", "--threads", "1")
	if worker.http == "" {
		t.Fatal("the worker printed no http address")
	}
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{"local", stories}}, ResultCacheBytes: -1}, realEngine)
	db := ts.db()
	mustExec(t, db, fmt.Sprintf(`INSERT INTO llm.models (name, endpoint, remote_model, max_concurrency, chat_template)
		VALUES ('far', 'http://%s/v1', 'stories', 4, 'none')`, worker.http))
	expectRows(t, db, "SELECT name, path, endpoint, remote_model, api_key_env, max_concurrency, chat_template, loaded FROM llm.models WHERE name = 'far'",
		fmt.Sprintf("far|NULL|http://%s/v1|stories|NULL|4|none|1", worker.http))

	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, p TEXT)")
	var vals []string
	for i, p := range []string{"Once upon a time", "The little dog", "Lily and Ben", "One day, a girl", "Tom had a red ball", "The sun was"} {
		vals = append(vals, fmt.Sprintf("(%d, '%s')", i, p))
	}
	mustExec(t, db, "INSERT INTO t VALUES "+strings.Join(vals, ", "))
	local := queryRows(t, db, "SELECT id, generate('local', p, 0, 24) FROM t ORDER BY id")
	far := queryRows(t, db, "SELECT id, generate('far', p, 0, 24) FROM t ORDER BY id")
	for _, r := range far {
		if strings.HasSuffix(r, "|NULL") || strings.HasSuffix(r, "|") {
			t.Fatalf("remote generate() gave no text: %q", far)
		}
	}
	if strings.Join(local, "\n") != strings.Join(far, "\n") {
		t.Errorf("generate():\nlocal  %q\nremote %q", local, far)
	}
	chat := `chat('%s', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', p)), '{"temperature": 0, "max_tokens": 16, "stop": ["."]}')`
	local = queryRows(t, db, "SELECT id, "+fmt.Sprintf(chat, "local")+" FROM t ORDER BY id")
	far = queryRows(t, db, "SELECT id, "+fmt.Sprintf(chat, "far")+" FROM t ORDER BY id")
	if strings.Join(local, "\n") != strings.Join(far, "\n") {
		t.Errorf("chat():\nlocal  %q\nremote %q", local, far)
	}
	// Tokens as the remote counted them, equal to the local counts.
	expectRows(t, db, "SELECT a.prompt_tokens = b.prompt_tokens, a.generated_tokens = b.generated_tokens, b.calls FROM llm.usage a JOIN llm.usage b WHERE a.model = 'local' AND b.model = 'far'",
		"1|1|12")
	expectRows(t, db, "SELECT model, requests, failures, retries, outstanding FROM llm.endpoints", "far|12|0|0|0")
	// extract() and judge() send the conversation and the grammar: the
	// same greedy answers as the local model's.
	for _, q := range []string{
		`SELECT id, extract_json('%s', p, '{"type":"object","properties":{"who":{"type":"string","maxLength":10}},"required":["who"]}', '{"max_tokens": 40}') FROM t ORDER BY id`,
		`SELECT id, judge('%s', 'Is this a story?', p) FROM t ORDER BY id`,
	} {
		local, far := queryRows(t, db, fmt.Sprintf(q, "local")), queryRows(t, db, fmt.Sprintf(q, "far"))
		for _, r := range far {
			if strings.HasSuffix(r, "|NULL") {
				t.Fatalf("%s: a NULL row: %q", q, far)
			}
		}
		if strings.Join(local, "\n") != strings.Join(far, "\n") {
			t.Errorf("%s:\nlocal  %q\nremote %q", q, local, far)
		}
	}
	// classify() on a remote model: the server picks a label under the
	// labels' grammar (servers do not score given replies); every row
	// gets one.
	for _, r := range queryRows(t, db, `SELECT id, classify('far', p, '["happy","sad"]') FROM t ORDER BY id`) {
		if !strings.HasSuffix(r, "|happy") && !strings.HasSuffix(r, "|sad") {
			t.Errorf("classify() on a remote model: %q", r)
		}
	}
	// The result cache answers a repeated greedy call without a request.
	mustExec(t, db, "SET GLOBAL llm_result_cache = ON")
	queryRows(t, db, "SELECT generate('far', p, 0, 24) FROM t WHERE id = 0")

	// What needs the model's file is refused with a message that says so.
	expectError(t, db, "SELECT tokenize('far', 'hi')", "served remotely")
	expectError(t, db, `SELECT apply_chat_template('far', '[{"role":"user","content":"hi"}]')`, "served remotely")
	// Deleted and registered again: the registration round-trips.
	mustExec(t, db, "DELETE FROM llm.models WHERE name = 'far'")
	expectRows(t, db, "SELECT COUNT(*) FROM llm.models WHERE name = 'far'", "0")
}

// Faults of a remote server do not fail the statement: each failing row
// is NULL with a warning (on_error 'null') or fails it under 'error'; the
// retries are counted; nothing hangs.
func TestServeRemoteFaults(t *testing.T) {
	var n atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if k%3 == 1 { // every third request: a 500, then retried
			http.Error(w, `{"error":{"message":"overloaded"}}`, 500)
			return
		}
		body := make([]byte, 1<<16)
		m, _ := r.Body.Read(body)
		if strings.Contains(string(body[:m]), "poison") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"x","choices":[{"index":0,"text":"trunc`) // malformed, always
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"ok","finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}`)
	}))
	defer fake.Close()
	ts := newServer(t, serveConfig{Memory: true, ResultCacheBytes: -1}, realEngine)
	db := ts.db()
	mustExec(t, db, fmt.Sprintf(`INSERT INTO llm.models (name, endpoint, remote_model, chat_template, timeout_seconds)
		VALUES ('f', '%s/v1', 'm', 'none', 5)`, fake.URL))
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, p TEXT)")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'a'), (2, 'poison'), (3, 'b'), (4, 'c')")
	start := time.Now()
	expectRows(t, db, "SELECT id, generate('f', p, 0, 8) FROM t ORDER BY id", "1|ok", "2|NULL", "3|ok", "4|ok")
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("the statement took %v", el)
	}
	rows := queryRows(t, db, "SELECT requests > 4, failures >= 5, retries >= 5, last_error IS NOT NULL FROM llm.endpoints")
	if len(rows) != 1 || rows[0] != "1|1|1|1" {
		t.Errorf("llm.endpoints: %q", rows)
	}
	expectError(t, db, `SELECT generate('f', p, '{"temperature": 0, "on_error": "error"}') FROM t WHERE id = 2`, "remote model 'f'")
}

// Every kind of fault a remote server has, one row each, in one statement
// (generate() and embed()): a 429 with Retry-After and a dropped
// connection that mend on retry give the row its value; a row whose
// server always answers late (past timeout_seconds), always drops the
// connection, or always sends a malformed body is NULL with a warning
// naming the row and the cause; no row is silently wrong, the retries are
// counted, and nothing hangs.
func TestServeRemoteFaultKinds(t *testing.T) {
	var n atomic.Int64
	var mu sync.Mutex
	seen := map[string]int{} // attempts per row text
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var body struct {
			Prompt string `json:"prompt"`
			Input  string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		text := body.Prompt + body.Input
		mu.Lock()
		seen[text]++
		k := seen[text]
		mu.Unlock()
		drop := func() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		}
		switch {
		case text == "rate" && k == 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":{"message":"slow down","type":"rate_limit_exceeded"}}`, 429)
			return
		case text == "flaky" && k <= 2:
			drop()
			return
		case text == "drop":
			drop()
			return
		case text == "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		case text == "garbage":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"x","object":"text_completion","choices":[{"index":0,"text":`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/embeddings") {
			fmt.Fprint(w, `{"object":"list","model":"m","data":[{"object":"embedding","index":0,"embedding":[0.6,0.8]}],"usage":{"prompt_tokens":2,"total_tokens":2}}`)
			return
		}
		fmt.Fprintf(w, `{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"re: %s","finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}`, text)
	}))
	defer fake.Close()
	ts := newServer(t, serveConfig{Memory: true, ResultCacheBytes: -1}, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1) // SHOW WARNINGS on the statement's connection
	mustExec(t, db, fmt.Sprintf(`INSERT INTO llm.models (name, endpoint, remote_model, chat_template, timeout_seconds)
		VALUES ('f', '%s/v1', 'm', 'none', 1)`, fake.URL))
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, p TEXT)")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'ok'), (2, 'rate'), (3, 'flaky'), (4, 'drop'), (5, 'slow'), (6, 'garbage'), (7, 'fine')")
	start := time.Now()
	expectRows(t, db, "SELECT id, generate('f', p, 0, 8) FROM t ORDER BY id",
		"1|re: ok", "2|re: rate", "3|re: flaky", "4|NULL", "5|NULL", "6|NULL", "7|re: fine")
	w := strings.Join(queryRows(t, db, "SHOW WARNINGS"), "\n")
	for _, want := range []string{"after 5 attempts", "no answer within 1s", "row 4", "row 5", "row 6"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	if c := strings.Count(w, "\n") + 1; c != 3 {
		t.Errorf("%d warnings, want 3:\n%s", c, w)
	}
	expectRows(t, db, "SELECT id, LENGTH(embed('f', p)) FROM t WHERE id IN (1, 4) ORDER BY id", "1|8", "4|NULL")
	if w := queryRows(t, db, "SHOW WARNINGS"); len(w) != 1 || !strings.Contains(w[0], "row 2") {
		t.Errorf("embed() warnings %q", w)
	}
	if el := time.Since(start); el > 2*time.Minute {
		t.Errorf("the statements took %v", el)
	}
	mu.Lock()
	if seen["rate"] != 2 || seen["flaky"] != 3 || seen["drop"] < 5 || seen["slow"] != 5 || seen["garbage"] != 5 || seen["ok"] != 2 {
		t.Errorf("attempts per row: %v", seen)
	}
	mu.Unlock()
	expectRows(t, db, "SELECT retries >= 1 + 2 + 4 + 4 + 4 + 4, outstanding FROM llm.endpoints", "1|0")
}

// KILL QUERY cancels a statement's requests in flight on a remote model:
// the statement ends with error 1317 and the server sees every request
// cancelled.
func TestServeRemoteKillQuery(t *testing.T) {
	var inFlight, started atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // read, so the server notices the client going away
		started.Add(1)
		inFlight.Add(1)
		defer inFlight.Add(-1)
		select { // never answers: only a cancellation ends it
		case <-r.Context().Done():
		case <-time.After(40 * time.Second):
		}
	}))
	defer fake.Close()
	ts := newServer(t, serveConfig{Memory: true, ResultCacheBytes: -1}, realEngine)
	db := ts.db()
	mustExec(t, db, fmt.Sprintf(`INSERT INTO llm.models (name, endpoint, remote_model, chat_template, max_concurrency)
		VALUES ('f', '%s/v1', 'm', 'none', 4)`, fake.URL))
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, p TEXT)")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f')")
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
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for started.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		db.Exec(fmt.Sprintf("KILL QUERY %d", id))
	}()
	done := make(chan error, 1)
	go func() {
		var n int64
		rows, err := conn.QueryContext(ctx, "SELECT id, generate('f', p, 0, 8) FROM t")
		if err == nil {
			for rows.Next() {
				n++
			}
			err = rows.Err()
			rows.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1317 {
			t.Fatalf("got %v, want error 1317", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("KILL QUERY did not end the statement")
	}
	deadline := time.Now().Add(20 * time.Second)
	for inFlight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := inFlight.Load(); n != 0 {
		t.Fatalf("%d requests still open on the server after KILL QUERY", n)
	}
	expectRows(t, db, "SELECT outstanding FROM llm.endpoints", "0")
}
