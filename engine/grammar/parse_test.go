package grammar

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// parseCase is one grammar of testdata/llama_parse.json: what llama.cpp's
// parser made of it (see testdata/README.md for how it was recorded).
type parseCase struct {
	Source  string            `json:"source"`
	Grammar string            `json:"grammar"`
	OK      bool              `json:"ok"`
	Error   string            `json:"llama_error"`
	Symbols map[string]uint32 `json:"symbols"`
	Rules   [][]uint32        `json:"rules"` // type, value pairs
	Print   string            `json:"print"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestParseMatchesLlamaCpp(t *testing.T) {
	var cases []parseCase
	readJSON(t, "testdata/llama_parse.json", &cases)
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		g, err := Parse(c.Grammar)
		if !c.OK {
			if err == nil {
				t.Errorf("%s: %q parsed, llama.cpp refused it (%s)", c.Source, c.Grammar, c.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %q: %v", c.Source, c.Grammar, err)
			continue
		}
		if len(g.Names) != len(c.Symbols) {
			t.Errorf("%s: %d symbols, llama.cpp has %d", c.Source, len(g.Names), len(c.Symbols))
		}
		for name, id := range c.Symbols {
			if int(id) >= len(g.Names) || g.Names[id] != name {
				t.Errorf("%s: symbol %s should have id %d", c.Source, name, id)
			}
		}
		if len(g.Rules) != len(c.Rules) {
			t.Errorf("%s: %d rules, llama.cpp has %d", c.Source, len(g.Rules), len(c.Rules))
			continue
		}
		for i, want := range c.Rules {
			var got []uint32
			for _, e := range g.Rules[i] {
				got = append(got, uint32(e.Type), e.Value)
			}
			if !slicesEqual(got, want) {
				t.Errorf("%s: rule %s is %v, llama.cpp has %v", c.Source, g.Names[i], got, want)
			}
		}
		if s := g.String(); s != c.Print {
			t.Errorf("%s: printed\n%s\nllama.cpp prints\n%s", c.Source, s, c.Print)
		}
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErrorsNameRuleAndPosition(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"root ::= \"a\"\nitem ::= [a-z\n", `rule "item": line 3 column 1: unterminated character class at end of input`},
		{"root ::= item\nitem ::= \"\\q\"", `rule "item": line 2 column 11: unknown escape at "\\q\""`},
		{"root ::= (\"a\" | \"b\"", `rule "root": line 1 column 20: expecting ')' at end of input`},
		{"root ::= x", `rule "x": undefined rule identifier 'x'`},
		{"start ::= \"x\"", `grammar does not contain a 'root' rule`},
		{"root ::= a\na ::= a \"x\"", `rule "a": left recursion`},
		{"root ::= \"a\"{5,2}", `rule "root": line 1 column 18: repetition {5,2}: the maximum is below the minimum`},
		{"root ::= <tok>", `needs the model's vocabulary`},
		{"root ::= \"a\"\x00", `NUL byte`},
		{"root ::= \"a\"{3000}", `repetition count 3000 exceeds 2000`},
	} {
		_, err := Parse(c.src)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, want a ParseError", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q does not contain %q", c.src, err, c.want)
		}
	}
}

func TestParseTokenText(t *testing.T) {
	tokenize := func(s string) []int32 {
		switch s {
		case "<think>":
			return []int32{1000}
		case "<two>":
			return []int32{1, 2}
		}
		return nil
	}
	g, err := Parse(`root ::= <think> !<[1001]> <[1001]>`, Options{Tokenize: tokenize})
	if err != nil {
		t.Fatal(err)
	}
	want := []Element{{Token, 1000}, {TokenNot, 1001}, {Token, 1001}, {End, 0}}
	if !slicesEqual(g.Rules[0], want) {
		t.Fatalf("rules %v, want %v", g.Rules[0], want)
	}
	if _, err := Parse(`root ::= <two>`, Options{Tokenize: tokenize}); err == nil || !strings.Contains(err.Error(), "2 tokens, not one") {
		t.Fatalf("got %v", err)
	}
}
