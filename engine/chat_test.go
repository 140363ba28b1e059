package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/textout"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/internal/testutil"
)

// chatModel writes a tiny qwen3-shaped model with random weights and the
// tokenizer and chat template of ../shared/vocab/ggml-vocab-VOCAB.gguf;
// template, when not empty, replaces the vocabulary's template.
func chatModel(t *testing.T, vocab, template string) string {
	t.Helper()
	src := testutil.Shared(t, "vocab/ggml-vocab-"+vocab+".gguf")
	dir := t.TempDir()
	if template != "" {
		src = withTemplate(t, src, filepath.Join(dir, "vocab.gguf"), template)
	}
	path := filepath.Join(dir, "model.gguf")
	if err := synth.Write(path, synth.Spec{Arch: "qwen3", Embd: 32, Layers: 2, Heads: 4, KVHeads: 2, FF: 64, Context: 256, Seed: 7, Vocab: src}); err != nil {
		t.Fatal(err)
	}
	return path
}

// withTemplate copies a vocabulary file's tokenizer with another chat template.
func withTemplate(t *testing.T, src, dst, template string) string {
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	for _, kv := range f.Metadata {
		if strings.HasPrefix(kv.Key, "tokenizer.") && kv.Key != "tokenizer.chat_template" {
			w.Set(kv.Key, kv.Value)
		}
	}
	w.Set("tokenizer.chat_template", gguf.String(template))
	if err := w.WriteFile(dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func msgs(t *testing.T, js string) []chattmpl.Message {
	t.Helper()
	m, err := chattmpl.ParseMessages([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A conversation is rendered with the file's template and tokenized with
// special tokens parsed; end-of-turn tokens end generation.
func TestChatPromptQwen3(t *testing.T) {
	m, err := LoadModel(chatModel(t, "qwen3", ""), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Chat.Source != TemplateGGUF || m.Chat.EOS != "<|im_end|>" {
		t.Fatalf("chat format: %s, eos %q", m.Chat.Source, m.Chat.EOS)
	}
	conv := msgs(t, `[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]`)
	ids, prompt, err := m.ChatPrompt(conv, TemplateOptions{Vars: map[string]any{"enable_thinking": false}})
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
	if prompt != wantPrompt {
		t.Fatalf("prompt %q", prompt)
	}
	imStart, imEnd := m.Tok.Encode("<|im_start|>", false, true), m.Tok.Encode("<|im_end|>", false, true)
	count := func(id int32) (n int) {
		for _, x := range ids {
			if x == id {
				n++
			}
		}
		return n
	}
	if len(imStart) != 1 || len(imEnd) != 1 || ids[0] != imStart[0] || count(imStart[0]) != 3 || count(imEnd[0]) != 2 {
		t.Fatalf("special tokens not parsed: %v (im_start %v, im_end %v)", ids, imStart, imEnd)
	}
	if want := m.Tok.Encode(prompt, true, true); !equalIDs(ids, want) {
		t.Fatalf("ids %v want %v", ids, want)
	}
	// <|im_end|> ends generation and renders as nothing.
	if !m.Tok.IsEOG(imEnd[0]) || m.Tok.Piece(imEnd[0]) != "" {
		t.Fatalf("<|im_end|> is not an end-of-generation token")
	}
	// The same generation from messages, from the rendered prompt and from ids.
	ctx := context.Background()
	opts := greedy(12)
	opts.KeepThinking = true
	a, err := m.Generate(ctx, Request{Messages: conv, Template: TemplateOptions{Vars: map[string]any{"enable_thinking": false}}, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Generate(ctx, Request{Prompt: prompt, Rendered: true, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Generate(ctx, Request{PromptIDs: ids, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if a.Prompt != prompt || !equalIDs(a.PromptIDs, ids) || a.Text != b.Text || b.Text != c.Text || !equalIDs(a.GeneratedIDs, c.GeneratedIDs) {
		t.Fatalf("messages %q / rendered %q / ids %q", a.Text, b.Text, c.Text)
	}
	// A raw prompt does not parse special-token text unless asked to.
	raw, _ := m.Generate(ctx, Request{Prompt: prompt, Options: greedy(1)})
	special, _ := m.Generate(ctx, Request{Prompt: prompt, ParseSpecial: true, Options: greedy(1)})
	if equalIDs(raw.PromptIDs, ids) || !equalIDs(special.PromptIDs, ids) {
		t.Fatalf("raw %d ids, parse_special %d ids, chat %d", len(raw.PromptIDs), len(special.PromptIDs), len(ids))
	}
	// The template's own refusal is an error carrying its message.
	_, err = m.Generate(ctx, Request{Messages: msgs(t, `[{"role": "user", "content": "x"}]`), Template: TemplateOptions{Vars: map[string]any{"messages": 1}}, Options: opts})
	if err == nil {
		t.Fatal("a reserved variable was accepted")
	}
}

// When the template writes the BOS and the vocabulary adds one, the prompt
// starts with exactly one (llama.cpp's rule).
func TestChatBOSNotDoubled(t *testing.T) {
	m, err := LoadModel(chatModel(t, "llama-bpe", ""), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Tok.AddBOS() || m.Chat.BOS != "<|begin_of_text|>" {
		t.Fatalf("vocab: add_bos %v, bos %q", m.Tok.AddBOS(), m.Chat.BOS)
	}
	ids, prompt, err := m.ChatPrompt(msgs(t, `[{"role": "user", "content": "Hello"}]`), TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(prompt, "<|begin_of_text|><|start_header_id|>user") {
		t.Fatalf("prompt %q", prompt)
	}
	bos := m.Tok.BOS()
	if ids[0] != bos || ids[1] == bos {
		t.Fatalf("ids start %v (bos %d)", ids[:3], bos)
	}
	eot := m.Tok.Encode("<|eot_id|>", false, true)
	if len(eot) != 1 || !m.Tok.IsEOG(eot[0]) {
		t.Fatalf("<|eot_id|> %v is not end-of-generation", eot)
	}
	// A template that writes no BOS still gets the tokenizer's.
	m2, err := LoadModel(chatModel(t, "llama-bpe", "{% for m in messages %}{{ m.content }}{% endfor %}"), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	ids, _, err = m2.ChatPrompt(msgs(t, `[{"role": "user", "content": "Hello"}]`), TemplateOptions{})
	if err != nil || ids[0] != bos || len(ids) != 2 {
		t.Fatalf("ids %v %v", ids, err)
	}
}

// A file without a template falls back to ChatML; one whose template does
// not compile still serves raw prompts.
func TestChatFallbackAndBrokenTemplate(t *testing.T) {
	m, err := LoadModel(stories(t), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Chat.Source != TemplateChatML {
		t.Fatalf("source %q", m.Chat.Source)
	}
	_, prompt, err := m.ChatPrompt(msgs(t, `[{"role": "user", "content": "Hi"}]`), TemplateOptions{})
	if err != nil || prompt != "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" {
		t.Fatalf("chatml: %q %v", prompt, err)
	}
	info, err := Describe(stories(t))
	if err != nil || info.ChatTemplate != TemplateChatML {
		t.Fatalf("describe: %q %v", info.ChatTemplate, err)
	}

	broken, err := LoadModel(chatModel(t, "qwen3", "{% if %}"), LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	ctx := context.Background()
	if _, err := broken.Generate(ctx, Request{Prompt: "hello", Options: greedy(2)}); err != nil {
		t.Fatalf("raw prompt on a model with a broken template: %v", err)
	}
	_, err = broken.Generate(ctx, Request{Messages: msgs(t, `[{"role": "user", "content": "Hi"}]`), Options: greedy(2)})
	if err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Fatalf("chat on a broken template: %v", err)
	}
}

func TestThinkingMode(t *testing.T) {
	for prompt, want := range map[string]textout.Thinking{
		"<|im_start|>assistant\n":                        textout.StripThinking,
		"<｜Assistant｜><think>\n":                         textout.StripOpenThinking,
		"<|im_start|>assistant\n<think>\n\n</think>\n\n": textout.StripThinking,
	} {
		if got := thinkingMode(prompt, false); got != want {
			t.Errorf("%q: %v want %v", prompt, got, want)
		}
		if got := thinkingMode(prompt, true); got != textout.KeepThinking {
			t.Errorf("%q keep: %v", prompt, got)
		}
	}
}

// The pool renders conversations from the file without loading the
// weights, and answers repeated deterministic chats from the cache.
func TestPoolChat(t *testing.T) {
	p := NewPool(PoolConfig{MaxSequences: 2})
	defer p.Close()
	if _, err := p.Register("q", chatModel(t, "qwen3", "")); err != nil {
		t.Fatal(err)
	}
	conv := msgs(t, `[{"role": "user", "content": "Hi"}]`)
	prompt, err := p.ApplyChatTemplate("q", conv, TemplateOptions{})
	if err != nil || prompt != "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" {
		t.Fatalf("apply: %q %v", prompt, err)
	}
	if p.Models()[0].Loaded || p.Models()[0].ChatTemplate != TemplateGGUF {
		t.Fatalf("models: %+v", p.Models()[0])
	}
	ctx := context.Background()
	first, err := p.Run(ctx, "q", Request{Messages: conv, Options: greedy(6)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Run(ctx, "q", Request{Messages: conv, Options: greedy(6)})
	if err != nil || again.Text != first.Text || !again.Cached {
		t.Fatalf("repeat: %+v %v (first %+v)", again, err, first)
	}
	// The same text as a raw prompt is another key (it tokenizes differently).
	raw, err := p.Run(ctx, "q", Request{Prompt: prompt, Options: greedy(6)})
	if err != nil || raw.Cached {
		t.Fatalf("raw prompt hit the chat's cache entry: %+v %v", raw, err)
	}
	if _, err := p.ApplyChatTemplate("nope", conv, TemplateOptions{}); err == nil {
		t.Fatal("unknown model rendered")
	}
}
