package sqlfuncs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
)

// EmbedBackend is a Backend that embeds texts and scores pairs: embed(),
// similarity() and rerank() need it. *engine.Pool implements it.
type EmbedBackend interface {
	// Embed returns text's embedding under model.
	Embed(ctx context.Context, model, text string, opts engine.EmbedOptions) ([]float32, error)
	// Rerank returns a reranker's relevance score of document for query.
	Rerank(ctx context.Context, model, query, document string, truncate bool) (float32, error)
	// EmbedDim is the length of model's embeddings, read without loading
	// it, for the VECTOR(n) type of embed() when the model is a constant.
	EmbedDim(model string) (int, error)
}

var errNoEmbed = errors.New("this server's model backend does not compute embeddings")

// Names of the embedding functions.
const (
	EmbedName      = "embed"
	SimilarityName = "similarity"
	RerankName     = "rerank"
)

// EmbedRequest is what one evaluation of embed(), similarity() or
// rerank() asks of the backend (Request.Embed).
type EmbedRequest struct {
	Fn   string // EmbedName, SimilarityName or RerankName
	A, B string // the text; the two texts; the query and the document
	Opts engine.EmbedOptions
}

// Embed is embed(model, text [, options_json]): text's embedding as a
// VECTOR, unit length unless {"normalize": false} (then llama.cpp's raw
// pooled vector); a text longer than the model takes is an error naming
// its length, or is cut to fit with {"truncate": true}. NULL gives NULL.
// Calls over many rows are batched as generate()'s are: the rows read
// ahead go to the engine together and share forward passes.
type Embed struct{ call }

// Similarity is similarity(model, a, b [, options_json]): the cosine
// similarity of the two texts' embeddings, a DOUBLE in [-1, 1].
type Similarity struct{ call }

// Rerank is rerank(model, query, document [, options_json]): a reranker's
// relevance score of document for query (the raw score of its
// classification head; higher is more relevant), a DOUBLE.
type Rerank struct{ call }

var (
	_ sql.FunctionExpression = (*Embed)(nil)
	_ sql.FunctionExpression = (*Similarity)(nil)
	_ sql.FunctionExpression = (*Rerank)(nil)
	_ sql.CollationCoercible = (*Embed)(nil)
)

func embedFunctions(b Backend) []sql.Function {
	n := func(name string, lo, hi int, mk func(call) sql.Expression) sql.Function {
		return sql.FunctionN{Name: name, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < lo || len(args) > hi {
				return nil, sql.ErrInvalidArgumentNumber.New(name, fmt.Sprintf("%d or %d", lo, hi), len(args))
			}
			return mk(newCallAt(name, args, b)), nil
		}}
	}
	return []sql.Function{
		n(EmbedName, 2, 3, func(c call) sql.Expression { return &Embed{c} }),
		n(SimilarityName, 3, 4, func(c call) sql.Expression { return &Similarity{c} }),
		n(RerankName, 3, 4, func(c call) sql.Expression { return &Rerank{c} }),
	}
}

// Type is VECTOR(n) when the model is a constant whose embedding length
// the backend knows, else VECTOR (any length; a VECTOR(n) column checks
// the length of what is stored in it).
func (e *Embed) Type(ctx *sql.Context) sql.Type {
	if lit, ok := e.args[0].(*expression.Literal); ok {
		if eb, ok := e.backend.(EmbedBackend); ok {
			if ctx == nil {
				ctx = sql.NewEmptyContext()
			}
			if v, err := lit.Eval(ctx, nil); err == nil {
				if name, ok, err := textOf(ctx, v); ok && err == nil {
					if n, err := eb.EmbedDim(name); err == nil {
						if t, err := types.CreateVectorType(n); err == nil {
							return t
						}
					}
				}
			}
		}
	}
	return types.VectorType{}
}
func (s *Similarity) Type(*sql.Context) sql.Type { return types.Float64 }
func (r *Rerank) Type(*sql.Context) sql.Type     { return types.Float64 }

// CollationCoercibility implements sql.CollationCoercible: a vector is
// binary.
func (e *Embed) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 5
}

func (e *Embed) Description() string {
	return "returns the embedding of a text under a registered embedding model, as a VECTOR"
}
func (s *Similarity) Description() string {
	return "returns the cosine similarity of two texts' embeddings under a registered model"
}
func (r *Rerank) Description() string {
	return "returns a registered reranker's relevance score of a document for a query"
}

func (e *Embed) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := e.withArgs(children)
	return &Embed{c}, err
}

func (s *Similarity) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := s.withArgs(children)
	return &Similarity{c}, err
}

func (r *Rerank) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := r.withArgs(children)
	return &Rerank{c}, err
}

func (e *Embed) callBackend() Backend      { return e.backend }
func (s *Similarity) callBackend() Backend { return s.backend }
func (r *Rerank) callBackend() Backend     { return r.backend }

// Arguments implement modelCall: the model, the texts (any NULL gives
// NULL) and the options.
func (e *Embed) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	return e.embedArguments(ctx, row, 1, true)
}

func (s *Similarity) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	return s.embedArguments(ctx, row, 2, false)
}

func (r *Rerank) Arguments(ctx *sql.Context, row sql.Row) (Request, bool, error) {
	return r.embedArguments(ctx, row, 2, false)
}

// embedArguments reads model, texts texts and an optional options object
// after them. normalize is the default of "normalize" (embed() only).
func (c *call) embedArguments(ctx *sql.Context, row sql.Row, texts int, normalize bool) (Request, bool, error) {
	model, ok, err := c.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return Request{}, false, err
	}
	names := map[string][]string{
		EmbedName:      {"text"},
		SimilarityName: {"first text", "second text"},
		RerankName:     {"query", "document"},
	}[c.name]
	var ts [2]string
	for i := 0; i < texts; i++ {
		if ts[i], ok, err = c.text(ctx, row, 1+i, names[i]); !ok || err != nil {
			return Request{}, false, err
		}
	}
	opts := engine.EmbedOptions{Normalize: normalize}
	var pol Policy
	if len(c.args) > 1+texts {
		v, err := c.arg(ctx, row, 1+texts)
		if err != nil {
			return Request{}, false, err
		}
		if v != nil {
			if opts, pol, err = c.embedOptions(ctx, v, opts); err != nil {
				return Request{}, false, err
			}
		}
	}
	return Request{Model: model, Policy: pol, Embed: &EmbedRequest{Fn: c.name, A: ts[0], B: ts[1], Opts: opts}}, true, nil
}

// embedOptions parses an options object: "truncate" (true, or "end": cut
// the end of a text too long) and "on_error" ("null" or "error", as for
// generate()) for every function, "normalize" for embed().
func (c *call) embedOptions(ctx *sql.Context, v any, opts engine.EmbedOptions) (engine.EmbedOptions, Policy, error) {
	var pol Policy
	text, isObject := optionsText(ctx, v)
	if !isObject {
		return opts, pol, c.errorf("options must be a JSON object, such as '{\"truncate\": true}'")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return opts, pol, c.errorf("options: %v", err)
	}
	for k, val := range m {
		b, isBool := val.(bool)
		switch {
		case k == "truncate" && (isBool || val == "end"):
			opts.Truncate = isBool && b || val == "end"
		case k == "normalize" && isBool && c.name == EmbedName:
			opts.Normalize = b
		case k == "on_error" && (val == OnErrorNull || val == OnErrorError):
			pol.OnError = val.(string)
		case k == "on_error":
			return opts, pol, c.errorf("option on_error must be 'null' or 'error'")
		case k == "truncate":
			return opts, pol, c.errorf("option truncate must be true, false or \"end\"")
		case k == "normalize" && c.name == EmbedName:
			return opts, pol, c.errorf("option %s must be true or false", k)
		default:
			allowed := "truncate, on_error"
			if c.name == EmbedName {
				allowed = "normalize, truncate, on_error"
			}
			return opts, pol, c.errorf("unknown option %q (%s takes %s)", k, c.name, allowed)
		}
	}
	return opts, pol, nil
}

// embedValue is an embedding call's SQL value under the policy: a text
// too long for the model is that row's failure (NULL with a warning under
// on_error 'null', the default; an error under 'error'), like a prompt too
// long for generate().
func embedValue(ctx *sql.Context, name string, req Request, v any, err error, warn bool, row int64) (any, error) {
	if err == nil {
		return v, nil
	}
	var tl *engine.TextTooLongError
	if errors.As(err, &tl) {
		err = &RowError{Err: err}
	}
	return answer(ctx, name, req, engine.GenResult{}, err, warn, row)
}

func (e *Embed) Eval(ctx *sql.Context, row sql.Row) (any, error) { return evalModelCall(ctx, e, row) }
func (s *Similarity) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	return evalModelCall(ctx, s, row)
}
func (r *Rerank) Eval(ctx *sql.Context, row sql.Row) (any, error) { return evalModelCall(ctx, r, row) }

// embedAnswer computes an embedding request on b: the vector as
// go-mysql-server's VECTOR values hold it ([]byte), or a score (float64).
func embedAnswer(ctx context.Context, b Backend, model string, r *EmbedRequest) (any, error) {
	eb, ok := b.(EmbedBackend)
	if !ok {
		return nil, errNoEmbed
	}
	switch r.Fn {
	case EmbedName:
		v, err := eb.Embed(ctx, model, r.A, r.Opts)
		if err != nil {
			return nil, err
		}
		return engine.EncodeVector(v), nil
	case SimilarityName:
		// Both texts at once: they share the engine's passes.
		var b []float32
		var errB error
		done := make(chan struct{})
		go func() {
			defer close(done)
			b, errB = eb.Embed(ctx, model, r.B, r.Opts)
		}()
		a, err := eb.Embed(ctx, model, r.A, r.Opts)
		<-done
		if err == nil {
			err = errB
		}
		if err != nil {
			return nil, err
		}
		if len(a) != len(b) {
			return nil, fmt.Errorf("similarity: embeddings of %d and %d values", len(a), len(b))
		}
		return engine.Cosine(a, b), nil
	case RerankName:
		s, err := eb.Rerank(ctx, model, r.A, r.B, r.Opts.Truncate)
		return float64(s), err
	}
	return nil, fmt.Errorf("sqlfuncs: unknown embedding function %q", r.Fn)
}
