package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	dengine "github.com/dolthub/dolt/go/cmd/dolt/commands/engine"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/env"
	dsqle "github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/libraries/utils/config"
	"github.com/dolthub/dolt/go/libraries/utils/filesys"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/llmsql/llmsql/catalog"
)

// registrationsFile holds, inside the data directory, the models
// registered through INSERT INTO llm.models. Dolt only treats directories
// as databases, so a file beside them is left alone.
const registrationsFile = "models.json"

// doltHomeDir stands in for the user's home directory, where Dolt would
// otherwise create ~/.dolt/config_global.json.
const doltHomeDir = ".dolt-home"

// doltRootOurs records that DOLT_ROOT_PATH was set by openDolt, not by the
// operator, so a later server in the same process points it at its own
// data directory.
var doltRootOurs bool

// openDolt opens (creating if needed) the Dolt databases in dataDir, one
// directory per database, with the `llm` catalog beside them.
func openDolt(dataDir string, cat *catalog.Catalog, log *slog.Logger) (_ *storage, err error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Dolt reads and writes its global config under the home directory
	// named by DOLT_ROOT_PATH, or the user's. Keep the server's inside the
	// data directory unless the operator chose one.
	if doltRootOurs || os.Getenv("DOLT_ROOT_PATH") == "" {
		os.Setenv("DOLT_ROOT_PATH", filepath.Join(abs, doltHomeDir))
		doltRootOurs = true
	}
	ctx := context.Background()
	fs, err := filesys.LocalFS.WithWorkingDir(abs)
	if err != nil {
		return nil, err
	}
	dEnv := env.Load(ctx, env.GetCurrentUserHomeDir, fs, doltdb.LocalDirDoltDB, "llmsql")
	if dEnv.CfgLoadErr != nil {
		return nil, fmt.Errorf("dolt configuration: %w", dEnv.CfgLoadErr)
	}
	// New databases need a commit author; these are used when the
	// configuration names none.
	dEnv.Config.SetFailsafes(map[string]string{
		config.UserNameKey:  "llmsql",
		config.UserEmailKey: "llmsql@localhost",
	})
	mrEnv, err := env.MultiEnvForDirectory(ctx, fs, dEnv)
	if err != nil {
		return nil, fmt.Errorf("opening the databases in %s: %w", abs, err)
	}
	// Dolt opens a database it cannot lock read-only, silently; another
	// server on the same directory is an error instead.
	err = mrEnv.Iter(func(name string, e *env.DoltEnv) (bool, error) {
		ro, err := e.IsAccessModeReadOnly(ctx)
		if err != nil {
			return true, err
		}
		if ro {
			return true, fmt.Errorf("database %s in %s is locked by another process (is another llmsql serve using this --data-dir?)", name, abs)
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}

	se, err := dengine.NewSqlEngine(ctx, mrEnv, &dengine.SqlEngineConfig{
		ServerUser:      "root",
		ServerHost:      "localhost",
		Autocommit:      true,
		ProviderFactory: llmProviderFactory{cat.Database()},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the Dolt engine: %w", err)
	}
	defer func() {
		if err != nil {
			se.Close()
		}
	}()
	if err := createDefaultDatabase(ctx, se); err != nil {
		return nil, err
	}
	log.Info("dolt databases opened", "data_dir", abs)
	return &storage{
		eng:        se.GetUnderlyingEngine(),
		ctxFactory: se.ContextFactory,
		sessions: func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
			base, err := sql.BaseSessionFromConnection(ctx, conn, addr)
			if err != nil {
				return nil, err
			}
			s, err := se.NewDoltSession(ctx, base)
			if err != nil {
				return nil, err
			}
			s.SetCurrentDatabase(defaultDatabase)
			return s, nil
		},
		close: se.Close,
	}, nil
}

func createDefaultDatabase(ctx context.Context, se *dengine.SqlEngine) error {
	sqlCtx, err := se.NewLocalContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(sqlCtx.Session)
	if err := sql.SessionCommandBegin(sqlCtx.Session); err != nil {
		return err
	}
	defer sql.SessionCommandEnd(sqlCtx.Session)
	if err := queryAll(sqlCtx, se.GetUnderlyingEngine(), "CREATE DATABASE IF NOT EXISTS "+defaultDatabase); err != nil {
		return fmt.Errorf("creating the %s database: %w", defaultDatabase, err)
	}
	return nil
}

// llmProviderFactory makes Dolt's database provider and puts the catalog
// beside its databases.
type llmProviderFactory struct {
	llm sql.Database
}

func (f llmProviderFactory) NewProvider(ctx context.Context, defaultBranch string, fs filesys.Filesys, dbs []dsess.SqlDatabase, locations []filesys.Filesys, overrides sql.EngineOverrides) (sql.DatabaseProvider, error) {
	p, err := dsqle.DoltProviderFactory{}.NewProvider(ctx, defaultBranch, fs, dbs, locations, overrides)
	if err != nil {
		return nil, err
	}
	dp, ok := p.(*dsqle.DoltDatabaseProvider)
	if !ok {
		return nil, fmt.Errorf("unexpected Dolt provider %T", p)
	}
	return &doltProvider{dp, f.llm}, nil
}

// doltProvider is Dolt's provider with the `llm` database added. Embedding
// the concrete provider keeps every interface Dolt and go-mysql-server
// look for (dsess.DoltDatabaseProvider among them); only lookups by name
// and database creation are intercepted.
type doltProvider struct {
	*dsqle.DoltDatabaseProvider
	llm sql.Database
}

var _ dsqle.DoltProviderUnwrapper = (*doltProvider)(nil)

func (p *doltProvider) UnderlyingDoltProvider() *dsqle.DoltDatabaseProvider {
	return p.DoltDatabaseProvider
}

func isLLM(name string) bool { return strings.EqualFold(name, catalog.DatabaseName) }

func (p *doltProvider) Database(ctx *sql.Context, name string) (sql.Database, error) {
	if isLLM(name) {
		return p.llm, nil
	}
	return p.DoltDatabaseProvider.Database(ctx, name)
}

func (p *doltProvider) HasDatabase(ctx *sql.Context, name string) bool {
	return isLLM(name) || p.DoltDatabaseProvider.HasDatabase(ctx, name)
}

func (p *doltProvider) AllDatabases(ctx *sql.Context) []sql.Database {
	all := append(p.DoltDatabaseProvider.AllDatabases(ctx), p.llm)
	sort.Slice(all, func(i, j int) bool { return strings.ToLower(all[i].Name()) < strings.ToLower(all[j].Name()) })
	return all
}

func (p *doltProvider) CreateDatabase(ctx *sql.Context, name string) error {
	if isLLM(name) {
		return sql.ErrDatabaseExists.New(name)
	}
	return p.DoltDatabaseProvider.CreateDatabase(ctx, name)
}

func (p *doltProvider) CreateCollatedDatabase(ctx *sql.Context, name string, collation sql.CollationID) error {
	if isLLM(name) {
		return sql.ErrDatabaseExists.New(name)
	}
	return p.DoltDatabaseProvider.CreateCollatedDatabase(ctx, name, collation)
}

func (p *doltProvider) DropDatabase(ctx *sql.Context, name string) error {
	if isLLM(name) {
		return fmt.Errorf("the %s database is built in and cannot be dropped", catalog.DatabaseName)
	}
	return p.DoltDatabaseProvider.DropDatabase(ctx, name)
}

func (p *doltProvider) WithTableFunctions(fns ...sql.TableFunction) (sql.TableFunctionProvider, error) {
	inner, err := p.DoltDatabaseProvider.WithTableFunctions(fns...)
	if err != nil {
		return nil, err
	}
	dp, ok := inner.(*dsqle.DoltDatabaseProvider)
	if !ok {
		return inner, nil
	}
	return &doltProvider{dp, p.llm}, nil
}
