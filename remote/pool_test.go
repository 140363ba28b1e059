package remote_test

import (
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/httpapi"
	"github.com/llmsql/llmsql/internal/synth"
	"github.com/llmsql/llmsql/remote"
)

// A pool whose model "far" is served by another pool's HTTP API answers as
// the model does locally: generations (prompt and conversation), the result
// cache, usage, embeddings.
func TestPoolThroughHTTP(t *testing.T) {
	dir := t.TempDir()
	tiny, emb := filepath.Join(dir, "tiny.gguf"), filepath.Join(dir, "emb.gguf")
	if err := synth.Write(tiny, synth.Tiny()); err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(emb, synth.EmbeddingModels()["bert-mean-f32"]); err != nil {
		t.Fatal(err)
	}
	server := engine.NewPool(engine.PoolConfig{Threads: 1, ResultCacheBytes: -1})
	defer server.Close()
	for name, path := range map[string]string{"tiny": tiny, "emb": emb} {
		if _, err := server.Register(name, path); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(httpapi.New(server, httpapi.Config{APIKey: "k"}))
	defer srv.Close()

	local := engine.NewPool(engine.PoolConfig{Threads: 1})
	defer local.Close()
	if _, err := local.Register("tiny", tiny); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Register("emb", emb); err != nil {
		t.Fatal(err)
	}
	for name, remoteName := range map[string]string{"far": "tiny", "farEmb": "emb"} {
		m, err := remote.New(remote.Config{Name: name, Endpoints: []string{srv.URL + "/v1"}, Model: remoteName, APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		spec := engine.RemoteSpec{Endpoints: []string{srv.URL + "/v1"}, Model: remoteName, ChatTemplate: engine.TemplateNone}
		if _, err := local.RegisterRemote(name, spec, m); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	o := engine.DefaultGenerateOptions()
	o.Temperature, o.MaxTokens = 0, 12
	for _, req := range []engine.Request{
		{Prompt: "Once upon a time", Options: o},
		{Messages: []chattmpl.Message{{Role: "user", Content: "The little dog"}}, Options: o},
	} {
		want, err := local.Run(ctx, "tiny", req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := local.Run(ctx, "far", req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want.Text || got.FinishReason != want.FinishReason || got.PromptTokens != want.PromptTokens || got.GeneratedTokens != want.GeneratedTokens {
			t.Errorf("remote %+v, local %+v", got, want)
		}
		again, err := local.Run(ctx, "far", req)
		if err != nil || !again.Cached || again.Text != want.Text {
			t.Errorf("a repeated greedy call: %+v %v, want it from the cache", again, err)
		}
	}
	want, err := local.Embed(ctx, "emb", "hello world", engine.EmbedOptions{Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := local.Embed(ctx, "farEmb", "hello world", engine.EmbedOptions{Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("remote vector of %d, local %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("component %d: remote %v local %v", i, got[i], want[i])
		}
	}
	// Scoring replies (classify()): the remote server chooses one under a
	// grammar of the replies; it is what the model generates locally
	// under the same grammar, and gets all the probability.
	labels := []string{"bug", "feature request", `say "hi"\n`}
	msgs := []chattmpl.Message{{Role: "user", Content: "Classify: the app crashes"}}
	sc, err := local.Score(ctx, "far", engine.ScoreRequest{Messages: msgs, Replies: labels})
	if err != nil {
		t.Fatal(err)
	}
	go_ := o
	go_.Grammar = `root ::= "bug" | "feature request" | "say \"hi\"\\n"`
	choice, err := local.Run(ctx, "tiny", engine.Request{Messages: msgs, Options: go_})
	if err != nil {
		t.Fatal(err)
	}
	chosen := -1
	for i, lp := range sc.LogProbs {
		if lp == 0 {
			chosen = i
		} else if !math.IsInf(lp, -1) {
			t.Errorf("reply %d: log probability %v, want 0 or -Inf", i, lp)
		}
	}
	if chosen < 0 || labels[chosen] != choice.Text {
		t.Errorf("remote score %v chose %d; the local generation under the grammar is %q", sc.LogProbs, chosen, choice.Text)
	}

	var usage engine.Usage
	for _, u := range local.Usage() {
		if u.Model == "far" {
			usage = u
		}
	}
	if usage.Calls != 5 || usage.CacheHits != 2 || usage.GeneratedTokens == 0 || usage.PromptTokens == 0 {
		t.Errorf("usage of far: %+v", usage)
	}
	if _, err := local.Tokenize(ctx, "far", "x"); !errors.Is(err, engine.ErrRemoteModel) {
		t.Errorf("tokenize on a remote model: %v", err)
	}
	if _, err := local.ApplyChatTemplate("far", []chattmpl.Message{{Role: "user", Content: "x"}}, engine.TemplateOptions{}); !errors.Is(err, engine.ErrRemoteModel) {
		t.Errorf("apply_chat_template on a remote model: %v", err)
	}
}
