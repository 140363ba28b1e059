package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesEmptyPasswordOffLoopback: --user with an empty password
// on a public address let anyone log in as that user.
func TestServeRefusesEmptyPasswordOffLoopback(t *testing.T) {
	_, err := startServer(serveConfig{Memory: true, Addr: "0.0.0.0:0", User: "admin", Password: ""})
	if err == nil || !strings.Contains(err.Error(), "with an empty --password") {
		t.Fatalf("0.0.0.0 with an empty password: %v", err)
	}
	var stderr strings.Builder
	if code := run([]string{"serve", "--memory", "--addr", "0.0.0.0:0", "--user", "admin", "--password", ""}, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "empty --password") {
		t.Fatalf("serve: exit %d, %s", code, stderr.String())
	}
	// On loopback an account without a password is the user's choice.
	srv, err := startServer(serveConfig{Memory: true, Addr: "127.0.0.1:0", User: "admin", Password: ""})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// TestServeModelPathsAreNotAnOracle: registering a file that is not GGUF
// says so without echoing its bytes (it printed magic "root" for
// /etc/passwd); with --allow-any-model-path=false, SQL registers only files
// in the models directory.
func TestServeModelPathsAreNotAnOracle(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("root:x:0:0:hunter2"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serveConfig{Memory: true}, fakeEngine)
	db := ts.db()
	for _, f := range []string{secret, "/etc/passwd"} {
		_, err := db.Exec(fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('p', '%s')", f))
		if err == nil || !strings.Contains(err.Error(), "not a GGUF file") || strings.Contains(err.Error(), "root") {
			t.Fatalf("%s: %v", f, err)
		}
	}

	modelsDir := t.TempDir()
	inside := writeTinyModel(t, modelsDir, "inside", 10)
	outside := writeTinyModel(t, t.TempDir(), "outside", 10)
	if err := os.Symlink(outside, filepath.Join(modelsDir, "link.gguf")); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig{Memory: true, RestrictModelPaths: true}
	cfg.Hub.Dir = modelsDir
	ts2 := newServer(t, cfg, fakeEngine)
	db2 := ts2.db()
	mustExec(t, db2, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('in', '%s')", inside))
	for _, f := range []string{outside, filepath.Join(modelsDir, "link.gguf"), filepath.Join(modelsDir, "..", filepath.Base(filepath.Dir(outside)), "outside.gguf"), "/etc/passwd"} {
		expectError(t, db2, fmt.Sprintf("INSERT INTO llm.models (name, path) VALUES ('out', '%s')", f), "model files must be in the models directory")
	}
	expectError(t, db2, fmt.Sprintf("UPDATE llm.models SET path = '%s' WHERE name = 'in'", outside), "model files must be in the models directory")
	expectRows(t, db2, "SELECT name FROM llm.models", "in")
	// Without a models directory nothing would be restricted: refused.
	if _, err := startServer(serveConfig{Memory: true, Addr: "127.0.0.1:0", RestrictModelPaths: true}); err == nil || !strings.Contains(err.Error(), "needs a models directory") {
		t.Fatalf("restricted without a models directory: %v", err)
	}
	if cfg, err := parseServe([]string{"--allow-any-model-path=false"}, io.Discard); err != nil || !cfg.RestrictModelPaths {
		t.Fatalf("flag: %+v, %v", cfg.RestrictModelPaths, err)
	}
}

// TestServeAccountChangesLeaveNoTrace: accounts come from --user and
// --password, so CREATE USER, GRANT and the like are refused, and a
// refused statement leaves nothing behind (CREATE USER left its row in
// mysql.user; REVOKE took the privilege away in memory).
func TestServeAccountChangesLeaveNoTrace(t *testing.T) {
	for _, mode := range []string{"memory", "dolt"} {
		t.Run(mode, func(t *testing.T) {
			cfg := serveConfig{Memory: mode == "memory", DataDir: t.TempDir(), User: "admin", Password: "pw"}
			ts := newServer(t, cfg, fakeEngine)
			db := ts.db("admin", "pw")
			users := func() string {
				t.Helper()
				rows, err := db.Query("SELECT User, Host, Select_priv, Insert_priv FROM mysql.user ORDER BY User, Host")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var all []string
				for rows.Next() {
					var u, h, s, i string
					if err := rows.Scan(&u, &h, &s, &i); err != nil {
						t.Fatal(err)
					}
					all = append(all, u+"@"+h+":"+s+i)
				}
				return strings.Join(all, ",")
			}
			before := users()
			if !strings.Contains(before, "admin@") {
				t.Fatalf("mysql.user: %s", before)
			}
			mustExec(t, db, "CREATE TABLE t (a INT)")
			for _, stmt := range []string{
				"CREATE USER bob IDENTIFIED BY 'x'",
				"CREATE USER IF NOT EXISTS bob",
				"CREATE ROLE reader",
				"GRANT SELECT ON *.* TO bob",
				"GRANT ALL ON *.* TO admin",
				"REVOKE INSERT ON *.* FROM admin",
				"REVOKE ALL PRIVILEGES, GRANT OPTION FROM admin",
				"ALTER USER admin IDENTIFIED BY 'other'",
				"RENAME USER admin TO eve",
				"DROP USER admin",
				"DROP ROLE IF EXISTS reader",
			} {
				expectError(t, db, stmt, "cannot be changed through SQL")
				if after := users(); after != before {
					t.Fatalf("%s changed mysql.user:\n%s\nto\n%s", stmt, before, after)
				}
			}
			for _, stmt := range []string{
				"INSERT INTO mysql.user (Host, User) VALUES ('%', 'bob')",
				"UPDATE mysql.user SET Insert_priv = 'N'",
				"DELETE FROM mysql.user",
				"REPLACE INTO mysql.user (Host, User) VALUES ('%', 'bob')",
				"TRUNCATE TABLE mysql.user",
				"DROP TABLE mysql.user",
				"ALTER TABLE mysql.user ADD COLUMN x INT",
			} {
				if _, err := db.Exec(stmt); err == nil {
					t.Errorf("%s: no error", stmt)
				}
			}
			if after := users(); after != before {
				t.Fatalf("writing to mysql.user changed it:\n%s\nto\n%s", before, after)
			}
			mustExec(t, db, "FLUSH PRIVILEGES")
			// Reading the account tables into another table is fine.
			mustExec(t, db, "INSERT INTO t SELECT COUNT(*) FROM mysql.user")
			expectRows(t, db, "SELECT COUNT(*) FROM t", "1")
			if err := ts.db("bob", "x").Ping(); err == nil {
				t.Fatal("bob could connect")
			}
			if err := ts.db("admin", "other").Ping(); err == nil {
				t.Fatal("admin's password changed")
			}
		})
	}
}
