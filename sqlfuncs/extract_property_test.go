package sqlfuncs_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// schemaGen draws random JSON Schemas from the keywords extract() covers,
// bounded (strings, arrays and numbers have limits, objects forbid other
// properties) so that a model of random weights can finish a document
// within max_tokens.
type schemaGen struct{ r *rand.Rand }

func (g schemaGen) schema(depth int) map[string]any {
	kinds := []string{"string", "integer", "number", "boolean", "null", "enum", "const", "pattern", "format"}
	if depth > 0 {
		kinds = append(kinds, "object", "object", "array", "anyOf")
	}
	switch kinds[g.r.IntN(len(kinds))] {
	case "string":
		s := map[string]any{"type": "string", "maxLength": 1 + g.r.IntN(6)}
		if g.r.IntN(2) == 0 {
			s["minLength"] = g.r.IntN(2)
		}
		return s
	case "integer":
		lo := g.r.IntN(200) - 100
		return map[string]any{"type": "integer", "minimum": lo, "maximum": lo + g.r.IntN(300)}
	case "number":
		return map[string]any{"type": "number"}
	case "boolean":
		return map[string]any{"type": "boolean"}
	case "null":
		return map[string]any{"type": "null"}
	case "enum":
		vals := []any{"red", "green", 7, true, nil, "blue sky", 2.5}
		g.r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		return map[string]any{"enum": vals[:1+g.r.IntN(4)]}
	case "const":
		return map[string]any{"const": []any{"fixed", 42, false}[g.r.IntN(3)]}
	case "pattern":
		return map[string]any{"type": "string", "pattern": []string{"^[a-c]{1,3}$", "^[0-9]{2}-[A-Z]$", "^(yes|no)$"}[g.r.IntN(3)]}
	case "format":
		return map[string]any{"type": "string", "format": []string{"date", "time", "date-time", "uuid"}[g.r.IntN(4)]}
	case "array":
		s := map[string]any{"type": "array", "items": g.schema(depth - 1), "maxItems": 1 + g.r.IntN(3)}
		if g.r.IntN(2) == 0 {
			s["minItems"] = 1
		}
		return s
	case "anyOf":
		return map[string]any{"anyOf": []any{g.schema(depth - 1), g.schema(depth - 1)}}
	}
	props := map[string]any{}
	var required []string
	for i := range 1 + g.r.IntN(3) {
		name := fmt.Sprintf("%c%d", 'a'+rune(g.r.IntN(26)), i)
		props[name] = g.schema(depth - 1)
		if g.r.IntN(3) > 0 {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// TestExtractProperty: for random schemas and random texts, every value
// extract() returns validates against its schema (checked by an
// independent validator), and every NULL comes with a warning: the output
// was cut at max_tokens, or (rarely, for a model of random weights) is a
// number past what SQL's JSON type holds.
func TestExtractProperty(t *testing.T) {
	h, _ := realHarness(t, tinyModels(t))
	g := schemaGen{rand.New(rand.NewPCG(13, 1))}
	words := strings.Fields("Once upon a time there was a little dog and a cat Hello world the day it is on with she he 42 2024-05-06")
	h.exec("CREATE TABLE texts (id INT PRIMARY KEY, body TEXT)")
	var vals []string
	for i := range 6 {
		n := 1 + g.r.IntN(12)
		ws := make([]string, n)
		for k := range ws {
			ws[k] = words[g.r.IntN(len(words))]
		}
		vals = append(vals, fmt.Sprintf("(%d, '%s')", i+1, strings.Join(ws, " ")))
	}
	h.exec("INSERT INTO texts VALUES " + strings.Join(vals, ", "))
	valid, cut := 0, 0
	for i := range 24 {
		b, err := json.Marshal(g.schema(2))
		if err != nil {
			t.Fatal(err)
		}
		schema := string(b)
		sch := compileSchema(t, schema)
		model := []string{"tiny", "tchat"}[i%2]
		h.sess.ClearWarnings()
		rows := h.exec("SELECT id, extract_json('" + model + "', body, '" + strings.ReplaceAll(schema, "'", "''") + "', '{\"max_tokens\": 160}') FROM texts ORDER BY id")
		warned := 0
		for _, w := range h.warnings() {
			if !strings.Contains(w, "the output was cut at max_tokens (160)") && !strings.Contains(w, "SQL's JSON type cannot hold") {
				t.Fatalf("schema %s: warning %q", schema, w)
			}
			warned++
		}
		nulls := 0
		for _, r := range rows {
			if r[1] == nil {
				nulls++
				continue
			}
			if err := validates(t, sch, r[1]); err != nil {
				t.Fatalf("schema %s, row %v: %v", schema, r[0], err)
			}
			valid++
		}
		if nulls != warned {
			t.Fatalf("schema %s: %d NULL rows, %d warnings", schema, nulls, warned)
		}
		cut += nulls
	}
	t.Logf("%d values validated, %d cut at max_tokens", valid, cut)
	if valid < 100 {
		t.Fatalf("only %d of 144 values were complete: the test says little", valid)
	}
}
