package main

// classify(), extract() and judge() through the server on the real engine,
// on Dolt (which stores TEXT, BLOB and JSON values over a few KB out of
// line and hands them over as wrappers) and in memory.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/synth"
)

func TestServeStructured(t *testing.T) {
	spec := synth.Tiny()
	spec.Context = 4096 // a 4 KB text spelled mostly letter by letter
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(model, spec); err != nil {
		t.Fatal(err)
	}
	const schema = `{"type":"object","properties":{"animal":{"enum":["dog","cat"]},"n":{"type":"integer","minimum":0,"maximum":9}},"required":["animal","n"],"additionalProperties":false}`
	for _, storage := range []string{"dolt", "memory"} {
		t.Run(storage, func(t *testing.T) {
			cfg := serveConfig{Memory: true, Models: []modelFlag{{"m", model}}}
			if storage == "dolt" {
				cfg.Memory, cfg.DataDir = false, t.TempDir()
			}
			ts := newServer(t, cfg, realEngine)
			db := ts.db()
			mustExec(t, db, `CREATE TABLE docs (id INT PRIMARY KEY, size INT, body LONGTEXT, bin LONGBLOB, labels JSON, sch JSON, info JSON)`)
			for i, size := range []int{10, 4 << 10} {
				mustExec(t, db, fmt.Sprintf(`INSERT INTO docs (id, size, body) VALUES (%d, %d,
					LEFT(REPEAT('The little dog ran to the park. ', %d), %d))`, i, size, size/32+1, size))
			}
			mustExec(t, db, `INSERT INTO docs (id, size) VALUES (9, 0)`) // a NULL text
			mustExec(t, db, `UPDATE docs SET bin = body, labels = '["dog", "cat", "the park"]', sch = '`+schema+`'`)

			// The value's storage form does not change the answer.
			labels := expectRowCount(t, db, `SELECT size, classify('m', body, '["dog", "cat", "the park"]') FROM docs ORDER BY id`, 3)
			expectRows(t, db, `SELECT size, classify('m', bin, labels) FROM docs ORDER BY id`, labels...)
			for _, r := range labels {
				size, label, _ := strings.Cut(r, "|")
				if size == "0" && label != "NULL" || size != "0" && !slices.Contains([]string{"dog", "cat", "the park"}, label) {
					t.Fatalf("classify: %q", labels)
				}
			}
			scores := queryRows(t, db, `SELECT classify('m', body, labels, '{"scores": true}') FROM docs WHERE size > 0 ORDER BY id`)
			for _, s := range scores {
				var ps map[string]float64
				if err := json.Unmarshal([]byte(s), &ps); err != nil || len(ps) != 3 {
					t.Fatalf("scores %q: %v", s, err)
				}
			}

			mustExec(t, db, "UPDATE docs SET info = `extract`('m', body, '"+schema+"')")
			infos := canonJSONRows(t, expectRowCount(t, db, `SELECT size, info FROM docs ORDER BY id`, 3))
			if got := canonJSONRows(t, queryRows(t, db, `SELECT size, extract_json('m', bin, '`+schema+`') FROM docs ORDER BY id`)); !slices.Equal(got, infos) {
				t.Fatalf("extract_json on the BLOB: %q, `extract` on the TEXT: %q", got, infos)
			}
			// A schema read from a JSON column has its keys in MySQL's
			// order (shorter first), so its properties come in that order:
			// a different prompt and grammar, still a valid document.
			fromColumn := expectRowCount(t, db, `SELECT size, extract_json('m', body, sch) FROM docs ORDER BY id`, 3)
			expectRows(t, db, `SELECT size, extract_json('m', bin, sch) FROM docs ORDER BY id`, fromColumn...)
			for _, r := range append(infos, fromColumn...) {
				size, doc, _ := strings.Cut(r, "|")
				if size == "0" {
					if doc != "NULL" {
						t.Fatalf("extract of a NULL text: %q", doc)
					}
					continue
				}
				var v struct {
					Animal string `json:"animal"`
					N      *int   `json:"n"`
				}
				if err := json.Unmarshal([]byte(doc), &v); err != nil || (v.Animal != "dog" && v.Animal != "cat") || v.N == nil || *v.N > 9 {
					t.Fatalf("extract: %q (%v)", doc, err)
				}
			}
			expectRows(t, db, `SELECT size, JSON_TYPE(info), info->>'$.animal' IN ('dog', 'cat') FROM docs WHERE size > 0 ORDER BY id`,
				"10|OBJECT|1", "4096|OBJECT|1")

			judged := expectRowCount(t, db, `SELECT size, judge('m', 'Is it about a dog?', body) FROM docs ORDER BY id`, 3)
			expectRows(t, db, `SELECT size, judge('m', 'Is it about a dog?', bin) FROM docs ORDER BY id`, judged...)
			// MySQL's EXTRACT is untouched.
			expectRows(t, db, "SELECT EXTRACT(YEAR FROM '2024-05-06'), `extract`('DAY', '2024-05-06')", "2024|6")
		})
	}
}

// canonJSONRows writes each row's "size|document" with the document
// re-encoded (keys sorted, no spaces): Dolt prints a stored JSON value as
// it stored it, a computed one in MySQL's key order.
func canonJSONRows(t *testing.T, rows []string) []string {
	t.Helper()
	out := make([]string, len(rows))
	for i, r := range rows {
		size, doc, _ := strings.Cut(r, "|")
		if doc == "NULL" {
			out[i] = r
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("row %q: %v", r, err)
		}
		b, _ := json.Marshal(v)
		out[i] = size + "|" + string(b)
	}
	return out
}
