package main

import (
	"fmt"
	"testing"
)

// TestServeLongText runs every function over values of 10 bytes to 1 MB in
// each column type, on Dolt (which stores TEXT, BLOB and JSON values over a
// few KB out of line and hands them over as wrappers) and in memory.
func TestServeLongText(t *testing.T) {
	for _, storage := range []string{"dolt", "memory"} {
		t.Run(storage, func(t *testing.T) {
			cfg := memoryWithModel(t)
			if storage == "dolt" {
				cfg.Memory, cfg.DataDir = false, t.TempDir()
			}
			ts := newServer(t, cfg, fakeEngine)
			db := ts.db()
			mustExec(t, db, `CREATE TABLE docs (id INT PRIMARY KEY, size INT, body LONGTEXT, short TEXT, bin LONGBLOB,
				js JSON, ids LONGTEXT, jids JSON, opts TEXT)`)
			for i, size := range []int{10, 4 << 10, 64 << 10, 1 << 20} {
				// 32-byte sentences, cut to size.
				mustExec(t, db, fmt.Sprintf(`INSERT INTO docs (id, size, body) VALUES (%d, %d,
					LEFT(REPEAT('The little dog ran to the park. ', %d), %d))`, i, size, size/32+1, size))
			}
			mustExec(t, db, `UPDATE docs SET short = IF(size < 65535, body, NULL), bin = body,
				js = JSON_OBJECT('body', body), opts = '{"temperature": 0, "max_tokens": 1048576}'`)
			mustExec(t, db, "UPDATE docs SET ids = tokenize('m', body)")
			mustExec(t, db, "UPDATE docs SET jids = tokenize('m', body) WHERE size <= 65536")
			expectRows(t, db, "SELECT size, LENGTH(body), LENGTH(bin), JSON_LENGTH(ids) FROM docs ORDER BY id",
				"10|10|10|11", "4096|4096|4096|4097", "65536|65536|65536|65537", "1048576|1048576|1048576|1048577")

			const greedy = `'{"temperature": 0, "max_tokens": 1048576}'`
			for _, q := range []string{
				"SELECT size, generate('m', body, " + greedy + ") = UPPER(body) FROM docs ORDER BY id",
				"SELECT size, generate('m', bin, " + greedy + ") = UPPER(body) FROM docs ORDER BY id",
				"SELECT size, generate('m', body, opts) = UPPER(body) FROM docs ORDER BY id",
				"SELECT size, generate('m', js, opts) = LEFT(UPPER(CAST(js AS CHAR)), 1048576) FROM docs ORDER BY id",
				"SELECT size, count_tokens('m', body) = size + 1 FROM docs ORDER BY id",
				"SELECT size, count_tokens('m', bin) = size + 1 FROM docs ORDER BY id",
				"SELECT size, JSON_LENGTH(tokenize('m', body)) = size + 1 FROM docs ORDER BY id",
				"SELECT size, tokenize('m', bin) = tokenize('m', body) FROM docs ORDER BY id",
				"SELECT size, detokenize('m', ids) = body FROM docs ORDER BY id",
				"SELECT size, detokenize('m', tokenize('m', body)) = body FROM docs ORDER BY id",
			} {
				expectRows(t, db, q, "10|1", "4096|1", "65536|1", "1048576|1")
			}
			expectRows(t, db, "SELECT size, generate('m', short, opts) = UPPER(short), detokenize('m', jids) = body FROM docs WHERE size < 65535 ORDER BY id",
				"10|1|1", "4096|1|1")
			// What the issue reported: a long TEXT summarised in place.
			mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, body TEXT, s TEXT)")
			mustExec(t, db, "INSERT INTO t (id, body) VALUES (1, REPEAT('The little dog ran to the park. ', 150))")
			mustExec(t, db, "UPDATE t SET s = generate('m', body, 0, 8)")
			expectRows(t, db, "SELECT s FROM t", "THE LITT")
		})
	}
}
