package main

// End-to-end tests of the embedding functions on the real engine, on
// memory and Dolt storage: embed() into a VECTOR column over many rows
// (batched), a vector index and nearest-neighbour queries, similarity()
// and rerank(), on the small synthetic BERT models of internal/synth.

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/internal/synth"
)

func embedModelFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".gguf")
	if err := synth.Write(path, synth.EmbeddingModels()[name]); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseVec reads VECTOR_TO_STRING's output.
func parseVec(t *testing.T, s string) []float32 {
	t.Helper()
	s = strings.Trim(s, "[]")
	var v []float32
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		v = append(v, float32(x))
	}
	return v
}

func TestServeEmbeddings(t *testing.T) {
	for _, storage := range []string{"memory", "dolt"} {
		t.Run(storage, func(t *testing.T) {
			cfg := serveConfig{MaxSequences: 4, Models: []modelFlag{
				{"bge", embedModelFile(t, "bert-cls-f32")},
				{"minilm", embedModelFile(t, "bert-mean-f16")},
				{"rr", embedModelFile(t, "bert-rank-f32")},
			}}
			if storage == "memory" {
				cfg.Memory = true
			} else {
				if testing.Short() {
					t.Skip("starts Dolt")
				}
				cfg.DataDir = t.TempDir()
			}
			ts := newServer(t, cfg, realEngine)
			db := ts.db()
			db.SetMaxOpenConns(1)
			mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
			testServeEmbeddings(t, db)
		})
	}
}

func testServeEmbeddings(t *testing.T, db sqlRunner) {
	words := []string{"the", "little", "dog", "cat", "was", "in", "a", "world", "of", "text", "refund", "policy", "database", "vector", "search"}
	const n = 40
	mustExec(t, db, "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, v VECTOR(64))")
	vals := make([]string, n)
	for i := range vals {
		var b []string
		for j := 0; j < 3+i%9; j++ {
			b = append(b, words[(i*7+j*3)%len(words)])
		}
		vals[i] = fmt.Sprintf("(%d, '%s')", i+1, strings.Join(b, " "))
	}
	mustExec(t, db, "INSERT INTO docs (id, body) VALUES "+strings.Join(vals, ", ")+", (41, NULL)")
	expectRows(t, db, "SELECT name, embed_dim, pooling FROM llm.models ORDER BY name", "bge|64|cls", "minilm|64|mean", "rr|1|rank")

	// embed() into a VECTOR column, batched over the rows.
	mustExec(t, db, "UPDATE docs SET v = embed('bge', body)")
	expectRows(t, db, "SELECT COUNT(*) FROM docs WHERE v IS NULL", "1") // the NULL body
	stored := map[string]string{}
	for _, r := range queryRows(t, db, "SELECT body, VECTOR_TO_STRING(v) FROM docs WHERE body IS NOT NULL ORDER BY id") {
		body, v, _ := strings.Cut(r, "|")
		stored[body] = v
	}
	// Each row's vector is the text's embedding alone, unit length.
	mustExec(t, db, "SET @@llm_batch_size = 0")
	for body, v := range stored {
		one := queryRows(t, db, fmt.Sprintf("SELECT VECTOR_TO_STRING(embed('bge', '%s'))", body))[0]
		if one != v {
			t.Fatalf("%q: stored %s, alone %s", body, v, one)
		}
		var norm float64
		for _, x := range parseVec(t, v) {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Fatalf("%q: squared length %g", body, norm)
		}
	}
	mustExec(t, db, "SET @@llm_batch_size = 64")

	// A vector index (its column must be NOT NULL) and nearest
	// neighbours: a text is nearest to its own embedding, with the index
	// and without. A table made for the index, filled by INSERT ...
	// SELECT embed(), and the first table once its column is NOT NULL.
	mustExec(t, db, "CREATE TABLE vecs (id INT PRIMARY KEY, v VECTOR(64) NOT NULL, VECTOR INDEX vi (v))")
	mustExec(t, db, "INSERT INTO vecs SELECT id, embed('bge', body) FROM docs WHERE body IS NOT NULL")
	mustExec(t, db, "DELETE FROM docs WHERE v IS NULL")
	mustExec(t, db, "ALTER TABLE docs MODIFY v VECTOR(64) NOT NULL")
	mustExec(t, db, "CREATE VECTOR INDEX docs_v ON docs(v)")
	q := queryRows(t, db, "SELECT body FROM docs WHERE id = 17")[0]
	mustExec(t, db, fmt.Sprintf("SET @q = embed('bge', '%s')", q))
	for _, table := range []string{"docs", "vecs"} {
		expectRows(t, db, "SELECT id FROM "+table+" ORDER BY vec_distance(v, @q) LIMIT 1", "17")
		ranked := queryRows(t, db, "SELECT id FROM "+table+" ORDER BY vec_distance(v, @q) LIMIT 5")
		// Without the index (cosine distance, a full scan) the same five.
		scan := queryRows(t, db, fmt.Sprintf("SELECT id FROM %s ORDER BY vec_distance_cosine(v, embed('bge', '%s')) LIMIT 5", table, q))
		if len(ranked) != 5 || strings.Join(ranked, ",") != strings.Join(scan, ",") {
			t.Fatalf("%s: top 5 by the index %v, by a scan %v", table, ranked, scan)
		}
	}
	if plan := strings.Join(queryRows(t, db, "EXPLAIN PLAN SELECT id FROM docs ORDER BY vec_distance(v, @q) LIMIT 5"), "\n"); !strings.Contains(plan, "IndexedTableAccess(docs)") || !strings.Contains(plan, "order: VEC_DISTANCE") {
		t.Errorf("the nearest-neighbour query does not use the vector index:\n%s", plan)
	}

	// similarity(): 1 for a text with itself, the cosine of the two
	// embeddings otherwise; rerank() scores pairs.
	sim := queryRows(t, db, "SELECT similarity('minilm', 'the little dog', 'the little dog'), similarity('minilm', 'the little dog', 'a vector database')")[0]
	parts := strings.Split(sim, "|")
	if s, _ := strconv.ParseFloat(parts[0], 64); math.Abs(s-1) > 1e-6 {
		t.Fatalf("self similarity %s", parts[0])
	}
	a := parseVec(t, queryRows(t, db, "SELECT VECTOR_TO_STRING(embed('minilm', 'the little dog'))")[0])
	b := parseVec(t, queryRows(t, db, "SELECT VECTOR_TO_STRING(embed('minilm', 'a vector database'))")[0])
	if s, _ := strconv.ParseFloat(parts[1], 64); math.Abs(s-engine.Cosine(a, b)) > 1e-5 {
		t.Fatalf("similarity %s, cosine of the embeddings %g", parts[1], engine.Cosine(a, b))
	}
	scores := queryRows(t, db, "SELECT id, rerank('rr', 'refund policy', body) FROM docs WHERE body IS NOT NULL ORDER BY id")
	if len(scores) != n {
		t.Fatalf("%d scores", len(scores))
	}
	// The golden pair (testdata/embed_golden.json): llama.cpp scores it -1.9406881.
	r := queryRows(t, db, "SELECT rerank('rr', 'refund policy', 'the refund policy is in the database')")[0]
	if s, _ := strconv.ParseFloat(r, 64); math.Abs(s-(-1.9406881)) > 1e-3 {
		t.Fatalf("rerank %s", r)
	}

	// Errors name the problem and leave the server up.
	long := strings.Repeat("dog ", 200)
	expectError(t, db, fmt.Sprintf(`SELECT embed('bge', '%s', '{"on_error": "error"}')`, long), "text is 202 tokens, longer than the 96")
	expectRows(t, db, fmt.Sprintf("SELECT embed('bge', '%s') IS NULL", long), "1") // on_error 'null': NULL and a warning
	if w := queryRows(t, db, "SHOW WARNINGS"); len(w) != 1 || !strings.Contains(w[0], "text is 202 tokens") {
		t.Fatalf("warnings %q", w)
	}
	expectRows(t, db, fmt.Sprintf(`SELECT LENGTH(embed('bge', '%s', '{"truncate": true}'))`, long), "256")
	expectError(t, db, "SELECT rerank('bge', 'a', 'b')", "not a reranker")
	expectError(t, db, "SELECT generate('bge', 'a', 0)", "cannot generate")
	expectRows(t, db, "SELECT embed('bge', NULL) IS NULL", "1")
	// A long document (stored out of line by Dolt), cut to fit.
	mustExec(t, db, "CREATE TABLE big (id INT PRIMARY KEY, body LONGTEXT)")
	mustExec(t, db, "INSERT INTO big VALUES (1, REPEAT('the little dog ', 4000))")
	expectError(t, db, `SELECT embed('bge', body, '{"on_error": "error"}') FROM big`, "text is 12002 tokens")
	expectRows(t, db, `SELECT LENGTH(embed('bge', body, '{"truncate": true}')) FROM big`, "256")
}
