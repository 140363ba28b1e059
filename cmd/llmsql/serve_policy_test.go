package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// TestServeRowFailuresKeepTheStatement is the case on Dolt with the
// real engine: one prompt longer than the context among many rows. Under
// @@llm_on_error = 'null' (the default) the UPDATE keeps every other row's
// answer, the long row is NULL, and the warning is in SHOW WARNINGS and
// counted in the OK packet; under 'error' the statement fails and rolls
// back.
func TestServeRowFailuresKeepTheStatement(t *testing.T) {
	model := tinyModelFile(t) // 256 positions
	cfg := serveConfig{DataDir: t.TempDir(), Models: []modelFlag{{"m", model}}}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, s TEXT)")
	var vals []string
	for i := 1; i <= 200; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'Once upon a time %d')", i, i))
	}
	mustExec(t, db, "INSERT INTO docs (id, body) VALUES "+strings.Join(vals, ", "))
	mustExec(t, db, "UPDATE docs SET body = REPEAT('The little dog ran to the park. ', 150) WHERE id = 180")
	mustExec(t, db, `UPDATE docs SET s = generate('m', body, '{"temperature": 0, "max_tokens": 4}')`)
	expectRows(t, db, "SHOW WARNINGS", "Warning|1105|generate() at row 180: prompt is 1652 tokens, longer than the model's context of 256 tokens; the value is NULL (on_error 'null')")
	expectRows(t, db, "SELECT COUNT(*), SUM(s IS NULL), MAX(IF(s IS NULL, id, 0)) FROM docs", "200|1|180")

	mustExec(t, db, "UPDATE docs SET s = NULL")
	mustExec(t, db, "SET @@llm_on_error = 'error'")
	expectError(t, db, `UPDATE docs SET s = generate('m', body, '{"temperature": 0, "max_tokens": 4}')`, "prompt is 1652 tokens")
	expectRows(t, db, "SELECT COUNT(*) FROM docs WHERE s IS NOT NULL", "0")
	// Truncated instead, with a warning.
	mustExec(t, db, `UPDATE docs SET s = generate('m', body, '{"temperature": 0, "max_tokens": 4, "truncate": "start"}') WHERE id = 180`)
	expectRows(t, db, "SHOW WARNINGS", "Warning|1265|generate() at row 1: the prompt did not fit the context; 1401 tokens were cut from its start (option truncate)")
	expectRows(t, db, "SELECT COUNT(*) FROM docs WHERE s IS NOT NULL", "1")

	// The warning count of the OK packet, as the mysql client prints it.
	client, err := exec.LookPath("mysql")
	if err != nil {
		t.Skip("the mysql client is not installed")
	}
	host, port, _ := net.SplitHostPort(ts.srv.Addr())
	out, err := exec.Command(client, "-h", host, "-P", port, "-u", "root", "-vvv", "-e",
		`UPDATE llmsql.docs SET s = generate('m', body, '{"temperature": 0, "max_tokens": 2}') WHERE id >= 179`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Query OK, 22 rows affected, 1 warning") {
		t.Fatalf("mysql client: %v\n%s", err, out)
	}
}

// TestServeKilledUpdateLeavesNoProgress: a killed UPDATE on Dolt left its
// row in llm.progress forever; and SHOW PROCESSLIST's State is one line.
func TestServeKilledUpdateLeavesNoProgress(t *testing.T) {
	for _, storage := range []string{"dolt", "memory"} {
		t.Run(storage, func(t *testing.T) {
			cfg := memoryWithModel(t)
			if storage == "dolt" {
				cfg.Memory, cfg.DataDir = false, t.TempDir()
			}
			ts := newServer(t, cfg, fakeEngine)
			db := ts.db()
			ctx := context.Background()
			mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, prompt TEXT, s TEXT)")
			mustExec(t, db, "INSERT INTO t (id, prompt) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, '"+sqlfuncstest.BlockPrefix+"d')")
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var id int64
			if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := conn.ExecContext(ctx, "UPDATE t SET s = generate('m', prompt, 0)")
				done <- err
			}()
			waitProgress(t, db, id, 4)
			deadline := time.Now().Add(time.Minute)
			for {
				var state string
				for _, r := range queryRows(t, db, "SHOW PROCESSLIST") {
					if strings.HasPrefix(r, fmt.Sprintf("%d|", id)) {
						state = strings.Split(r, "|")[6]
					}
				}
				if state == "generate(): 3 of 4 rows done, 3 tokens" {
					break
				}
				if strings.Contains(state, "\n") || time.Now().After(deadline) {
					t.Fatalf("State %q", state)
				}
				time.Sleep(5 * time.Millisecond)
			}
			mustExec(t, db, fmt.Sprintf("KILL QUERY %d", id))
			if err := <-done; err == nil {
				t.Fatal("the killed UPDATE succeeded")
			}
			deadline = time.Now().Add(time.Minute)
			for len(queryRows(t, db, "SELECT * FROM llm.progress")) != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("llm.progress after the kill: %q", queryRows(t, db, "SELECT * FROM llm.progress"))
				}
				time.Sleep(10 * time.Millisecond)
			}
			expectRows(t, db, "SELECT COUNT(*) FROM t WHERE s IS NOT NULL", "0")
		})
	}
}
