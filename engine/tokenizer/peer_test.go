package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPeerGolden compares with golden files written by llama.cpp through
// node-llama-cpp (/tmp/peer/tokdump.mjs; /tmp/peer/README.txt says how):
// for each string, the ids without and with special-token parsing and the
// detokenized ids. The directory is LLMSQL_PEER_DIR, default /tmp/peer,
// and its pre/ subdirectory; the test skips when no golden-*.json files are
// there.
func TestPeerGolden(t *testing.T) {
	dir := os.Getenv("LLMSQL_PEER_DIR")
	if dir == "" {
		dir = "/tmp/peer"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "golden-*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "pre", "golden-*.json"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skipf("no llama.cpp golden files in %s", dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "golden-"), ".json")
		// A vocab-NAME.gguf beside the golden file (a shared vocabulary with
		// another tokenizer.ggml.pre, say) takes precedence over
		// ../shared/vocab.
		vocab := filepath.Join(filepath.Dir(file), "vocab-"+name+".gguf")
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
			var tok *Tokenizer
			if _, err := os.Stat(vocab); err == nil {
				tok = loadPath(t, vocab)
			} else {
				tok = loadVocab(t, name)
			}
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

// TestPeerMeta compares BOS, EOS, add-BOS and the full set of
// end-of-generation tokens with llama.cpp's (meta-NAME.json files written
// by /tmp/peer/tokmeta.mjs).
func TestPeerMeta(t *testing.T) {
	dir := os.Getenv("LLMSQL_PEER_DIR")
	if dir == "" {
		dir = "/tmp/peer"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "meta-*.json"))
	if len(files) == 0 {
		t.Skipf("no llama.cpp meta files in %s", dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "meta-"), ".json")
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			BOS, EOS   *int32
			PrependBOS bool `json:"prependBos"`
			EOG        []int32
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		tok := loadVocab(t, name)
		orNone := func(p *int32) int32 {
			if p == nil {
				return -1
			}
			return *p
		}
		if tok.BOS() != orNone(m.BOS) || tok.EOS() != orNone(m.EOS) || tok.AddBOS() != m.PrependBOS {
			t.Errorf("%s: BOS %d EOS %d AddBOS %v, llama.cpp %d %d %v", name,
				tok.BOS(), tok.EOS(), tok.AddBOS(), orNone(m.BOS), orNone(m.EOS), m.PrependBOS)
		}
		var eog []int32
		for id := int32(0); int(id) < tok.VocabSize(); id++ {
			if tok.IsEOG(id) {
				eog = append(eog, id)
			}
		}
		if !equalIDs(eog, m.EOG) {
			t.Errorf("%s: EOG %v, llama.cpp %v", name, eog, m.EOG)
		}
	}
}
