package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

// TestServeModelFileChanges: a loaded model's file overwritten in place
// while a statement generates with it. Before, the server died of SIGBUS
// (the file shrank under its mapping) or, for a larger file, answered from
// the old weights with stale llm.models rows. Now the statement fails
// saying why, the server lives, and the next statements use the new file.
func TestServeModelFileChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server process")
	}
	spec := synth.Tiny()
	spec.Embd, spec.FF, spec.Layers, spec.Context = 256, 512, 4, 512
	dir := t.TempDir()
	small := spec
	small.Type = gguf.TypeQ8_0
	origPath, bigPath := filepath.Join(dir, "orig.gguf"), filepath.Join(dir, "big.gguf")
	if err := synth.Write(origPath, small); err != nil {
		t.Fatal(err)
	}
	spec.Seed = 5 // a different, larger (F32) model
	if err := synth.Write(bigPath, spec); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(origPath)
	big, _ := os.ReadFile(bigPath)
	path := filepath.Join(dir, "m.gguf")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// Mapped (LLMSQL_MMAP=1), the server reads weights from the file while
	// it generates, so the file changing under it is what this tests (read
	// into memory, the default, a running statement does not see it).
	c := startChild(t, childOptions{env: []string{"LLMSQL_MMAP=1"}}, "--memory", "--model", "m="+path, "--model", "big="+bigPath)
	db := c.db()
	const q = `SELECT generate('m', 'Once upon a time', '{"temperature": 0, "max_tokens": 16}')`
	want := queryRows(t, db, q)
	wantBig := queryRows(t, db, strings.Replace(q, "'m'", "'big'", 1))

	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, s TEXT)")
	for i := 0; i < 32; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO p (id) VALUES (%d)", i))
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(context.Background(), `UPDATE p SET s = generate('m', CONCAT('Story ', id),
			'{"temperature": 0, "max_tokens": 400, "ignore_eos": true}')`)
		done <- err
	}()
	// Truncate the file once tokens are flowing.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var tokens int64
		_ = db.QueryRow("SELECT COALESCE(SUM(tokens_generated), 0) FROM llm.progress").Scan(&tokens)
		if tokens > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the statement never generated")
		}
		select {
		case err := <-done:
			t.Fatalf("the statement ended before the file changed: %v", err)
		default:
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "changed") {
			t.Fatalf("the statement over a truncated file: %v, want an error saying the file changed", err)
		}
		t.Logf("statement error: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the statement did not end")
	}
	c.alive()
	expectRows(t, db, "SELECT COUNT(*) FROM p WHERE s IS NOT NULL", "0") // the statement rolled back

	// While broken: an error for each call, nothing else.
	expectError(t, db, q, "changed and cannot be used now")
	// A larger, different file written in place: llm.models and the
	// answers follow it.
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	expectRows(t, db, "SELECT file_bytes FROM llm.models WHERE name = 'm'", fmt.Sprint(len(big)))
	expectRows(t, db, q, wantBig...)
	// And back.
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	expectRows(t, db, q, want...)
	c.alive()
}
