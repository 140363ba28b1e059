package sqlfuncs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine/chattmpl"
)

// ClassifyName is classify()'s name, as SQL sees it.
const ClassifyName = "classify"

// Classify is classify(model, text, labels_json [, options_json]): the
// label (one of the JSON array labels_json) the model finds most probable
// as its answer to an instruction about the text.
//
// The labels are scored, not sampled: the conversation (the instruction,
// the labels, any examples, then the text, as user turns through the
// model's chat template, or ChatML when its file has none) runs once, and
// every label is scored as the assistant's whole reply in the same forward
// passes (engine.Pool.Score). So the answer is deterministic and always
// one of the labels. A label's score is the sum of the log-probabilities
// of its tokens, where
//
//   - its tokens are those the model would write for the assistant's turn
//     to be exactly the label: the label as the chat template writes a
//     reply (with a leading space only where the template puts one, as
//     Llama 2's does after [/INST]; a label is never given one otherwise),
//     tokenized as it follows the prompt;
//   - the turn's end-of-turn token (<|im_end|>, <|eot_id|>, </s>) is one of
//     them, so a label that is the start of another ("bug", "bug report")
//     is scored as a complete answer and does not win just for being
//     shorter; labels that share their first tokens are told apart by the
//     rest;
//   - a label of many tokens is not divided by its length: its score is the
//     probability of the whole answer.
//
// The probabilities are the scores normalised over the labels (softmax);
// ties go to the label listed first.
//
// Options:
//   - "instruction": the task, in place of "Classify the text." (the
//     labels and how to answer are always added after it);
//   - "examples": few-shot examples, an array of [text, label] pairs (or
//     {"text": ..., "label": ...} objects); each label must be one of the
//     labels. They become earlier turns of the conversation, after the
//     instruction, so the rows of a statement share them as a prefix;
//   - "multi": true answers with a JSON array of every label whose
//     probability is at least "threshold", most probable first;
//     "threshold" (0 to 1) defaults to 1/(number of labels): the labels
//     more probable than an even split, so never none (the most probable
//     label is always at least that);
//   - "scores": true answers with a JSON object label -> probability (of
//     every label, or with "multi" of the labels kept);
//   - "on_error", "details": as for generate() (policy.go).
//
// With "multi" or "scores" the value is JSON: the column's type is JSON when
// the options argument is a constant, LONGTEXT holding JSON otherwise. A
// NULL model, text or labels gives NULL; a NULL options argument keeps the
// defaults. Calls over many rows are batched as generate()'s are.
type Classify struct {
	call
}

func newClassify(_ *sql.Context, b Backend, args []sql.Expression) sql.Expression {
	return &Classify{newCallAt(ClassifyName, args, b)}
}

// Type is JSON when a constant options argument asks for "multi" or
// "scores", otherwise LONGTEXT.
func (c *Classify) Type(ctx *sql.Context) sql.Type {
	if c.jsonValue(ctx) {
		return types.JSON
	}
	return types.LongText
}

// jsonValue reports whether the options argument is a constant asking for
// a JSON answer.
func (c *Classify) jsonValue(ctx *sql.Context) bool {
	if len(c.args) < 4 {
		return false
	}
	lit, ok := c.args[3].(*expression.Literal)
	if !ok {
		return false
	}
	if ctx == nil {
		ctx = sql.NewEmptyContext()
	}
	v, err := lit.Eval(ctx, nil)
	if err != nil || v == nil {
		return false
	}
	text, ok, err := textOf(ctx, v)
	if err != nil || !ok {
		return false
	}
	o, err := parseClassifyOptions(text)
	return err == nil && (o.multi || o.scores)
}

// CollationCoercibility implements sql.CollationCoercible.
func (c *Classify) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

// Description implements sql.FunctionExpression.
func (c *Classify) Description() string {
	return "returns the label a registered model finds most probable for a text, by scoring every label"
}

// WithChildren implements sql.Expression.
func (c *Classify) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	n, err := c.withArgs(children)
	if err != nil {
		return nil, err
	}
	return &Classify{n}, nil
}

// Eval implements sql.Expression.
func (c *Classify) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if _, ok := c.backend.(ScoreBackend); !ok {
		return nil, c.errorf("%w", errNoScore)
	}
	return evalModelCall(ctx, c, row)
}

// Arguments evaluates the call's arguments for row.
func (c *Classify) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	args, ok, err := c.texts(ctx, row, "model", "text", "labels")
	if !ok || err != nil {
		return Request{}, false, err
	}
	model, input, labelsText := args[0], args[1], args[2]
	labels, err := parseLabels(labelsText)
	if err != nil {
		return Request{}, false, c.errorf("labels: %v", err)
	}
	var o classifyOptions
	if len(c.args) > 3 {
		text, ok, err := c.text(ctx, row, 3, "options")
		if err != nil {
			return Request{}, false, err
		}
		if ok {
			if o, err = parseClassifyOptions(text); err != nil {
				return Request{}, false, c.errorf("%v", err)
			}
		}
	}
	for i, ex := range o.examples {
		if !containsString(labels, ex.label) {
			return Request{}, false, c.errorf("option examples: example %d's label %q is not one of the labels", i+1, ex.label)
		}
	}
	choice := &Choice{Labels: labels, Multi: o.multi, Scores: o.scores, Threshold: 1 / float64(len(labels))}
	if o.threshold != nil {
		choice.Threshold = *o.threshold
	}
	// enable_thinking false: a model with a thinking mode (Qwen3) answers
	// directly, so a label is the whole reply.
	return Request{Model: model, Messages: classifyMessages(o, labels, input), Score: choice, Policy: o.policy,
		Template: noThinking(promptOptions{})}, true, nil
}

func (c *Classify) convertValue(ctx *sql.Context, text string) (any, error) {
	if !c.jsonValue(ctx) {
		return text, nil
	}
	v, _, err := types.JSON.Convert(ctx, text)
	return v, err
}

// defaultClassifyInstruction is the task when the options give none.
const defaultClassifyInstruction = "Classify the text."

// classifyMessages is the conversation a label answers: the instruction
// and labels first (with the first example, if any), the examples as
// earlier turns, then the text. Everything before the text is the same
// for every row, so rows share it as a prefix.
func classifyMessages(o classifyOptions, labels []string, text string) []chattmpl.Message {
	var head strings.Builder
	head.WriteString(o.instruction)
	if o.instruction == "" {
		head.WriteString(defaultClassifyInstruction)
	}
	head.WriteString("\n\nLabels:\n")
	for _, l := range labels {
		head.WriteString("- " + l + "\n")
	}
	head.WriteString("\nAnswer with exactly one of the labels, as written above, and nothing else.\n\n")
	var msgs []chattmpl.Message
	turn := func(text string) string {
		t := "Text:\n" + text
		if len(msgs) == 0 {
			t = head.String() + t
		}
		return t
	}
	for _, ex := range o.examples {
		msgs = append(msgs, chattmpl.Message{Role: "user", Content: turn(ex.text)},
			chattmpl.Message{Role: "assistant", Content: ex.label})
	}
	return append(msgs, chattmpl.Message{Role: "user", Content: turn(text)})
}

// parseLabels reads classify()'s labels: a JSON array of at least two
// distinct, non-empty strings.
func parseLabels(text string) ([]string, error) {
	var raw any
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&raw); err != nil || dec.More() {
		return nil, fmt.Errorf("must be a JSON array of strings such as [\"bug\", \"feature\"], not %s", quoteShort(text))
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a JSON array of strings such as [\"bug\", \"feature\"], not %s", quoteShort(text))
	}
	if len(arr) < 2 {
		return nil, fmt.Errorf("give at least two labels to choose from (%d given)", len(arr))
	}
	labels := make([]string, len(arr))
	seen := map[string]bool{}
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("label %d is %s, not a string", i+1, jsonKind(v))
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("label %d is empty", i+1)
		}
		if seen[s] {
			return nil, fmt.Errorf("label %q is given twice", s)
		}
		seen[s] = true
		labels[i] = s
	}
	return labels, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// classifyOptions are classify()'s options.
type classifyOptions struct {
	instruction string
	examples    []example
	multi       bool
	threshold   *float64
	scores      bool
	policy      Policy
}

type example struct{ text, label string }

// classifyOptionNames are the keys classify()'s options accept.
var classifyOptionNames = []string{"details", "examples", "instruction", "multi", "on_error", "scores", "threshold"}

// parseClassifyOptions reads classify()'s options object.
func parseClassifyOptions(text string) (classifyOptions, error) {
	var o classifyOptions
	obj, err := optionsObject(text)
	if err != nil {
		return o, err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if v == nil {
			if !containsString(classifyOptionNames, k) {
				return o, fmt.Errorf("unknown option %q (classify() takes %s)", k, strings.Join(classifyOptionNames, ", "))
			}
			continue // null keeps the default
		}
		switch k {
		case "instruction":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return o, fmt.Errorf("option instruction must be a non-empty string")
			}
			o.instruction = s
		case "examples":
			if o.examples, err = parseExamples(v); err != nil {
				return o, fmt.Errorf("option examples %v", err)
			}
		case "multi":
			if err := setBool(&o.multi, v); err != nil {
				return o, fmt.Errorf("option multi %v", err)
			}
		case "scores":
			if err := setBool(&o.scores, v); err != nil {
				return o, fmt.Errorf("option scores %v", err)
			}
		case "threshold":
			n, ok := v.(json.Number)
			f, err := n.Float64()
			if !ok || err != nil || f < 0 || f > 1 {
				return o, fmt.Errorf("option threshold must be a probability from 0 to 1")
			}
			o.threshold = &f
		case "on_error", "details":
			var p promptOptions
			if err := promptSetters[k](&p, v); err != nil {
				return o, fmt.Errorf("option %s %v", k, err)
			}
			if k == "on_error" {
				o.policy.OnError = p.policy.OnError
			} else {
				o.policy.Details = p.policy.Details
			}
		default:
			return o, fmt.Errorf("unknown option %q (classify() takes %s)", k, strings.Join(classifyOptionNames, ", "))
		}
	}
	if o.threshold != nil && !o.multi {
		return o, fmt.Errorf("option threshold applies with \"multi\": true")
	}
	return o, nil
}

// parseExamples reads few-shot examples: [[text, label], ...] or
// [{"text": ..., "label": ...}, ...].
func parseExamples(v any) ([]example, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf(`must be an array of [text, label] pairs or {"text": ..., "label": ...} objects`)
	}
	out := make([]example, len(arr))
	for i, e := range arr {
		var text, label any
		switch x := e.(type) {
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("example %d must be a [text, label] pair", i+1)
			}
			text, label = x[0], x[1]
		case map[string]any:
			for k := range x {
				if k != "text" && k != "label" {
					return nil, fmt.Errorf("example %d has key %q (an example has text and label)", i+1, k)
				}
			}
			text, label = x["text"], x["label"]
		default:
			return nil, fmt.Errorf("example %d must be a [text, label] pair or a {\"text\": ..., \"label\": ...} object", i+1)
		}
		t, ok1 := text.(string)
		l, ok2 := label.(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("example %d: its text and label must be strings", i+1)
		}
		out[i] = example{t, l}
	}
	return out, nil
}

// optionsObject decodes an options argument that must be a JSON object,
// numbers kept as json.Number.
func optionsObject(text string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("options are not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("options are not valid JSON: text after the object")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("options must be a JSON object")
	}
	return obj, nil
}

var (
	_ modelCall              = (*Classify)(nil)
	_ valueConverter         = (*Classify)(nil)
	_ sql.CollationCoercible = (*Classify)(nil)
)
