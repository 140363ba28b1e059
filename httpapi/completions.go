package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/llmsql/llmsql/engine"
)

type completionRequest struct {
	sampling
	// Prompt is a string, an array of one string, or an array of token ids.
	Prompt json.RawMessage `json:"prompt"`
	Echo   bool            `json:"echo"`
	Suffix *string         `json:"suffix"`
}

type completionChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *usage             `json:"usage,omitempty"`
}

// engineRequest turns the body into an engine request. The prompt is sent
// as it is, with the vocabulary's BOS and special-token text (such as
// "<|im_start|>") parsed into its tokens, as llama.cpp's server and vLLM
// tokenize completion prompts.
func (req *completionRequest) engineRequest() (engine.Request, *apiError) {
	opts, aerr := req.options()
	if aerr != nil {
		return engine.Request{}, aerr
	}
	if req.Echo {
		return engine.Request{}, badRequest("echo", "echo is not supported by this server")
	}
	if req.Suffix != nil && *req.Suffix != "" {
		return engine.Request{}, badRequest("suffix", "suffix is not supported by this server")
	}
	er := engine.Request{Options: opts, ParseSpecial: true}
	raw := bytes.TrimSpace(req.Prompt)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return er, badRequest("prompt", "prompt is required")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		er.Prompt = one
		return er, nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		if len(strs) != 1 {
			return er, badRequest("prompt", "prompt must be one string (an array of %d prompts is not supported)", len(strs))
		}
		er.Prompt = strs[0]
		return er, nil
	}
	var ids []float64
	if json.Unmarshal(raw, &ids) == nil && len(ids) > 0 {
		er.PromptIDs = make([]int32, len(ids))
		for i, f := range ids {
			if f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
				return er, badRequest("prompt", "prompt[%d] is not a token id", i)
			}
			er.PromptIDs[i] = int32(f)
		}
		return er, nil
	}
	return er, badRequest("prompt", "prompt must be a string or an array of token ids")
}

func (req *completionRequest) modelName() string { return req.Model }

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	er, ok := s.begin(w, r, &req)
	if !ok {
		return
	}
	id, created := s.newID("cmpl"), time.Now().Unix()
	if !req.Stream {
		res, err := s.b.Run(r.Context(), req.Model, er)
		if err != nil {
			writeError(w, s.classify(req.Model, err))
			return
		}
		fr := finishReason(res, er.Options)
		u := usageOf(res)
		writeJSON(w, http.StatusOK, completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []completionChoice{{Text: res.Text, FinishReason: &fr}}, Usage: &u})
		return
	}
	chunk := func(text string, finish *string) completion {
		return completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []completionChoice{{Text: text, FinishReason: finish}}}
	}
	st := newStream(w)
	er.OnText = func(text string) error {
		if !st.started {
			st.start()
		}
		return st.send(chunk(text, nil))
	}
	res, err := s.b.Run(r.Context(), req.Model, er)
	if err != nil {
		if !st.started {
			writeError(w, s.classify(req.Model, err))
			return
		}
		st.fail(s.classify(req.Model, err))
		return
	}
	if !st.started {
		st.start()
	}
	fr := finishReason(res, er.Options)
	if st.send(chunk("", &fr)) != nil {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		u := usageOf(res)
		c := completion{ID: id, Object: "text_completion", Created: created, Model: req.Model, Choices: []completionChoice{}, Usage: &u}
		if st.send(c) != nil {
			return
		}
	}
	st.done()
}
