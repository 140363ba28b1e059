package main

import (
	"net"
	"testing"

	"github.com/dolthub/vitess/go/mysql"
)

func TestAccount(t *testing.T) {
	salt := []byte("01234567890123456789")
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5000}
	scramble := func(pw string) []byte {
		if pw == "" {
			return nil
		}
		return mysql.ScrambleMysqlNativePassword(salt, []byte(pw))
	}
	for _, c := range []struct {
		name       string
		acct       *account
		user, pass string
		addr       net.Addr
		ok         bool
	}{
		{"root from loopback", newAccount("", ""), "root", "", local, true},
		{"root from elsewhere", newAccount("", ""), "root", "", remote, false},
		{"root with a password", newAccount("", ""), "root", "x", local, false},
		{"another user", newAccount("", ""), "bob", "", local, false},
		{"right password", newAccount("alice", "pw"), "alice", "pw", remote, true},
		{"wrong password", newAccount("alice", "pw"), "alice", "pW", remote, false},
		{"no password", newAccount("alice", "pw"), "alice", "", remote, false},
		{"root when an account is set", newAccount("alice", "pw"), "root", "", local, false},
		{"empty password account", newAccount("alice", ""), "alice", "", remote, true},
	} {
		g, err := c.acct.UserEntryWithHash(nil, salt, c.user, scramble(c.pass), c.addr)
		if (err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if c.ok && g.Get().Username != c.user {
			t.Errorf("%s: authenticated as %q", c.name, g.Get().Username)
		}
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:3306": true, "localhost:3306": true, "[::1]:3306": true,
		"0.0.0.0:3306": false, ":3306": false, "10.1.2.3:3306": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v", addr, got)
		}
	}
}
