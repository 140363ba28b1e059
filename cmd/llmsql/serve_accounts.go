package main

import (
	"errors"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// errAccountsFromFlags refuses statements that change accounts.
var errAccountsFromFlags = errors.New("accounts are set by llmsql serve --user and --password; they cannot be changed through SQL")

// accountStatement says what the server does with a statement that would
// change accounts or privileges. The server's one account comes from the
// command line (serve_auth.go), so CREATE USER, GRANT and the like are
// refused before they run: go-mysql-server applies the change to its
// account tables in memory and only then asks the persister, whose refusal
// failed the statement but left the change behind (a refused CREATE USER
// left its row in mysql.user, a refused REVOKE took effect for privilege
// checks). FLUSH PRIVILEGES changes nothing and succeeds, as scripts run it
// out of habit. INSERT, UPDATE, DELETE and TRUNCATE on the mysql
// database's tables are refused too: go-mysql-server lets them through,
// and DELETE FROM mysql.user took the account's privileges away.
func accountStatement(n sql.Node) (sql.RowIter, error) {
	switch x := n.(type) {
	case *plan.InsertInto:
		return nil, refuseMySQLTarget(x.Destination)
	case *plan.Update:
		return nil, refuseMySQLTarget(x.Child)
	case *plan.DeleteFrom:
		return nil, refuseMySQLTarget(x.Child)
	case *plan.Truncate:
		return nil, refuseMySQLTarget(x.Child)
	case *plan.CreateUser, *plan.DropUser, *plan.RenameUser, *plan.AlterUser,
		*plan.CreateRole, *plan.DropRole, *plan.Grant, *plan.GrantRole, *plan.GrantProxy,
		*plan.Revoke, *plan.RevokeRole, *plan.RevokeProxy:
		return nil, errAccountsFromFlags
	case *plan.FlushPrivileges:
		return sql.RowsToRowIter(sql.Row{types.NewOkResult(0)}), nil
	}
	return nil, nil
}

// refuseMySQLTarget refuses a write whose target tree holds a table of the
// mysql database. For UPDATE and DELETE the tree is the tables read as
// well as the ones written (a join), so reading mysql.user while changing
// another table through a join is refused too; subqueries are expressions
// and not looked at.
func refuseMySQLTarget(target sql.Node) error {
	var hit bool
	transform.Inspect(target, func(n sql.Node) bool {
		if d, ok := n.(sql.Databaser); ok && d.Database() != nil && strings.EqualFold(d.Database().Name(), "mysql") {
			hit = true
		}
		return !hit
	})
	if hit {
		return errAccountsFromFlags
	}
	return nil
}
