package chattmpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// Template is a compiled chat template. It is safe for concurrent use.
type Template struct {
	src   string
	prog  *jinja.Template
	parts bool // renders content parts as it renders strings
}

// Options are what a render needs besides the messages.
type Options struct {
	// AddGenerationPrompt ends the prompt with the opening of an assistant
	// turn, for the model to write.
	AddGenerationPrompt bool
	// BOS and EOS are the texts of the model's beginning- and
	// end-of-sequence tokens (bos_token, eos_token); empty when it has none.
	BOS, EOS string
	// Vars are further template variables (enable_thinking, ...). They may
	// override bos_token, eos_token, tools and documents, but not messages
	// or add_generation_prompt.
	Vars map[string]any
	// Now is strftime_now's clock; nil means time.Now.
	Now func() time.Time
}

// Error is a template's refusal to render: raise_exception's message, or
// the Jinja engine's error.
type Error struct {
	Msg string
	// Raised is set when the template itself called raise_exception.
	Raised bool
}

func (e *Error) Error() string { return "chat template: " + e.Msg }

var newlines = regexp.MustCompile(`\r\n|\r|\n`)

// Compile parses a template's source.
func Compile(src string) (*Template, error) {
	// jinja2's lexer reads the source with its newlines normalised to
	// "\n" and without one trailing newline (keep_trailing_newline is
	// off); the engine does neither, so the source is prepared here.
	lines := newlines.Split(src, -1)
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	prog, err := jinja.Compile(strings.Join(lines, "\n"))
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	t := &Template{src: src, prog: prog}
	t.parts = t.rendersParts()
	return t, nil
}

// Source is the template's text as given.
func (t *Template) Source() string { return t.src }

// probe is text no template writes by itself.
const probe = "chattmpl-probe"

// rendersParts reports whether the template renders a one-message
// conversation the same with its content as a string and as a text part.
// Templates that do are given parts as they come; for the others parts are
// joined into a string first, as llama.cpp does.
func (t *Template) rendersParts() bool {
	fixed := func() time.Time { return time.Unix(0, 0).UTC() }
	opts := Options{AddGenerationPrompt: true, Now: fixed}
	asString, err1 := t.render([]Message{{Role: "user", Content: probe}}, opts, false)
	asParts, err2 := t.render([]Message{{Role: "user", Parts: []Part{{Type: "text", Text: probe}}}}, opts, true)
	return err1 == nil && err2 == nil && asString == asParts
}

// RendersParts reports whether content parts reach the template as parts
// (else they are joined into a string).
func (t *Template) RendersParts() bool { return t.parts }

// Render renders a conversation.
func (t *Template) Render(msgs []Message, opts Options) (string, error) {
	if len(msgs) == 0 {
		return "", fmt.Errorf("messages is empty: a conversation needs at least one message")
	}
	for k := range opts.Vars {
		if k == "messages" || k == "add_generation_prompt" {
			return "", fmt.Errorf("template variable %q is set by the renderer and cannot be given", k)
		}
	}
	return t.render(msgs, opts, t.parts)
}

func (t *Template) render(msgs []Message, opts Options, parts bool) (string, error) {
	list := make([]jinja.Value, len(msgs))
	for i, m := range msgs {
		list[i] = messageValue(m, parts)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	data := map[string]jinja.Value{
		"messages":              jinja.NewList(list),
		"add_generation_prompt": jinja.NewBool(opts.AddGenerationPrompt),
		"bos_token":             jinja.NewString(opts.BOS),
		"eos_token":             jinja.NewString(opts.EOS),
		"tools":                 jinja.None(),
		"documents":             jinja.None(),
		"raise_exception": jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if len(args) != 1 || !args[0].IsString() {
				return jinja.Undefined(), fmt.Errorf("raise_exception takes one message string")
			}
			return jinja.Undefined(), &Error{Msg: args[0].AsString(), Raised: true}
		}),
		"strftime_now": jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if len(args) != 1 || !args[0].IsString() {
				return jinja.Undefined(), fmt.Errorf("strftime_now takes one format string")
			}
			return jinja.NewString(strftime(args[0].AsString(), now())), nil
		}),
	}
	for k, v := range opts.Vars {
		data[k] = goValue(v)
	}
	out, err := t.prog.RenderValues(data)
	if err != nil {
		return "", engineError(err)
	}
	return out, nil
}

var notCallable = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.]*) is not callable: Undefined$`)

// engineError turns the engine's error into an *Error: raise_exception's
// own, or the engine's message, worded as jinja2 words the common ones.
func engineError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	if m := notCallable.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("'%s' is undefined", m[1])
	}
	return &Error{Msg: msg}
}

func messageValue(m Message, parts bool) jinja.Value {
	d := jinja.NewDict()
	dict := d.AsDict()
	dict.Set("role", jinja.NewString(m.Role))
	if parts && m.Parts != nil {
		items := make([]jinja.Value, len(m.Parts))
		for i, p := range m.Parts {
			if p.raw != nil {
				items[i] = jsonValue(p.raw)
			} else {
				pd := jinja.NewDict()
				pd.AsDict().Set("type", jinja.NewString(p.Type))
				pd.AsDict().Set("text", jinja.NewString(p.Text))
				items[i] = pd
			}
		}
		dict.Set("content", jinja.NewList(items))
	} else {
		dict.Set("content", jinja.NewString(m.Text()))
	}
	for _, f := range m.Fields {
		dict.Set(f.Key, jsonValue(f.Value))
	}
	return d
}

// goValue converts a Go value for the template; JSON text given as
// json.RawMessage keeps its key order.
func goValue(v any) jinja.Value {
	switch v := v.(type) {
	case jinja.Value:
		return v
	case json.RawMessage:
		return jsonValue(v)
	}
	return jinja.FromGoValue(v)
}

// jsonValue converts JSON text to a value, keeping object keys in order
// (as Python's json.loads does); invalid JSON gives none.
func jsonValue(data json.RawMessage) jinja.Value {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return jinja.None()
	}
	return v
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.None(), err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '[':
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return jinja.NewList(items), err
		case '{':
			d := jinja.NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return d, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				d.AsDict().Set(kt.(string), v)
			}
			_, err := dec.Token()
			return d, err
		}
		return jinja.None(), fmt.Errorf("unexpected %v", tok)
	default:
		return jinja.FromGoValue(tok), nil
	}
}
