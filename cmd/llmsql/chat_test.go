package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

// testTemplate writes the BOS itself (the vocabulary adds one too: the
// prompt must still start with one), prints an optional variable and
// refuses a role called "bad".
const testTemplate = "{{ bos_token }}{% if greeting is defined %}[{{ greeting }}]{% endif %}" +
	"{% for m in messages %}{% if m.role == 'bad' %}{{ raise_exception('no bad roles') }}{% endif %}" +
	"{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"

// tinyChatModel writes a tiny model with the built-in vocabulary and, when
// template is not empty, that chat template.
func tinyChatModel(t *testing.T, template string) string {
	t.Helper()
	spec := synth.Tiny()
	if template != "" {
		spec.Metadata = map[string]gguf.Value{"tokenizer.chat_template": gguf.String(template)}
	}
	path := filepath.Join(t.TempDir(), "chat.gguf")
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	return path
}

// slowChatModel is tinyChatModel wide and long enough that a token takes
// a fraction of a millisecond and -n 1000 takes most of a second: the Ctrl-C tests
// need generation still running when the interrupt lands, and the
// scheduler runs ahead of the output, so slowing the writes cannot do that.
func slowChatModel(t *testing.T, template string) string {
	t.Helper()
	spec := synth.Tiny()
	spec.Embd, spec.Heads, spec.KVHeads, spec.FF, spec.Layers, spec.Context = 256, 8, 4, 704, 4, 1024
	spec.Type = gguf.TypeQ8_0
	if template != "" {
		spec.Metadata = map[string]gguf.Value{"tokenizer.chat_template": gguf.String(template)}
	}
	path := filepath.Join(t.TempDir(), "slow.gguf")
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withStdin makes chat and template read text as standard input.
func withStdin(t *testing.T, text string) {
	old := stdin
	stdin = strings.NewReader(text)
	t.Cleanup(func() { stdin = old })
}

// fakeInterrupts replaces Ctrl-C with a function that delivers one to
// every channel registered at the time, as the signal would.
func fakeInterrupts(t *testing.T) (interrupt func()) {
	var mu sync.Mutex
	chans := map[chan<- os.Signal]bool{}
	old := notifyInterrupt
	notifyInterrupt = func(c chan<- os.Signal) func() {
		mu.Lock()
		chans[c] = true
		mu.Unlock()
		return func() { mu.Lock(); delete(chans, c); mu.Unlock() }
	}
	t.Cleanup(func() { notifyInterrupt = old })
	return func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range chans {
			select {
			case c <- os.Interrupt:
			default:
			}
		}
	}
}

// onFirstWrite is an output that calls f when the first text arrives.
type onFirstWrite struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	f    func()
	done bool
}

func (w *onFirstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && len(p) > 0 {
		w.done = true
		w.f()
	}
	return w.buf.Write(p)
}

func TestTemplateCommand(t *testing.T) {
	model := tinyChatModel(t, testTemplate)
	conv := writeFile(t, "conv.json", `[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]`)
	var out, errb bytes.Buffer
	if code := run([]string{"template", "-m", model, "--messages", conv}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if want := "<s>system: Be brief.\nuser: Hi\nassistant:"; out.String() != want {
		t.Fatalf("got %q want %q", out.String(), want)
	}
	out.Reset()
	withStdin(t, `[{"role": "user", "content": "Hi"}]`)
	if code := run([]string{"template", "-m", model, "--messages", "-", "--no-generation-prompt", "--var", "greeting=\"hey\"", "--var", "x=plain"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if want := "<s>[hey]user: Hi\n"; out.String() != want {
		t.Fatalf("stdin, vars: got %q want %q", out.String(), want)
	}
	// The template's own error is the command's error, with its message.
	errb.Reset()
	bad := writeFile(t, "bad.json", `[{"role": "bad", "content": "x"}]`)
	if code := run([]string{"template", "-m", model, "--messages", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "chat template: no bad roles") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"template", "-m", model, "--messages", writeFile(t, "e.json", `[]`)}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "messages is empty") {
		t.Fatalf("empty conversation: exit %d: %s", code, errb.String())
	}
	if code := run([]string{"template", "-m", model}, &out, &errb); code != 2 {
		t.Fatalf("missing --messages: exit %d", code)
	}
	if code := run([]string{"template", "-m", model, "--messages", conv, "--var", "novalue"}, &out, &errb); code != 2 {
		t.Fatalf("bad --var: exit %d", code)
	}
	// Without a template in the file: ChatML, and a note saying so.
	out.Reset()
	errb.Reset()
	if code := run([]string{"template", "-m", tinyChatModel(t, ""), "--messages", conv}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"; out.String() != want || !strings.Contains(errb.String(), "ChatML") {
		t.Fatalf("chatml: %q (stderr %q)", out.String(), errb.String())
	}
}

func chatPromptIDs(t *testing.T, model string, msgs []chattmpl.Message) []int32 {
	t.Helper()
	m, err := engine.LoadModel(model, engine.LoadConfig{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ids, _, err := m.ChatPrompt(msgs, engine.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestChatMessagesJSON(t *testing.T) {
	model := tinyChatModel(t, testTemplate)
	conv := writeFile(t, "conv.json", `[{"role": "user", "content": "Once upon a time"}]`)
	var out, errb bytes.Buffer
	if code := run([]string{"chat", "-m", model, "--messages", conv, "--system", "Tell a story.", "--json", "--temp", "0", "-n", "8", "--ignore-eos", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 3 {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	// The same as the engine's generation for that conversation.
	m, err := engine.LoadModel(model, engine.LoadConfig{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	o := engine.DefaultGenerateOptions()
	o.Temperature, o.MaxTokens, o.IgnoreEOS = 0, 8, true
	res, err := m.Generate(t.Context(), engine.Request{Messages: []chattmpl.Message{{Role: "system", Content: "Tell a story."}, {Role: "user", Content: "Once upon a time"}}, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if got["text"] != res.Text || got["prompt_tokens"] != float64(len(res.PromptIDs)) || got["generated_tokens"] != float64(8) {
		t.Fatalf("chat %v, engine %q %d", got, res.Text, len(res.PromptIDs))
	}
	if res.PromptIDs[0] != 1 || res.PromptIDs[1] == 1 {
		t.Fatalf("BOS doubled or missing: %v", res.PromptIDs[:3])
	}
}

// The interactive loop keeps the history: the second turn's prompt holds
// the first reply.
func TestChatInteractive(t *testing.T) {
	model := tinyChatModel(t, testTemplate)
	withStdin(t, "Hello\n\nthe little dog\n")
	fakeInterrupts(t)
	var out, errb bytes.Buffer
	if code := run([]string{"chat", "-m", model, "--json", "--temp", "0", "-n", "6", "--ignore-eos", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var turns []chatJSON
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var j chatJSON
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		turns = append(turns, j)
	}
	if len(turns) != 2 {
		t.Fatalf("%d replies for two messages: %q", len(turns), out.String())
	}
	want := chatPromptIDs(t, model, []chattmpl.Message{{Role: "user", Content: "Hello"}, {Role: "assistant", Content: turns[0].Text}, {Role: "user", Content: "the little dog"}})
	if turns[1].PromptTokens != len(want) {
		t.Fatalf("second prompt %d tokens, with the history %d", turns[1].PromptTokens, len(want))
	}
}

// Ctrl-C stops the reply, keeps what was said, and the session goes on.
func TestChatCtrlCKeepsReply(t *testing.T) {
	model := slowChatModel(t, testTemplate)
	interrupt := fakeInterrupts(t)
	m, err := engine.LoadModel(model, engine.LoadConfig{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	o := engine.DefaultGenerateOptions()
	o.Temperature, o.MaxTokens, o.IgnoreEOS = 0, 1000, true
	w := &onFirstWrite{f: interrupt}
	s := &chatSession{m: m, opts: o, stdout: w}
	withStdin(t, "Once upon a time\nthe cat\n")
	var errb bytes.Buffer
	if err := s.interactive(&errb); err != nil {
		t.Fatal(err)
	}
	if len(s.history) != 4 || s.history[1].Role != "assistant" || s.history[3].Role != "assistant" {
		t.Fatalf("history %+v", s.history)
	}
	first := s.history[1].Content
	full, err := m.Generate(t.Context(), engine.Request{Messages: s.history[:1], Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if first == "" || len(first) >= len(full.Text) || !strings.HasPrefix(full.Text, first) {
		t.Fatalf("interrupted reply %q, full reply %q", first, full.Text)
	}
	if !strings.HasPrefix(w.buf.String(), first+"\n") {
		t.Fatalf("printed %q, kept %q", w.buf.String(), first)
	}
	if s.history[3].Content == "" {
		t.Fatal("the turn after Ctrl-C produced nothing")
	}
}

func generateJSON(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"generate", "--json", "--temp", "0", "--threads", "1"}, args...), &out, &errb)
	var got map[string]any
	if code == 0 {
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
	}
	return got, code, errb.String()
}

func idsOf(v any) []int32 {
	var ids []int32
	for _, x := range v.([]any) {
		ids = append(ids, int32(x.(float64)))
	}
	return ids
}

func sameIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGenerateTemplatedRawSpecial(t *testing.T) {
	model := tinyChatModel(t, testTemplate)
	got, code, stderr := generateJSON(t, "-m", model, "-p", "Hello", "-n", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := chatPromptIDs(t, model, []chattmpl.Message{{Role: "user", Content: "Hello"}}); !sameIDs(idsOf(got["prompt_ids"]), want) {
		t.Fatalf("templated prompt %v, want %v", got["prompt_ids"], want)
	}
	got, code, stderr = generateJSON(t, "-m", model, "-p", "Hello", "--system", "Be kind.", "-n", "2")
	if want := chatPromptIDs(t, model, []chattmpl.Message{{Role: "system", Content: "Be kind."}, {Role: "user", Content: "Hello"}}); code != 0 || !sameIDs(idsOf(got["prompt_ids"]), want) {
		t.Fatalf("with --system (exit %d %s): %v, want %v", code, stderr, got["prompt_ids"], want)
	}
	m, err := engine.LoadModel(model, engine.LoadConfig{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, _, _ = generateJSON(t, "-m", model, "-p", "</s>Hello", "--raw", "-n", "2")
	if want := m.Tok.Encode("</s>Hello", true, false); !sameIDs(idsOf(got["prompt_ids"]), want) {
		t.Fatalf("--raw: %v want %v", got["prompt_ids"], want)
	}
	got, _, _ = generateJSON(t, "-m", model, "-p", "</s>Hello", "--raw", "--parse-special", "-n", "2")
	if want := m.Tok.Encode("</s>Hello", true, true); !sameIDs(idsOf(got["prompt_ids"]), want) || want[1] != 2 {
		t.Fatalf("--raw --parse-special: %v want %v", got["prompt_ids"], want)
	}
	if _, code, _ := generateJSON(t, "-m", model, "-p", "x", "--raw", "--system", "s"); code != 2 {
		t.Fatalf("--raw --system: exit %d", code)
	}
	if _, code, stderr := generateJSON(t, "-m", tinyChatModel(t, ""), "-p", "x", "--system", "s"); code != 1 || !strings.Contains(stderr, "no chat template") {
		t.Fatalf("--system without a template: exit %d %s", code, stderr)
	}
}

// Ctrl-C in generate prints what was generated and the stats.
func TestGenerateCtrlC(t *testing.T) {
	model := slowChatModel(t, "")
	interrupt := fakeInterrupts(t)
	w := &onFirstWrite{f: interrupt}
	var errb bytes.Buffer
	code := run([]string{"generate", "-m", model, "-p", "Once upon a time", "-n", "1000", "--ignore-eos", "--temp", "0", "--threads", "1"}, w, &errb)
	if code != 0 || w.buf.Len() == 0 || !strings.Contains(errb.String(), "(cancelled)") || !strings.Contains(errb.String(), "generated:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, w.buf.String(), errb.String())
	}
	// With --json the JSON line still comes, here for a Ctrl-C before the
	// first token.
	old := notifyInterrupt
	notifyInterrupt = func(c chan<- os.Signal) func() { c <- os.Interrupt; return func() {} }
	defer func() { notifyInterrupt = old }()
	got, code, stderr := generateJSON(t, "-m", model, "-p", "Once upon a time", "-n", "200")
	if code != 0 || got["stop_reason"] != "cancelled" || len(idsOf(got["prompt_ids"])) == 0 {
		t.Fatalf("exit %d %s: %v", code, stderr, got)
	}
}
