package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/vitess/go/mysql"
)

// What a client can do to the server by merely connecting is bounded here,
// as MySQL bounds it:
//
//   - an accept error (too many open files, a connection reset before it
//     was accepted) never ends the server: the listener backs off and keeps
//     accepting; only a listener that can never accept again (closed, or an
//     error that is not about one connection) stops it, and serve then
//     exits non-zero;
//   - at most @@max_connections (--max-connections, 151 by default)
//     connections are open; one more is told ER_CON_COUNT_ERROR (1040,
//     "Too many connections") and closed at once;
//   - a connection must finish logging in within @@connect_timeout seconds
//     (10 by default);
//   - a logged-in connection that sends nothing and runs no query for
//     @@wait_timeout seconds (its session's value; 28800 by default) is
//     closed.

// DefaultMaxConnections is MySQL's default max_connections.
const DefaultMaxConnections = 151

// acceptBackoffMax bounds the wait between retries of a failing Accept.
const acceptBackoffMax = time.Second

// guardedListener is the server's net.Listener with the rules above.
type guardedListener struct {
	net.Listener
	log *slog.Logger
	// maxConns returns the connection cap now (@@max_connections).
	maxConns func() int64
	// connectTimeout returns the login deadline now (@@connect_timeout).
	connectTimeout func() time.Duration

	open     atomic.Int64 // connections accepted and not yet closed
	rejected atomic.Int64 // connections refused for the cap

	mu       sync.Mutex
	fatal    error     // why Accept stopped, if not because Close was called
	lastWarn time.Time // of the last accept error logged
	closed   bool
}

func newGuardedListener(ln net.Listener, log *slog.Logger) *guardedListener {
	return &guardedListener{
		Listener:       ln,
		log:            log,
		maxConns:       func() int64 { return globalInt("max_connections", DefaultMaxConnections) },
		connectTimeout: func() time.Duration { return time.Duration(globalInt("connect_timeout", 10)) * time.Second },
	}
}

// globalInt reads an integer global system variable, or def.
func globalInt(name string, def int64) int64 {
	_, v, ok := sql.SystemVariables.GetGlobal(name)
	if !ok {
		return def
	}
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return def
}

// Accept returns the next connection within the cap. It retries errors
// that concern one connection or a passing shortage (descriptors, buffers),
// waiting 5 ms, then twice as long each time up to a second, and returns
// an error only when the listener is closed or broken.
func (l *guardedListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.isClosed() {
				return nil, err
			}
			if !retryableAccept(err) {
				l.mu.Lock()
				l.fatal = err
				l.mu.Unlock()
				return nil, err
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, acceptBackoffMax)
			}
			l.warn("accepting a connection failed; retrying", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if n := l.open.Add(1); n > l.maxConns() {
			l.open.Add(-1)
			l.rejected.Add(1)
			l.warn("too many connections; refusing one", "max_connections", l.maxConns(), "remote", c.RemoteAddr().String())
			go refuseTooMany(c)
			continue
		}
		gc := &guardedConn{Conn: c, l: l}
		gc.touch()
		// Until the login completes (connGuard.ConnectionAuthenticated).
		_ = c.SetDeadline(time.Now().Add(l.connectTimeout()))
		return gc, nil
	}
}

// Close stops accepting.
func (l *guardedListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.Listener.Close()
}

func (l *guardedListener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// stopped returns the error that ended accepting, or nil if Close did.
func (l *guardedListener) stopped() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

// warn logs at most one warning every 10 seconds: a flood of connections
// must not become a flood of log lines.
func (l *guardedListener) warn(msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	quiet := now.Sub(l.lastWarn) < 10*time.Second
	if !quiet {
		l.lastWarn = now
	}
	l.mu.Unlock()
	if !quiet && l.log != nil {
		l.log.Warn(msg, args...)
	}
}

// retryableAccept reports whether an Accept error concerns one connection
// or a shortage that passes, rather than the listener itself.
func retryableAccept(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
			syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EPERM,
			syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT, syscall.EHOSTUNREACH,
			syscall.ENETUNREACH, syscall.ENETDOWN, syscall.ENOPROTOOPT, syscall.EOPNOTSUPP:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// refuseTooMany tells a client over the cap why, as MySQL does: an error
// packet in place of the server's greeting.
func refuseTooMany(c net.Conn) {
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(greetingError(mysql.ERConCount, "Too many connections"))
}

// greetingError is an ERR packet sent before the handshake: no SQL state,
// since the client has not yet said it speaks protocol 4.1.
func greetingError(code uint16, msg string) []byte {
	payload := make([]byte, 0, 3+len(msg))
	payload = append(payload, 0xff)
	payload = binary.LittleEndian.AppendUint16(payload, code)
	payload = append(payload, msg...)
	pkt := make([]byte, 4, 4+len(payload))
	pkt[0], pkt[1], pkt[2], pkt[3] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), 0
	return append(pkt, payload...)
}

// guardedConn is an accepted connection: it counts against the cap until
// closed and records when the client last sent something, and what it
// needs to say why the connection ended (connGuard.ConnectionClosed).
type guardedConn struct {
	net.Conn
	l        *guardedListener
	once     sync.Once
	lastRead atomic.Int64 // unix nanoseconds

	mu       sync.Mutex
	closed   bool   // Close was called
	closedBy string // who closed it, if the server did (wait_timeout)
	readErr  error  // of the last read, if it failed
	writeErr error  // of the first write that failed
	cmdErr   error  // a statement's error after its result began (vitess then ends the connection)
}

func (c *guardedConn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.touch()
	}
	if err != nil || n > 0 {
		// A failed read is kept until a read succeeds: go-mysql-server's
		// disconnect watcher interrupts its own reads with a past
		// deadline, which is not why a connection ends.
		c.mu.Lock()
		c.readErr = err
		c.mu.Unlock()
	}
	return n, err
}

func (c *guardedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.mu.Lock()
		if c.writeErr == nil {
			c.writeErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *guardedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// closingFor records why the server is about to close the connection
// (for the log).
func (c *guardedConn) closingFor(why string) {
	c.mu.Lock()
	if !c.closed {
		c.closedBy = why
	}
	c.mu.Unlock()
}

// noteCommandError records a statement's error that ends the connection.
func (c *guardedConn) noteCommandError(err error) {
	c.mu.Lock()
	c.cmdErr = err
	c.mu.Unlock()
}

// endReason says why the connection is ending, as seen when vitess's
// command loop has returned (before vitess closes the socket itself).
func (c *guardedConn) endReason() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed && c.closedBy != "":
		return c.closedBy, nil
	case c.closed:
		// KillConnection (KILL, server shutdown) closes the socket
		// from another goroutine; the command loop ends on the
		// failed read or write that follows.
		return "closed by the server (KILL or shutdown)", nil
	case c.cmdErr != nil:
		return "a statement failed after its result began", c.cmdErr
	case c.writeErr != nil:
		return "writing to the client failed", c.writeErr
	case c.readErr != nil && errors.Is(c.readErr, io.EOF):
		return "the client closed the connection", nil
	case c.readErr != nil && errors.Is(c.readErr, os.ErrDeadlineExceeded):
		return "connect_timeout", c.readErr
	case c.readErr != nil:
		return "reading from the client failed", c.readErr
	}
	return "the client quit (COM_QUIT) or sent a bad packet", nil
}

// idleFor is how long the client has sent nothing.
func (c *guardedConn) idleFor(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, c.lastRead.Load()))
}

// connGuard wraps go-mysql-server's protocol handler: it lifts the login
// deadline once a connection has logged in, and remembers connections so
// that idle ones can be closed.
type connGuard struct {
	*server.Handler
	// log gets a debug line for each connection that ends, saying why.
	log *slog.Logger

	mu    sync.Mutex
	conns map[uint32]*mysql.Conn
	// sessions holds each connection's session (connection id ->
	// sql.Session, recorded by recordSessions), for endFailed.
	sessions *sync.Map
}

func newConnGuard(h mysql.Handler) (*connGuard, error) {
	sh, ok := h.(*server.Handler)
	if !ok {
		return nil, fmt.Errorf("unexpected protocol handler %T", h)
	}
	return &connGuard{Handler: sh, conns: map[uint32]*mysql.Conn{}, sessions: &sync.Map{}}, nil
}

func (g *connGuard) NewConnection(c *mysql.Conn) {
	g.mu.Lock()
	g.conns[c.ConnectionID] = c
	g.mu.Unlock()
	g.Handler.NewConnection(c)
}

func (g *connGuard) ConnectionClosed(c *mysql.Conn) {
	g.mu.Lock()
	delete(g.conns, c.ConnectionID)
	g.mu.Unlock()
	if gc, ok := c.Conn.(*guardedConn); ok && g.log != nil && g.log.Enabled(context.Background(), slog.LevelDebug) {
		why, err := gc.endReason()
		args := []any{"connection", c.ConnectionID, "user", c.User, "why", why}
		if err != nil {
			args = append(args, "err", err.Error())
		}
		g.log.Debug("connection closed", args...)
	}
	g.Handler.ConnectionClosed(c)
	// After the handler: for a connection that never logged in, it builds
	// a session (to release the connection's locks), which recordSessions
	// records; dropped before, that record would stay for the server's
	// life.
	g.sessions.Delete(c.ConnectionID)
}

func (g *connGuard) ConnectionAuthenticated(c *mysql.Conn) error {
	if err := g.Handler.ConnectionAuthenticated(c); err != nil {
		return err
	}
	// Logged in: from now on only wait_timeout applies, checked by
	// closeIdle, since a query may legitimately run for hours.
	_ = c.Conn.SetDeadline(time.Time{})
	return nil
}

// closeIdle closes the logged-in connections that have been idle (no query
// running, nothing received) for longer than their session's wait_timeout.
func (g *connGuard) closeIdle(now time.Time, pl sql.ProcessList, sm *server.SessionManager, log *slog.Logger) {
	timeouts := map[uint32]time.Duration{}
	_ = sm.Iter(func(s sql.Session) (bool, error) {
		timeouts[s.ID()] = sessionWaitTimeout(s)
		return false, nil
	})
	for _, p := range pl.Processes() {
		if p.Command != sql.ProcessCommandSleep {
			continue
		}
		limit, ok := timeouts[p.Connection]
		if !ok || now.Sub(p.StartedAt) < limit {
			continue
		}
		g.mu.Lock()
		c := g.conns[p.Connection]
		g.mu.Unlock()
		if c == nil {
			continue
		}
		if gc, ok := c.Conn.(*guardedConn); ok && gc.idleFor(now) < limit {
			continue
		}
		log.Info("closing an idle connection (wait_timeout)", "connection", p.Connection, "user", p.User, "idle_s", int(now.Sub(p.StartedAt).Seconds()), "wait_timeout_s", int(limit.Seconds()))
		if gc, ok := c.Conn.(*guardedConn); ok {
			gc.closingFor("wait_timeout")
		}
		c.Close()
	}
}

// sessionWaitTimeout is s's @@wait_timeout.
func sessionWaitTimeout(s sql.Session) time.Duration {
	def := time.Duration(globalInt("wait_timeout", 28800)) * time.Second
	ctx := sql.NewContext(context.Background(), sql.WithSession(s))
	v, err := s.GetSessionVariable(ctx, "wait_timeout")
	if err != nil {
		return def
	}
	if n, ok := v.(int64); ok && n > 0 {
		return time.Duration(n) * time.Second
	}
	return def
}

// recordSessions wraps build to record each connection's session in m
// (the guard's sessions) for endFailed.
func recordSessions(build server.SessionBuilder, m *sync.Map) server.SessionBuilder {
	return func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
		s, err := build(ctx, conn, addr)
		if err == nil {
			m.Store(conn.ConnectionID, s)
		}
		return s, err
	}
}

// endFailed ends the implicit transaction of an autocommit statement that
// failed. go-mysql-server does so for a statement that fails before it
// runs, but not for one that fails at its end: a KILL QUERY that landed
// while an UPDATE was committing failed the UPDATE (1317) and left its
// changes in the session's open transaction, where the connection's next
// statement saw them and committed them. Ending the transaction makes the
// next statement start afresh from what is committed (Dolt reloads its
// state in each new transaction). An explicit transaction (BEGIN) is left
// to the client, as in MySQL.
func (g *connGuard) endFailed(c *mysql.Conn) {
	v, ok := g.sessions.Load(c.ConnectionID)
	if !ok {
		return
	}
	sess := v.(sql.Session)
	if sess.GetIgnoreAutoCommit() || sess.GetTransaction() == nil {
		return
	}
	ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
	if auto, err := plan.IsSessionAutocommit(ctx); err == nil && auto {
		sess.SetTransaction(nil)
	}
}
