package sqlfuncs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
)

const userTurn = "JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', prompt))"

// chat() and apply_chat_template() over the fake backend: conversations
// reach the backend whole, options shape them, errors name the problem.
func TestChatFunctions(t *testing.T) {
	h := newHarness(t)
	h.fake.Templates = map[string]string{"m": "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}" +
		"{% if enable_thinking is defined %}(think={{ enable_thinking }}){% endif %}{% if add_generation_prompt %}[assistant]{% endif %}"}
	if got := h.one(`SELECT chat('m', '[{"role": "user", "content": "hi"}]', 0)`); got != "[USER]HI[ASSISTANT]" {
		t.Fatalf("chat: %q", got)
	}
	// Content as parts; a system option; thinking off.
	got := h.one(`SELECT chat('m', '[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]', '{"temperature": 0, "system": "sys", "think": false, "keep_thinking": true}')`)
	if got != "[SYSTEM]SYS[USER]A\nB(THINK=FALSE)[ASSISTANT]" {
		t.Fatalf("chat with options: %q", got)
	}
	if r := h.fake.LastRequest(); !r.Options.KeepThinking || r.Template.Vars["enable_thinking"] != false {
		t.Fatalf("options did not reach the engine request: %+v", r)
	}
	// generate() on a model with a template: the prompt is the user's turn.
	if got := h.one("SELECT generate('m', 'hello', 0)"); got != "[USER]HELLO[ASSISTANT]" {
		t.Fatalf("templated generate: %q", got)
	}
	if got := h.one(`SELECT generate('m', 'hello', '{"temperature": 0, "system": "s"}')`); got != "[SYSTEM]S[USER]HELLO[ASSISTANT]" {
		t.Fatalf("generate with system: %q", got)
	}
	if got := h.one(`SELECT generate('m', '<s>hello', '{"temperature": 0, "raw": true, "parse_special": true}')`); got != "<S>HELLO" {
		t.Fatalf("raw generate: %q", got)
	}
	if r := h.fake.LastRequest(); r.Messages != nil || !r.ParseSpecial || r.Prompt != "<s>hello" {
		t.Fatalf("raw request: %+v", r)
	}
	// apply_chat_template: add_generation_prompt and any other key.
	if got := h.one(`SELECT apply_chat_template('m', '[{"role": "user", "content": "x"}]', '{"add_generation_prompt": false, "enable_thinking": true}')`); got != "[user]x(think=True)" {
		t.Fatalf("apply_chat_template: %q", got)
	}
	if got := h.one(`SELECT apply_chat_template('m', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', 'x')))`); got != "[user]x[assistant]" {
		t.Fatalf("apply_chat_template from JSON: %q", got)
	}
	// NULLs give NULL; a model without a template keeps generate() raw.
	if got := h.one("SELECT chat('m', NULL)"); got != nil {
		t.Fatalf("NULL messages: %v", got)
	}
	h.fake.Templates = nil
	if got := h.one("SELECT generate('m', 'hello', 0)"); got != "HELLO" {
		t.Fatalf("generate without a template: %q", got)
	}
	if got := h.one(`SELECT chat('m', '[{"role": "user", "content": "hi"}]', 0)`); got != "<|IM_START|>USER\nHI<|IM_END|>\n<|IM_START|>ASSISTANT\n" {
		t.Fatalf("chat with ChatML: %q", got)
	}
	for q, want := range map[string]string{
		`SELECT chat('m', 'nope')`:               "chat: messages must be a JSON array",
		`SELECT chat('m', '[{"role": "user"}]')`: `chat: messages[0]: has no "content"`,
		`SELECT chat('m', '[{"role": "user", "content": "x"}]', '{"parse_special": true}')`:                     "option parse_special applies to generate() only",
		`SELECT chat('m', '[{"role": "user", "content": "x"}]', '{"think": 1}')`:                                "option think must be true or false",
		`SELECT chat('nope', '[{"role": "user", "content": "x"}]')`:                                             "model 'nope' is not registered",
		`SELECT generate('m', 'x', '{"system": "s"}')`:                                                          "has no chat template",
		`SELECT apply_chat_template('m', '[{"role": "user", "content": "x"}]', '[1]')`:                          "options must be a JSON object",
		`SELECT apply_chat_template('m', '[{"role": "user", "content": "x"}]', '{"add_generation_prompt": 3}')`: "add_generation_prompt must be true or false",
		`SELECT chat('m')`: "chat",
	} {
		h.fails(q, want)
	}
}

// chat() over many rows is batched as generate() is: the rows' calls run
// together, once per row, each answer with its row.
func TestChatBatched(t *testing.T) {
	const n = 10
	h, _ := newBatchHarness(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := h.queryCtx(ctx, fmt.Sprintf("SELECT id, chat('m', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', CONCAT('meet:%d:', prompt))), 0) FROM p ORDER BY id", n))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range strs(rows) {
		want := fmt.Sprintf("%d|<|IM_START|>USER\nMEET:%d:ROW %d<|IM_END|>\n<|IM_START|>ASSISTANT\n", i+1, n, i+1)
		if r != want {
			t.Fatalf("row %d = %q, want %q", i, r, want)
		}
	}
	// Sampled chat: one call per row however often the plan evaluates it.
	for _, size := range []int{64, 0} {
		h, _ := newBatchHarness(t, n)
		h.exec(fmt.Sprintf("SET @@llm_batch_size = %d", size))
		rows := h.exec("SELECT id, chat('m', " + userTurn + ", 0.7) AS c FROM p ORDER BY c")
		if len(rows) != n || h.fake.Generates() != n {
			t.Fatalf("batch %d: %d rows, %d calls", size, len(rows), h.fake.Generates())
		}
	}
}

// UPDATE ... SET col = chat(...) writes each row's own reply.
func TestChatUpdate(t *testing.T) {
	h, _ := newBatchHarness(t, 6)
	h.exec("UPDATE p SET answer = chat('m', " + userTurn + ", 0)")
	rows := h.exec("SELECT id, answer FROM p ORDER BY id")
	for i, r := range strs(rows) {
		if want := fmt.Sprintf("%d|<|IM_START|>USER\nROW %d<|IM_END|>\n<|IM_START|>ASSISTANT\n", i+1, i+1); r != want {
			t.Fatalf("row %d: %q, want %q", i, r, want)
		}
	}
}

var _ sqlfuncs.ChatBackend = (*engine.Pool)(nil)
