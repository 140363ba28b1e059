package engine

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

// tinyWithTemplate writes the tiny model with a chat template ("" = none,
// so conversations render with the ChatML fallback).
func tinyWithTemplate(t *testing.T, template string) string {
	t.Helper()
	spec := tinySpec
	if template != "" {
		spec.Metadata = map[string]gguf.Value{"tokenizer.chat_template": gguf.String(template)}
	}
	path := filepath.Join(t.TempDir(), "tiny-chat.gguf")
	if err := synth.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	return path
}

// llama2Template is Llama 2's chat template, cut to what the tests use: the
// reply follows "[/INST]" after a space and ends with " </s>".
const llama2Template = "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}{{ '[INST] ' + m.content + ' [/INST]' }}" +
	"{% elif m.role == 'assistant' %}{{ ' ' + m.content + ' ' + eos_token }}{% endif %}{% endfor %}"

// rewritingTemplate writes the last user turn differently once an
// assistant's reply follows it, so the prompt is not a prefix of the
// rendering with a reply.
const rewritingTemplate = "{% for m in messages %}{% if loop.last and m.role == 'user' %}Q: {{ m.content }}\nA:" +
	"{% elif m.role == 'user' %}Question: {{ m.content }}\n{% else %}Answer: {{ m.content }}\n{% endif %}{% endfor %}"

// TestReplyTokens checks which tokens stand for each reply: the reply as
// the template writes an assistant's turn, tokenized after the prompt, up
// to the end-of-turn token.
func TestReplyTokens(t *testing.T) {
	conv := []chattmpl.Message{{Role: "user", Content: "Is the dog little?"}}
	for _, tc := range []struct {
		name, template string
		turn           func(reply string) string // the turn's text after the prompt
		eog            bool                      // the turn ends with an end-of-generation token
	}{
		// No template: ChatML, whose <|im_end|> is text in this vocabulary
		// (no end-of-generation token), so the whole closing is scored.
		{"chatml", "", func(r string) string { return r + "<|im_end|>\n" }, false},
		// Llama 2: a space before the reply, " </s>" after; </s> ends it.
		{"llama2", llama2Template, func(r string) string { return " " + r + " </s>" }, true},
		// The prompt changes once a reply follows: the reply alone, then
		// the end-of-sequence text.
		{"rewriting", rewritingTemplate, func(r string) string { return r + "</s>" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := LoadModel(tinyWithTemplate(t, tc.template), LoadConfig{Slots: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			replies := []string{"yes", "no", "the dog", "a"}
			p, cands, err := m.ReplyTokens(conv, TemplateOptions{}, replies)
			if err != nil {
				t.Fatal(err)
			}
			prompt, err := m.Chat.Render(conv, TemplateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := m.Chat.Tokenize(m.Tok, prompt); !slices.Equal(p, want) {
				t.Fatalf("prompt tokens %v, want %v", p, want)
			}
			for i, r := range replies {
				full := m.Chat.Tokenize(m.Tok, prompt+tc.turn(r))
				want := full[len(p):]
				if !slices.Equal(cands[i], want) {
					t.Errorf("reply %q: tokens %v (%q), want %v (%q)", r, cands[i], m.Tok.Decode(cands[i]), want, m.Tok.Decode(want))
				}
				if last := cands[i][len(cands[i])-1]; m.Tok.IsEOG(last) != tc.eog {
					t.Errorf("reply %q: last token %d is end-of-generation: %v, want %v", r, last, m.Tok.IsEOG(last), tc.eog)
				}
			}
			if tc.name == "llama2" && m.Tok.Piece(cands[0][0])[0] != ' ' {
				t.Errorf("after [/INST] the reply starts with a space: first token %q", m.Tok.Piece(cands[0][0]))
			}
		})
	}
}

// TestScoreRepliesTokenByToken checks ScoreReplies against each reply's
// tokens scored one at a time from separate runs' logits, with replies
// that share their first token and one that is the start of another.
func TestScoreRepliesTokenByToken(t *testing.T) {
	m, err := LoadModel(tinyWithTemplate(t, llama2Template), LoadConfig{Slots: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	req := ScoreRequest{
		Messages: []chattmpl.Message{{Role: "user", Content: "Once upon a time there was a little dog. Is it a dog or a cat?"}},
		Replies:  []string{"dog", "dog and cat", "cat", "the little dog", "the"},
	}
	res, err := m.ScoreReplies(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	p, cands, err := m.ReplyTokens(req.Messages, req.Template, req.Replies)
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptTokens != len(p) {
		t.Errorf("prompt tokens %d, want %d", res.PromptTokens, len(p))
	}
	total := 0
	for i, c := range cands {
		total += len(c)
		var want float64
		for k := range c {
			ids := append(append([]int32(nil), p...), c[:k]...)
			r, err := m.Generate(ctx, Request{PromptIDs: ids, Options: greedy(0), WantLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			want += logSoftmax(r.Logits, c[k])
		}
		if math.Abs(res.LogProbs[i]-want) > 1e-9 {
			t.Errorf("reply %q: %.12f, token by token %.12f", req.Replies[i], res.LogProbs[i], want)
		}
	}
	if res.ReplyTokens != total {
		t.Errorf("reply tokens %d, want %d", res.ReplyTokens, total)
	}
	// "dog" and "the" are the starts of other replies: the end-of-turn
	// token keeps their scores those of complete answers, so they differ
	// from what their longer twins' first tokens alone would give.
	if cands[0][0] != cands[1][0] || cands[3][0] != cands[4][0] {
		t.Fatalf("replies meant to share a first token do not: %v", cands)
	}
	// Deterministic, in any order of the replies.
	rev := req
	rev.Replies = slices.Clone(req.Replies)
	slices.Reverse(rev.Replies)
	again, err := m.ScoreReplies(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range req.Replies {
		if again.LogProbs[len(req.Replies)-1-i] != res.LogProbs[i] {
			t.Fatalf("reply %q: %v then %v", req.Replies[i], res.LogProbs[i], again.LogProbs[len(req.Replies)-1-i])
		}
	}
	if _, err := m.ScoreReplies(ctx, ScoreRequest{Messages: req.Messages, Replies: []string{"a", ""}}); err == nil {
		t.Error("an empty reply was scored")
	}
}

// TestPoolScore checks Pool.Score: the model's scores, from the result
// cache the second time, and a prompt too long for the context refused.
func TestPoolScore(t *testing.T) {
	p := NewPool(PoolConfig{MaxSequences: 4})
	defer p.Close()
	if _, err := p.Register("tiny", tinyWithTemplate(t, "")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := ScoreRequest{Messages: []chattmpl.Message{{Role: "user", Content: "Hello world"}}, Replies: []string{"yes", "no"}}
	first, err := p.Score(ctx, "tiny", req)
	if err != nil {
		t.Fatal(err)
	}
	// One pass for the prompt, one for both replies together.
	if st, _ := p.SchedStats("tiny"); st.Passes != 2 {
		t.Errorf("%d forward passes, want 2 (the prompt, then the replies together)", st.Passes)
	}
	m, release, err := p.Acquire(ctx, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	direct, err := m.ScoreReplies(ctx, req)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || !slices.Equal(first.LogProbs, direct.LogProbs) {
		t.Fatalf("pool %+v, model %+v", first, direct)
	}
	second, err := p.Score(ctx, "tiny", req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || !slices.Equal(second.LogProbs, first.LogProbs) || second.PromptTokens != first.PromptTokens {
		t.Fatalf("second call %+v, first %+v", second, first)
	}
	long := ScoreRequest{Messages: []chattmpl.Message{{Role: "user", Content: string(make([]byte, 400))}}, Replies: []string{"a"}}
	if _, err := p.Score(ctx, "tiny", long); !isPromptTooLong(err) {
		t.Fatalf("a prompt over the context: %v", err)
	}
	if _, err := p.Score(ctx, "nope", req); err == nil {
		t.Fatal("an unknown model scored")
	}
}

func isPromptTooLong(err error) bool {
	_, ok := err.(*PromptTooLongError)
	return ok
}

// TestReplyTokensQwen3 checks replies on Qwen3's own template and
// vocabulary (../shared): the turn ends at <|im_end|>, and opens with the
// empty thinking block the template writes unless the prompt already has
// it (enable_thinking false).
func TestReplyTokensQwen3(t *testing.T) {
	m, err := LoadModel(chatModel(t, "qwen3", ""), LoadConfig{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	conv := []chattmpl.Message{{Role: "user", Content: "Is this a bug report? The app crashes."}}
	for _, tc := range []struct {
		opts TemplateOptions
		want string
	}{
		{TemplateOptions{}, "<think>\n\n</think>\n\nbug<|im_end|>"},
		{TemplateOptions{Vars: map[string]any{"enable_thinking": false}}, "bug<|im_end|>"},
	} {
		_, cands, err := m.ReplyTokens(conv, tc.opts, []string{"bug", "feature request"})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, id := range cands[0] {
			got += m.Tok.PieceSpecial(id)
		}
		if got != tc.want {
			t.Errorf("%v: reply tokens %q, want %q", tc.opts.Vars, got, tc.want)
		}
		if last := cands[1][len(cands[1])-1]; m.Tok.Token(last) != "<|im_end|>" {
			t.Errorf("%v: the second reply ends with %q", tc.opts.Vars, m.Tok.Token(last))
		}
	}
}
