package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServeSecureFilePriv: LOAD_FILE, LOAD DATA INFILE and INTO OUTFILE
// reach only the secure_file_priv directory (files/ in the data directory
// by default), and nothing with --memory or --secure-file-priv none. They
// read and created files anywhere the server could.
func TestServeSecureFilePriv(t *testing.T) {
	dataDir := t.TempDir()
	ts := newServer(t, serveConfig{DataDir: dataDir}, fakeEngine)
	db := ts.db()
	dir := filepath.Join(dataDir, "files")
	expectRows(t, db, "SELECT @@secure_file_priv", dir)
	expectRows(t, db, "SELECT LOAD_FILE('/etc/hostname') IS NULL", "1")
	mustExec(t, db, "CREATE TABLE t (a TEXT)")
	expectError(t, db, "LOAD DATA INFILE '/etc/hostname' INTO TABLE t", "outside secure_file_priv")
	mustExec(t, db, "INSERT INTO t VALUES ('one'), ('two')")
	out := filepath.Join(dir, "out.txt")
	mustExec(t, db, "SELECT a FROM t ORDER BY a INTO OUTFILE '"+out+"'")
	expectRows(t, db, "SELECT LOAD_FILE('"+out+"')", "one\ntwo\n")
	mustExec(t, db, "LOAD DATA INFILE '"+out+"' INTO TABLE t")
	expectRows(t, db, "SELECT COUNT(*) FROM t", "4")

	for _, f := range []string{filepath.Join(t.TempDir(), "outside"), filepath.Join(dataDir, "files2", "x"), filepath.Join(dir, "..", "escaped")} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		expectError(t, db, "SELECT a FROM t INTO OUTFILE '"+f+"'", "outside secure_file_priv")
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was written", f)
		}
	}
	// A link inside the directory does not lead out of it.
	if err := os.Symlink("/etc", filepath.Join(dir, "etc")); err != nil {
		t.Fatal(err)
	}
	expectError(t, db, "LOAD DATA INFILE '"+filepath.Join(dir, "etc", "hostname")+"' INTO TABLE t", "outside secure_file_priv")

	for name, cfg := range map[string]serveConfig{
		"memory": {Memory: true},
		"none":   {DataDir: t.TempDir(), SecureFilePriv: "none"},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newServer(t, cfg, fakeEngine)
			db := ts.db()
			expectError(t, db, "SELECT LOAD_FILE('/etc/hostname')", "LOAD_FILE() is disabled: secure_file_priv is NULL")
			mustExec(t, db, "CREATE TABLE t (a TEXT)")
			expectError(t, db, "INSERT INTO t VALUES (LOAD_FILE('/etc/hostname'))", "is disabled")
			expectError(t, db, "LOAD DATA INFILE '/etc/hostname' INTO TABLE t", "LOAD DATA INFILE is disabled")
			out := filepath.Join(t.TempDir(), "out")
			expectError(t, db, "SELECT 1 INTO OUTFILE '"+out+"'", "INTO OUTFILE is disabled")
			if _, err := os.Stat(out); err == nil {
				t.Error("the file was written")
			}
		})
	}
}
