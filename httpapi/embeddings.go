package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sync"

	"github.com/llmsql/llmsql/engine"
)

// Embedder is a Backend that also embeds texts, for /v1/embeddings.
// *engine.Pool satisfies it.
type Embedder interface {
	Embed(ctx context.Context, model, text string, opts engine.EmbedOptions) ([]float32, error)
}

// Tokenizer counts a text's tokens for the usage of /v1/embeddings.
type Tokenizer interface {
	Tokenize(ctx context.Context, model, text string) ([]int32, error)
}

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

type embeddingObject struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// maxInputs bounds the texts of one request; embedParallel the texts
// computed at once.
const (
	maxInputs     = 2048
	embedParallel = 32
)

// embeddings answers /v1/embeddings: one vector per input text, normalized
// to unit length as OpenAI's and llama.cpp's server's are.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	emb, ok := s.b.(Embedder)
	if !ok {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", msg: "this server does not embed"})
		return
	}
	var req embeddingRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Model == "" {
		writeError(w, badRequest("model", "model is required"))
		return
	}
	if req.Dimensions != nil {
		writeError(w, badRequest("dimensions", "dimensions is not supported: the model's vectors have their own size"))
		return
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		writeError(w, badRequest("encoding_format", "encoding_format must be float or base64"))
		return
	}
	texts, aerr := inputTexts(req.Input)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if aerr := s.known(req.Model); aerr != nil {
		writeError(w, aerr)
		return
	}
	// The texts run at once (at most embedParallel), so they share the
	// engine's forward passes (or go out as concurrent requests to a
	// remote model's servers); the first failure cancels the rest.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	data := make([]embeddingObject, len(texts))
	counts := make([]int, len(texts))
	errs := make([]error, len(texts))
	sem := make(chan struct{}, embedParallel)
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := emb.Embed(ctx, req.Model, text, engine.EmbedOptions{Normalize: true})
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			var out any = v
			if req.EncodingFormat == "base64" {
				b := make([]byte, 4*len(v))
				for j, x := range v {
					binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
				}
				out = base64.StdEncoding.EncodeToString(b)
			}
			data[i] = embeddingObject{Object: "embedding", Index: i, Embedding: out}
			if tk, ok := s.b.(Tokenizer); ok {
				if ids, err := tk.Tokenize(ctx, req.Model, text); err == nil {
					counts[i] = len(ids)
				}
			}
		}()
	}
	wg.Wait()
	// The first error that is not another text's cancellation.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		writeError(w, s.classify(req.Model, first))
		return
	}
	tokens := 0
	for _, n := range counts {
		tokens += n
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// inputTexts reads input: a string or an array of strings.
func inputTexts(raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, badRequest("input", "input must be a string or a non-empty array of strings")
	}
	if len(many) > maxInputs {
		return nil, badRequest("input", "input has %d texts; at most %d", len(many), maxInputs)
	}
	return many, nil
}
