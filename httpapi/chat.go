package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/jsonschema"
)

type chatRequest struct {
	sampling
	Messages json.RawMessage `json:"messages"`
	// ChatTemplateKwargs are template variables (enable_thinking, ...), as
	// vLLM and llama.cpp's server take them.
	ChatTemplateKwargs map[string]json.RawMessage `json:"chat_template_kwargs"`
	ResponseFormat     *responseFormat            `json:"response_format"`
	Tools              json.RawMessage            `json:"tools"`
}

type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      chatMessage `json:"message"`
	FinishReason string      `json:"finish_reason"`
	Logprobs     any         `json:"logprobs"`
}

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   usage        `json:"usage"`
}

type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Logprobs     any        `json:"logprobs"`
}

type chatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

// chatRequest turns the body into an engine request.
func (req *chatRequest) engineRequest() (engine.Request, *apiError) {
	opts, aerr := req.options()
	if aerr != nil {
		return engine.Request{}, aerr
	}
	if t := bytes.TrimSpace(req.Tools); len(t) > 0 && !bytes.Equal(t, []byte("null")) && !bytes.Equal(t, []byte("[]")) {
		return engine.Request{}, badRequest("tools", "tools are not supported by this server")
	}
	if g, aerr := req.ResponseFormat.grammar(); aerr != nil {
		return engine.Request{}, aerr
	} else if g != "" {
		if opts.Grammar != "" {
			return engine.Request{}, badRequest("response_format", "give response_format or grammar, not both")
		}
		opts.Grammar = g
	}
	if len(bytes.TrimSpace(req.Messages)) == 0 {
		return engine.Request{}, badRequest("messages", "messages is required")
	}
	msgs, err := chattmpl.ParseMessages(req.Messages)
	if err != nil {
		return engine.Request{}, badRequest("messages", "%v", err)
	}
	er := engine.Request{Messages: msgs, Options: opts}
	for k, v := range req.ChatTemplateKwargs {
		if er.Template.Vars == nil {
			er.Template.Vars = map[string]any{}
		}
		er.Template.Vars[k] = v
	}
	return er, nil
}

func (req *chatRequest) modelName() string { return req.Model }

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	er, ok := s.begin(w, r, &req)
	if !ok {
		return
	}
	id, created := s.newID("chatcmpl"), time.Now().Unix()
	if !req.Stream {
		res, err := s.b.Run(r.Context(), req.Model, er)
		if err != nil {
			writeError(w, s.classify(req.Model, err))
			return
		}
		writeJSON(w, http.StatusOK, chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: req.Model,
			Choices: []chatChoice{{Message: chatMessage{Role: "assistant", Content: res.Text}, FinishReason: finishReason(res, er.Options)}},
			Usage:   usageOf(res)})
		return
	}
	chunk := func(d chunkDelta, finish *string) chatChunk {
		return chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []chunkChoice{{Delta: d, FinishReason: finish}}}
	}
	st := newStream(w)
	opening := func() error {
		if st.started {
			return nil
		}
		st.start()
		empty := ""
		return st.send(chunk(chunkDelta{Role: "assistant", Content: &empty}, nil))
	}
	er.OnText = func(text string) error {
		if err := opening(); err != nil {
			return err
		}
		return st.send(chunk(chunkDelta{Content: &text}, nil))
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
	if opening() != nil {
		return
	}
	fr := finishReason(res, er.Options)
	if st.send(chunk(chunkDelta{}, &fr)) != nil {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		u := usageOf(res)
		c := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model, Choices: []chunkChoice{}, Usage: &u}
		if st.send(c) != nil {
			return
		}
	}
	st.done()
}

// generationRequest is a chat or completions request body.
type generationRequest interface {
	engineRequest() (engine.Request, *apiError)
	modelName() string
}

// begin is the chat and completions endpoints' common start: it decodes
// the body into req, turns it into an engine request and checks the
// model. On failure it has written the error and ok is false.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, req generationRequest) (er engine.Request, ok bool) {
	if err := decode(r, req); err != nil {
		writeError(w, err)
		return er, false
	}
	er, err := req.engineRequest()
	if err == nil {
		err = s.known(req.modelName())
	}
	if err != nil {
		writeError(w, err)
		return er, false
	}
	return er, true
}

// known checks the model before anything runs, so a streamed request for
// an unknown model gets its 404 before the stream starts.
func (s *Server) known(model string) *apiError {
	for _, m := range s.b.Models() {
		if m.Name == model {
			return nil
		}
	}
	if p := s.pending(model); p != nil {
		return p
	}
	return unknownModel(model)
}

// grammar turns response_format into the GBNF grammar the reply must
// follow: "json_object" any JSON object, "json_schema" the schema's
// {"json_schema": {"name", "schema", "strict"}}; "text" none.
func (rf *responseFormat) grammar() (string, *apiError) {
	if rf == nil {
		return "", nil
	}
	switch rf.Type {
	case "", "text":
		return "", nil
	case "json_object":
		g, err := jsonschema.ToGrammar([]byte(`{"type":"object"}`))
		if err != nil {
			return "", badRequest("response_format", "%v", err)
		}
		return g, nil
	case "json_schema":
		var js struct {
			Schema json.RawMessage `json:"schema"`
		}
		if err := json.Unmarshal(rf.JSONSchema, &js); err != nil || len(bytes.TrimSpace(js.Schema)) == 0 {
			return "", badRequest("response_format", "response_format json_schema needs {\"json_schema\": {\"name\": ..., \"schema\": {...}}}")
		}
		g, err := jsonschema.ToGrammar(js.Schema)
		if err != nil {
			return "", badRequest("response_format", "response_format json_schema: %v", err)
		}
		return g, nil
	}
	return "", badRequest("response_format", "response_format type %q is not supported: use text, json_object or json_schema", rf.Type)
}
