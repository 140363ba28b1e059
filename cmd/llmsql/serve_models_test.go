package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/llmsql/llmsql/internal/testutil"
)

// TestServeModelsDuplicateAndUpdate: registering a name twice is MySQL's
// duplicate-key error 1062; UPDATE llm.models SET path re-registers the
// name over another file (and SET name renames), persistently on Dolt.
func TestServeModelsDuplicateAndUpdate(t *testing.T) {
	dir := t.TempDir()
	a := writeTinyModel(t, dir, "a", 30)
	b := writeTinyModel(t, dir, "b", 40)
	cfg := serveConfig{DataDir: t.TempDir()}
	ts := newServer(t, cfg, fakeEngine)
	db := ts.db()
	mustExec(t, db, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('m', '%s')", a))
	_, err := db.Exec(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('m', '%s')", b))
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 || string(me.SQLState[:]) != "23000" {
		t.Fatalf("duplicate name: %v, want error 1062 (23000)", err)
	}
	t.Logf("duplicate: %v", err)

	mustExec(t, db, fmt.Sprintf("UPDATE llm.models SET path = '%s' WHERE name = 'm'", b))
	expectRows(t, db, "SELECT name, vocab_size FROM llm.models", "m|40")
	expectRows(t, db, "SELECT generate('m', 'still works', 0)", "STILL WORKS")
	mustExec(t, db, "UPDATE llm.models SET name = 'n' WHERE name = 'm'")
	expectRows(t, db, "SELECT name, path FROM llm.models", "n|"+b)
	// A bad path leaves the registration as it was.
	expectError(t, db, "UPDATE llm.models SET path = '/no/such.gguf' WHERE name = 'n'", "no such file")
	expectRows(t, db, "SELECT name, path FROM llm.models", "n|"+b)
	expectError(t, db, "UPDATE llm.models SET vocab_size = 3 WHERE name = 'n'", "only name and path can be set")
	mustExec(t, db, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('o', '%s')", a))
	_, err = db.Exec("UPDATE llm.models SET name = 'o' WHERE name = 'n'")
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("renaming onto a taken name: %v", err)
	}
	expectRows(t, db, "SELECT name FROM llm.models ORDER BY name", "n", "o")

	// The updated registration is what the next start restores.
	db.Close()
	ts.close()
	ts2 := newServer(t, cfg, fakeEngine)
	expectRows(t, ts2.db(), "SELECT name, path FROM llm.models ORDER BY name", "n|"+b, "o|"+a)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, registrationsFile)); err != nil {
		t.Fatal(err)
	}
}

// TestServeModelsQuantizationOfF32File: llm.models.quantization is filled
// for a file without general.file_type (stories260K, F32, converted from
// llama2.c), with the type llama.cpp guesses; it was NULL.
func TestServeModelsQuantizationOfF32File(t *testing.T) {
	cfg := serveConfig{Memory: true, Models: []modelFlag{{"s", testutil.Shared(t, "models/stories260K.gguf")}}}
	ts := newServer(t, cfg, fakeEngine)
	expectRows(t, ts.db(), "SELECT quantization FROM llm.models WHERE name = 's'", "ALL_F32")
}
