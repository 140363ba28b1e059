package main

import (
	"context"
	"errors"
	"strings"
	_ "unsafe" // for go:linkname

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
)

// MySQL reports a query stopped by KILL QUERY (or by a client that gives up
// and kills it) as ER_QUERY_INTERRUPTED (1317, SQLSTATE 70100, "Query
// execution was interrupted"); go-mysql-server reports the cancelled
// context as 1105 "context canceled". connGuard translates, for the text
// protocol and prepared statements alike.
//
// A SELECT that had already sent rows when it was stopped used to lose its
// connection: vitess cannot send an error packet in the middle of a result
// set, so it drops the connection, and the client sees only "Lost
// connection" (2013). Here the error packet is written first, so the client
// reads 1317 after the rows it got; vitess still closes the connection
// afterwards (its protocol code cannot go on after a result set that ended
// in an error), so the client reconnects for its next statement.

// interrupted turns the error of a query stopped by cancellation into
// MySQL's.
func interrupted(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var se *mysql.SQLError
	if errors.As(err, &se) {
		if se.Num != mysql.ERUnknownError {
			return err
		}
		msg = se.Message
	}
	switch {
	case errors.Is(err, context.Canceled) || strings.Contains(msg, context.Canceled.Error()):
		return mysql.NewSQLError(mysql.ERQueryInterrupted, mysql.SSQueryInterrupted, "Query execution was interrupted")
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, context.DeadlineExceeded.Error()):
		return mysql.NewSQLError(mysql.ERQueryTimeout, mysql.SSUnknownSQLState, "Query execution was interrupted, maximum statement execution time exceeded")
	}
	return err
}

// writeErrorPacketFromError is vitess's: it writes an error packet with
// the connection's next sequence number.
//
//go:linkname writeErrorPacketFromError github.com/dolthub/vitess/go/mysql.(*Conn).writeErrorPacketFromError
func writeErrorPacketFromError(c *mysql.Conn, err error) error

// endStream handles a query's error: translated, and written as an error
// packet now if rows were already sent (vitess would only drop the
// connection).
func endStream(c *mysql.Conn, err error, sent bool) error {
	err = interrupted(err)
	if err != nil && sent {
		se, ok := err.(*mysql.SQLError)
		if !ok {
			se = mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%v", err)
		}
		if writeErrorPacketFromError(c, se) == nil {
			_ = c.FlushBuffer()
		}
	}
	return err
}

// noteEnding records, for the log, a statement's error after its result
// began: vitess ends the connection on it.
func noteEnding(c *mysql.Conn, err error, sent bool) {
	if err == nil || !sent {
		return
	}
	if gc, ok := c.Conn.(*guardedConn); ok {
		gc.noteCommandError(err)
	}
}

func (g *connGuard) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) error {
	sent, done := false, false
	err := g.Handler.ComQuery(ctx, c, query, func(r *sqltypes.Result, more bool) error {
		sent = true
		done = len(r.Fields) == 0 && !more // the statement's OK packet
		fixOKInfo(r)
		return cb(r, more)
	})
	if err != nil {
		g.endFailed(c)
	}
	noteEnding(c, err, sent)
	if done {
		// The client has the statement's OK: an error after it (a KILL
		// QUERY landing as the statement ended; TestSoak saw it) must
		// not follow as a packet, which the client would take for its
		// next statement's answer. vitess closes the connection.
		return interrupted(err)
	}
	return endStream(c, err, sent)
}

func (g *connGuard) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (string, error) {
	sent, done := false, false
	rest, err := g.Handler.ComMultiQuery(ctx, c, query, func(r *sqltypes.Result, more bool) error {
		sent = true
		done = len(r.Fields) == 0 && !more
		fixOKInfo(r)
		return cb(r, more)
	})
	if err != nil {
		g.endFailed(c)
	}
	noteEnding(c, err, sent)
	if done {
		return rest, interrupted(err) // as in ComQuery
	}
	return rest, endStream(c, err, sent)
}

func (g *connGuard) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	sent, done := false, false
	err := g.Handler.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error {
		sent = true
		done = len(r.Fields) == 0
		return cb(r)
	})
	if err != nil {
		g.endFailed(c)
	}
	noteEnding(c, err, sent)
	if done {
		return interrupted(err) // as in ComQuery
	}
	return endStream(c, err, sent)
}
