package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// TestServeInterruptedIsError1317: KILL QUERY gives MySQL's error 1317
// (SQLSTATE 70100), also to a SELECT that was already streaming rows (it
// lost its connection instead), through the text protocol and prepared
// statements.
func TestServeInterruptedIsError1317(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	db.SetMaxIdleConns(0) // a connection killed mid-stream is not reused
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT)")
	var vals []string
	// Rows of a kilobyte: the server's writes reach the client as they
	// go, so the killer below can wait for the client to have read rows
	// (small rows would sit in the connection's write buffer until the
	// statement ends).
	for i := 1; i <= 300; i++ {
		prompt := fmt.Sprintf("row %d %s", i, strings.Repeat("x", 1000))
		if i == 300 {
			prompt = sqlfuncstest.BlockPrefix + prompt
		}
		vals = append(vals, fmt.Sprintf("(%d, '%s')", i, prompt))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(vals, ", "))

	for _, c := range []struct {
		name string
		q    string
		args []any
		rows int // rows the client reads before the error, at least
	}{
		{"one row", "SELECT generate('m', '" + sqlfuncstest.BlockPrefix + "x', 0)", nil, 0},
		{"streaming", "SELECT id, generate('m', prompt, 0) FROM p ORDER BY id", nil, 128},
		{"prepared, streaming", "SELECT id, generate('m', prompt, ?) FROM p ORDER BY id", []any{0}, 128},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The previous case's blocked call may still be unwinding: the
			// killer below must see this query's, not that one's.
			for deadline := time.Now().Add(time.Minute); ts.fake.Blocked() != 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var id int64
			if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
				t.Fatal(err)
			}
			// The kill comes once the blocking call runs and the client
			// has read the rows it must see before the error (a pause
			// would not do: on a loaded machine the server may not have
			// sent them yet); if they never come, it comes anyway and
			// the count below fails.
			var read atomic.Int64
			go func() {
				deadline := time.Now().Add(time.Minute)
				for (ts.fake.Blocked() == 0 || read.Load() < int64(c.rows)) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				db.Exec(fmt.Sprintf("KILL QUERY %d", id))
			}()
			rows, err := conn.QueryContext(ctx, c.q, c.args...)
			n := 0
			if err == nil {
				for rows.Next() {
					n++
					read.Store(int64(n))
				}
				err = rows.Err()
				rows.Close()
			}
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1317 || string(me.SQLState[:]) != "70100" || me.Message != "Query execution was interrupted" {
				t.Fatalf("after %d rows: got %v, want error 1317 (70100) Query execution was interrupted", n, err)
			}
			if n < c.rows {
				t.Fatalf("read %d rows before the error, want at least %d", n, c.rows)
			}
		})
	}
	expectRows(t, db, "SELECT 1", "1")
}
