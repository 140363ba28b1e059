package catalog_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine"
)

// nullRemote is a RemoteModel that answers nothing; the catalog tests only
// register, list, save and restore.
type nullRemote struct{ closed *int }

func (n nullRemote) Generate(context.Context, engine.Request) (engine.RemoteResult, error) {
	return engine.RemoteResult{}, nil
}
func (n nullRemote) Embed(context.Context, string) ([]float32, int, error) { return nil, 0, nil }
func (n nullRemote) Rerank(context.Context, string, string) (float32, int, error) {
	return 0, 0, nil
}
func (n nullRemote) Endpoints() []engine.EndpointStats {
	return []engine.EndpointStats{{Model: "big", Endpoint: "http://a:1/v1", Requests: 3, Retries: 1}}
}
func (n nullRemote) Close() { *n.closed++ }

func TestRemoteModels(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	h.fails("INSERT INTO llm.models (name, endpoint) VALUES ('big', 'http://a:1/v1')", "does not run remote models")
	closed := 0
	var specs []engine.RemoteSpec
	factory := func(name string, spec engine.RemoteSpec) (engine.RemoteModel, error) {
		specs = append(specs, spec)
		return nullRemote{&closed}, nil
	}
	h.cat.SetRemotes(factory)
	h.exec(`INSERT INTO llm.models (name, endpoint, remote_model, api_key_env, max_concurrency, requests_per_minute, timeout_seconds)
		VALUES ('big', 'http://a:1/v1, http://b:2/v1', 'Qwen/Qwen3-32B', 'VLLM_KEY', 64, 600, 30)`)
	want := "[[big <nil> 1 server http://a:1/v1,http://b:2/v1 Qwen/Qwen3-32B VLLM_KEY 64 600 <nil> 30]]"
	if got := h.exec("SELECT name, path, loaded, chat_template, endpoint, remote_model, api_key_env, max_concurrency, requests_per_minute, tokens_per_minute, timeout_seconds FROM llm.models"); got != want {
		t.Fatalf("llm.models: %s, want %s", got, want)
	}
	if got := h.exec("SELECT model, endpoint, requests, retries FROM llm.endpoints"); got != "[[big http://a:1/v1 3 1]]" {
		t.Errorf("llm.endpoints: %s", got)
	}
	if got := h.exec("SELECT COUNT(*) FROM llm.big"); got != "[[0]]" {
		t.Errorf("metadata of a remote model: %s", got)
	}
	for _, bad := range []struct{ q, want string }{
		{"INSERT INTO llm.models (name, endpoint) VALUES ('x', 'gpu-1:8000')", "http://"},
		{"INSERT INTO llm.models (name, endpoint, chat_template) VALUES ('x', 'http://a/v1', 'gguf')", "chat_template must be"},
		{"INSERT INTO llm.models (name, endpoint, architecture) VALUES ('x', 'http://a/v1', 'llama')", "cannot be set for a remote model"},
		{"INSERT INTO llm.models (name, endpoint) VALUES ('big', 'http://a/v1')", "already registered"},
		{"INSERT INTO llm.models (name, endpoint) VALUES ('usage', 'http://a/v1')", "reserved"},
	} {
		h.fails(bad.q, bad.want)
	}
	// Saved without the key, restored at the next start.
	b, err := os.ReadFile(h.store.Path)
	if err != nil || !strings.Contains(string(b), `"api_key_env": "VLLM_KEY"`) || !strings.Contains(string(b), `"endpoint": "http://a:1/v1, http://b:2/v1"`) {
		t.Fatalf("saved: %s %v", b, err)
	}
	h2 := newHarness(t, dir)
	h2.cat.SetRemotes(factory)
	restored, failed, err := h2.cat.Restore()
	if err != nil || len(failed) != 0 || len(restored) != 1 || restored[0].Remote == nil || restored[0].Remote.Model != "Qwen/Qwen3-32B" {
		t.Fatalf("restore: %v %v %v", restored, failed, err)
	}
	if s := specs[len(specs)-1]; len(s.Endpoints) != 2 || s.MaxConcurrency != 64 || s.RequestsPerMinute != 600 || s.Timeout.Seconds() != 30 || s.APIKeyEnv != "VLLM_KEY" {
		t.Errorf("restored spec: %+v", s)
	}
	before := closed
	h.exec("DELETE FROM llm.models WHERE name = 'big'")
	if closed != before+1 || h.savedNames() != "" {
		t.Errorf("after DELETE: closed %d, saved %q", closed, h.savedNames())
	}
}
