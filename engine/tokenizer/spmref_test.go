package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSPMReference checks ../shared/ref/spm_tokenize.json, produced by
// llama.cpp's llama-tokenize on the llama-spm vocabulary, in the three flag
// combinations it records.
func TestSPMReference(t *testing.T) {
	shared := sharedDir(t)
	raw, err := os.ReadFile(filepath.Join(shared, "ref", "spm_tokenize.json"))
	if err != nil {
		t.Skipf("reference absent: %v", err)
	}
	var ref struct {
		Vocab string `json:"vocab"`
		Cases []struct {
			Text       string   `json:"text"`
			UTF8Hex    string   `json:"utf8_hex"`
			WithBOS    []int32  `json:"ids_with_bos"`
			NoBOS      []int32  `json:"ids_no_bos"`
			NoBOSNoSp  []int32  `json:"ids_no_bos_no_parse_special"`
			PiecesNoBO []string `json:"pieces_no_bos"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	tok := loadPath(t, filepath.Join(shared, ref.Vocab))
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range ref.Cases {
		b, err := hex.DecodeString(c.UTF8Hex)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if text != c.Text {
			t.Fatalf("case %d: utf8_hex does not match text", i)
		}
		if got := tok.Encode(text, true, true); !equalIDs(got, c.WithBOS) {
			t.Errorf("case %d %q with BOS:\n got %v\nwant %v", i, text, got, c.WithBOS)
		}
		if got := tok.Encode(text, false, true); !equalIDs(got, c.NoBOS) {
			t.Errorf("case %d %q without BOS:\n got %v\nwant %v", i, text, got, c.NoBOS)
		}
		if got := tok.Encode(text, false, false); !equalIDs(got, c.NoBOSNoSp) {
			t.Errorf("case %d %q without BOS or special parsing:\n got %v\nwant %v", i, text, got, c.NoBOSNoSp)
		}
		// llama-tokenize prints pieces of ordinary tokens as Piece does
		// (it shows special tokens, and its line-based output hides byte
		// tokens such as newline, so those are not compared).
		if len(c.PiecesNoBO) == len(c.NoBOS) {
			for k, id := range c.NoBOS {
				if tok.attrs[id]&attrNormal == 0 {
					continue
				}
				if got := tok.Piece(id); got != c.PiecesNoBO[k] {
					t.Errorf("case %d: piece of %d = %q, want %q", i, id, got, c.PiecesNoBO[k])
				}
			}
		}
	}
}
