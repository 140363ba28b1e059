package sqlfuncs

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// The prompts of the aggregates. Each is one user turn, rendered with the
// model's chat template (or ChatML) as chat() renders it: a head saying
// the task, then the entries, numbered. At the first level the entries are
// the rows' texts; at the next ones, the answers for the parts.

const (
	summarizeTask = "Summarize the following texts in a few sentences. Reply with the summary only."
	summarizeJoin = "Below are summaries of consecutive parts of one collection of texts. " +
		"Combine them into one summary of the whole collection, in a few sentences. Reply with the summary only."
	reduceJoin = "Below are the answers for consecutive parts of the texts. Combine them into one answer for all the texts, in the same form."
)

// promptHead is the task of a prompt at level (0 = the rows' texts) and
// the label of its entries.
func promptHead(kind aggKind, instruction string, level int) (head, label string) {
	switch {
	case kind == aggSummarize && level == 0:
		return summarizeTask, "Text"
	case kind == aggSummarize:
		return summarizeJoin, "Summary"
	case level == 0:
		return instruction, "Text"
	default:
		return instruction + "\n\n" + reduceJoin, "Answer for part"
	}
}

// promptContent is the user turn holding entries.
func promptContent(head, label string, entries []string) string {
	var b strings.Builder
	b.WriteString(head)
	for i, e := range entries {
		fmt.Fprintf(&b, "\n\n%s %d:\n%s", label, i+1, e)
	}
	return b.String()
}

// chunkRequest is the request of one prompt of a group.
func chunkRequest(a *aggArgs, level int, entries []string) Request {
	head, label := promptHead(a.kind, a.instruction, level)
	return Request{
		Model:    a.model,
		Messages: []chattmpl.Message{{Role: "user", Content: promptContent(head, label, entries)}},
		System:   a.prompt.system,
		Template: a.prompt.template(),
		Options:  a.opts,
		Policy:   a.prompt.policy,
	}
}

// backendMeasurer measures a group's prompts at one level on the backend.
type backendMeasurer struct {
	ctx   context.Context
	b     Backend
	pb    PromptBackend
	a     *aggArgs
	level int
	label string
	bos   int // tokens Tokenize puts before any text (BOS)
}

func newMeasurer(ctx context.Context, b Backend, pb PromptBackend, a *aggArgs, level int) (*backendMeasurer, error) {
	_, label := promptHead(a.kind, a.instruction, level)
	ids, err := b.Tokenize(ctx, a.model, "")
	if err != nil {
		return nil, err
	}
	return &backendMeasurer{ctx: ctx, b: b, pb: pb, a: a, level: level, label: label, bos: len(ids)}, nil
}

// entryTokens counts the entry as it appears in a prompt, with its label
// (numbered 10: the count of a label's digits rarely matters).
func (m *backendMeasurer) entryTokens(text string) (int, error) {
	ids, err := m.b.Tokenize(m.ctx, m.a.model, fmt.Sprintf("\n\n%s 10:\n%s", m.label, text))
	if err != nil {
		return 0, err
	}
	return len(ids) - m.bos, nil
}

func (m *backendMeasurer) promptTokens(entries []string) (int, error) {
	cb, ok := m.b.(ChatBackend)
	if !ok {
		return 0, errNoChat
	}
	er, err := engineRequest(cb, chunkRequest(m.a, m.level, entries))
	if err != nil {
		return 0, err
	}
	return m.pb.PromptTokens(m.ctx, m.a.model, er)
}

func (m *backendMeasurer) cut(text string, n int) ([]string, error) {
	ids, err := m.b.Tokenize(m.ctx, m.a.model, text)
	if err != nil {
		return nil, err
	}
	ids = ids[min(m.bos, len(ids)):]
	var pieces []string
	for start := 0; start < len(ids); start += n {
		piece, err := m.b.Detokenize(m.ctx, m.a.model, ids[start:min(start+n, len(ids))])
		if err != nil {
			return nil, err
		}
		pieces = append(pieces, piece)
	}
	return wholeRunes(pieces), nil
}

// wholeRunes moves the bytes of a character split between two pieces
// (a cut between byte tokens) into the second, so every piece is valid
// UTF-8 where the text was.
func wholeRunes(pieces []string) []string {
	for i := 0; i+1 < len(pieces); i++ {
		p := pieces[i]
		// At most 3 bytes of an unfinished character can end a piece.
		for k := 1; k <= 3 && k <= len(p); k++ {
			if utf8.RuneStart(p[len(p)-k]) {
				if !utf8.FullRuneInString(p[len(p)-k:]) {
					pieces[i], pieces[i+1] = p[:len(p)-k], p[len(p)-k:]+pieces[i+1]
				}
				break
			}
		}
	}
	out := pieces[:0]
	for _, p := range pieces {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PromptBackend is a Backend that measures prompts: summarize_agg() and
// reduce_agg() use it to pack rows into prompts that fit the model's
// context. *engine.Pool implements it. With a Backend without it, a
// group's texts go into one prompt, however long.
type PromptBackend interface {
	// PromptTokens is the tokens req's prompt takes on model, as Run
	// would tokenize it.
	PromptTokens(ctx context.Context, model string, req engine.Request) (int, error)
	// ContextSize is the positions a sequence of model may use: a
	// prompt and its reply must fit in it together.
	ContextSize(ctx context.Context, model string) (int, error)
}
