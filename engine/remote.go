package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Remote models: a registered model can be served by other machines
// (vLLM, llama.cpp's server, Ollama, another llmsql, a hosted API) instead
// of a GGUF file here. The pool routes such a model's calls to its
// RemoteModel behind the same methods SQL functions call for local models
// (Run, and so generate(), chat() and everything built on them), keeping
// what the pool adds around a call: the result cache, llm.usage.
// Package remote implements RemoteModel over OpenAI's HTTP API.

// Values of ModelInfo.ChatTemplate for remote models.
const (
	// TemplateServer: the server applies the model's chat template;
	// generate() sends its prompt as the user's turn of a chat request.
	TemplateServer = "server"
	// TemplateNone: a base model; generate() sends prompts as they are
	// (a completions request), chat() still sends conversations.
	TemplateNone = "none"
)

// RemoteSpec is how a remote model was registered (llm.models' columns).
// It holds the name of the environment variable with the API key, never
// the key.
type RemoteSpec struct {
	Endpoints         []string // base URLs, such as http://gpu-1:8000/v1
	Model             string   // the model's name on the servers
	APIKeyEnv         string
	MaxConcurrency    int // requests at once per endpoint
	RequestsPerMinute int // 0 = unpaced
	TokensPerMinute   int // 0 = unpaced
	Timeout           time.Duration
	ChatTemplate      string // TemplateServer or TemplateNone
}

// RemoteModel serves a remote model's calls.
type RemoteModel interface {
	// Generate answers a request: Messages (a chat request) or Prompt /
	// PromptIDs (a completion), with Options; OnText, when set, receives
	// the reply as it streams.
	Generate(ctx context.Context, req Request) (RemoteResult, error)
	// Embed returns text's embedding and the tokens the server counted.
	Embed(ctx context.Context, text string) ([]float32, int, error)
	// Rerank returns a reranker's relevance score of document for query
	// and the tokens counted.
	Rerank(ctx context.Context, query, document string) (float32, int, error)
	// Endpoints reports each endpoint's counters.
	Endpoints() []EndpointStats
	// Close ends the model's idle connections.
	Close()
}

// RemoteResult is a remote generation with the token counts the server
// reported.
type RemoteResult struct {
	Text            string
	FinishReason    string // "stop" or "length"
	PromptTokens    int
	GeneratedTokens int
}

// EndpointStats are one endpoint's counters since registration.
type EndpointStats struct {
	Model       string
	Endpoint    string
	Outstanding int   // requests in flight now
	Requests    int64 // attempts sent
	Failures    int64 // attempts that failed
	Retries     int64 // attempts that were retries of a failed one
	RestedUntil time.Time
	LastError   string
}

// RemoteError is a remote request that failed for good (after its
// retries, or at once for errors retrying cannot mend).
type RemoteError struct {
	Model    string
	Endpoint string
	Status   int // HTTP status, 0 when there was no response
	Attempts int
	Err      error
}

func (e *RemoteError) Error() string {
	after := ""
	if e.Attempts > 1 {
		after = fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return fmt.Sprintf("remote model '%s' (%s) failed%s: %v", e.Model, e.Endpoint, after, e.Err)
}

func (e *RemoteError) Unwrap() error { return e.Err }

// RowLevel reports whether the failure is about this request (a server
// error, a timeout, a malformed answer, a request the server refused) as
// opposed to the registration (a wrong key, an unknown model), which
// fails every row alike.
func (e *RemoteError) RowLevel() bool {
	switch e.Status {
	case 401, 403, 404:
		return false
	}
	return true
}

// ErrRemoteModel is wrapped by the error of an operation that needs the
// model's file (tokenize(), apply_chat_template(), metadata) on a remote
// model.
var ErrRemoteModel = errors.New("the model is remote")

type remoteOnlyError struct {
	name, what string
	endpoints  []string
}

func (e *remoteOnlyError) Error() string {
	return fmt.Sprintf("model '%s' is served remotely (%s): %s needs a model file here", e.name, strings.Join(e.endpoints, ", "), e.what)
}

func (e *remoteOnlyError) Is(target error) bool { return target == ErrRemoteModel }

// RegisterRemote makes m available under name; spec is what llm.models
// shows of it.
func (p *Pool) RegisterRemote(name string, spec RemoteSpec, m RemoteModel) (ModelInfo, error) {
	if !validName.MatchString(name) {
		return ModelInfo{}, fmt.Errorf("invalid model name %q: use letters, digits, '_', '.', '-' (at most 64), starting with a letter or '_'", name)
	}
	if spec.ChatTemplate == "" {
		spec.ChatTemplate = TemplateServer
	}
	info := ModelInfo{Name: name, ChatTemplate: spec.ChatTemplate, Remote: &spec}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.models[name]; dup {
		return ModelInfo{}, fmt.Errorf("model '%s' is already registered", name)
	}
	p.models[name] = &entry{info: info, remote: m,
		fileID: "remote\x00" + spec.Model + "\x00" + strings.Join(spec.Endpoints, ",")}
	return info, nil
}

// Endpoints lists the endpoints of the remote models with their counters.
func (p *Pool) Endpoints() []EndpointStats {
	p.mu.Lock()
	var rs []RemoteModel
	for _, e := range p.models {
		if e.remote != nil {
			rs = append(rs, e.remote)
		}
	}
	p.mu.Unlock()
	var out []EndpointStats
	for _, r := range rs {
		out = append(out, r.Endpoints()...)
	}
	return out
}

// remoteOnly is the error of an operation a remote model cannot do.
func remoteOnly(e *entry, what string) error {
	return &remoteOnlyError{name: e.info.Name, what: what, endpoints: e.info.Remote.Endpoints}
}

// remoteKey is what the result cache keys a remote request's prompt on:
// the conversation as sent (with its template variables) or the prompt.
func remoteKey(req Request) string {
	if req.Messages != nil {
		b, _ := json.Marshal(struct {
			M any
			V map[string]any
		}{req.Messages, req.Template.Vars})
		return "remote-chat\x00" + string(b)
	}
	if req.PromptIDs != nil {
		b, _ := json.Marshal(req.PromptIDs)
		return "remote-ids\x00" + string(b)
	}
	return "remote-prompt\x00" + req.Prompt
}

// isRemote reports whether name is a registered remote model.
func (p *Pool) isRemote(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.models[name]
	return ok && e.remote != nil
}

// runRemote runs req on e's remote model, accounting the tokens the
// server reported.
func (p *Pool) runRemote(ctx context.Context, e *entry, req Request, out *GenResult) (cachedResult, error) {
	res, err := e.remote.Generate(ctx, req)
	if err != nil {
		return cachedResult{}, err
	}
	p.account(e.info.Name, func(u *Usage) {
		u.PromptTokens += int64(res.PromptTokens)
		u.GeneratedTokens += int64(res.GeneratedTokens)
	})
	out.PromptTokens, out.GeneratedTokens = res.PromptTokens, res.GeneratedTokens
	fr := FinishStop
	if res.FinishReason == "length" {
		fr = FinishLength
	}
	// A grammar's reply cut at max_tokens is not complete (as locally).
	incomplete := req.Options.Grammar != "" && fr == FinishLength
	return cachedResult{text: res.Text, finishReason: fr, promptTokens: res.PromptTokens, generatedTokens: res.GeneratedTokens,
		incomplete: incomplete}, nil
}

// scoreRemote answers a ScoreRequest on a remote model. OpenAI's API does
// not score a whole given reply, so the reply is chosen instead: a greedy
// chat request under a grammar that allows exactly the replies (sent as
// GBNF, which llama-server and llmsql honour). The chosen reply gets log
// probability 0 and the others -Inf. A server that ignores the grammar and
// answers something else fails the request (the row's failure).
func (p *Pool) scoreRemote(ctx context.Context, model string, req ScoreRequest) (ScoreResult, error) {
	var g strings.Builder
	g.WriteString("root ::= ")
	longest := 0
	for i, r := range req.Replies {
		if i > 0 {
			g.WriteString(" | ")
		}
		g.WriteString(gbnfLiteral(r))
		longest = max(longest, len(r))
	}
	o := DefaultGenerateOptions()
	o.Temperature = 0
	o.Grammar = g.String()
	o.MaxTokens = longest + 8 // a token is at least a byte
	res, err := p.Run(ctx, model, Request{Messages: req.Messages, Template: req.Template, Options: o})
	if err != nil {
		return ScoreResult{}, err
	}
	out := ScoreResult{LogProbs: make([]float64, len(req.Replies)), PromptTokens: res.PromptTokens,
		ReplyTokens: res.GeneratedTokens, Cached: res.Cached}
	found := -1
	for i, r := range req.Replies {
		if r == res.Text || (found < 0 && strings.EqualFold(strings.TrimSpace(r), strings.TrimSpace(res.Text))) {
			if found < 0 || r == res.Text {
				found = i
			}
		}
	}
	if found < 0 {
		return ScoreResult{}, &RemoteError{Model: model, Endpoint: strings.Join(p.remoteEndpoints(model), ","), Attempts: 1,
			Err: fmt.Errorf("the server's reply %q is none of the %d choices (does it honour the grammar field?)", res.Text, len(req.Replies))}
	}
	for i := range out.LogProbs {
		if i != found {
			out.LogProbs[i] = math.Inf(-1)
		}
	}
	return out, nil
}

// gbnfLiteral quotes s as a GBNF string literal.
func gbnfLiteral(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// remoteEndpoints are a remote model's endpoints, for messages.
func (p *Pool) remoteEndpoints(name string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.models[name]; ok && e.info.Remote != nil {
		return e.info.Remote.Endpoints
	}
	return nil
}
