package jsonschema

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/grammar"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

// randomSchema writes a random schema from the keywords this package
// supports.
func randomSchema(rng *rand.Rand, depth int) map[string]any {
	words := []string{"a", "b", "name", "id", "é", "x y", "q\"uote"}
	switch k := rng.IntN(14); {
	case k == 0:
		return map[string]any{"type": "string"}
	case k == 1:
		lo := rng.IntN(4)
		return map[string]any{"type": "string", "minLength": lo, "maxLength": lo + rng.IntN(4)}
	case k == 2:
		return map[string]any{"type": "integer"}
	case k == 3:
		lo := rng.IntN(400) - 200
		s := map[string]any{"type": "integer", "minimum": lo}
		if rng.IntN(2) == 0 {
			s["maximum"] = lo + rng.IntN(1000)
		}
		return s
	case k == 4:
		return map[string]any{"type": "number"}
	case k == 5:
		return map[string]any{"type": "boolean"}
	case k == 6:
		return map[string]any{"enum": []any{"red", "green", 3, nil, true}}
	case k == 7:
		return map[string]any{"const": words[rng.IntN(len(words))]}
	case k == 8:
		return map[string]any{"type": "string", "pattern": []string{"^[a-c]{2,3}$", "^(ab|cd)+x?$", "^[0-9]{5}$", "^A|B$"}[rng.IntN(4)]}
	case k == 9:
		return map[string]any{"type": "string", "format": []string{"date", "time", "date-time", "uuid"}[rng.IntN(4)]}
	case k == 10 && depth < 3:
		s := map[string]any{"type": "array", "items": randomSchema(rng, depth+1)}
		if rng.IntN(2) == 0 {
			s["minItems"] = rng.IntN(2)
			s["maxItems"] = 2 + rng.IntN(2)
		}
		return s
	case k == 11 && depth < 3:
		return map[string]any{"anyOf": []any{randomSchema(rng, depth+1), randomSchema(rng, depth+1)}}
	case k == 12 && depth < 3:
		return map[string]any{"type": []any{"string", "null"}}
	case depth < 3:
		props := map[string]any{}
		req := []any{}
		for i := 0; i < 1+rng.IntN(3); i++ {
			name := words[rng.IntN(len(words))]
			if _, dup := props[name]; dup {
				continue
			}
			props[name] = randomSchema(rng, depth+1)
			if rng.IntN(2) == 0 {
				req = append(req, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "required": req}
		switch rng.IntN(3) {
		case 0:
			s["additionalProperties"] = false
		case 1:
			s["additionalProperties"] = map[string]any{"type": "integer"}
		}
		return s
	}
	return map[string]any{"type": "null"}
}

// sampleText walks a random path through a grammar one character at a
// time (a vocabulary of printable ASCII and a few other characters) until
// the grammar is complete, preferring to end once it may.
func sampleText(rng *rand.Rand, c *grammar.Compiled, pieces []string, maxLen int) (string, bool) {
	m := c.NewMatcher()
	var b strings.Builder
	for step := 0; step < maxLen; step++ {
		if m.Complete() && (rng.IntN(4) == 0 || step > maxLen/2) {
			return b.String(), true
		}
		mask := m.Mask()
		var allowed []int32
		for t := int32(1); int(t) < len(pieces); t++ {
			if grammar.MaskHas(mask, t) {
				allowed = append(allowed, t)
			}
		}
		if len(allowed) == 0 {
			return b.String(), m.Complete()
		}
		t := allowed[rng.IntN(len(allowed))]
		if err := m.Accept(t); err != nil {
			return "", false
		}
		b.WriteString(pieces[t])
	}
	return b.String(), m.Complete()
}

func TestGeneratedDocumentsValidate(t *testing.T) {
	pieces := []string{""} // token 0 is end-of-generation
	for c := 0x20; c < 0x7f; c++ {
		pieces = append(pieces, string(rune(c)))
	}
	pieces = append(pieces, "\n", "é", "日", "😀")
	v := grammar.NewVocab(len(pieces), func(id int32) []byte { return []byte(pieces[id]) }, func(id int32) bool { return id == 0 })
	rng := rand.New(rand.NewPCG(7, 7))
	schemas, docs := 0, 0
	n := 300
	if testing.Short() {
		n = 60
	}
	for i := 0; i < n; i++ {
		s := randomSchema(rng, 0)
		raw, _ := json.Marshal(s)
		gbnf, err := ToGrammar(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		g, err := grammar.Parse(gbnf)
		if err != nil {
			t.Fatalf("%s: grammar does not parse: %v\n%s", raw, err, gbnf)
		}
		c, err := grammar.Compile(g, v)
		if err != nil {
			t.Fatal(err)
		}
		comp := validator.NewCompiler()
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if err := comp.AddResource("schema.json", doc); err != nil {
			t.Fatal(err)
		}
		sch, err := comp.Compile("schema.json")
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		schemas++
		for j := 0; j < 5; j++ {
			text, ok := sampleText(rng, c, pieces, 400)
			if !ok {
				continue // ran out of length inside a deep document
			}
			docs++
			// Numbers stay json.Number: the grammar allows exponents no
			// float64 holds, which are still JSON.
			inst, err := validator.UnmarshalJSON(strings.NewReader(text))
			if err != nil {
				t.Fatalf("schema %s\ngrammar\n%s\noutput %q is not JSON: %v", raw, gbnf, text, err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("schema %s\ngrammar\n%s\noutput %q does not validate: %v", raw, gbnf, text, err)
			}
		}
	}
	t.Logf("%d schemas, %d documents validated", schemas, docs)
	if docs < schemas {
		t.Fatalf("only %d documents", docs)
	}
}

func TestUnsupportedKeywordsAreNamed(t *testing.T) {
	for _, c := range []struct{ schema, want string }{
		{`{"type":"array","items":{"type":"string"},"uniqueItems":true}`, `unsupported keyword "uniqueItems" on an array`},
		{`{"type":"number","minimum":0}`, `unsupported keyword "minimum" on a number`},
		{`{"type":"integer","multipleOf":3}`, `unsupported keyword "multipleOf" on an integer`},
		{`{"type":"string","format":"email"}`, `unsupported format "email"`},
		{`{"type":"object","properties":{"a":{"type":"string","minLength":2,"pattern":"^a+$"}}}`, `unsupported keyword "minLength" beside pattern: not enforced (at /properties/a)`},
		{`{"type":"object","patternProperties":{"^a":{}}}`, `unsupported keyword "patternProperties"`},
		{`{"not":{"type":"string"}}`, `unsupported keyword "not"`},
		{`{"$ref":"https://example.com/s.json"}`, `only references inside the schema`},
		{`{"type":"string","pattern":"^\\d+$"}`, `not supported: unsupported escape: \d`},
		{`{"anyOf":[{"type":"string"}],"type":"object"}`, `unsupported keyword "type" beside anyOf`},
		{`{"type":"kaboom"}`, `unknown type "kaboom"`},
		{`not json`, `not valid JSON`},
		{`{"type":"string","minLength":5,"maxLength":2}`, `minLength 5 is above maxLength 2`},
	} {
		_, err := ToGrammar([]byte(c.schema))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.schema, err, c.want)
		}
	}
	// Keywords about another type do not apply and are fine.
	if _, err := ToGrammar([]byte(`{"type":["string","null"],"minLength":1,"description":"x"}`)); err != nil {
		t.Errorf("nullable string with minLength: %v", err)
	}
	if _, err := ToGrammar([]byte(`{"anyOf":[{"$ref":"#/$defs/a"}],"type":"object","$defs":{"a":{"properties":{"x":{"type":"integer"}}}}}`)); err != nil {
		t.Errorf("object type beside object alternatives: %v", err)
	}
}

func ExampleToGrammar() {
	g, err := ToGrammar([]byte(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`))
	fmt.Print(g, err)
	// Output:
	// boolean ::= ("true" | "false")
	// ok-kv ::= "\"ok\"" space ":" space boolean
	// root ::= "{" space ok-kv space "}"
	// space ::= | " " | "\n"{1,2} [ \t]{0,20}
	// <nil>
}
