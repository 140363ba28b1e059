package main

// A measurement, not a test: batched against sequential generate() through
// the server on a TinyLlama-shaped model. It runs only when
// LLMSQL_BENCH_SYNTH_Q4 names the model file, e.g.
//
//	go run -tags gms_pure_go ./cmd/llmsql quantize /tmp/synth-f16.gguf /tmp/synth-q4_0.gguf Q4_0
//	LLMSQL_BENCH_SYNTH_Q4=/tmp/synth-q4_0.gguf go test -tags gms_pure_go ./cmd/llmsql -run TestServeBatchBench -v -timeout 60m
//
// LLMSQL_BENCH_ROWS changes the number of rows (256).

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	benchPromptTokens = 64 // with BOS
	benchPrefixTokens = 32 // shared by every row: an instruction template
	benchNewTokens    = 32
)

func TestServeBatchBench(t *testing.T) {
	path := os.Getenv("LLMSQL_BENCH_SYNTH_Q4")
	if path == "" {
		t.Skip("set LLMSQL_BENCH_SYNTH_Q4 to a Q4_0 synthetic TinyLlama GGUF to run this measurement")
	}
	rows := 256
	if s := os.Getenv("LLMSQL_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LLMSQL_BENCH_ROWS=%q", s)
		}
		rows = n
	}
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{"synth", path}}, MaxSequences: 64}, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	prefix := fitTokens(t, db, "Summarise the following record in one short sentence for the weekly report.", " Thanks", benchPrefixTokens)
	// Each run has its own table of prompts, so that the second cannot
	// reuse whole prompts the first left in the KV cache: both reuse just
	// the shared prefix.
	sizes := []int{64, 0}
	for _, size := range sizes {
		table := fmt.Sprintf("b%d", size)
		mustExec(t, db, "CREATE TABLE "+table+" (id INT PRIMARY KEY, prompt TEXT, answer TEXT)")
		for i := 1; i <= rows; i++ {
			p := fitTokens(t, db, prefix+fmt.Sprintf(" %s %d:", table, i), benchWord(i+size), benchPromptTokens)
			if _, err := db.Exec("INSERT INTO "+table+" (id, prompt) VALUES (?, ?)", i, p); err != nil {
				t.Fatal(err)
			}
		}
		expectRows(t, db, "SELECT COUNT(DISTINCT prompt), MIN(count_tokens('synth', prompt)), MAX(count_tokens('synth', prompt)) FROM "+table,
			fmt.Sprintf("%d|%d|%d", rows, benchPromptTokens, benchPromptTokens))
	}
	expectRowCount(t, db, "SELECT generate('synth', 'warm up', 0, 1)", 1)

	for _, size := range sizes {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, conn, fmt.Sprintf("SET @@llm_batch_size = %d", size))
		tokBefore := generatedTokens(t, conn)
		stBefore, _ := ts.srv.pool.SchedStats("synth")
		start := time.Now()
		mustExec(t, conn, fmt.Sprintf(`UPDATE b%d SET answer = generate('synth', prompt, '{"temperature": 0, "max_tokens": %d, "ignore_eos": true}')`,
			size, benchNewTokens))
		elapsed := time.Since(start)
		tokens := generatedTokens(t, conn) - tokBefore
		if tokens != int64(rows*benchNewTokens) {
			t.Fatalf("generated %d tokens, want %d", tokens, rows*benchNewTokens)
		}
		st, _ := ts.srv.pool.SchedStats("synth")
		t.Logf("@@llm_batch_size = %2d: %d rows, %d tokens in %.1f s = %.1f generated tokens/s "+
			"(%d forward passes; prompt tokens %d computed, %d reused)",
			size, rows, tokens, elapsed.Seconds(), float64(tokens)/elapsed.Seconds(),
			st.Passes-stBefore.Passes, st.PromptTokens-stBefore.PromptTokens, st.ReusedTokens-stBefore.ReusedTokens)
		conn.Close()
	}
	// Batched and sequential greedy answers are compared on the small
	// model by TestServeBatchForwardPasses and TestServeBatchMatchesSequential.
}

func generatedTokens(t *testing.T, db sqlRunner) int64 {
	t.Helper()
	rows := queryRows(t, db, "SELECT COALESCE(SUM(generated_tokens), 0) FROM llm.usage")
	n, err := strconv.ParseInt(rows[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var benchWords = []string{" apple", " river", " stone", " green", " house", " music", " light", " paper",
	" cloud", " table", " horse", " water", " glass", " night", " sugar", " train"}

// benchWord picks the i-th row's filler word, so rows differ beyond their
// number.
func benchWord(i int) string { return benchWords[(i*7+i/16)%len(benchWords)] }

// fitTokens appends filler to text (or cuts words off its end) until the
// model's tokenizer counts exactly n tokens, BOS included.
func fitTokens(t *testing.T, db *sql.DB, text, filler string, n int) string {
	t.Helper()
	count := func(s string) int {
		var c int
		if err := db.QueryRow("SELECT count_tokens('synth', ?)", s).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for tries, c := 0, count(text); c != n; tries, c = tries+1, count(text) {
		if tries > 4*n {
			t.Fatalf("cannot fit %q to %d tokens", text, n)
		}
		switch {
		case c < n:
			text += filler
		default:
			cut := strings.LastIndexByte(text, ' ')
			if cut <= 0 {
				t.Fatalf("cannot fit %q to %d tokens", text, n)
			}
			text = text[:cut]
		}
	}
	return text
}
