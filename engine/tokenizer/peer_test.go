package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPeerGolden compares with golden files written by llama.cpp through
// node-llama-cpp (/tmp/peer/tokdump.mjs, see the package README in the
// report): for each string, the ids without and with special-token parsing
// and the detokenized ids. The directory is LLMSQL_PEER_DIR, default
// /tmp/peer; the test skips when no golden-*.json files are there.
func TestPeerGolden(t *testing.T) {
	dir := os.Getenv("LLMSQL_PEER_DIR")
	if dir == "" {
		dir = "/tmp/peer"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "golden-*.json"))
	if len(files) == 0 {
		t.Skipf("no llama.cpp golden files in %s", dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "golden-"), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var cases []struct {
				Text       string  `json:"text"`
				IDs        []int32 `json:"ids"`
				IDsSpecial []int32 `json:"ids_special"`
				Detok      string  `json:"detok"`
			}
			if err := json.Unmarshal(raw, &cases); err != nil {
				t.Fatal(err)
			}
			tok := loadVocab(t, name)
			bad := 0
			for i, c := range cases {
				if got := tok.Encode(c.Text, false, false); !equalIDs(got, c.IDs) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, trunc(c.Text), truncIDs(got), truncIDs(c.IDs))
					bad++
				}
				if got := tok.Encode(c.Text, false, true); !equalIDs(got, c.IDsSpecial) {
					t.Errorf("case %d %q (parse special):\n got %v\nwant %v", i, trunc(c.Text), truncIDs(got), truncIDs(c.IDsSpecial))
					bad++
				}
				if got := tok.Decode(c.IDs); got != c.Detok {
					t.Errorf("case %d decode %v:\n got %q\nwant %q", i, truncIDs(c.IDs), trunc(got), trunc(c.Detok))
					bad++
				}
				if bad > 10 {
					t.Fatal("too many differences")
				}
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func truncIDs(ids []int32) []int32 {
	if len(ids) > 40 {
		return ids[:40]
	}
	return ids
}
