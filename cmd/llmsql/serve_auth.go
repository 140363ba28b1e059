package main

import (
	"crypto/sha1"
	"net"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// account is the single account the server accepts, checked by the wire
// protocol listener itself. go-mysql-server's account tables are left out
// of authentication on purpose: an account created through SQL would
// otherwise be able to connect, and the command line is meant to be the
// one word on who may. Without --user the account is root with no
// password, from loopback addresses only.
type account struct {
	user         string
	hash         []byte // SHA1(SHA1(password)), nil for no password
	loopbackOnly bool
}

func newAccount(user, password string) *account {
	if user == "" {
		return &account{user: "root", loopbackOnly: true}
	}
	a := &account{user: user}
	if password != "" {
		h1 := sha1.Sum([]byte(password))
		h2 := sha1.Sum(h1[:])
		a.hash = h2[:]
	}
	return a
}

var (
	_ mysql.AuthServer    = (*account)(nil)
	_ mysql.HashStorage   = (*account)(nil)
	_ mysql.UserValidator = (*account)(nil)
)

// AuthMethods offers mysql_native_password only; clients asking for
// caching_sha2_password are switched to it during the handshake.
func (a *account) AuthMethods() []mysql.AuthMethod {
	return []mysql.AuthMethod{mysql.NewMysqlNativeAuthMethod(a, a)}
}

func (a *account) DefaultAuthMethodDescription() mysql.AuthMethodDescription {
	return mysql.MysqlNativePassword
}

// HandleUser accepts every name, so a wrong user gets the same "access
// denied" as a wrong password.
func (a *account) HandleUser(string, net.Addr) bool { return true }

func (a *account) UserEntryWithHash(_ *mysql.Conn, salt []byte, user string, authResponse []byte, remoteAddr net.Addr) (mysql.Getter, error) {
	host := ""
	if tcp, ok := remoteAddr.(*net.TCPAddr); ok {
		host = tcp.IP.String()
	}
	ok := user == a.user
	if a.loopbackOnly {
		tcp, isTCP := remoteAddr.(*net.TCPAddr)
		ok = ok && isTCP && tcp.IP.IsLoopback()
	}
	if a.hash == nil {
		ok = ok && len(authResponse) == 0
	} else {
		ok = ok && mysql.VerifyHashedMysqlNativePassword(authResponse, salt, a.hash)
	}
	if !ok {
		return nil, mysql.NewSQLError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError, "Access denied for user '%v'", user)
	}
	return sql.MysqlConnectionUser{User: user, Host: host}, nil
}

// listenerWithAccount makes the protocol listener authenticate with acct
// instead of go-mysql-server's account tables.
func listenerWithAccount(acct *account) server.ProtocolListenerFunc {
	return func(cfg server.Config, lc mysql.ListenerConfig, sel server.ServerEventListener) (server.ProtocolListener, error) {
		lc.AuthServer = acct
		return server.MySQLProtocolListenerFactory(cfg, lc, sel)
	}
}

// grantAccount gives acct every privilege in go-mysql-server's account
// tables, which it still consults for privilege checks. CREATE USER, GRANT
// and the like are refused before they run (serve_accounts.go); the
// persister refuses too, in case one slips past (without a persister
// go-mysql-server crashes on them).
func grantAccount(eng *sqle.Engine, acct *account) {
	db := eng.Analyzer.Catalog.MySQLDb
	db.SetPersister(refusePersister{})
	ed := db.Editor()
	defer ed.Close()
	host := "%"
	if acct.loopbackOnly {
		host = "localhost"
	}
	db.AddEphemeralSuperUser(ed, acct.user, host, "")
}

type refusePersister struct{}

var _ mysql_db.MySQLDbPersistence = refusePersister{}

func (refusePersister) Persist(*sql.Context, []byte) error {
	return errAccountsFromFlags
}
