package httpapi

import (
	"bytes"
	"encoding/json"

	"github.com/llmsql/llmsql/engine"
)

// sampling holds the fields /v1/chat/completions and /v1/completions share:
// OpenAI's, and the sampling extensions llama.cpp's server and vLLM accept
// under the same names (top_k, min_p, repeat_penalty or
// repetition_penalty, repeat_last_n, ignore_eos).
type sampling struct {
	Model               string          `json:"model"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	Seed                *int64          `json:"seed"`
	N                   *int64          `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	FrequencyPenalty  *float64        `json:"frequency_penalty"`
	PresencePenalty   *float64        `json:"presence_penalty"`
	Logprobs          json.RawMessage `json:"logprobs"`
	TopK              *int64          `json:"top_k"`
	MinP              *float64        `json:"min_p"`
	RepeatPenalty     *float64        `json:"repeat_penalty"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	RepeatLastN       *int64          `json:"repeat_last_n"`
	IgnoreEOS         bool            `json:"ignore_eos"`
	// Grammar is a GBNF grammar the reply must follow, as llama.cpp's
	// server takes it.
	Grammar string `json:"grammar"`
}

// unlimited is max_tokens when a request gives none: generation ends at
// end-of-generation, a stop string, or the end of the context.
const unlimited = 1 << 20

// options turns the request's fields into the engine's options, starting
// from the engine's defaults (as llama.cpp's server does, so top_k 40 and
// min_p 0.05 apply unless the request sets them).
func (p *sampling) options() (engine.GenerateOptions, *apiError) {
	o := engine.DefaultGenerateOptions()
	o.MaxTokens = unlimited
	if p.Model == "" {
		return o, badRequest("model", "model is required")
	}
	if p.N != nil && *p.N != 1 {
		return o, badRequest("n", "n must be 1: one choice per request")
	}
	if lp := bytes.TrimSpace(p.Logprobs); len(lp) > 0 && !bytes.Equal(lp, []byte("false")) && !bytes.Equal(lp, []byte("null")) && !bytes.Equal(lp, []byte("0")) {
		return o, badRequest("logprobs", "logprobs are not supported by this server")
	}
	if p.Temperature != nil {
		o.Temperature = float32(*p.Temperature)
	}
	if p.TopP != nil {
		o.TopP = float32(*p.TopP)
	}
	switch {
	case p.MaxCompletionTokens != nil:
		o.MaxTokens = clampInt(*p.MaxCompletionTokens)
	case p.MaxTokens != nil:
		o.MaxTokens = clampInt(*p.MaxTokens)
	}
	if p.Seed != nil {
		o.Seed, o.HasSeed = uint64(*p.Seed), true
	}
	if p.FrequencyPenalty != nil {
		o.FrequencyPenalty = float32(*p.FrequencyPenalty)
	}
	if p.PresencePenalty != nil {
		o.PresencePenalty = float32(*p.PresencePenalty)
	}
	if p.TopK != nil {
		o.TopK = clampInt(*p.TopK)
	}
	if p.MinP != nil {
		o.MinP = float32(*p.MinP)
	}
	if p.RepetitionPenalty != nil {
		o.RepeatPenalty = float32(*p.RepetitionPenalty)
	}
	if p.RepeatPenalty != nil {
		o.RepeatPenalty = float32(*p.RepeatPenalty)
	}
	if p.RepeatLastN != nil {
		o.RepeatLastN = clampInt(*p.RepeatLastN)
	}
	o.IgnoreEOS = p.IgnoreEOS
	o.Grammar = p.Grammar
	stop, err := stopStrings(p.Stop)
	if err != nil {
		return o, err
	}
	o.Stop = stop
	if err := o.Validate(); err != nil {
		if oe, ok := err.(*engine.OptionError); ok {
			return o, badRequest(oe.Name, "%s is out of range: allowed %s", oe.Name, oe.Allowed)
		}
		return o, badRequest("", "%v", err)
	}
	return o, nil
}

// clampInt keeps an int64 from wrapping when it becomes an int; out of
// range values stay out of range, so Validate names them.
func clampInt(n int64) int {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	if n < -1<<31 {
		return -1 << 31
	}
	return int(n)
}

// stopStrings reads stop: a string, an array of strings, or null.
func stopStrings(raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badRequest("stop", "stop must be a string or an array of strings")
	}
	for _, s := range many {
		if s == "" {
			return nil, badRequest("stop", "stop strings must not be empty")
		}
	}
	return many, nil
}

// usage is OpenAI's usage object.
type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// usageOf reports the tokens the answer is made of (also when it came
// from the result cache).
func usageOf(r engine.GenResult) usage {
	p, c := r.AnswerPromptTokens, r.AnswerGeneratedTokens
	if p == 0 && c == 0 {
		p, c = r.PromptTokens, r.GeneratedTokens
	}
	return usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}

// finishReason is OpenAI's finish_reason of a result: "length" when the
// reply was cut (max_tokens or the context), else "stop".
func finishReason(r engine.GenResult, _ engine.GenerateOptions) string {
	switch r.FinishReason {
	case engine.FinishLength, engine.FinishContext:
		return "length"
	}
	return "stop"
}
