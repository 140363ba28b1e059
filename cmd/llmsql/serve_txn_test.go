package main

import (
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

type openTxn struct{}

func (openTxn) String() string   { return "open" }
func (openTxn) IsReadOnly() bool { return false }

// TestEndFailedStatementTransaction: a statement that fails at its end
// (a KILL QUERY landing while an UPDATE commits) ends its implicit
// autocommit transaction, so the failed statement's changes are not seen,
// and committed, by the connection's next statement (TestSoak caught a
// killed UPDATE's rows showing up). An explicit transaction is the
// client's and stays; so does the transaction of a session with
// autocommit off.
func TestEndFailedStatementTransaction(t *testing.T) {
	g := &connGuard{sessions: &sync.Map{}}
	conn := &mysql.Conn{ConnectionID: 7}
	sess := sql.NewBaseSession()
	g.sessions.Store(conn.ConnectionID, sess)

	sess.SetTransaction(openTxn{})
	g.endFailed(conn)
	if sess.GetTransaction() != nil {
		t.Fatal("an autocommit statement's transaction outlived its failure")
	}

	sess.SetTransaction(openTxn{})
	sess.SetIgnoreAutoCommit(true) // BEGIN
	g.endFailed(conn)
	if sess.GetTransaction() == nil {
		t.Fatal("an explicit transaction was ended by a failed statement")
	}
	sess.SetIgnoreAutoCommit(false)

	ctx := sql.NewContext(t.Context(), sql.WithSession(sess))
	if err := sess.SetSessionVariable(ctx, "autocommit", int8(0)); err != nil {
		t.Fatal(err)
	}
	g.endFailed(conn)
	if sess.GetTransaction() == nil {
		t.Fatal("with autocommit off, a failed statement ended the transaction")
	}

	g.endFailed(&mysql.Conn{ConnectionID: 8}) // no session: nothing to do
}
