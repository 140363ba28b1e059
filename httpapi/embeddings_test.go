package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/httpapi"
	"github.com/llmsql/llmsql/internal/synth"
)

// embedPool has the synthetic BERT embedder (mean pooling, a context of
// 128 tokens) as "emb" beside the tiny generator.
func embedPool(t *testing.T) *engine.Pool {
	t.Helper()
	p := tinyPool(t)
	path := filepath.Join(t.TempDir(), "emb.gguf")
	if err := synth.Write(path, synth.EmbeddingModels()["bert-mean-f32"]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Register("emb", path); err != nil {
		t.Fatal(err)
	}
	return p
}

// /v1/embeddings through the official client: one unit vector per input,
// in order, equal to the engine's; base64 carries the same floats; the
// usage counts the inputs' tokens.
func TestEmbeddings(t *testing.T) {
	pool := embedPool(t)
	_, c := serve(t, pool, httpapi.Config{APIKey: key})
	ctx := context.Background()
	texts := []string{"hello world", "the quick brown fox", "", "hello world"}
	got, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "emb",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != len(texts) || got.Object != "list" || got.Model != "emb" {
		t.Fatalf("response: %s", got.RawJSON())
	}
	var tokens int64
	for i, text := range texts {
		want, err := pool.Embed(ctx, "emb", text, engine.EmbedOptions{Normalize: true})
		if err != nil {
			t.Fatal(err)
		}
		d := got.Data[i]
		if d.Index != int64(i) || d.Object != "embedding" || len(d.Embedding) != len(want) {
			t.Fatalf("input %d: index %d object %q, %d values (want %d)", i, d.Index, d.Object, len(d.Embedding), len(want))
		}
		var norm float64
		for j := range want {
			if math.Abs(d.Embedding[j]-float64(want[j])) > 1e-6 {
				t.Fatalf("input %d component %d: %v, engine %v", i, j, d.Embedding[j], want[j])
			}
			norm += d.Embedding[j] * d.Embedding[j]
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("input %d: squared norm %v, want 1", i, norm)
		}
		ids, err := pool.Tokenize(ctx, "emb", text)
		if err != nil {
			t.Fatal(err)
		}
		tokens += int64(len(ids))
	}
	if got.Usage.PromptTokens != tokens || got.Usage.TotalTokens != tokens {
		t.Errorf("usage %+v, want %d tokens", got.Usage, tokens)
	}

	// base64: little-endian float32s, the same vector.
	b64, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "emb",
		Input:          openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello world")},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64})
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(b64.RawJSON()), &raw); err != nil || len(raw.Data) != 1 {
		t.Fatalf("base64 response %s: %v", b64.RawJSON(), err)
	}
	bs, err := base64.StdEncoding.DecodeString(raw.Data[0].Embedding)
	if err != nil || len(bs) != 4*len(got.Data[0].Embedding) {
		t.Fatalf("base64 embedding of %d bytes: %v", len(bs), err)
	}
	for j := range got.Data[0].Embedding {
		if x := math.Float32frombits(binary.LittleEndian.Uint32(bs[4*j:])); x != float32(got.Data[0].Embedding[j]) {
			t.Fatalf("base64 component %d: %v, float %v", j, x, got.Data[0].Embedding[j])
		}
	}
}

func TestEmbeddingsErrors(t *testing.T) {
	pool := embedPool(t)
	_, c := serve(t, pool, httpapi.Config{APIKey: key})
	ctx := context.Background()
	embed := func(p openai.EmbeddingNewParams, opts ...option.RequestOption) error {
		if p.Model == "" {
			p.Model = "emb"
		}
		_, err := c.Embeddings.New(ctx, p, opts...)
		return err
	}
	one := openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}
	if e := apiError(t, embed(openai.EmbeddingNewParams{Model: "nope", Input: one}), 404); e.Code != "model_not_found" {
		t.Errorf("unknown model: %s", e.RawJSON())
	}
	if e := apiError(t, embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{}}}), 400); e.Param != "input" {
		t.Errorf("empty input: %s", e.RawJSON())
	}
	if e := apiError(t, embed(openai.EmbeddingNewParams{Input: one, Dimensions: openai.Int(8)}), 400); e.Param != "dimensions" {
		t.Errorf("dimensions: %s", e.RawJSON())
	}
	if e := apiError(t, embed(openai.EmbeddingNewParams{Input: one}, option.WithJSONSet("encoding_format", "int8")), 400); e.Param != "encoding_format" {
		t.Errorf("encoding_format: %s", e.RawJSON())
	}
	// A text longer than the model's context (128 tokens), among others:
	// the request fails, naming the input.
	long := strings.Repeat("hello world ", 200)
	e := apiError(t, embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", long, "b"}}}), 400)
	if e.Param != "input" || e.Code != "context_length_exceeded" {
		t.Errorf("a text too long: %s", e.RawJSON())
	}
	// The server keeps serving.
	if err := embed(openai.EmbeddingNewParams{Input: one}); err != nil {
		t.Fatal(err)
	}
}
