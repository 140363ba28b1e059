package sqlfuncs

import (
	"errors"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine"
)

func TestParseOptions(t *testing.T) {
	def := engine.DefaultGenerateOptions()
	o, err := ParseOptions(`{"temperature": 0, "top_k": 5, "top_p": 0.5, "min_p": 0.1,
		"repeat_penalty": 1.1, "max_tokens": 12.0, "seed": 18446744073709551615,
		"stop": ["\n", "END"], "ignore_eos": true, "repeat_last_n": 32,
		"frequency_penalty": -0.5, "presence_penalty": 0.25}`, def)
	if err != nil {
		t.Fatal(err)
	}
	if o.Temperature != 0 || o.TopK != 5 || o.TopP != 0.5 || o.MinP != 0.1 || o.RepeatPenalty != 1.1 ||
		o.MaxTokens != 12 || !o.HasSeed || o.Seed != 1<<64-1 || len(o.Stop) != 2 || o.Stop[1] != "END" ||
		!o.IgnoreEOS || o.RepeatLastN != 32 || o.FrequencyPenalty != -0.5 || o.PresencePenalty != 0.25 {
		t.Fatalf("options not applied: %+v", o)
	}

	// -1 is a random seed, as on the command line, also over a seed set
	// before.
	seeded := def
	seeded.Seed, seeded.HasSeed = 5, true
	if o, err := ParseOptions(`{"seed": -1}`, seeded); err != nil || o.HasSeed {
		t.Fatalf("seed -1: %+v, %v", o, err)
	}

	o, err = ParseOptions(` { "stop": "x", "temperature": null } `, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Stop) != 1 || o.Stop[0] != "x" || o.Temperature != def.Temperature || o.MaxTokens != def.MaxTokens {
		t.Fatalf("got %+v", o)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	def := engine.DefaultGenerateOptions()
	for _, c := range []struct {
		in, want string
		option   string // set when the engine's range check must report it
	}{
		{in: `{"temprature": 0}`, want: `unknown option "temprature"`},
		{in: `{"temperature": "hot"}`, want: "option temperature must be a number"},
		{in: `{"top_k": 1.5}`, want: "option top_k must be an integer"},
		{in: `{"seed": -2}`, want: "option seed must be -1 (random) or an integer from 0"},
		{in: `{"seed": 1.5}`, want: "option seed must be -1 (random) or an integer from 0"},
		{in: `{"seed": "7"}`, want: "option seed must be an integer (-1 = random)"},
		{in: `{"stop": [1]}`, want: "option stop must be a string or an array"},
		{in: `{"ignore_eos": 1}`, want: "option ignore_eos must be true or false"},
		{in: `[1, 2]`, want: "options must be a JSON object"},
		{in: `{"temperature": 0`, want: "not valid JSON"},
		{in: `{} {}`, want: "not valid JSON"},
		{in: `{"temperature": -1}`, option: "temperature"},
		{in: `{"top_p": 0}`, option: "top_p"},
		{in: `{"max_tokens": -5}`, option: "max_tokens"},
		{in: `{"stop": [""]}`, option: "stop"},
	} {
		_, err := ParseOptions(c.in, def)
		if err == nil {
			t.Errorf("%s: no error", c.in)
			continue
		}
		if c.option != "" {
			var oe *engine.OptionError
			if !errors.As(err, &oe) || oe.Name != c.option {
				t.Errorf("%s: got %v, want an OptionError for %s", c.in, err, c.option)
			}
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %q, want it to contain %q", c.in, err, c.want)
		}
	}
}

func TestOptionNamesAreSorted(t *testing.T) {
	names := OptionNames()
	if len(names) != len(optionSetters)+len(promptSetters)+len(grammarKeys) {
		t.Fatalf("%d names for %d options", len(names), len(optionSetters)+len(promptSetters)+len(grammarKeys))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not sorted: %v", names)
		}
	}
}

func TestGrammarOptions(t *testing.T) {
	base := engine.DefaultGenerateOptions()
	o, err := ParseOptions(`{"json_schema": {"type":"object","properties":{"z":{"type":"integer"},"a":{"type":"boolean"}},"required":["z","a"]}, "temperature": 0}`, base)
	if err != nil {
		t.Fatal(err)
	}
	// The schema's property order (z before a) is kept.
	if !strings.Contains(o.Grammar, `root ::= "{" space z-kv "," space a-kv space "}"`) || o.Temperature != 0 {
		t.Fatalf("grammar %q", o.Grammar)
	}
	if o2, err := ParseOptions(`{"json_schema": "{\"type\":\"integer\"}"}`, base); err != nil || !strings.Contains(o2.Grammar, "root ::= (\"-\"? integral-part)") {
		t.Fatalf("schema as a string: %v %q", err, o2.Grammar)
	}
	if o3, err := ParseOptions(`{"json": true}`, base); err != nil || !strings.Contains(o3.Grammar, `root ::= object`) {
		t.Fatalf("json: %v %q", err, o3.Grammar)
	}
	if o4, err := ParseOptions(`{"grammar": "root ::= \"yes\" | \"no\""}`, base); err != nil || o4.Grammar != `root ::= "yes" | "no"` {
		t.Fatalf("grammar: %v %q", err, o4.Grammar)
	}
	for _, c := range []struct{ in, want string }{
		{`{"grammar": "x", "json": true}`, "both constrain the output"},
		{`{"json_schema": {"type":"string","format":"email"}}`, `unsupported format "email"`},
		{`{"json_schema": 3}`, "must be a JSON Schema"},
		{`{"json": "yes"}`, "json must be true or false"},
		{`{"grammar": 1}`, "grammar must be a GBNF grammar"},
	} {
		if _, err := ParseOptions(c.in, base); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.in, err, c.want)
		}
	}
}
