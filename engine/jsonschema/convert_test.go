package jsonschema

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/grammar"
)

// llamaCase is one case of llama.cpp's test-json-schema-to-grammar.cpp with
// the grammar its converter writes (testdata/llama_schema.json; see
// engine/grammar/testdata/record).
type llamaCase struct {
	Name    string `json:"name"`
	Schema  string `json:"schema"`
	Success bool   `json:"success"` // what the test expects
	OK      bool   `json:"ok"`      // what llama.cpp's converter did
	Grammar string `json:"grammar"`
	Error   string `json:"error"`
}

// refused are the cases llama.cpp converts by ignoring a keyword (or a
// pattern) it cannot enforce, which this package refuses instead; the
// value is what the error must mention.
var refused = map[string]string{
	"array with empty items and prefixItems": `"prefixItems"`,
	"regexp with unsupported shorthand":      `pattern "^[0-9]{3}\\w$" is not supported`,
	"unsupported regexp in a property":       `pattern "^[a-z\\-]+$" is not supported`,
	"unanchored regexp":                      `pattern "[0-9]+" is not supported: not anchored`,
	"regexp with unbalanced parentheses":     `invalid pattern`,
	"unknown type":                           `unknown type "kaboom"`,
	"invalid type":                           `type must be a string`,
}

// fixNotStrings applies to llama.cpp's grammar the fix this package makes
// to the rule for the names of additional properties (see notStrings).
func fixNotStrings(g string) string {
	var out []string
	for _, line := range strings.SplitAfter(g, "\n") {
		if strings.Contains(line, "additional-k ::= ") {
			line = strings.ReplaceAll(line, `[^"`, `[^"\\\x7F\x00-\x1F`)
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

func TestMatchesLlamaCpp(t *testing.T) {
	b, err := os.ReadFile("testdata/llama_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []llamaCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	same := 0
	for _, c := range cases {
		got, err := ToGrammar([]byte(c.Schema))
		want, isRefused := refused[c.Name]
		switch {
		case err != nil && isRefused && want != "":
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q should mention %s", c.Name, err, want)
			}
		case err != nil:
			t.Errorf("%s: %v (llama.cpp: ok=%v %s)", c.Name, err, c.OK, c.Error)
		case !c.OK:
			t.Errorf("%s: converted, llama.cpp refused it (%s)", c.Name, c.Error)
		case got != fixNotStrings(c.Grammar):
			t.Errorf("%s:\n%s\ngot:\n%s\nllama.cpp:\n%s", c.Name, c.Schema, got, c.Grammar)
		default:
			same++
			if _, err := grammar.Parse(got); err != nil {
				t.Errorf("%s: the grammar does not parse: %v", c.Name, err)
			}
		}
	}
	t.Logf("%d of %d cases give llama.cpp's grammar", same, len(cases))
}

// The JSON-schema cases of llama.cpp's test-grammar-integration.cpp: our
// grammar is llama.cpp's (but for the fixes above), and takes and refuses
// the same documents.
func TestIntegrationSchemasFromLlamaCpp(t *testing.T) {
	b, err := os.ReadFile("../grammar/testdata/llama_integration.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Kind    string              `json:"kind"`
		Desc    string              `json:"desc"`
		Schema  string              `json:"schema"`
		Grammar string              `json:"grammar"`
		Pass    [][]json.RawMessage `json:"pass"`
		Fail    [][]json.RawMessage `json:"fail"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	// One token per character of printable ASCII (the documents' alphabet).
	pieces := []string{""}
	for c := 0x20; c < 0x7f; c++ {
		pieces = append(pieces, string(rune(c)))
	}
	pieces = append(pieces, "\n")
	v := grammar.NewVocab(len(pieces), func(id int32) []byte { return []byte(pieces[id]) }, func(id int32) bool { return id == 0 })
	text := func(units []json.RawMessage) string {
		var s strings.Builder
		for _, u := range units {
			var part string
			if err := json.Unmarshal(u, &part); err != nil {
				t.Fatalf("%s: not text", u)
			}
			s.WriteString(part)
		}
		return s.String()
	}
	matches := func(c *grammar.Compiled, s string) bool {
		m := c.NewMatcher()
		for _, r := range s {
			tok := int32(slices.Index(pieces, string(r)))
			if tok < 0 || m.Accept(tok) != nil {
				return false
			}
		}
		return m.Complete()
	}
	n := 0
	for _, tc := range cases {
		if tc.Kind != "schema" {
			continue
		}
		got, err := ToGrammar([]byte(tc.Schema))
		if err != nil {
			// llama.cpp ignores these keywords; we refuse them.
			if strings.Contains(err.Error(), `"uniqueItems"`) || strings.Contains(err.Error(), `"exclusiveMinimum" on a number`) {
				continue
			}
			t.Errorf("%s: %v", tc.Desc, err)
			continue
		}
		if got != fixNotStrings(tc.Grammar) {
			t.Errorf("%s: grammar\n%s\nllama.cpp\n%s", tc.Desc, got, tc.Grammar)
			continue
		}
		g, err := grammar.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		c, err := grammar.Compile(g, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tc.Pass {
			n++
			if s := text(p); !matches(c, s) {
				t.Errorf("%s: %q should match", tc.Desc, s)
			}
		}
		for _, f := range tc.Fail {
			n++
			if s := text(f); matches(c, s) {
				t.Errorf("%s: %q should not match", tc.Desc, s)
			}
		}
	}
	t.Logf("%d documents", n)
}
