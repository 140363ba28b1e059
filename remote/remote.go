// Package remote serves a registered model from OpenAI-compatible HTTP
// servers (vLLM, SGLang, llama.cpp's llama-server, Ollama, TGI, another
// llmsql serve --http, hosted APIs), through the official Go client
// (github.com/openai/openai-go). A Model implements engine.RemoteModel, so
// the engine's pool routes the model's calls here and every SQL function
// works on it as on a local model.
//
// Requests are spread over the model's endpoints by fewest outstanding,
// at most Config.MaxConcurrency at once on each, paced by the optional
// requests-per-minute and tokens-per-minute limits, each attempt bounded
// by Config.Timeout. A failed attempt (429, 408, 5xx, a dropped connection,
// a timeout, a malformed answer) is retried with exponential backoff, on
// another endpoint when there is one, no sooner than the server's
// Retry-After; an endpoint that fails RestAfter times in a row is rested
// for RestFor. Errors retrying cannot mend (400, 401, 403, 404) are
// returned at once. Cancelling the context (KILL QUERY) cancels the
// requests in flight.
package remote

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmsql/llmsql/engine"
)

// Config is a remote model's connection and limits.
type Config struct {
	Name      string   // the registered name, for messages
	Endpoints []string // base URLs, such as http://gpu-1:8000/v1
	Model     string   // the model's name on the servers
	APIKey    string   // bearer token; "" sends none
	// MaxConcurrency bounds the requests in flight on each endpoint
	// (0 = DefaultMaxConcurrency).
	MaxConcurrency int
	// RequestsPerMinute and TokensPerMinute pace requests across all
	// endpoints (0 = unpaced). Tokens are estimated before a request (a
	// quarter of the prompt's bytes plus max_tokens) and corrected by the
	// usage the server reports.
	RequestsPerMinute int
	TokensPerMinute   int
	// Timeout bounds each attempt (0 = DefaultTimeout).
	Timeout time.Duration
	// MaxRetries is how often a failed request is tried again
	// (0 = DefaultMaxRetries; negative = never).
	MaxRetries int
	// Backoff is the first retry's delay, doubled for each further one up
	// to MaxBackoff, with jitter (0 = 250ms and 20s).
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a server's Retry-After asks for
	// (0 = 2 minutes).
	MaxRetryAfter time.Duration
	// RestAfter failures in a row rest an endpoint for RestFor
	// (0 = 3 and 30s).
	RestAfter int
	RestFor   time.Duration
	// HTTPClient carries the requests (nil = a client of its own).
	HTTPClient *http.Client
}

// Defaults of Config.
const (
	DefaultMaxConcurrency = 16
	DefaultTimeout        = 10 * time.Minute
	DefaultMaxRetries     = 4
)

// Model is a remote model.
type Model struct {
	cfg  Config
	eps  []*endpoint
	rpm  *bucket
	tpm  *bucket
	http *http.Client

	mu   sync.Mutex
	wake chan struct{} // closed when a slot frees or a wait ends
}

type endpoint struct {
	url    string
	client openai.Client
	// Guarded by Model.mu.
	outstanding int
	requests    int64
	failures    int64
	retries     int64
	inARow      int       // failures since the last success
	restUntil   time.Time // rested after RestAfter failures in a row
	notBefore   time.Time // the server's Retry-After
	lastErr     string
}

// New returns the model; it sends nothing until the first request.
func New(cfg Config) (*Model, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("a remote model needs at least one endpoint")
	}
	if cfg.Model == "" {
		return nil, errors.New("a remote model needs the model's name on its servers (remote_model)")
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 20 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 2 * time.Minute
	}
	if cfg.RestAfter <= 0 {
		cfg.RestAfter = 3
	}
	if cfg.RestFor <= 0 {
		cfg.RestFor = 30 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.MaxConcurrency
		hc = &http.Client{Transport: tr}
	}
	m := &Model{cfg: cfg, http: hc, wake: make(chan struct{})}
	if cfg.Name == "" {
		m.cfg.Name = cfg.Model
	}
	for _, u := range cfg.Endpoints {
		u = strings.TrimSpace(u)
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL such as http://gpu-1:8000/v1", u)
		}
		opts := []option.RequestOption{
			option.WithBaseURL(strings.TrimRight(u, "/") + "/"),
			option.WithHTTPClient(hc),
			option.WithMaxRetries(0), // retries are ours: counted, and moved to another endpoint
		}
		if cfg.APIKey != "" {
			opts = append(opts, option.WithAPIKey(cfg.APIKey))
		} else {
			opts = append(opts, option.WithAPIKey(""), option.WithHeaderDel("Authorization"))
		}
		m.eps = append(m.eps, &endpoint{url: u, client: openai.NewClient(opts...)})
	}
	if cfg.RequestsPerMinute > 0 {
		m.rpm = newBucket(cfg.RequestsPerMinute)
	}
	if cfg.TokensPerMinute > 0 {
		m.tpm = newBucket(cfg.TokensPerMinute)
	}
	return m, nil
}

var _ engine.RemoteModel = (*Model)(nil)

// Close ends idle connections.
func (m *Model) Close() { m.http.CloseIdleConnections() }

// Endpoints reports each endpoint's counters.
func (m *Model) Endpoints() []engine.EndpointStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]engine.EndpointStats, len(m.eps))
	for i, ep := range m.eps {
		out[i] = engine.EndpointStats{Model: m.cfg.Name, Endpoint: ep.url, Outstanding: ep.outstanding,
			Requests: ep.requests, Failures: ep.failures, Retries: ep.retries, LastError: ep.lastErr}
		if ep.restUntil.After(time.Now()) {
			out[i].RestedUntil = ep.restUntil
		}
	}
	return out
}

// acquire takes a slot on the endpoint with the fewest requests
// outstanding among those not rested and not asked to wait (Retry-After),
// preferring one other than avoid. When every endpoint is rested, the one
// whose rest ends first is used: a rested endpoint is tried again rather
// than the statement left waiting.
func (m *Model) acquire(ctx context.Context, avoid *endpoint) (*endpoint, error) {
	for {
		m.mu.Lock()
		now := time.Now()
		var best *endpoint
		var wait time.Time // the earliest Retry-After ending, when that is what holds us back
		allRested := true
		for _, ep := range m.eps {
			if !ep.restUntil.After(now) {
				allRested = false
			}
		}
		for _, ep := range m.eps {
			if ep.outstanding >= m.cfg.MaxConcurrency {
				continue
			}
			if ep.notBefore.After(now) {
				if wait.IsZero() || ep.notBefore.Before(wait) {
					wait = ep.notBefore
				}
				continue
			}
			if ep.restUntil.After(now) && !allRested {
				continue
			}
			if best == nil || better(ep, best, avoid, allRested) {
				best = ep
			}
		}
		if best != nil {
			best.outstanding++
			m.mu.Unlock()
			return best, nil
		}
		wake := m.wake
		m.mu.Unlock()
		var timer <-chan time.Time
		var t *time.Timer
		if !wait.IsZero() {
			t = time.NewTimer(time.Until(wait))
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// better reports whether a is a better choice than b.
func better(a, b, avoid *endpoint, allRested bool) bool {
	if (a == avoid) != (b == avoid) {
		return b == avoid
	}
	if allRested && !a.restUntil.Equal(b.restUntil) {
		return a.restUntil.Before(b.restUntil)
	}
	if a.outstanding != b.outstanding {
		return a.outstanding < b.outstanding
	}
	return a.requests < b.requests
}

// outcome is how an attempt on an endpoint ended.
type outcome struct {
	ok         bool
	failed     bool // counts toward resting the endpoint
	retry      bool // this attempt was a retry
	retryAfter time.Duration
	err        string
}

// release frees ep's slot and records the attempt.
func (m *Model) release(ep *endpoint, o outcome) {
	m.mu.Lock()
	ep.outstanding--
	ep.requests++
	if o.retry {
		ep.retries++
	}
	now := time.Now()
	switch {
	case o.ok:
		ep.inARow = 0
		ep.restUntil = time.Time{}
	case o.failed:
		ep.failures++
		ep.inARow++
		ep.lastErr = o.err
		if ep.inARow >= m.cfg.RestAfter {
			ep.restUntil = now.Add(m.cfg.RestFor)
		}
	}
	if o.retryAfter > 0 {
		ep.notBefore = now.Add(o.retryAfter)
	}
	close(m.wake)
	m.wake = make(chan struct{})
	m.mu.Unlock()
}

// backoff is the delay before retry n (1, 2, ...): Backoff doubled n-1
// times, capped, with up to a quarter of jitter either way so retries of
// many rows spread out.
func (m *Model) backoff(n int) time.Duration {
	d := m.cfg.Backoff << (n - 1)
	if d > m.cfg.MaxBackoff || d <= 0 {
		d = m.cfg.MaxBackoff
	}
	j := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + j
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt is one try of a request on an endpoint: it returns the tokens
// the request used (for pacing) and whether output already reached the
// caller (a streamed reply cannot be retried once it has).
type attempt func(ctx context.Context, ep *endpoint) (tokens int, delivered bool, err error)

// do runs a request with its retries. estimate is its token estimate for
// pacing.
func (m *Model) do(ctx context.Context, estimate int, try attempt) error {
	var last *endpoint
	var lastErr error
	status := 0
	for n := 0; ; n++ {
		if n > 0 {
			if err := sleep(ctx, m.backoff(n)); err != nil {
				return err
			}
		}
		if _, err := m.rpm.take(ctx, 1); err != nil {
			return err
		}
		took, err := m.tpm.take(ctx, estimate)
		if err != nil {
			return err
		}
		ep, err := m.acquire(ctx, last)
		if err != nil {
			m.tpm.give(took)
			return err
		}
		actx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		tokens, delivered, err := try(actx, ep)
		timedOut := actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err == nil {
			m.release(ep, outcome{ok: true, retry: n > 0})
			m.tpm.give(took - tokens) // what the server counted, not the estimate
			return nil
		}
		m.tpm.give(took) // nothing was generated for us; the server's count is unknown
		if ctx.Err() != nil {
			m.release(ep, outcome{retry: n > 0})
			return ctx.Err()
		}
		if timedOut {
			err = fmt.Errorf("no answer within %v (the model's timeout)", m.cfg.Timeout)
		}
		retryable, ra, st := classify(err, timedOut)
		err = describe(err)
		if ra > m.cfg.MaxRetryAfter {
			ra = m.cfg.MaxRetryAfter
		}
		m.release(ep, outcome{failed: retryable, retry: n > 0, retryAfter: ra, err: err.Error()})
		last, lastErr, status = ep, err, st
		if !retryable || delivered || n >= m.cfg.MaxRetries {
			return &engine.RemoteError{Model: m.cfg.Name, Endpoint: ep.url, Status: status, Attempts: n + 1, Err: lastErr}
		}
	}
}

// classify says whether a failed attempt may succeed when tried again,
// how long the server asked to wait, and the HTTP status (0 for none).
func classify(err error, timedOut bool) (retry bool, retryAfter time.Duration, status int) {
	if timedOut {
		return true, 0, 0
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		status = apiErr.StatusCode
		if apiErr.Response != nil {
			retryAfter = parseRetryAfter(apiErr.Response.Header)
		}
		switch {
		case status == 408, status == 409, status == 429, status >= 500:
			return true, retryAfter, status
		}
		return false, 0, status
	}
	// Anything else is the connection (refused, reset, dropped mid-body)
	// or an answer that could not be read: another try may go through.
	return true, 0, 0
}

// describe makes an API error say what the server said: the client's own
// message names only the status.
func describe(err error) error {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return err
	}
	msg := apiErr.Message
	if msg == "" {
		msg = strings.TrimSpace(apiErr.RawJSON())
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	text := http.StatusText(apiErr.StatusCode)
	if msg != "" {
		text += ": " + msg
	}
	return fmt.Errorf("HTTP %d %s", apiErr.StatusCode, text)
}

// parseRetryAfter reads retry-after-ms, or Retry-After in seconds or as an
// HTTP date.
func parseRetryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		var ms float64
		if _, err := fmt.Sscan(v, &ms); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var s float64
	if _, err := fmt.Sscan(v, &s); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
