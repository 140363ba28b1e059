package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// errMalformed marks an answer that parsed but makes no sense (no choice):
// retried like a body that did not parse.
var errMalformed = errors.New("the server's answer has no choices")

// Generate answers req: a conversation (Messages) as a chat completion, a
// prompt as a completion. It implements engine.RemoteModel.
func (m *Model) Generate(ctx context.Context, req engine.Request) (engine.RemoteResult, error) {
	o := req.Options
	if err := o.Validate(); err != nil {
		return engine.RemoteResult{}, err
	}
	var res engine.RemoteResult
	opts := m.samplingOptions(o)
	estimate := len(req.Prompt)/4 + len(req.PromptIDs) + min(o.MaxTokens, 1<<16)
	var try attempt
	if req.Messages != nil {
		params, extra, err := m.chatParams(req)
		if err != nil {
			return res, err
		}
		for _, msg := range req.Messages {
			estimate += len(msg.Text()) / 4
		}
		opts = append(opts, extra...)
		try = func(ctx context.Context, ep *endpoint) (int, bool, error) {
			var err error
			var delivered bool
			if req.OnText != nil {
				res, delivered, err = m.streamChat(ctx, ep, params, opts, req.OnText)
			} else {
				res, err = m.chat(ctx, ep, params, opts)
			}
			return res.PromptTokens + res.GeneratedTokens, delivered, err
		}
	} else {
		params := m.completionParams(req)
		try = func(ctx context.Context, ep *endpoint) (int, bool, error) {
			var err error
			var delivered bool
			if req.OnText != nil {
				res, delivered, err = m.streamCompletion(ctx, ep, params, opts, req.OnText)
			} else {
				res, err = m.complete(ctx, ep, params, opts)
			}
			return res.PromptTokens + res.GeneratedTokens, delivered, err
		}
	}
	if err := m.do(ctx, estimate, try); err != nil {
		return engine.RemoteResult{}, err
	}
	if !o.KeepThinking {
		res.Text = stripThinking(res.Text)
	}
	return res, nil
}

// samplingOptions are the request's sampling fields beyond OpenAI's own:
// top_k, min_p and repeat_penalty (as llama.cpp's server and vLLM name
// them) are sent only when they differ from the engine's defaults, so a
// hosted API that refuses unknown fields is not sent them unless asked.
func (m *Model) samplingOptions(o engine.GenerateOptions) []option.RequestOption {
	d := engine.DefaultGenerateOptions()
	var out []option.RequestOption
	if o.TopK != d.TopK {
		out = append(out, option.WithJSONSet("top_k", o.TopK))
	}
	if o.MinP != d.MinP {
		out = append(out, option.WithJSONSet("min_p", o.MinP))
	}
	if o.RepeatPenalty != d.RepeatPenalty {
		out = append(out, option.WithJSONSet("repeat_penalty", o.RepeatPenalty), option.WithJSONSet("repetition_penalty", o.RepeatPenalty))
	}
	if o.RepeatLastN != d.RepeatLastN {
		out = append(out, option.WithJSONSet("repeat_last_n", o.RepeatLastN))
	}
	if o.IgnoreEOS {
		out = append(out, option.WithJSONSet("ignore_eos", true))
	}
	if o.Grammar != "" {
		// GBNF, as llama.cpp's server (and llmsql's) take it.
		out = append(out, option.WithJSONSet("grammar", o.Grammar))
	}
	return out
}

// maxTokensSent is the largest max_tokens sent; above it (the HTTP API's
// "until the end") none is, and the server decides.
const maxTokensSent = 1 << 19

func (m *Model) chatParams(req engine.Request) (openai.ChatCompletionNewParams, []option.RequestOption, error) {
	s := sampledFields(req.Options)
	p := openai.ChatCompletionNewParams{Model: m.cfg.Model, Temperature: s.temperature, TopP: s.topP,
		MaxTokens: s.maxTokens, Seed: s.seed, FrequencyPenalty: s.frequency, PresencePenalty: s.presence,
		Stop: openai.ChatCompletionNewParamsStopUnion{OfStringArray: s.stop}}
	for _, msg := range req.Messages {
		raw, err := messageJSON(msg)
		if err != nil {
			return p, nil, err
		}
		p.Messages = append(p.Messages, param.Override[openai.ChatCompletionMessageParamUnion](raw))
	}
	var extra []option.RequestOption
	if len(req.Template.Vars) > 0 {
		extra = append(extra, option.WithJSONSet("chat_template_kwargs", req.Template.Vars))
	}
	return p, extra, nil
}

// messageJSON writes a message as the API takes it: role, content (a
// string, or text parts) and its other fields as given.
func messageJSON(msg chattmpl.Message) (json.RawMessage, error) {
	obj := map[string]any{"role": msg.Role}
	if msg.Parts != nil {
		parts := []map[string]string{}
		for _, p := range msg.Parts {
			if p.Type == "text" {
				parts = append(parts, map[string]string{"type": "text", "text": p.Text})
			}
		}
		obj["content"] = parts
	} else {
		obj["content"] = msg.Content
	}
	for _, f := range msg.Fields {
		obj[f.Key] = f.Value
	}
	return json.Marshal(obj)
}

func (m *Model) completionParams(req engine.Request) openai.CompletionNewParams {
	s := sampledFields(req.Options)
	p := openai.CompletionNewParams{Model: openai.CompletionNewParamsModel(m.cfg.Model), Temperature: s.temperature,
		TopP: s.topP, MaxTokens: s.maxTokens, Seed: s.seed, FrequencyPenalty: s.frequency, PresencePenalty: s.presence,
		Stop: openai.CompletionNewParamsStopUnion{OfStringArray: s.stop}}
	if req.PromptIDs != nil {
		ids := make([]int64, len(req.PromptIDs))
		for i, id := range req.PromptIDs {
			ids[i] = int64(id)
		}
		p.Prompt = openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: ids}
	} else {
		p.Prompt = openai.CompletionNewParamsPromptUnion{OfString: openai.String(req.Prompt)}
	}
	return p
}

// sampled holds the sampling fields the chat and completion requests share,
// as the SDK's optional values (unset ones are not sent).
type sampled struct {
	temperature, topP, frequency, presence param.Opt[float64]
	maxTokens, seed                        param.Opt[int64]
	stop                                   []string // nil: none sent
}

func sampledFields(o engine.GenerateOptions) sampled {
	s := sampled{temperature: openai.Float(float64(o.Temperature)), topP: openai.Float(float64(o.TopP))}
	if o.MaxTokens <= maxTokensSent {
		s.maxTokens = openai.Int(int64(o.MaxTokens))
	}
	if o.HasSeed {
		s.seed = openai.Int(int64(o.Seed))
	}
	if len(o.Stop) > 0 {
		s.stop = o.Stop
	}
	if o.FrequencyPenalty != 0 {
		s.frequency = openai.Float(float64(o.FrequencyPenalty))
	}
	if o.PresencePenalty != 0 {
		s.presence = openai.Float(float64(o.PresencePenalty))
	}
	return s
}

func (m *Model) chat(ctx context.Context, ep *endpoint, p openai.ChatCompletionNewParams, opts []option.RequestOption) (engine.RemoteResult, error) {
	c, err := ep.client.Chat.Completions.New(ctx, p, opts...)
	if err != nil {
		return engine.RemoteResult{}, err
	}
	if len(c.Choices) == 0 {
		return engine.RemoteResult{}, errMalformed
	}
	ch := c.Choices[0]
	return engine.RemoteResult{Text: ch.Message.Content, FinishReason: finish(ch.FinishReason),
		PromptTokens: int(c.Usage.PromptTokens), GeneratedTokens: int(c.Usage.CompletionTokens)}, nil
}

func (m *Model) complete(ctx context.Context, ep *endpoint, p openai.CompletionNewParams, opts []option.RequestOption) (engine.RemoteResult, error) {
	c, err := ep.client.Completions.New(ctx, p, opts...)
	if err != nil {
		return engine.RemoteResult{}, err
	}
	if len(c.Choices) == 0 {
		return engine.RemoteResult{}, errMalformed
	}
	ch := c.Choices[0]
	return engine.RemoteResult{Text: ch.Text, FinishReason: finish(string(ch.FinishReason)),
		PromptTokens: int(c.Usage.PromptTokens), GeneratedTokens: int(c.Usage.CompletionTokens)}, nil
}

// streamChat streams a chat reply into onText; delivered says whether any
// text reached it (after which the request is not retried).
func (m *Model) streamChat(ctx context.Context, ep *endpoint, p openai.ChatCompletionNewParams, opts []option.RequestOption, onText func(string) error) (engine.RemoteResult, bool, error) {
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := ep.client.Chat.Completions.NewStreaming(ctx, p, opts...)
	defer s.Close()
	var res engine.RemoteResult
	var text strings.Builder
	delivered, finished := false, false
	for s.Next() {
		c := s.Current()
		for _, ch := range c.Choices {
			if ch.Delta.Content != "" {
				text.WriteString(ch.Delta.Content)
				delivered = true
				if err := onText(ch.Delta.Content); err != nil {
					return res, true, err
				}
			}
			if ch.FinishReason != "" {
				res.FinishReason, finished = finish(ch.FinishReason), true
			}
		}
		if c.Usage.TotalTokens > 0 {
			res.PromptTokens, res.GeneratedTokens = int(c.Usage.PromptTokens), int(c.Usage.CompletionTokens)
		}
	}
	if err := s.Err(); err != nil {
		return res, delivered, err
	}
	if !finished {
		return res, delivered, fmt.Errorf("the stream ended without a finish_reason")
	}
	res.Text = text.String()
	return res, delivered, nil
}

func (m *Model) streamCompletion(ctx context.Context, ep *endpoint, p openai.CompletionNewParams, opts []option.RequestOption, onText func(string) error) (engine.RemoteResult, bool, error) {
	opts = append(opts, option.WithJSONSet("stream_options", map[string]bool{"include_usage": true}))
	s := ep.client.Completions.NewStreaming(ctx, p, opts...)
	defer s.Close()
	var res engine.RemoteResult
	var text strings.Builder
	delivered, finished := false, false
	for s.Next() {
		c := s.Current()
		for _, ch := range c.Choices {
			if ch.Text != "" {
				text.WriteString(ch.Text)
				delivered = true
				if err := onText(ch.Text); err != nil {
					return res, true, err
				}
			}
			if ch.FinishReason != "" {
				res.FinishReason, finished = finish(string(ch.FinishReason)), true
			}
		}
		if c.Usage.TotalTokens > 0 {
			res.PromptTokens, res.GeneratedTokens = int(c.Usage.PromptTokens), int(c.Usage.CompletionTokens)
		}
	}
	if err := s.Err(); err != nil {
		return res, delivered, err
	}
	if !finished {
		return res, delivered, fmt.Errorf("the stream ended without a finish_reason")
	}
	res.Text = text.String()
	return res, delivered, nil
}

// finish maps OpenAI's finish_reason to the engine's.
func finish(r string) string {
	if r == "length" {
		return "length"
	}
	return "stop"
}

// stripThinking removes a reasoning block a server left in the reply
// (servers that parse reasoning return it apart, in reasoning_content), as
// the engine removes it from local replies.
func stripThinking(s string) string {
	t := strings.TrimLeft(s, " \t\r\n")
	open := strings.HasPrefix(t, "<think>")
	i := strings.Index(t, "</think>")
	if i < 0 {
		return s
	}
	if !open && strings.Contains(t[:i], "<think>") {
		return s
	}
	return strings.TrimLeft(t[i+len("</think>"):], " \t\r\n")
}
