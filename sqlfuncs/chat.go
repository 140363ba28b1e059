package sqlfuncs

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// Chat is chat(model, messages_json), chat(model, messages_json,
// temperature [, max_tokens]) and chat(model, messages_json, options_json):
// the assistant's reply to a conversation (a JSON array of {"role",
// "content"}), rendered with the model's chat template (ChatML when its
// file has none). Options are generate()'s, with "system" (a system turn
// unless the conversation starts with one), "think" (false renders with
// enable_thinking=false) and "keep_thinking" (keep the <think> block).
// Calls over many rows are batched as generate()'s are.
type Chat struct {
	call
}

func newChat(ctx *sql.Context, b Backend, args []sql.Expression) sql.Expression {
	c := &Chat{newCallAt(ChatName, args, b)}
	if greedyCall(ctx, &c.call) {
		return c
	}
	return sampledChat{c}
}

// Type is LONGTEXT.
func (c *Chat) Type(*sql.Context) sql.Type { return types.LongText }

// CollationCoercibility implements sql.CollationCoercible.
func (c *Chat) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

// Description implements sql.FunctionExpression.
func (c *Chat) Description() string {
	return "returns a registered model's reply to a conversation, through its chat template"
}

// WithChildren implements sql.Expression.
func (c *Chat) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	n, err := c.withArgs(children)
	if err != nil {
		return nil, err
	}
	return newChat(ctx, n.backend, n.args), nil
}

// Arguments evaluates the call's arguments for row.
func (c *Chat) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	model, ok, err := c.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return Request{}, false, err
	}
	msgs, ok, err := c.messages(ctx, row, 1)
	if !ok || err != nil {
		return Request{}, false, err
	}
	opts, p, err := callOptions(ctx, &c.call, row)
	if err != nil {
		return Request{}, false, err
	}
	for _, k := range p.set {
		if k == "raw" || k == "parse_special" {
			return Request{}, false, c.errorf("option %s applies to generate() only", k)
		}
	}
	return Request{Model: model, Messages: msgs, System: p.system, Template: p.template(), Options: opts, Policy: p.policy}, true, nil
}

// Eval implements sql.Expression.
func (c *Chat) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if _, ok := c.backend.(ChatBackend); !ok {
		return nil, c.errorf("%w", errNoChat)
	}
	return evalModelCall(ctx, c, row)
}

// messages reads argument i as a conversation; ok is false for NULL.
func (c *call) messages(ctx *sql.Context, row sql.Row, i int) ([]chattmpl.Message, bool, error) {
	text, ok, err := c.text(ctx, row, i, "messages")
	if !ok || err != nil {
		return nil, false, err
	}
	msgs, err := chattmpl.ParseMessages([]byte(text))
	if err != nil {
		return nil, false, c.errorf("%v", err)
	}
	return msgs, true, nil
}

// sampledChat is a chat() call that samples.
type sampledChat struct {
	*Chat
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (sampledChat) IsNonDeterministic() bool { return true }

var (
	_ sql.FunctionExpression         = (*Chat)(nil)
	_ sql.CollationCoercible         = (*Chat)(nil)
	_ sql.NonDeterministicExpression = sampledChat{}
	_ modelCall                      = (*Chat)(nil)
	_ modelCall                      = (*Generate)(nil)
)

// ApplyChatTemplate is apply_chat_template(model, messages_json [,
// options_json]): the prompt the model's chat template makes of a
// conversation. Option add_generation_prompt (default true) ends it with the
// opening of the assistant's turn; every other key is a template variable
// (enable_thinking, ...).
type ApplyChatTemplate struct {
	call
}

var (
	_ sql.FunctionExpression = (*ApplyChatTemplate)(nil)
	_ sql.CollationCoercible = (*ApplyChatTemplate)(nil)
)

func (a *ApplyChatTemplate) Type(*sql.Context) sql.Type { return types.LongText }

func (a *ApplyChatTemplate) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

func (a *ApplyChatTemplate) Description() string {
	return "returns the prompt a registered model's chat template makes of a conversation"
}

func (a *ApplyChatTemplate) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := a.withArgs(children)
	return &ApplyChatTemplate{c}, err
}

// Eval implements sql.Expression.
func (a *ApplyChatTemplate) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	cb, ok := a.backend.(ChatBackend)
	if !ok {
		return nil, a.errorf("%w", errNoChat)
	}
	model, ok, err := a.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return nil, err
	}
	msgs, ok, err := a.messages(ctx, row, 1)
	if !ok || err != nil {
		return nil, err
	}
	var opts engine.TemplateOptions
	if len(a.args) == 3 {
		text, ok, err := a.text(ctx, row, 2, "options")
		if err != nil {
			return nil, err
		}
		if ok {
			if opts, err = templateOptions(text); err != nil {
				return nil, a.errorf("%v", err)
			}
		}
	}
	out, err := cb.ApplyChatTemplate(model, msgs, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// templateOptions reads apply_chat_template()'s options object.
func templateOptions(text string) (engine.TemplateOptions, error) {
	var opts engine.TemplateOptions
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return opts, fmt.Errorf("options must be a JSON object such as {\"add_generation_prompt\": false, \"enable_thinking\": false}")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return opts, fmt.Errorf("options are not valid JSON: %v", err)
		}
		key := kt.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return opts, fmt.Errorf("options are not valid JSON: %v", err)
		}
		if key == "add_generation_prompt" {
			var b bool
			if err := json.Unmarshal(val, &b); err != nil {
				return opts, fmt.Errorf("option add_generation_prompt must be true or false")
			}
			opts.NoGenerationPrompt = !b
			continue
		}
		if key == "messages" {
			return opts, fmt.Errorf("option messages cannot be given: the conversation is the second argument")
		}
		if opts.Vars == nil {
			opts.Vars = map[string]any{}
		}
		opts.Vars[key] = val
	}
	if _, err := dec.Token(); err != nil {
		return opts, fmt.Errorf("options are not valid JSON: %v", err)
	}
	if dec.More() {
		return opts, fmt.Errorf("options are not valid JSON: text after the object")
	}
	return opts, nil
}
