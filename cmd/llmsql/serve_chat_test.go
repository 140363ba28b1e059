package main

// End-to-end tests of the chat functions on the real engine: chat(),
// apply_chat_template() and generate() through a model's chat template, on
// two tiny synthetic models with the same weights, one with a template in
// its file and one without.

import (
	"fmt"
	"strings"
	"testing"
)

func chatServer(t *testing.T, n int) (*testServer, sqlRunner) {
	t.Helper()
	cfg := serveConfig{Memory: true, MaxSequences: 16, Models: []modelFlag{
		{"chat", tinyChatModel(t, testTemplate)},
		{"plain", tinyChatModel(t, "")},
	}}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()
	db.SetMaxOpenConns(1)
	mustExec(t, db, "SET GLOBAL llm_result_cache = OFF")
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, prompt TEXT)")
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("(%d, 'the little dog %d was %s')", i+1, i+1, strings.Repeat("a ", i%5))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(vals, ", "))
	return ts, db
}

func TestServeChatFunctions(t *testing.T) {
	const n = 12
	ts, db := chatServer(t, n)
	expectRows(t, db, "SELECT name, chat_template FROM llm.models ORDER BY name", "chat|gguf", "plain|chatml fallback")

	// apply_chat_template renders without loading the model.
	expectRows(t, db, `SELECT apply_chat_template('chat', '[{"role": "user", "content": "Hi"}]')`, "<s>user: Hi\nassistant:")
	expectRows(t, db, `SELECT apply_chat_template('chat', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', 'Hi')), '{"add_generation_prompt": false, "greeting": "yo"}')`, "<s>[yo]user: Hi\n")
	expectRows(t, db, `SELECT apply_chat_template('plain', '[{"role": "user", "content": "Hi"}]')`, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
	expectRows(t, db, "SELECT loaded FROM llm.models WHERE name = 'chat'", "0")

	conv := "JSON_ARRAY(JSON_OBJECT('role', 'system', 'content', 'Be kind to dogs.'), JSON_OBJECT('role', 'user', 'content', prompt))"
	queries := map[string]string{
		"chat":             "SELECT id, chat('chat', " + conv + ", 0, 8) FROM p ORDER BY id",
		"chat options":     "SELECT id, chat('chat', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', prompt)), '{\"system\": \"Be kind to dogs.\", \"temperature\": 0, \"max_tokens\": 8}') FROM p ORDER BY id",
		"generate system":  "SELECT id, generate('chat', prompt, '{\"system\": \"Be kind to dogs.\", \"temperature\": 0, \"max_tokens\": 8}') FROM p ORDER BY id",
		"generate":         "SELECT id, generate('chat', prompt, 0, 8) FROM p ORDER BY id",
		"chat user only":   "SELECT id, chat('chat', JSON_ARRAY(JSON_OBJECT('role', 'user', 'content', prompt)), 0, 8) FROM p ORDER BY id",
		"generate raw":     "SELECT id, generate('chat', prompt, '{\"raw\": true, \"temperature\": 0, \"max_tokens\": 8}') FROM p ORDER BY id",
		"generate no tmpl": "SELECT id, generate('plain', prompt, 0, 8) FROM p ORDER BY id",
	}
	batched := map[string][]string{}
	for name, q := range queries {
		batched[name] = expectRowCount(t, db, q, n)
	}
	// Batched = sequential, call by call.
	mustExec(t, db, "SET @@llm_batch_size = 0")
	for name, q := range queries {
		if seq := expectRowCount(t, db, q, n); strings.Join(seq, "\n") != strings.Join(batched[name], "\n") {
			t.Fatalf("%s: batched %q, sequential %q", name, batched[name], seq)
		}
	}
	mustExec(t, db, "SET @@llm_batch_size = 64")
	same := func(a, b string) {
		t.Helper()
		if strings.Join(batched[a], "\n") != strings.Join(batched[b], "\n") {
			t.Fatalf("%s %q differs from %s %q", a, batched[a], b, batched[b])
		}
	}
	// generate() on a templated model is chat() with the prompt as the
	// user's turn; "system" adds the system turn; "raw" sends the prompt
	// as it is, as a model without a template does.
	same("chat", "chat options")
	same("chat", "generate system")
	same("generate", "chat user only")
	same("generate raw", "generate no tmpl")
	if strings.Join(batched["generate"], "\n") == strings.Join(batched["generate raw"], "\n") {
		t.Fatalf("the template changed nothing: %q", batched["generate"])
	}

	// The shared system turn is a shared prefix: computed once, reused by
	// the other rows.
	st0, _ := ts.srv.pool.SchedStats("chat")
	expectRowCount(t, db, queries["chat"], n)
	st1, _ := ts.srv.pool.SchedStats("chat")
	if reused := st1.ReusedTokens - st0.ReusedTokens; reused < int64(n-1)*8 {
		t.Fatalf("%d prompt tokens reused over %d rows sharing a system turn", reused, n)
	}

	// Errors name the problem; the server goes on.
	expectError(t, db, `SELECT chat('chat', '[{"role": "bad", "content": "x"}]')`, "chat template: no bad roles")
	expectError(t, db, `SELECT chat('chat', 'not json')`, "chat: messages must be a JSON array")
	expectError(t, db, `SELECT chat('chat', '[]')`, "messages is empty")
	expectError(t, db, `SELECT chat('chat', '[{"role": "user", "content": "x"}]', '{"raw": true}')`, "option raw applies to generate() only")
	expectError(t, db, `SELECT generate('plain', 'x', '{"system": "s"}')`, "has no chat template")
	expectError(t, db, `SELECT generate('chat', 'x', '{"system": "s", "raw": true}')`, "cannot go with raw")
	expectError(t, db, `SELECT apply_chat_template('chat', '[{"role": "user", "content": "x"}]', '{"messages": 1}')`, "option messages cannot be given")
	expectRows(t, db, "SELECT chat('chat', NULL), apply_chat_template(NULL, '[]')", "NULL|NULL")
	expectRowCount(t, db, "SELECT generate('chat', 'still serving', 0, 2)", 1)
}
