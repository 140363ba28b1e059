package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/internal/synth"
)

// tinyModelFile writes the synthetic tiny model (a real one: it runs).
func tinyModelFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(path, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeImpossibleKVCache is the repro: --max-sequences 1000
// --context 100000 was accepted, and the first generate allocated the KV
// cache and killed the server. It must be refused at start, naming the
// bytes, as must a model over --memory-budget.
func TestServeImpossibleKVCache(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	model := tinyModelFile(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		// (The totals add the weights, and the copies that packing makes,
		// whose size depends on the CPU's kernels; the cache's does not.)
		{[]string{"--max-sequences", "1000", "--context", "10000000"}, []string{"model 'm' needs 25600", "a KV cache of 2560000000000 bytes (2.3 TiB) (1000 sequences x 10000000 positions)"}},
		{[]string{"--memory-budget", "none", "--max-sequences", "1000", "--context", "10000000"}, []string{"needs to allocate 25600", "a KV cache of 2560000000000 bytes (2.3 TiB)", "memory this machine has"}},
		{[]string{"--memory-budget", "512K"}, []string{"more than the memory budget of 524288 bytes (512.0 KiB)", "--memory-budget"}},
	} {
		args := append([]string{"serve", "--memory", "--addr", "127.0.0.1:0", "--model", "m=" + model}, c.args...)
		code, stderr := runServerUntilReadyOrExit(t, args)
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1 (refused at start); stderr:\n%s", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
	}

	// A model registered through SQL is refused the same way, and the
	// server goes on.
	ch := startChild(t, childOptions{}, "--memory", "--max-sequences", "1000", "--context", "10000000")
	db := ch.db()
	expectError(t, db, "INSERT INTO llm.models (name, path) VALUES ('m', '"+model+"')", "1000 sequences x 10000000 positions")
	expectRows(t, db, "SELECT COUNT(*) FROM llm.models", "0")
	ch.alive()
}

// runServerUntilReadyOrExit starts `llmsql ARGS`. If the server gets ready
// (it accepted the flags), a generate is run, which before the fix killed
// it; the server is then stopped and the test fails with exit code -1.
func runServerUntilReadyOrExit(t *testing.T, args []string) (int, string) {
	t.Helper()
	argv, _ := json.Marshal(args)
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(argv))
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "llmsql ready on "); ok {
				ready <- a
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		}
		return 0, stderr.String()
	case addr := <-ready:
		c := &child{t: t, cmd: cmd, addr: addr, stderr: stderr, exited: make(chan struct{})}
		_, err := c.db().Exec("SELECT generate('m', 'Once', 0, 4)")
		time.Sleep(200 * time.Millisecond)
		cmd.Process.Kill()
		t.Errorf("%v: the server started; a generate then gave %v", args, err)
		return -1, stderr.String()
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v: neither ready nor exited", args)
	}
	return -1, ""
}

// TestServeContextAndBudgetFlags: --context above the training context is
// allowed with a warning and shown in llm.models; the size flags parse.
func TestServeContextAndBudgetFlags(t *testing.T) {
	model := tinyModelFile(t) // trained on 256 positions
	cfg := serveConfig{Memory: true, Context: 1024, MemoryBudget: 1 << 30, Models: []modelFlag{{"m", model}}}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	expectRows(t, db, "SELECT name, context_length, context, memory_bytes > 0 FROM llm.models", "m|256|1024|1")
	if !strings.Contains(ts.logs.String(), "above the 256 it was trained on") {
		t.Errorf("no warning about the context in the log:\n%s", ts.logs)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec(t, conn, "INSERT INTO llm.models (name, path) VALUES ('again', '"+model+"')")
	expectRows(t, conn, "SHOW WARNINGS", "Warning|1105|model 'again' runs with a context of 1024 positions, above the 256 it was trained on: what it generates past 256 positions is unreliable")

	for _, c := range []struct {
		in   string
		want int64
	}{{"4096", 4096}, {"512M", 512 << 20}, {"1.5GiB", 3 << 29}, {"2 KB", 2048}, {"0", 0}, {"7b", 7}} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", "-1G", "1Q", "1e400"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
	for args, want := range map[string]int64{"--memory-budget 8G": 8 << 30, "--memory-budget none": 0} {
		cfg, err := parseServe(strings.Fields(args), os.Stderr)
		if err != nil || cfg.MemoryBudget != want {
			t.Errorf("%s: budget %d, %v; want %d", args, cfg.MemoryBudget, err, want)
		}
	}
	if cfg, err := parseServe(nil, os.Stderr); err != nil || cfg.MemoryBudget <= 0 || cfg.ResultCacheBytes != 64<<20 {
		t.Errorf("defaults: budget %d, result cache %d, %v", cfg.MemoryBudget, cfg.ResultCacheBytes, err)
	}
	if cfg, err := parseServe([]string{"--result-cache-bytes", "0"}, os.Stderr); err != nil || cfg.ResultCacheBytes >= 0 {
		t.Errorf("--result-cache-bytes 0: %d, %v", cfg.ResultCacheBytes, err)
	}
	if _, err := parseServe([]string{"--memory-budget", "lots"}, os.Stderr); err == nil {
		t.Error("--memory-budget lots was accepted")
	}
}
