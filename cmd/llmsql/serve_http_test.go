package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmsql/llmsql/internal/synth"
)

// The HTTP API and SQL run on the same pool: the same greedy answer, and
// the calls of both count in llm.usage. With an account and no --api-key,
// the account's password is the bearer token.
func TestServeHTTP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(path, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serveConfig{Memory: true, Models: []modelFlag{{"tiny", path}}, User: "u", Password: "pw",
		HTTPListener: hl, ResultCacheBytes: -1}, realEngine)
	db := ts.db("u", "pw")
	sqlReply := queryRows(t, db, `SELECT chat('tiny', '[{"role":"user","content":"Once upon a time"}]', 0, 10)`)[0]

	base := "http://" + ts.srv.HTTPAddr() + "/v1/"
	c := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey("pw"), option.WithMaxRetries(0))
	got, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "tiny", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Once upon a time")},
		Temperature: openai.Float(0), MaxTokens: openai.Int(10)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Choices[0].Message.Content != sqlReply {
		t.Errorf("HTTP reply %q, SQL reply %q", got.Choices[0].Message.Content, sqlReply)
	}
	expectRows(t, db, "SELECT model, calls FROM llm.usage", "tiny|2")

	wrong := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey("nope"), option.WithMaxRetries(0))
	_, err = wrong.Models.List(context.Background())
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("wrong token: %v", err)
	}
}

func TestServeHTTPFlags(t *testing.T) {
	for in, want := range map[string]string{"8080": "127.0.0.1:8080", ":8080": "127.0.0.1:8080", "0.0.0.0:9": "0.0.0.0:9", "[::1]:80": "[::1]:80"} {
		cfg, err := parseServe([]string{"--memory", "--http", in}, nil)
		if err != nil || cfg.HTTPAddr != want {
			t.Errorf("--http %s: %q %v, want %q", in, cfg.HTTPAddr, err, want)
		}
	}
	for _, args := range [][]string{{"--api-key", "k"}, {"--http", "host"}, {"--http", "80", "--http-queue", "-1"}} {
		if _, err := parseServe(append([]string{"--memory"}, args...), nil); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	// Beyond loopback the API needs a token.
	_, err := startServer(serveConfig{Memory: true, Addr: "127.0.0.1:0", HTTPAddr: "0.0.0.0:0"})
	if err == nil {
		t.Fatal("served HTTP on every interface without a token")
	}
}
