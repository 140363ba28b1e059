package main

// Tests that run the server as a child process, for what an in-process
// server cannot show: the process exiting, dying of a signal, or running
// out of file descriptors. The child is this test binary itself: TestMain
// (main_test.go) calls runChildIfAsked, which runs the command line in
// LLMSQL_TEST_CHILD_ARGS instead of the tests.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

const childArgsEnv = "LLMSQL_TEST_CHILD_ARGS"

func runChildIfAsked() {
	if args := os.Getenv(childArgsEnv); args != "" {
		serveChildDebug()
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(run(argv, os.Stdout, os.Stderr))
	}
}

// child is `llmsql ARGS...` running as a separate process.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	http   string // the HTTP API's address, when started with --http
	stderr *syncBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// childOptions changes how the child starts.
type childOptions struct {
	fdLimit int // ulimit -n, if not 0
	env     []string
}

// startChild runs `llmsql serve ARGS` (with --addr 127.0.0.1:0 added) and
// waits for its ready line. The process is killed when the test ends.
func startChild(t *testing.T, opt childOptions, args ...string) *child {
	t.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
	argv, _ := json.Marshal(args)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if opt.fdLimit > 0 {
		cmd = exec.Command("/bin/sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0"`, opt.fdLimit), self)
	} else {
		cmd = exec.Command(self)
	}
	cmd.Env = append(append(os.Environ(), childArgsEnv+"="+string(argv)), opt.env...)
	c := &child{t: t, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	httpReady := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "llmsql http on "); ok {
				httpReady <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "llmsql ready on "); ok {
				ready <- a
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("child stderr:\n%s", tail(c.stderr.String(), 8000))
		}
	})
	select {
	case c.addr = <-ready:
		select {
		case c.http = <-httpReady:
		default:
		}
	case <-c.exited:
		t.Fatalf("the server exited before it was ready (%v):\n%s", c.err, c.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the server was not ready within a minute:\n%s", c.stderr)
	}
	return c
}

// runChild runs `llmsql ARGS` to completion and returns its exit code and
// stderr.
func runChild(t *testing.T, args ...string) (int, string) {
	t.Helper()
	argv, _ := json.Marshal(args)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(argv))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// alive fails the test if the child has exited.
func (c *child) alive() {
	c.t.Helper()
	select {
	case <-c.exited:
		c.t.Fatalf("the server exited (%v); stderr:\n%s", c.err, tail(c.stderr.String(), 8000))
	default:
	}
}

// stop sends SIGTERM and waits (SIGKILL after 10 s); it returns the exit
// status.
func (c *child) stop() error {
	select {
	case <-c.exited:
		return c.err
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	return c.err
}

// db opens a connection pool to the child as root.
func (c *child) db() *sql.DB {
	c.t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", c.addr
	cfg.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	c.t.Cleanup(func() { db.Close() })
	return db
}

// pingWithin retries a fresh login until it works or d passes.
func (c *child) pingWithin(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		db := c.db()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := db.PingContext(ctx)
		cancel()
		db.Close()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
