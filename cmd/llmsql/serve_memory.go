package main

import (
	"context"
	"fmt"
	"strings"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/llmsql/llmsql/catalog"
)

// openMemory is --memory: go-mysql-server's in-memory databases, lost at
// exit, with model registrations that last for the run only.
func openMemory(cat *catalog.Catalog) (*storage, error) {
	inner := memory.NewDBProvider(memory.NewDatabase(defaultDatabase), cat.Database())
	pro := &memoryProvider{inner}
	eng := sqle.NewDefault(pro)
	newSession := memory.NewSessionBuilder(inner)
	return &storage{
		eng:        eng,
		ctxFactory: sql.NewContext,
		sessions: func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
			s, err := newSession(ctx, conn, addr)
			if err != nil {
				return nil, err
			}
			s.SetCurrentDatabase(defaultDatabase)
			return s, nil
		},
		close: eng.Close,
	}, nil
}

// memoryProvider keeps DROP DATABASE llm from removing the catalog.
type memoryProvider struct {
	*memory.DbProvider
}

// ExternalStoredProcedure makes CALL dolt_commit(...) and Dolt's other
// procedures say why they are missing: they belong to the Dolt storage,
// which --memory leaves out (go-mysql-server said only "stored procedure
// does not exist").
func (p *memoryProvider) ExternalStoredProcedure(ctx *sql.Context, name string, numOfParams int) (*sql.ExternalStoredProcedureDetails, error) {
	if strings.HasPrefix(strings.ToLower(name), "dolt_") {
		return nil, mysql.NewSQLError(mysql.ERSPDoesNotExist, mysql.SSClientError,
			"PROCEDURE %s does not exist: Dolt's procedures (dolt_commit, dolt_branch, dolt_merge, ...), its system tables and AS OF need the Dolt storage, and this server runs with --memory; start llmsql serve with --data-dir DIR instead", name)
	}
	return p.DbProvider.ExternalStoredProcedure(ctx, name, numOfParams)
}

func (p *memoryProvider) DropDatabase(ctx *sql.Context, name string) error {
	if strings.EqualFold(name, catalog.DatabaseName) {
		return fmt.Errorf("the %s database is built in and cannot be dropped", catalog.DatabaseName)
	}
	return p.DbProvider.DropDatabase(ctx, name)
}
