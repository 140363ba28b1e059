package catalog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/catalog"
	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
)

// countingPool is a pool whose usage is made up, to see it reported.
type countingPool struct {
	*engine.Pool
	usage []engine.Usage
}

func (p *countingPool) Usage() []engine.Usage { return p.usage }

type fixedProgress []sqlfuncs.QueryProgress

func (f fixedProgress) Running() []sqlfuncs.QueryProgress { return f }

func TestReportTables(t *testing.T) {
	dir := t.TempDir()
	pool := &countingPool{Pool: engine.NewPool(engine.PoolConfig{}), usage: []engine.Usage{
		{Model: "a", Calls: 10, CacheHits: 3, PromptTokens: 70, GeneratedTokens: 56},
		{Model: "b", Calls: 1, PromptTokens: 5, GeneratedTokens: 2},
	}}
	cat := catalog.New(pool, catalog.FileStore{Path: filepath.Join(dir, "models.json")})
	started := time.Date(2026, 5, 4, 3, 2, 1, 123456789, time.UTC)
	cat.SetProgress(fixedProgress{{ConnectionID: 7, QueryID: 99, Query: "UPDATE t SET a = generate('a', p)", Started: started,
		RowsSubmitted: 64, RowsDone: 12, TokensGenerated: 300, TokensPerSecond: 42.5, ChunksSubmitted: 9, ChunksDone: 4, Levels: 2}})
	if err := cat.RegisterVariables(); err != nil {
		t.Fatal(err)
	}
	pro := memory.NewDBProvider(memory.NewDatabase("db"), cat.Database())
	eng := sqle.NewDefault(pro)
	defer eng.Close()
	sess := memory.NewSession(sql.NewBaseSession(), pro)
	query := func(q string) (string, error) {
		ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
		_, iter, _, err := eng.Query(ctx, q)
		if err != nil {
			return "", err
		}
		rows, err := sql.RowIterToRows(ctx, iter)
		return fmt.Sprint(rows), err
	}
	for q, want := range map[string]string{
		"SELECT * FROM llm.usage ORDER BY model":                                             "[[a 10 3 70 56] [b 1 0 5 2]]",
		"SELECT SUM(generated_tokens) FROM llm.usage":                                        "[[58]]",
		"SELECT hits, misses, entries, bytes, enabled FROM llm.cache":                        "[[0 0 0 0 1]]",
		"SELECT connection_id, query_id, query, rows_submitted, rows_done FROM llm.progress": "[[7 99 UPDATE t SET a = generate('a', p) 64 12]]",
		"SELECT tokens_generated, tokens_per_s, started FROM llm.progress":                   "[[300 42.5 2026-05-04 03:02:01.123456 +0000 UTC]]",
		"SELECT chunks_submitted, chunks_done, levels FROM llm.progress":                     "[[9 4 2]]",
		"SELECT @@llm_result_cache":                                                          "[[1]]",
	} {
		got, err := query(q)
		if err != nil || got != want {
			t.Errorf("%s: got %s (%v), want %s", q, got, err, want)
		}
	}
	if _, err := query("SET GLOBAL llm_result_cache = OFF"); err != nil {
		t.Fatal(err)
	}
	if got, _ := query("SELECT enabled FROM llm.cache"); got != "[[0]]" || pool.CacheStats().Enabled {
		t.Fatalf("after SET GLOBAL llm_result_cache = OFF: llm.cache says %s, the pool %v", got, pool.CacheStats().Enabled)
	}
	if _, err := query("SET GLOBAL llm_result_cache = ON"); err != nil {
		t.Fatal(err)
	}
	if !pool.CacheStats().Enabled {
		t.Fatal("SET GLOBAL llm_result_cache = ON left the cache off")
	}
	if _, err := query("SET llm_result_cache = OFF"); err == nil || !strings.Contains(err.Error(), "GLOBAL") {
		t.Fatalf("a session-level SET: %v", err)
	}
	if _, err := query("INSERT INTO llm.usage VALUES ('x', 1, 1, 1, 1)"); err == nil {
		t.Fatal("llm.usage accepted an INSERT")
	}
}
