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
	"seed": func(o *engine.GenerateOptions, v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("must be a non-negative integer")
		}
		s, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			return fmt.Errorf("must be an integer from 0 to %d", uint64(math.MaxUint64))
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
	"ignore_eos": func(o *engine.GenerateOptions, v any) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("must be true or false")
		}
		o.IgnoreEOS = b
		return nil
	},
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
	names := make([]string, 0, len(optionSetters))
	for k := range optionSetters {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ParseOptions applies a JSON object of generation options over base and
// validates the result. Unknown keys and values of the wrong type are
// errors naming the key; out-of-range values are the engine's
// *engine.OptionError.
func ParseOptions(text string, base engine.GenerateOptions) (engine.GenerateOptions, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return base, fmt.Errorf("options are not valid JSON: %v", err)
	}
	if dec.More() {
		return base, fmt.Errorf("options are not valid JSON: text after the object")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return base, fmt.Errorf("options must be a JSON object such as {\"temperature\": 0, \"max_tokens\": 64}")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same key first on every run
	o := base
	o.Stop = append([]string(nil), base.Stop...)
	for _, k := range keys {
		set, ok := optionSetters[k]
		if !ok {
			return base, fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(OptionNames(), ", "))
		}
		if obj[k] == nil {
			continue // null keeps the default
		}
		if err := set(&o, obj[k]); err != nil {
			return base, fmt.Errorf("option %s %v", k, err)
		}
	}
	if err := o.Validate(); err != nil {
		return base, err
	}
	return o, nil
}

// looksLikeJSONObject tells an options object from a temperature in
// generate()'s third argument.
func looksLikeJSONObject(s string) bool {
	return bytes.HasPrefix(bytes.TrimSpace([]byte(s)), []byte("{"))
}
