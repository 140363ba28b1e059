package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// Files the server reads and writes for SQL (LOAD_FILE, LOAD DATA INFILE,
// SELECT ... INTO OUTFILE/DUMPFILE) are confined to one directory, as
// MySQL's secure_file_priv does: by default the directory "files" inside
// the data directory; with --memory, or --secure-file-priv none, file
// access is off. go-mysql-server reads an empty secure_file_priv as "any
// file" and checks the directory by path prefix (so /data/files2 passes
// for /data/files); fileGuard checks each statement's file against the
// directory itself, following symbolic links, before go-mysql-server runs
// it. LOAD DATA LOCAL reads the client's file and is not affected.

// secureFileDefault names the default directory inside the data directory.
const secureFileDefault = "files"

// disabledSecureFilePriv is what @@secure_file_priv holds when file access
// is off: go-mysql-server's variable cannot be NULL, and "" would mean any
// file, so it names a directory that cannot exist.
const disabledSecureFilePriv = "/proc/llmsql-file-access-disabled"

// resolveSecureFilePriv returns the directory SQL may read and write
// files in ("" when file access is off), creating the default one.
func resolveSecureFilePriv(cfg serveConfig) (string, error) {
	switch v := cfg.SecureFilePriv; {
	case v == "none":
		return "", nil
	case v == "" || v == "auto":
		if cfg.Memory {
			return "", nil
		}
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, secureFileDefault))
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", fmt.Errorf("--secure-file-priv: %w", err)
		}
		return dir, nil
	default:
		dir, err := filepath.Abs(v)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(dir)
		if err != nil {
			return "", fmt.Errorf("--secure-file-priv: %w", err)
		}
		if !st.IsDir() {
			return "", fmt.Errorf("--secure-file-priv: %s is not a directory", dir)
		}
		return dir, nil
	}
}

// fileGuard is the executable-tree hook that checks file access.
type fileGuard struct {
	prev sql.NodeExecBuilder
	dir  string // "" = file access off
}

// installFileGuard sets @@secure_file_priv and hooks eng's builder; the
// batching hook, installed after, chains to it.
func installFileGuard(eng *sqle.Engine, dir string) error {
	value := dir
	if value == "" {
		value = disabledSecureFilePriv
	}
	if err := sql.SystemVariables.AssignValues(map[string]any{"secure_file_priv": value}); err != nil {
		return err
	}
	base := eng.Analyzer.ExecBuilder
	if base == nil {
		return fmt.Errorf("the engine has no executable-tree builder to hook")
	}
	base.PriorityBuilder = &fileGuard{prev: base.PriorityBuilder, dir: dir}
	return nil
}

func (g *fileGuard) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	// The same hook refuses account changes (serve_accounts.go).
	if iter, err := accountStatement(n); iter != nil || err != nil {
		return iter, err
	}
	if err := g.check(ctx, n); err != nil {
		return nil, err
	}
	if g.prev != nil {
		return g.prev.Build(ctx, n, row)
	}
	return nil, nil
}

func (g *fileGuard) check(ctx *sql.Context, n sql.Node) error {
	switch x := n.(type) {
	case *plan.LoadData:
		if !x.Local {
			return g.allowed("LOAD DATA INFILE", x.File)
		}
	case *plan.Into:
		if x.Outfile != "" {
			return g.allowed("SELECT ... INTO OUTFILE", x.Outfile)
		}
		if x.Dumpfile != "" {
			return g.allowed("SELECT ... INTO DUMPFILE", x.Dumpfile)
		}
	}
	if g.dir == "" {
		if ex, ok := n.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				if transform.InspectExpr(ctx, e, func(_ *sql.Context, e sql.Expression) bool {
					_, is := e.(*function.LoadFile)
					return is
				}) {
					return g.disabled("LOAD_FILE()")
				}
			}
		}
	}
	return nil
}

func (g *fileGuard) disabled(what string) error {
	return fmt.Errorf("%s is disabled: secure_file_priv is NULL (start llmsql serve with --secure-file-priv DIR to allow files in DIR)", what)
}

// allowed checks that file lies inside the directory, symbolic links
// followed (a file yet to be written: its directory).
func (g *fileGuard) allowed(what, file string) error {
	if g.dir == "" {
		return g.disabled(what)
	}
	deny := fmt.Errorf("%s: %s is outside secure_file_priv %s", what, file, g.dir)
	abs, err := filepath.Abs(file)
	if err != nil {
		return deny
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		// Not there yet (INTO OUTFILE): its directory must be.
		parent, perr := filepath.EvalSymlinks(filepath.Dir(abs))
		if perr != nil {
			return deny
		}
		real = filepath.Join(parent, filepath.Base(abs))
	}
	root, err := filepath.EvalSymlinks(g.dir)
	if err != nil {
		return deny
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return deny
	}
	return nil
}
