package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// Backend runs the requests. *engine.Pool satisfies it.
type Backend interface {
	// Run runs one generation (see engine.Pool.Run).
	Run(ctx context.Context, model string, req engine.Request) (engine.GenResult, error)
	// Models lists the registered models.
	Models() []engine.ModelInfo
}

// Config sets the API's limits and credentials.
type Config struct {
	// APIKey, when set, is the bearer token every request but /health must
	// carry (Authorization: Bearer KEY).
	APIKey string
	// MaxQueue bounds the generation and embedding requests admitted at
	// once (running or waiting for a sequence slot); one more is refused
	// with 429 and Retry-After. 0 = DefaultMaxQueue.
	MaxQueue int
	// Pending reports a model that is registered but not ready yet (its
	// download is running): requests for it get 503 and Retry-After.
	Pending func(model string) bool
	// MaxBodyBytes bounds a request body (0 = 32 MiB).
	MaxBodyBytes int64
	Log          *slog.Logger
}

// DefaultMaxQueue is Config.MaxQueue's default.
const DefaultMaxQueue = 256

// Server is the API's http.Handler.
type Server struct {
	b     Backend
	cfg   Config
	mux   *http.ServeMux
	admit atomic.Int64 // requests admitted now
	ids   atomic.Uint64
}

// New returns the API over b.
func New(b Backend, cfg Config) *Server {
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{b: b, cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.Handle("GET /v1/models", s.authed(s.models))
	s.mux.Handle("GET /v1/models/{id...}", s.authed(s.model))
	s.mux.Handle("POST /v1/chat/completions", s.authed(s.admitted(s.chat)))
	s.mux.Handle("POST /v1/completions", s.authed(s.admitted(s.completions)))
	s.mux.Handle("POST /v1/embeddings", s.authed(s.admitted(s.embeddings)))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
			msg: fmt.Sprintf("no such endpoint: %s %s (see /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings, /health)", r.Method, r.URL.Path)})
	})
	return s
}

// ServeHTTP implements http.Handler. A panic in a handler is that
// request's 500, never the server's end.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Log.Error("http: panic serving request", "path", r.URL.Path, "panic", v)
			writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error", msg: fmt.Sprintf("internal error: %v", v)})
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// authed checks the bearer token when one is configured.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.APIKey != "" {
			auth := r.Header.Get("Authorization")
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.APIKey)) != 1 {
				msg := "missing bearer token: send Authorization: Bearer KEY (the server's --api-key)"
				if auth != "" {
					msg = "incorrect API key"
				}
				writeError(w, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key", msg: msg})
				return
			}
		}
		h(w, r)
	})
}

// admitted bounds the requests running or waiting at once.
func (s *Server) admitted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n := s.admit.Add(1); n > int64(s.cfg.MaxQueue) {
			s.admit.Add(-1)
			w.Header().Set("Retry-After", "1")
			writeError(w, &apiError{status: http.StatusTooManyRequests, typ: "rate_limit_exceeded", code: "rate_limit_exceeded",
				msg: fmt.Sprintf("the server's queue is full (%d requests); retry later", s.cfg.MaxQueue)})
			return
		}
		defer s.admit.Add(-1)
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	ms := s.b.Models()
	data := make([]modelObject, 0, len(ms))
	for _, m := range ms {
		data = append(data, modelObject{ID: m.Name, Object: "model", OwnedBy: "llmsql"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, m := range s.b.Models() {
		if m.Name == id {
			writeJSON(w, http.StatusOK, modelObject{ID: m.Name, Object: "model", OwnedBy: "llmsql"})
			return
		}
	}
	if err := s.pending(id); err != nil {
		writeError(w, err)
		return
	}
	writeError(w, unknownModel(id))
}

// pending is the 503 for a model that is not ready yet, or nil.
func (s *Server) pending(model string) *apiError {
	if s.cfg.Pending != nil && s.cfg.Pending(model) {
		return &apiError{status: http.StatusServiceUnavailable, typ: "unavailable_error", retryAfter: 5,
			msg: fmt.Sprintf("model '%s' is loading (its download is running); retry later", model)}
	}
	return nil
}

func unknownModel(name string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model", code: "model_not_found",
		msg: fmt.Sprintf("the model '%s' does not exist (see GET /v1/models)", name)}
}

// apiError is an error in OpenAI's shape with its status.
type apiError struct {
	status     int
	typ        string
	param      string
	code       string
	msg        string
	retryAfter int // seconds; 0 = no Retry-After
}

func (e *apiError) Error() string { return e.msg }

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, msg: fmt.Sprintf(format, args...)}
}

func (e *apiError) body() map[string]any {
	inner := map[string]any{"message": e.msg, "type": e.typ, "param": nil, "code": nil}
	if e.param != "" {
		inner["param"] = e.param
	}
	if e.code != "" {
		inner["code"] = e.code
	}
	return map[string]any{"error": inner}
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.retryAfter))
	}
	writeJSON(w, e.status, e.body())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"encoding the response failed","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// classify maps a backend error to its status: the caller's mistakes are
// 400 and 404, a model that cannot be loaded for now 503, the rest 500.
func (s *Server) classify(model string, err error) *apiError {
	var ae *apiError
	var opt *engine.OptionError
	var long *engine.PromptTooLongError
	var tmpl *chattmpl.Error
	var mem *engine.MemoryError
	var tooLong *engine.TextTooLongError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, engine.ErrUnknownModel):
		if p := s.pending(model); p != nil {
			return p
		}
		return unknownModel(model)
	case errors.As(err, &opt):
		return badRequest(opt.Name, "%v", err)
	case errors.As(err, &long):
		return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "messages", code: "context_length_exceeded", msg: err.Error()}
	case errors.As(err, &tmpl):
		return badRequest("messages", "%v", err)
	case errors.As(err, &tooLong):
		return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "input", code: "context_length_exceeded", msg: err.Error()}
	case errors.As(err, &mem):
		return &apiError{status: http.StatusServiceUnavailable, typ: "unavailable_error", retryAfter: 5, msg: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusGatewayTimeout, typ: "timeout", msg: err.Error()}
	}
	var badInput interface{ BadRequest() bool }
	if errors.As(err, &badInput) && badInput.BadRequest() {
		return badRequest("", "%v", err)
	}
	return &apiError{status: http.StatusInternalServerError, typ: "server_error", msg: err.Error()}
}

// decode reads a JSON request body into v.
func decode(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
				msg: fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit)}
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return badRequest(typ.Field, "%s must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return badRequest("", "the request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("", "the request body is not valid JSON: text after the object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// newID returns a response id with prefix ("chatcmpl", "cmpl").
func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s-%x%06x", prefix, time.Now().UnixNano(), s.ids.Add(1)&0xffffff)
}
