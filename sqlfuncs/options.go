package sqlfuncs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/jsonschema"
)

// optionSetters are the keys a generate() options object may hold. Each
// converts its JSON value and stores it; range checks are left to
// GenerateOptions.Validate so the SQL layer and the engine agree on them.
var optionSetters = map[string]func(o *engine.GenerateOptions, v any) error{
	"temperature":       floatOption(func(o *engine.GenerateOptions, f float32) { o.Temperature = f }),
	"top_p":             floatOption(func(o *engine.GenerateOptions, f float32) { o.TopP = f }),
	"min_p":             floatOption(func(o *engine.GenerateOptions, f float32) { o.MinP = f }),
	"repeat_penalty":    floatOption(func(o *engine.GenerateOptions, f float32) { o.RepeatPenalty = f }),
	"frequency_penalty": floatOption(func(o *engine.GenerateOptions, f float32) { o.FrequencyPenalty = f }),
	"presence_penalty":  floatOption(func(o *engine.GenerateOptions, f float32) { o.PresencePenalty = f }),
	"top_k":             intOption(func(o *engine.GenerateOptions, n int) { o.TopK = n }),
	"repeat_last_n":     intOption(func(o *engine.GenerateOptions, n int) { o.RepeatLastN = n }),
	"max_tokens":        intOption(func(o *engine.GenerateOptions, n int) { o.MaxTokens = n }),
	// "seed": -1 is a random seed, as --seed -1 is on the command line
	// (and in llama.cpp): the call is sampled afresh each time.
	"seed": func(o *engine.GenerateOptions, v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("must be an integer (-1 = random)")
		}
		if n.String() == "-1" {
			o.Seed, o.HasSeed = 0, false
			return nil
		}
		s, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			return fmt.Errorf("must be -1 (random) or an integer from 0 to %d", uint64(math.MaxUint64))
		}
		o.Seed, o.HasSeed = s, true
		return nil
	},
	"stop": func(o *engine.GenerateOptions, v any) error {
		switch x := v.(type) {
		case string:
			o.Stop = []string{x}
			return nil
		case []any:
			stops := make([]string, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("must be a string or an array of strings")
				}
				stops[i] = s
			}
			o.Stop = stops
			return nil
		}
		return fmt.Errorf("must be a string or an array of strings")
	},
	"ignore_eos":    boolOption(func(o *engine.GenerateOptions, b bool) { o.IgnoreEOS = b }),
	"keep_thinking": boolOption(func(o *engine.GenerateOptions, b bool) { o.KeepThinking = b }),
	"truncate": func(o *engine.GenerateOptions, v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf(`must be "start" or "end"`)
		}
		o.Truncate = s // Validate checks the value
		return nil
	},
}

// promptOptions are the options that shape the prompt rather than the
// sampling: how generate() and chat() use the model's chat template.
type promptOptions struct {
	system       string // a system turn before the user's
	raw          bool   // generate(): the prompt as it is, no template
	parseSpecial bool   // generate() raw: special-token text parsed
	think        *bool  // enable_thinking for the template; nil = unset
	policy       Policy // on_error, details
	set          []string
}

var promptSetters = map[string]func(p *promptOptions, v any) error{
	"system": func(p *promptOptions, v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a string")
		}
		p.system = s
		return nil
	},
	"raw":           func(p *promptOptions, v any) error { return setBool(&p.raw, v) },
	"parse_special": func(p *promptOptions, v any) error { return setBool(&p.parseSpecial, v) },
	"on_error": func(p *promptOptions, v any) error {
		s, _ := v.(string)
		if s != OnErrorNull && s != OnErrorError {
			return fmt.Errorf(`must be "null" or "error"`)
		}
		p.policy.OnError = s
		return nil
	},
	"details": func(p *promptOptions, v any) error { return setBool(&p.policy.Details, v) },
	"think": func(p *promptOptions, v any) error {
		var b bool
		if err := setBool(&b, v); err != nil {
			return err
		}
		p.think = &b
		return nil
	},
}

// template returns the template variables the options ask for.
func (p promptOptions) template() engine.TemplateOptions {
	if p.think == nil {
		return engine.TemplateOptions{}
	}
	return engine.TemplateOptions{Vars: map[string]any{"enable_thinking": *p.think}}
}

func setBool(dst *bool, v any) error {
	b, ok := v.(bool)
	if !ok {
		return fmt.Errorf("must be true or false")
	}
	*dst = b
	return nil
}

func boolOption(set func(*engine.GenerateOptions, bool)) func(*engine.GenerateOptions, any) error {
	return func(o *engine.GenerateOptions, v any) error {
		var b bool
		if err := setBool(&b, v); err != nil {
			return err
		}
		set(o, b)
		return nil
	}
}

func floatOption(set func(*engine.GenerateOptions, float32)) func(*engine.GenerateOptions, any) error {
	return func(o *engine.GenerateOptions, v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("must be a number")
		}
		f, err := n.Float64()
		if err != nil || math.Abs(f) > math.MaxFloat32 {
			return fmt.Errorf("must be a number")
		}
		set(o, float32(f))
		return nil
	}
}

func intOption(set func(*engine.GenerateOptions, int)) func(*engine.GenerateOptions, any) error {
	return func(o *engine.GenerateOptions, v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("must be an integer")
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			// Accept 256.0 as 256, as JSON writers often emit floats.
			f, ferr := n.Float64()
			if ferr != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
				return fmt.Errorf("must be an integer")
			}
			i = int64(f)
		}
		set(o, int(i))
		return nil
	}
}

// OptionNames lists the keys a generate() options object accepts.
func OptionNames() []string {
	names := make([]string, 0, len(optionSetters)+len(promptSetters)+len(grammarKeys))
	for k := range optionSetters {
		names = append(names, k)
	}
	for k := range promptSetters {
		names = append(names, k)
	}
	for k := range grammarKeys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ParseOptions applies a JSON object of generation options over base and
// validates the result. Unknown keys and values of the wrong type are
// errors naming the key; out-of-range values are the engine's
// *engine.OptionError. The prompt options (system, raw, parse_special,
// think) are checked but not returned.
func ParseOptions(text string, base engine.GenerateOptions) (engine.GenerateOptions, error) {
	o, _, err := parseOptions(text, base)
	return o, err
}

// parseOptions is ParseOptions returning the prompt options too.
func parseOptions(text string, base engine.GenerateOptions) (engine.GenerateOptions, promptOptions, error) {
	var p promptOptions
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return base, p, fmt.Errorf("options are not valid JSON: %v", err)
	}
	if dec.More() {
		return base, p, fmt.Errorf("options are not valid JSON: text after the object")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return base, p, fmt.Errorf("options must be a JSON object such as {\"temperature\": 0, \"max_tokens\": 64}")
	}
	var rawObj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &rawObj); err != nil {
		return base, p, fmt.Errorf("options are not valid JSON: %v", err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same key first on every run
	o := base
	o.Stop = append([]string(nil), base.Stop...)
	grammarKey := ""
	for _, k := range keys {
		if grammarKeys[k] {
			if obj[k] == nil {
				continue
			}
			if grammarKey != "" {
				return base, p, fmt.Errorf("options %s and %s both constrain the output: give one", grammarKey, k)
			}
			grammarKey = k
			g, err := grammarOption(k, obj[k], rawObj[k])
			if err != nil {
				return base, p, err
			}
			o.Grammar = g
			continue
		}
		set, ok := optionSetters[k]
		pset, pok := promptSetters[k]
		if !ok && !pok {
			return base, p, fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(OptionNames(), ", "))
		}
		if obj[k] == nil {
			continue // null keeps the default
		}
		var err error
		if ok {
			err = set(&o, obj[k])
		} else {
			err = pset(&p, obj[k])
			p.set = append(p.set, k)
		}
		if err != nil {
			return base, p, fmt.Errorf("option %s %v", k, err)
		}
	}
	if err := o.Validate(); err != nil {
		return base, p, err
	}
	return o, p, nil
}

// grammarKeys are the options that constrain the output to a grammar;
// they need the raw JSON (a schema's key order matters) and at most one of
// them may be given: "grammar" (GBNF text), "json_schema" (a JSON Schema,
// as an object or a string holding one) and "json": true (any JSON
// object).
var grammarKeys = map[string]bool{"grammar": true, "json_schema": true, "json": true}

// grammarOption turns one of the grammar options into GBNF.
func grammarOption(k string, v any, raw json.RawMessage) (string, error) {
	switch k {
	case "grammar":
		g, ok := v.(string)
		if !ok || strings.TrimSpace(g) == "" {
			return "", fmt.Errorf("option grammar must be a GBNF grammar (a string)")
		}
		return g, nil
	case "json":
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("option json must be true or false")
		}
		if !b {
			return "", nil
		}
		return jsonschema.ToGrammar([]byte(`{"type":"object"}`))
	}
	// json_schema: an object, or a string holding one.
	if s, ok := v.(string); ok {
		raw = json.RawMessage(s)
	} else if _, ok := v.(map[string]any); !ok {
		return "", fmt.Errorf("option json_schema must be a JSON Schema (an object)")
	}
	g, err := jsonschema.ToGrammar(raw)
	if err != nil {
		return "", fmt.Errorf("option json_schema: %w", err)
	}
	return g, nil
}

// looksLikeJSONObject tells an options object from a temperature in
// generate()'s third argument.
func looksLikeJSONObject(s string) bool {
	return bytes.HasPrefix(bytes.TrimSpace([]byte(s)), []byte("{"))
}
