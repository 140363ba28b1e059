package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// fake is an OpenAI-compatible server whose answer to a prompt is
// "re: PROMPT", with a fault hook consulted before each answer.
type fake struct {
	srv      *httptest.Server
	requests atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
	// fault, when set, may answer the n-th request (from 1) itself and
	// return true.
	fault func(n int64, w http.ResponseWriter, r *http.Request) bool
	mu    sync.Mutex
	last  map[string]any // the last request body
}

func newFake(t *testing.T, fault func(n int64, w http.ResponseWriter, r *http.Request) bool) *fake {
	f := &fake{fault: fault}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) url() string { return f.srv.URL + "/v1" }

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	in := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxIn.Load()
		if in <= m || f.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.last = body
	f.mu.Unlock()
	if f.fault != nil && f.fault(n, w, r) {
		return
	}
	var prompt string
	if msgs, ok := body["messages"].([]any); ok {
		last := msgs[len(msgs)-1].(map[string]any)
		prompt, _ = last["content"].(string)
	} else {
		prompt, _ = body["prompt"].(string)
	}
	reply := "re: " + prompt
	usage := map[string]int{"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		// The vector is the input's length and 1.
		in, _ := body["input"].(string)
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": body["model"],
			"data":  []any{map[string]any{"object": "embedding", "index": 0, "embedding": []float64{float64(len(in)), 1}}},
			"usage": map[string]int{"prompt_tokens": 4, "total_tokens": 4}})
		return
	case strings.HasSuffix(r.URL.Path, "/rerank"):
		// The score is the query's length less the document's.
		q, _ := body["query"].(string)
		docs, _ := body["documents"].([]any)
		d, _ := docs[0].(string)
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"index": 0, "relevance_score": float64(len(q) - len(d))}},
			"usage": map[string]int{"prompt_tokens": 6, "total_tokens": 6}})
		return
	}
	if strings.HasSuffix(r.URL.Path, "/chat/completions") {
		json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "created": 1, "model": body["model"],
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": reply}}},
			"usage":   usage})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "text_completion", "created": 1, "model": body["model"],
		"choices": []any{map[string]any{"index": 0, "finish_reason": "length", "text": reply}}, "usage": usage})
}

func newModel(t *testing.T, cfg Config) *Model {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "m"
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 10 * time.Millisecond
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func greedy() engine.GenerateOptions {
	o := engine.DefaultGenerateOptions()
	o.Temperature, o.MaxTokens = 0, 16
	return o
}

func prompt(p string) engine.Request { return engine.Request{Prompt: p, Options: greedy()} }

func totals(m *Model) (requests, failures, retries int64) {
	for _, e := range m.Endpoints() {
		requests += e.Requests
		failures += e.Failures
		retries += e.Retries
	}
	return
}

func TestGenerate(t *testing.T) {
	f := newFake(t, nil)
	m := newModel(t, Config{Endpoints: []string{f.url()}, Model: "big", APIKey: "k"})
	res, err := m.Generate(context.Background(), prompt("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "re: hello" || res.PromptTokens != 7 || res.GeneratedTokens != 3 || res.FinishReason != "length" {
		t.Errorf("completion: %+v", res)
	}
	if f.last["model"] != "big" || f.last["temperature"] != 0.0 || f.last["max_tokens"] != 16.0 || f.last["top_k"] != nil {
		t.Errorf("request body: %v", f.last)
	}
	o := greedy()
	o.TopK, o.Stop, o.HasSeed, o.Seed = 5, []string{"\n"}, true, 42
	msgs := []chattmpl.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "hi", Fields: []chattmpl.Field{{Key: "name", Value: json.RawMessage(`"bob"`)}}}}
	res, err = m.Generate(context.Background(), engine.Request{Messages: msgs, Options: o,
		Template: engine.TemplateOptions{Vars: map[string]any{"enable_thinking": false}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "re: hi" || res.FinishReason != "stop" {
		t.Errorf("chat: %+v", res)
	}
	b, _ := json.Marshal(f.last)
	for _, want := range []string{`"top_k":5`, `"seed":42`, `"stop":["\n"]`, `"name":"bob"`, `"chat_template_kwargs":{"enable_thinking":false}`, `"role":"system"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("chat request lacks %s: %s", want, b)
		}
	}
	if _, _, retries := totals(m); retries != 0 {
		t.Errorf("%d retries without a fault", retries)
	}
}

// A 429 with Retry-After is retried no sooner than asked; 5xx are retried
// with backoff; each retry is counted.
func TestRetries(t *testing.T) {
	f := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":{"message":"slow down","type":"rate_limit"}}`, 429)
			return true
		case 2, 3:
			http.Error(w, `{"error":{"message":"boom","type":"server_error"}}`, 500+int(n))
			return true
		}
		return false
	})
	m := newModel(t, Config{Endpoints: []string{f.url()}, RestAfter: 10})
	start := time.Now()
	res, err := m.Generate(context.Background(), prompt("x"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "re: x" {
		t.Errorf("text %q", res.Text)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("answered after %v, before the Retry-After of 1s", el)
	}
	if req, fail, retries := totals(m); req != 4 || fail != 3 || retries != 3 {
		t.Errorf("requests %d failures %d retries %d, want 4 3 3", req, fail, retries)
	}
}

// Faults that never mend: the call fails (nothing silently wrong), after
// its retries, within a bounded time; errors retrying cannot mend fail at
// once.
func TestFaults(t *testing.T) {
	cases := []struct {
		name     string
		fault    func(w http.ResponseWriter, r *http.Request)
		attempts int
		status   int
		rowLevel bool
		want     string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, `{"error":{"message":"boom"}}`, 500) }, 3, 500, true, "boom"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 3, 0, true, "timeout"},
		{"malformed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "x", "choices": [{"text": "partial`)
		}, 3, 0, true, ""},
		{"no choices", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "x", "object": "text_completion", "choices": []}`)
		}, 3, 0, true, "no choices"},
		{"dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, 3, 0, true, ""},
		{"400", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"message":"prompt too long","type":"invalid_request_error"}}`, 400)
		}, 1, 400, true, "prompt too long"},
		{"401", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, 401)
		}, 1, 401, false, "bad key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool { c.fault(w, r); return true })
			// A short timeout only where it is the fault: elsewhere a
			// loaded machine could make a quick answer late, and a
			// timeout is not the error the case expects.
			timeout := 30 * time.Second
			if c.name == "slow" {
				timeout = 200 * time.Millisecond
			}
			m := newModel(t, Config{Endpoints: []string{f.url()}, MaxRetries: 2, Timeout: timeout, RestAfter: 100})
			start := time.Now()
			_, err := m.Generate(context.Background(), prompt("x"))
			var re *engine.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("want a RemoteError, got %v", err)
			}
			if re.Attempts != c.attempts || re.Status != c.status || re.RowLevel() != c.rowLevel || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v: attempts %d status %d row-level %v", err, re.Attempts, re.Status, re.RowLevel())
			}
			// About 0.6 s for "slow" (three timeouts); a client waiting
			// for the server's 5 s would take 15.
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %v", el)
			}
			if req, _, retries := totals(m); req != int64(c.attempts) || retries != int64(c.attempts-1) {
				t.Errorf("requests %d retries %d", req, retries)
			}
		})
	}
}

// Requests spread over endpoints by fewest outstanding, at most
// MaxConcurrency on each; a failing endpoint is rested and its requests go
// to the others.
func TestEndpoints(t *testing.T) {
	slow := func(n int64, w http.ResponseWriter, r *http.Request) bool {
		time.Sleep(30 * time.Millisecond)
		return false
	}
	a, b := newFake(t, slow), newFake(t, slow)
	m := newModel(t, Config{Endpoints: []string{a.url(), b.url()}, MaxConcurrency: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Generate(context.Background(), prompt(fmt.Sprint(i)))
			if err == nil && res.Text != "re: "+fmt.Sprint(i) {
				err = fmt.Errorf("row %d got %q", i, res.Text)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if a.maxIn.Load() > 3 || b.maxIn.Load() > 3 {
		t.Errorf("in flight at once: %d and %d, above max_concurrency 3", a.maxIn.Load(), b.maxIn.Load())
	}
	if na, nb := a.requests.Load(), b.requests.Load(); na < 10 || nb < 10 {
		t.Errorf("requests not spread: %d and %d", na, nb)
	}

	bad := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", 503)
		return true
	})
	good := newFake(t, nil)
	m = newModel(t, Config{Endpoints: []string{bad.url(), good.url()}, MaxConcurrency: 1, RestAfter: 2, RestFor: time.Minute})
	for i := range 10 {
		res, err := m.Generate(context.Background(), prompt(fmt.Sprint(i)))
		if err != nil || res.Text != "re: "+fmt.Sprint(i) {
			t.Fatalf("row %d: %q %v", i, res.Text, err)
		}
	}
	if n := bad.requests.Load(); n > 2 {
		t.Errorf("the failing endpoint got %d requests; it should be rested after 2", n)
	}
	st := m.Endpoints()
	if st[0].RestedUntil.IsZero() || st[0].Failures != 2 || !strings.Contains(st[0].LastError, "503") || !st[1].RestedUntil.IsZero() {
		t.Errorf("endpoint stats: %+v", st)
	}
}

// Cancelling the caller's context cancels the request in flight.
func TestCancel(t *testing.T) {
	cancelled := make(chan struct{}, 1)
	f := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		cancelled <- struct{}{}
		return true
	})
	m := newModel(t, Config{Endpoints: []string{f.url()}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := m.Generate(ctx, prompt("x"))
		done <- err
	}()
	for f.requests.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the call did not end when its context was cancelled")
	}
	select {
	case <-cancelled:
	case <-time.After(time.Minute):
		t.Fatal("the server did not see the request cancelled")
	}
}

// Requests per minute pace the requests.
func TestPacing(t *testing.T) {
	f := newFake(t, nil)
	m := newModel(t, Config{Endpoints: []string{f.url()}, RequestsPerMinute: 1200}) // 20 a second, 20 at once
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Generate(context.Background(), prompt(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("40 requests at 1200 a minute took %v, want about a second at least", el)
	}
	tm := newModel(t, Config{Endpoints: []string{f.url()}, TokensPerMinute: 600}) // 10 tokens a second
	start = time.Now()
	for i := range 3 {
		if _, err := tm.Generate(context.Background(), prompt(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Each call is estimated at 16 tokens (capped at the bucket's 10) and
	// uses 10: the second and third wait about a second each.
	if el := time.Since(start); el < 1500*time.Millisecond {
		t.Errorf("3 calls at 600 tokens a minute took %v", el)
	}
}

func TestStream(t *testing.T) {
	f := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"Hel", "lo", "!"} {
			fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", piece)
		}
		io.WriteString(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
		io.WriteString(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
		return true
	})
	m := newModel(t, Config{Endpoints: []string{f.url()}})
	var pieces []string
	res, err := m.Generate(context.Background(), engine.Request{Messages: []chattmpl.Message{{Role: "user", Content: "hi"}}, Options: greedy(),
		OnText: func(s string) error { pieces = append(pieces, s); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Hello!" || strings.Join(pieces, "|") != "Hel|lo|!" || res.GeneratedTokens != 3 || res.PromptTokens != 4 {
		t.Errorf("streamed %+v in %q", res, pieces)
	}
	if f.last["stream"] != true {
		t.Errorf("request not streamed: %v", f.last)
	}
}

func TestStripThinking(t *testing.T) {
	for in, want := range map[string]string{
		"<think>hmm</think>\n\nYes": "Yes",
		"hmm</think>Yes":            "Yes",
		"Yes":                       "Yes",
		"a <think> b":               "a <think> b",
	} {
		if got := stripThinking(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// Embed and Rerank send /v1/embeddings and /v1/rerank and return what the
// server answered with its token counts; retried as generations are.
func TestEmbedRerank(t *testing.T) {
	f := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 || n == 3 {
			http.Error(w, "busy", 503)
			return true
		}
		return false
	})
	m := newModel(t, Config{Endpoints: []string{f.url()}, Model: "e", RestAfter: 10})
	v, n, err := m.Embed(context.Background(), "hello")
	if err != nil || len(v) != 2 || v[0] != 5 || v[1] != 1 || n != 4 {
		t.Fatalf("embed: %v %d %v", v, n, err)
	}
	f.mu.Lock()
	if f.last["model"] != "e" || f.last["input"] != "hello" {
		t.Errorf("embeddings request %v", f.last)
	}
	f.mu.Unlock()
	s, n, err := m.Rerank(context.Background(), "a query", "doc")
	if err != nil || s != 4 || n != 6 {
		t.Fatalf("rerank: %v %d %v", s, n, err)
	}
	if req, fail, retries := totals(m); req != 4 || fail != 2 || retries != 2 {
		t.Errorf("requests %d failures %d retries %d, want 4 2 2", req, fail, retries)
	}
	// An answer without the vector is a failure, not an empty vector.
	bad := newFake(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[]}`)
		return true
	})
	m = newModel(t, Config{Endpoints: []string{bad.url()}, MaxRetries: 1})
	var re *engine.RemoteError
	if _, _, err := m.Embed(context.Background(), "x"); !errors.As(err, &re) || re.Attempts != 2 || !re.RowLevel() {
		t.Errorf("embed with no vector: %v", err)
	}
}
