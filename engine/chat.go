package engine

import (
	"fmt"
	"strings"

	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/textout"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

// Where a model's chat template comes from (ModelInfo.ChatTemplate).
const (
	TemplateGGUF   = "gguf"            // the file's tokenizer.chat_template
	TemplateChatML = "chatml fallback" // the file has none: llama.cpp's ChatML
)

// ChatFormat is how a model turns a conversation into a prompt: its chat
// template (or the ChatML fallback) and the texts of its BOS and EOS
// tokens, which templates write themselves.
type ChatFormat struct {
	Template *chattmpl.Template
	Source   string // TemplateGGUF or TemplateChatML
	BOS, EOS string
	addBOS   bool
	err      error // the file's template does not compile
}

// TemplateOptions shape a chat prompt.
type TemplateOptions struct {
	// NoGenerationPrompt leaves out the opening of the assistant's turn
	// (add_generation_prompt=false).
	NoGenerationPrompt bool
	// Vars are further template variables, e.g. enable_thinking.
	Vars map[string]any
}

// NewChatFormat reads f's chat template; tok is f's tokenizer. A template
// that does not compile is kept as an error every render returns, so the
// model still serves raw prompts.
func NewChatFormat(f *gguf.File, tok *tokenizer.Tokenizer) *ChatFormat {
	c := &ChatFormat{Source: TemplateChatML, Template: chattmpl.ChatML(), addBOS: tok.AddBOS()}
	if id := tok.BOS(); id >= 0 {
		c.BOS = tok.Token(id)
	}
	if id := tok.EOS(); id >= 0 {
		c.EOS = tok.Token(id)
	}
	if src, err := f.String("tokenizer.chat_template"); err == nil && src != "" {
		c.Source = TemplateGGUF
		c.Template, c.err = chattmpl.Compile(src)
		if c.err != nil {
			c.err = fmt.Errorf("the model's chat template does not compile: %w", c.err)
		}
	}
	return c
}

// Render returns the prompt text for msgs.
func (c *ChatFormat) Render(msgs []chattmpl.Message, opts TemplateOptions) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	return c.Template.Render(msgs, chattmpl.Options{
		AddGenerationPrompt: !opts.NoGenerationPrompt,
		BOS:                 c.BOS, EOS: c.EOS, Vars: opts.Vars,
	})
}

// Tokenize turns a rendered prompt into ids as llama.cpp does: special-token
// text parsed, and the BOS the tokenizer adds not doubled when the template
// wrote one.
func (c *ChatFormat) Tokenize(tok *tokenizer.Tokenizer, prompt string) []int32 {
	if c.addBOS && c.BOS != "" {
		prompt = strings.TrimPrefix(prompt, c.BOS)
	}
	return tok.Encode(prompt, true, true)
}

// thinkingMode says how to treat a reasoning block in the reply to prompt.
func thinkingMode(prompt string, keep bool) textout.Thinking {
	switch {
	case keep:
		return textout.KeepThinking
	case strings.HasSuffix(strings.TrimRight(prompt, " \t\r\n"), "<think>"):
		return textout.StripOpenThinking
	default:
		return textout.StripThinking
	}
}

// ChatPrompt renders msgs with the model's chat template and tokenizes the
// result: the ids a generation for this conversation starts from, and the
// prompt text.
func (m *Model) ChatPrompt(msgs []chattmpl.Message, opts TemplateOptions) ([]int32, string, error) {
	prompt, err := m.Chat.Render(msgs, opts)
	if err != nil {
		return nil, "", err
	}
	return m.Chat.Tokenize(m.Tok, prompt), prompt, nil
}
