package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// flood opens n TCP connections that never log in and returns them.
func flood(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			continue // the backlog is full: the server is not accepting fast enough, which is fine
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// TestServeConnectionFlood is the repro: connections that never log
// in, more than the process has file descriptors. The server must keep
// running, close them after connect_timeout, and serve again.
func TestServeConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server process")
	}
	c := startChild(t, childOptions{fdLimit: 256}, "--memory", "--max-connections", "1000")
	mustExec(t, c.db(), "SET GLOBAL connect_timeout = 2")
	start := time.Now()
	conns := flood(t, c.addr, 400)
	if len(conns) < 256 {
		t.Logf("only %d connections were opened", len(conns))
	}
	// Give the server time to run out of descriptors and retry.
	time.Sleep(500 * time.Millisecond)
	c.alive()
	// The connections that did get a descriptor are closed after the
	// login timeout; then the others are accepted in turn, and closed too.
	if err := c.pingWithin(30 * time.Second); err != nil {
		t.Fatalf("no login within 30 s of the flood: %v", err)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Logf("a login got through after %v (before the login timeout: a descriptor was free)", took)
	}
	c.alive()
	// The flooding connections were closed by the server.
	closed := 0
	for _, fc := range conns[:min(len(conns), 50)] {
		fc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(fc); err == nil || errors.Is(err, syscall.ECONNRESET) {
			closed++
		}
	}
	if closed < min(len(conns), 50) {
		t.Errorf("%d of %d flooding connections were closed by the server", closed, min(len(conns), 50))
	}
	expectRows(t, c.db(), "SELECT 1", "1")
	if !strings.Contains(c.stderr.String(), "accepting a connection failed; retrying") {
		t.Errorf("no accept retry in the log: the test did not exhaust the descriptors")
	}
	if err := c.stop(); err != nil {
		t.Fatalf("the server exited with %v after SIGTERM, want 0", err)
	}
}

// TestServeMaxConnections: one connection over --max-connections is told
// 1040 Too many connections, and the cap frees as connections close.
func TestServeMaxConnections(t *testing.T) {
	cfg := memoryWithModel(t)
	cfg.MaxConnections = 5
	ts := newServer(t, cfg, fakeEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	// Long enough that the silent connections are still open when the
	// sixth comes, however slow the machine (the server accepts in
	// order: they come first).
	mustExec(t, db, "SET GLOBAL connect_timeout = 60")
	t.Cleanup(func() { mustExec(t, ts.db(), "SET GLOBAL connect_timeout = 10") })
	conns := flood(t, ts.srv.Addr(), 4) // with db's, 5 are open
	other := ts.db()
	err := other.Ping()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1040 || me.Message != "Too many connections" {
		t.Fatalf("a sixth connection: got %v, want error 1040 Too many connections", err)
	}
	// The one logged in keeps working.
	expectRows(t, db, "SELECT @@max_connections", "5")
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for other.Ping() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the cap did not free when connections closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeLoginTimeout: a connection that does not log in within
// connect_timeout is closed.
func TestServeLoginTimeout(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	mustExec(t, ts.db(), "SET GLOBAL connect_timeout = 2")
	t.Cleanup(func() { mustExec(t, ts.db(), "SET GLOBAL connect_timeout = 10") })
	c, err := net.Dial("tcp", ts.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	io.ReadAll(c) // the greeting, then EOF when the server closes
	// About 2 s; the bound above is loose for a loaded machine, and below
	// the default connect_timeout of 10 s.
	if took := time.Since(start); took < 1500*time.Millisecond || took > 9*time.Second {
		t.Fatalf("the server closed a silent connection after %v, want about 2 s", took)
	}
}

// TestServeWaitTimeout: a logged-in connection idle for its session's
// wait_timeout is closed; one running a long query is not.
func TestServeWaitTimeout(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	ctx := context.Background()
	idle, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var idleID, busyID int64
	if err := idle.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&idleID); err != nil {
		t.Fatal(err)
	}
	if err := busy.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&busyID); err != nil {
		t.Fatal(err)
	}
	mustExec(t, idle, "SET SESSION wait_timeout = 1")
	mustExec(t, busy, "SET SESSION wait_timeout = 1")
	var wg sync.WaitGroup
	var busyErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, busyErr = busy.ExecContext(ctx, "SELECT generate('m', '"+sqlfuncstest.BlockPrefix+"long')")
	}()
	deadline := time.Now().Add(time.Minute)
	for ts.fake.Blocked() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the long query never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	running := time.Now()
	// The idle connection goes from the process list when the server
	// closes it, about a second after its last statement.
	inList := func(id int64) bool {
		for _, r := range queryRows(t, db, "SHOW PROCESSLIST") {
			if strings.HasPrefix(r, fmt.Sprintf("%d|", id)) {
				return true
			}
		}
		return false
	}
	for inList(idleID) {
		if time.Now().After(deadline) {
			t.Fatal("a connection idle past wait_timeout is still open after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := idle.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a connection idle past wait_timeout still works")
	}
	// The busy one, running for over three times its wait_timeout, is not.
	time.Sleep(time.Until(running.Add(3500 * time.Millisecond)))
	if ts.fake.Blocked() != 1 || !inList(busyID) {
		t.Fatal("the long query was stopped by wait_timeout")
	}
	mustExec(t, db, fmt.Sprintf("KILL QUERY %d", busyID))
	wg.Wait()
	if busyErr == nil {
		t.Fatal("the killed query succeeded")
	}
	// The busy connection goes on (its idle time starts now).
	expectRows(t, busy, "SELECT 2", "2")
}

// fakeListener returns errs from Accept, then blocks until closed.
type fakeListener struct {
	mu     sync.Mutex
	errs   []error
	closed chan struct{}
	calls  int
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls++
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	<-l.closed
	return nil, net.ErrClosed
}

func (l *fakeListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: &osSyscallError{errno}}
}

type osSyscallError struct{ errno syscall.Errno }

func (e *osSyscallError) Error() string { return "accept4: " + e.errno.Error() }
func (e *osSyscallError) Unwrap() error { return e.errno }

// TestServeAcceptErrors: errors about one connection or a passing shortage
// are retried; an error that means the listener is broken ends serve with
// an error (a non-zero exit).
func TestServeAcceptErrors(t *testing.T) {
	cfg := memoryWithModel(t)
	ln := &fakeListener{closed: make(chan struct{}), errs: []error{
		acceptErr(syscall.EMFILE), acceptErr(syscall.ENFILE), acceptErr(syscall.ECONNABORTED), acceptErr(syscall.EMFILE),
		acceptErr(syscall.EINVAL),
	}}
	cfg.Listener = ln
	logs := &syncBuffer{}
	cfg.Logger = newTestLogger(logs)
	done := make(chan error, 1)
	go func() { done <- serveUntil(context.Background(), cfg, io.Discard, nil) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invalid argument") {
			t.Fatalf("serve returned %v, want the listener's fatal error", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop on a fatal listener error")
	}
	if ln.calls != 5 {
		t.Fatalf("Accept was called %d times, want 5 (4 retried errors, 1 fatal)", ln.calls)
	}
	if !strings.Contains(logs.String(), "too many open files") {
		t.Fatalf("the retried error was not logged:\n%s", logs)
	}
	// The command's exit code for that error is 1.
	if code := run([]string{"serve", "--memory", "--addr", "256.0.0.1:1"}, io.Discard, io.Discard); code != 1 {
		t.Fatalf("serve on a bad address exited %d, want 1", code)
	}
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestServeSessionRecordsFreed: the guard's record of each connection's
// session (for endFailed) goes when the connection closes, whether it
// logged in or not. go-mysql-server's ConnectionClosed builds a session
// for a connection that never logged in (to release its locks); recorded
// after the guard had dropped the connection's entry, that session stayed
// for the life of the server: the soak test's server grew by ~100 KB per
// junk connection (session variable maps).
func TestServeSessionRecordsFreed(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	expectRows(t, db, "SELECT 1", "1") // db's one connection, recorded
	for i := range 20 {
		nc, err := net.Dial("tcp", ts.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			nc.Write([]byte("not a login packet"))
		}
		nc.Close()
	}
	for range 5 {
		other := ts.db()
		expectRows(t, other, "SELECT 1", "1")
		other.Close()
	}
	records := func() int {
		n := 0
		ts.srv.guard.sessions.Range(func(any, any) bool { n++; return true })
		return n
	}
	deadline := time.Now().Add(time.Minute)
	for records() > 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := records(); n != 1 {
		t.Fatalf("%d session records after 25 connections came and went, want 1 (the open one)", n)
	}
}

// TestServeConnectionEndLogged: with --log-level debug the server says
// why each connection ended: killed, idle past wait_timeout, silent past
// connect_timeout, the client quitting or hanging up.
func TestServeConnectionEndLogged(t *testing.T) {
	ts := newServer(t, memoryWithModel(t), fakeEngine)
	logs := &syncBuffer{}
	ts.srv.guard.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})) // before any connection
	ctx := context.Background()
	admin := ts.db()
	mustExec(t, admin, "SET GLOBAL connect_timeout = 2")
	t.Cleanup(func() { mustExec(t, ts.db(), "SET GLOBAL connect_timeout = 10") })

	conn := func(db *sql.DB) (*sql.Conn, int64) {
		t.Helper()
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return c, id
	}
	killed, killedID := conn(ts.db())
	defer killed.Close()
	mustExec(t, admin, fmt.Sprintf("KILL %d", killedID))
	idle, idleID := conn(ts.db())
	defer idle.Close()
	mustExec(t, idle, "SET SESSION wait_timeout = 1")
	quitDB := ts.db()
	quit, quitID := conn(quitDB)
	quit.Close()
	quitDB.Close() // COM_QUIT
	// A raw connection that reads the greeting and hangs up, and one that
	// says nothing until connect_timeout.
	hangup, err := net.Dial("tcp", ts.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	hangup.Read(make([]byte, 256))
	hangup.Close()
	silent, err := net.Dial("tcp", ts.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	want := map[string]string{
		fmt.Sprintf("connection=%d user=root", killedID): `why="closed by the server (KILL or shutdown)"`,
		fmt.Sprintf("connection=%d user=root", idleID):   `why=wait_timeout`,
		fmt.Sprintf("connection=%d user=root", quitID):   `why="the client quit (COM_QUIT) or sent a bad packet"`,
	}
	var lines []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lines = nil
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `msg="connection closed"`) {
				lines = append(lines, l)
			}
		}
		if len(lines) >= 5 {
			break
		}
	}
	all := strings.Join(lines, "\n")
	for conn, why := range want {
		found := false
		for _, l := range lines {
			if strings.Contains(l, conn+" ") {
				found = true
				if !strings.Contains(l, why) {
					t.Errorf("%s: want %s, got %s", conn, why, l)
				}
			}
		}
		if !found {
			t.Errorf("no line for %s in:\n%s", conn, all)
		}
	}
	for _, why := range []string{`user="" why="the client closed the connection"`, `user="" why=connect_timeout`} {
		if !strings.Contains(all, why) {
			t.Errorf("no connection that never logged in ended with %s:\n%s", why, all)
		}
	}
}

func TestServeLogLevelFlag(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError} {
		args := []string{"--memory"}
		if in != "" {
			args = append(args, "--log-level", in)
		}
		cfg, err := parseServe(args, io.Discard)
		if err != nil || cfg.LogLevel != want {
			t.Errorf("--log-level %q: %v, %v; want %v", in, cfg.LogLevel, err, want)
		}
	}
	if _, err := parseServe([]string{"--memory", "--log-level", "chatty"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("--log-level chatty: %v, want an error naming the flag", err)
	}
}
