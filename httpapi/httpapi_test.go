package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/httpapi"
	"github.com/llmsql/llmsql/internal/synth"
)

const key = "sk-test"

// tinyPool is a pool with the synthetic tiny model registered as "tiny",
// without a result cache, so every answer below is computed.
func tinyPool(t *testing.T) *engine.Pool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(path, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	p := engine.NewPool(engine.PoolConfig{Threads: 1, MaxSequences: 4, ResultCacheBytes: -1})
	if _, err := p.Register("tiny", path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func serve(t *testing.T, b httpapi.Backend, cfg httpapi.Config) (*httptest.Server, openai.Client) {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(b, cfg))
	t.Cleanup(srv.Close)
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return srv, c
}

func greedyOpts(n int) engine.GenerateOptions {
	o := engine.DefaultGenerateOptions()
	o.Temperature, o.MaxTokens = 0, n
	return o
}

func apiError(t *testing.T, err error, status int) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an API error with status %d, got %v", status, err)
	}
	if e.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", e.StatusCode, status, e.RawJSON())
	}
	if e.Message == "" || e.Type == "" {
		t.Fatalf("error without message or type: %s", e.RawJSON())
	}
	return e
}

func TestChatCompletions(t *testing.T) {
	pool := tinyPool(t)
	_, c := serve(t, pool, httpapi.Config{APIKey: key})
	ctx := context.Background()
	msgs := []chattmpl.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Once upon a time"}}
	want, err := pool.Run(ctx, "tiny", engine.Request{Messages: msgs, Options: greedyOpts(12)})
	if err != nil {
		t.Fatal(err)
	}
	if want.Text == "" {
		t.Fatal("the model generated nothing; the test needs a reply to compare")
	}
	params := openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Once upon a time")},
		Temperature: openai.Float(0),
		MaxTokens:   openai.Int(12),
	}
	got, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Content != want.Text {
		t.Fatalf("reply %+v, want %q", got.Choices, want.Text)
	}
	ch := got.Choices[0]
	if ch.Message.Role != "assistant" || got.Object != "chat.completion" || got.Model != "tiny" || !strings.HasPrefix(got.ID, "chatcmpl-") {
		t.Errorf("response fields: %s", got.RawJSON())
	}
	if got.Usage.PromptTokens != int64(want.PromptTokens) || got.Usage.CompletionTokens != int64(want.GeneratedTokens) ||
		got.Usage.TotalTokens != got.Usage.PromptTokens+got.Usage.CompletionTokens {
		t.Errorf("usage %+v, want %d prompt and %d generated tokens", got.Usage, want.PromptTokens, want.GeneratedTokens)
	}
	if want.GeneratedTokens == 12 && ch.FinishReason != "length" {
		t.Errorf("finish_reason %q after max_tokens, want length", ch.FinishReason)
	}

	// Streamed: the deltas put together are the same reply.
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := c.Chat.Completions.NewStreaming(ctx, params)
	var text strings.Builder
	var chunks int
	var finish string
	var u openai.CompletionUsage
	for s.Next() {
		chunk := s.Current()
		chunks++
		if chunk.Object != "chat.completion.chunk" || chunk.ID == "" {
			t.Errorf("chunk fields: %s", chunk.RawJSON())
		}
		for _, ch := range chunk.Choices {
			text.WriteString(ch.Delta.Content)
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
		if chunk.Usage.TotalTokens > 0 {
			u = chunk.Usage
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != want.Text {
		t.Errorf("streamed %q, want %q", text.String(), want.Text)
	}
	if chunks < 3 || finish != ch.FinishReason {
		t.Errorf("%d chunks, finish %q (want at least 3 and %q)", chunks, finish, ch.FinishReason)
	}
	if u.CompletionTokens != int64(want.GeneratedTokens) {
		t.Errorf("streamed usage %+v, want %d generated tokens", u, want.GeneratedTokens)
	}
}

func TestCompletions(t *testing.T) {
	pool := tinyPool(t)
	_, c := serve(t, pool, httpapi.Config{})
	ctx := context.Background()
	want, err := pool.Run(ctx, "tiny", engine.Request{Prompt: "The little dog", ParseSpecial: true, Options: greedyOpts(10)})
	if err != nil {
		t.Fatal(err)
	}
	params := openai.CompletionNewParams{
		Model:       "tiny",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String("The little dog")},
		Temperature: openai.Float(0),
		MaxTokens:   openai.Int(10),
	}
	got, err := c.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != 1 || got.Choices[0].Text != want.Text {
		t.Fatalf("completion %+v, want %q", got.Choices, want.Text)
	}
	if got.Usage.CompletionTokens != int64(want.GeneratedTokens) || got.Object != "text_completion" {
		t.Errorf("response: %s", got.RawJSON())
	}
	s := c.Completions.NewStreaming(ctx, params)
	var text strings.Builder
	for s.Next() {
		for _, ch := range s.Current().Choices {
			text.WriteString(ch.Text)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != want.Text {
		t.Errorf("streamed %q, want %q", text.String(), want.Text)
	}
	// Token ids as the prompt.
	ids, err := pool.Tokenize(ctx, "tiny", "The little dog")
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]int64, len(ids))
	for i, id := range ids {
		toks[i] = int64(id)
	}
	params.Prompt = openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: toks}
	got, err = c.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got.Choices[0].Text != want.Text {
		t.Errorf("from token ids %q, want %q", got.Choices[0].Text, want.Text)
	}
}

// Requests decoding at the same time answer as they do alone.
func TestConcurrentRequests(t *testing.T) {
	pool := tinyPool(t)
	_, c := serve(t, pool, httpapi.Config{})
	ctx := context.Background()
	prompts := []string{"Once", "The cat", "A boy named", "In the park", "She said", "It was"}
	want := make([]string, len(prompts))
	for i, p := range prompts {
		r, err := pool.Run(ctx, "tiny", engine.Request{Prompt: p, ParseSpecial: true, Options: greedyOpts(8)})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r.Text
	}
	var wg sync.WaitGroup
	got := make([]string, len(prompts))
	errs := make([]error, len(prompts))
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Completions.New(ctx, openai.CompletionNewParams{Model: "tiny",
				Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(p)}, Temperature: openai.Float(0), MaxTokens: openai.Int(8)})
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = r.Choices[0].Text
		}()
	}
	wg.Wait()
	for i := range prompts {
		if errs[i] != nil || got[i] != want[i] {
			t.Errorf("prompt %q: %q (%v), want %q", prompts[i], got[i], errs[i], want[i])
		}
	}
}

func TestModels(t *testing.T) {
	pool := tinyPool(t)
	_, c := serve(t, pool, httpapi.Config{APIKey: key})
	ctx := context.Background()
	page, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "tiny" || page.Data[0].Object != "model" {
		t.Fatalf("models: %s", page.RawJSON())
	}
	m, err := c.Models.Get(ctx, "tiny")
	if err != nil || m.ID != "tiny" {
		t.Fatalf("get: %v %+v", err, m)
	}
	_, err = c.Models.Get(ctx, "nope")
	if e := apiError(t, err, 404); e.Code != "model_not_found" {
		t.Errorf("code %q", e.Code)
	}
}

func TestErrors(t *testing.T) {
	pool := tinyPool(t)
	pending := func(m string) bool { return m == "downloading" }
	srv, c := serve(t, pool, httpapi.Config{APIKey: key, Pending: pending})
	ctx := context.Background()
	chat := func(c openai.Client, p openai.ChatCompletionNewParams, opts ...option.RequestOption) error {
		if p.Model == "" {
			p.Model = "tiny"
		}
		if p.Messages == nil {
			p.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}
		}
		_, err := c.Chat.Completions.New(ctx, p, opts...)
		return err
	}

	// 401: no key, a wrong key.
	noKey := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(""), option.WithMaxRetries(0))
	apiError(t, chat(noKey, openai.ChatCompletionNewParams{}), 401)
	apiError(t, chat(c, openai.ChatCompletionNewParams{}, option.WithAPIKey("wrong")), 401)
	_, err := noKey.Models.List(ctx)
	apiError(t, err, 401)

	// 404: an unknown model, streamed or not.
	e := apiError(t, chat(c, openai.ChatCompletionNewParams{Model: "nope"}), 404)
	if e.Param != "model" || e.Code != "model_not_found" {
		t.Errorf("unknown model error: %s", e.RawJSON())
	}
	s := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "nope",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	for s.Next() {
	}
	apiError(t, s.Err(), 404)

	// 503: a model still downloading.
	e = apiError(t, chat(c, openai.ChatCompletionNewParams{Model: "downloading"}), 503)
	if e.Response.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	// 400: options out of range name the option.
	e = apiError(t, chat(c, openai.ChatCompletionNewParams{Temperature: openai.Float(-1)}), 400)
	if e.Param != "temperature" {
		t.Errorf("bad temperature: %s", e.RawJSON())
	}
	e = apiError(t, chat(c, openai.ChatCompletionNewParams{N: openai.Int(3)}), 400)
	if e.Param != "n" {
		t.Errorf("n=3: %s", e.RawJSON())
	}
	apiError(t, chat(c, openai.ChatCompletionNewParams{Messages: []openai.ChatCompletionMessageParamUnion{}}), 400)
	_, err = c.Completions.New(ctx, openai.CompletionNewParams{Model: "tiny",
		Prompt: openai.CompletionNewParamsPromptUnion{OfArrayOfStrings: []string{"a", "b"}}})
	apiError(t, err, 400)
	_, err = c.Completions.New(ctx, openai.CompletionNewParams{Model: "tiny",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(strings.Repeat("word ", 5000))}})
	if e := apiError(t, err, 400); e.Code != "context_length_exceeded" {
		t.Errorf("long prompt: %s", e.RawJSON())
	}

	// Bodies no client library would send.
	for _, body := range []string{`{`, `[]`, `{"model": 3}`, `{"model": "tiny", "messages": "hi"}`, `{"model":"tiny","messages":[{"role":"user","content":"x"}]} trailing`} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"error"`) || !strings.Contains(string(b), `"invalid_request_error"`) {
			t.Errorf("body %q: %d %s", body, resp.StatusCode, b)
		}
	}
	// An unknown path is a 404 in the same shape; /health needs no key.
	resp, err := http.Get(srv.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Errorf("health: %d %s", resp.StatusCode, b)
	}
}

// blocking is a Backend whose generations wait until released, to hold
// requests in flight.
type blocking struct {
	*engine.Pool
	release   chan struct{}
	started   chan struct{}
	cancelled chan struct{}
}

func (b *blocking) Run(ctx context.Context, model string, req engine.Request) (engine.GenResult, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
		return b.Pool.Run(ctx, model, req)
	case <-ctx.Done():
		b.cancelled <- struct{}{}
		return engine.GenResult{}, ctx.Err()
	}
}

// 429 once MaxQueue requests are in flight; a client that goes away
// cancels its generation.
func TestQueueFullAndCancel(t *testing.T) {
	b := &blocking{Pool: tinyPool(t), release: make(chan struct{}), started: make(chan struct{}, 4), cancelled: make(chan struct{}, 4)}
	_, c := serve(t, b, httpapi.Config{MaxQueue: 1})
	params := openai.CompletionNewParams{Model: "tiny", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once")},
		Temperature: openai.Float(0), MaxTokens: openai.Int(4)}
	done := make(chan error, 1)
	go func() {
		_, err := c.Completions.New(context.Background(), params)
		done <- err
	}()
	<-b.started
	_, err := c.Completions.New(context.Background(), params)
	if e := apiError(t, err, 429); e.Response.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	b.release = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := c.Completions.New(ctx, params)
		done <- err
	}()
	<-b.started
	cancel()
	select {
	case <-b.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the generation was not cancelled when its client went away")
	}
	<-done
}
