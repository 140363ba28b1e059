// Package sqlfuncstest provides a deterministic stand-in for the inference
// engine, for testing the SQL layer without running a model.
package sqlfuncstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// BlockPrefix makes Generate wait until its context is cancelled when a
// prompt starts with it, standing in for a long generation.
const BlockPrefix = "block:"

// MeetPrefix makes Generate wait, for a prompt "meet:N:...", until N calls
// have been running at the same time (or its context ends): a test that
// passes with it has proved that N generations ran concurrently.
const MeetPrefix = "meet:"

// SlowPrefix makes Run produce the answer one token (byte) every
// SlowEvery, reporting each through Request.OnToken, for tests that watch a
// generation in progress.
const SlowPrefix = "slow:"

// SlowEvery is the pace of SlowPrefix answers.
const SlowEvery = 20 * time.Millisecond

// BOS is the id Tokenize puts first.
const BOS = 1

// Fake is a sqlfuncs.Backend. Generate returns the prompt in upper case,
// cut at the first stop string and to MaxTokens bytes, so tests can see
// that options arrived. Tokenize maps each byte b to id b+3 after BOS.
// Only models for which Known returns true exist; nil Known accepts all.
type Fake struct {
	Known func(model string) bool
	// VarySampled appends "#N" (N counting such calls) to the answer of a
	// sampling call without a seed, so that tests can tell two samples
	// of the same prompt apart, as they could with a real model.
	VarySampled bool
	// Templates gives models a chat template (model name -> Jinja
	// source); the others render conversations with ChatML, as models
	// whose file has no template do.
	Templates map[string]string
	// Context, if not 0, is the positions of a sequence, counting a byte
	// as a token and BOS: a longer prompt fails with
	// *engine.PromptTooLongError (or is cut, with options.Truncate), and
	// an answer stops where the sequence fills it.
	Context int
	// Reply, if set, answers a chat conversation in place of the upper
	// case: it receives the conversation's last message.
	Reply func(message string) string

	generates atomic.Int64
	samples   atomic.Int64
	tokenizes atomic.Int64
	blocked   atomic.Int64 // Generate calls now waiting on BlockPrefix
	embeds    atomic.Int64
	scores    atomic.Int64

	mu        sync.Mutex
	lastReq   engine.Request
	lastScore engine.ScoreRequest
	runs      []engine.Request
	last      engine.GenerateOptions
	lastCtx   context.Context
	inFlight  int
	maxPar    int
}

func (f *Fake) check(model string) error {
	if f.Known != nil && !f.Known(model) {
		return engine.UnknownModelError(model)
	}
	return nil
}

// Generate implements sqlfuncs.Backend.
func (f *Fake) Generate(ctx context.Context, model, prompt string, opts engine.GenerateOptions) (string, error) {
	res, err := f.generate(ctx, model, prompt, prompt, opts, nil)
	return res.Text, err
}

// generate answers prompt; control is the text searched for BlockPrefix,
// MeetPrefix and SlowPrefix (a chat's last message).
func (f *Fake) generate(ctx context.Context, model, prompt, control string, opts engine.GenerateOptions, onToken func()) (engine.GenResult, error) {
	text, res, err := f.answer(ctx, model, prompt, control, opts, onToken, false)
	res.Text = text
	return res, err
}

func (f *Fake) answer(ctx context.Context, model, prompt, control string, opts engine.GenerateOptions, onToken func(), chat bool) (string, engine.GenResult, error) {
	var res engine.GenResult
	f.generates.Add(1)
	if err := f.check(model); err != nil {
		return "", res, err
	}
	if err := opts.Validate(); err != nil {
		return "", res, err
	}
	f.mu.Lock()
	f.last, f.lastCtx = opts, ctx
	f.inFlight++
	f.maxPar = max(f.maxPar, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if strings.HasPrefix(control, BlockPrefix) {
		f.blocked.Add(1)
		defer f.blocked.Add(-1)
		<-ctx.Done()
		return "", res, ctx.Err()
	}
	if rest, ok := strings.CutPrefix(control, MeetPrefix); ok {
		nStr, _, _ := strings.Cut(rest, ":")
		n, err := strconv.Atoi(nStr)
		if err != nil {
			return "", res, fmt.Errorf("fake: bad meet prompt %q", control)
		}
		for f.MaxParallel() < n {
			select {
			case <-ctx.Done():
				return "", res, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return "", res, err
	}
	if f.Context > 0 && len(prompt)+1 >= f.Context {
		if opts.Truncate == "" {
			return "", res, &engine.PromptTooLongError{Tokens: len(prompt) + 1, Context: f.Context}
		}
		keep := max(f.Context-2-opts.MaxTokens, f.Context/2-1, 0)
		res.Truncated = len(prompt) - keep
		if opts.Truncate == engine.TruncateStart {
			prompt = prompt[len(prompt)-keep:]
		} else {
			prompt = prompt[:keep]
		}
	}
	out := strings.ToUpper(prompt)
	if f.Reply != nil && chat {
		out = f.Reply(control)
	}
	if f.VarySampled && opts.Temperature > 0 && !opts.HasSeed {
		out += fmt.Sprintf("#%d", f.samples.Add(1))
	}
	res.FinishReason = engine.FinishStop
	for _, s := range opts.Stop {
		if i := strings.Index(out, s); i >= 0 {
			out, res.FinishReason = out[:i], engine.FinishStopString
		}
	}
	if len(out) > opts.MaxTokens {
		out, res.FinishReason = out[:opts.MaxTokens], engine.FinishLength
	}
	if room := f.Context - 1 - len(prompt); f.Context > 0 && len(out) >= room {
		out, res.FinishReason = out[:max(room, 0)], engine.FinishContext
	}
	res.PromptTokens, res.GeneratedTokens = len(prompt)+1, len(out)
	res.AnswerPromptTokens, res.AnswerGeneratedTokens = res.PromptTokens, res.GeneratedTokens
	slow := strings.HasPrefix(control, SlowPrefix)
	for range len(out) {
		if slow {
			select {
			case <-ctx.Done():
				return "", engine.GenResult{}, ctx.Err()
			case <-time.After(SlowEvery):
			}
		}
		if onToken != nil {
			onToken()
		}
	}
	return out, res, nil
}

// GenerateResult implements sqlfuncs.ResultBackend: Generate, counting
// one token per byte of the answer and the prompt.
func (f *Fake) GenerateResult(ctx context.Context, model, prompt string, opts engine.GenerateOptions) (engine.GenResult, error) {
	return f.generate(ctx, model, prompt, prompt, opts, nil)
}

// ChatTemplate implements sqlfuncs.ChatBackend.
func (f *Fake) ChatTemplate(model string) (string, error) {
	if err := f.check(model); err != nil {
		return "", err
	}
	if _, ok := f.Templates[model]; ok {
		return engine.TemplateGGUF, nil
	}
	return engine.TemplateChatML, nil
}

// ApplyChatTemplate implements sqlfuncs.ChatBackend with the model's
// template from Templates, or ChatML.
func (f *Fake) ApplyChatTemplate(model string, msgs []chattmpl.Message, opts engine.TemplateOptions) (string, error) {
	if err := f.check(model); err != nil {
		return "", err
	}
	t := chattmpl.ChatML()
	if src, ok := f.Templates[model]; ok {
		var err error
		if t, err = chattmpl.Compile(src); err != nil {
			return "", err
		}
	}
	return t.Render(msgs, chattmpl.Options{AddGenerationPrompt: !opts.NoGenerationPrompt, BOS: "<s>", EOS: "</s>", Vars: opts.Vars})
}

// Run implements sqlfuncs.ChatBackend: a conversation is rendered, then
// answered as Generate answers a prompt (upper case), counting one token
// per byte.
func (f *Fake) Run(ctx context.Context, model string, req engine.Request) (engine.GenResult, error) {
	f.mu.Lock()
	f.lastReq = req
	f.runs = append(f.runs, req)
	f.mu.Unlock()
	prompt, control := req.Prompt, req.Prompt
	if req.Messages != nil {
		if err := f.check(model); err != nil {
			return engine.GenResult{}, err
		}
		p, err := f.ApplyChatTemplate(model, req.Messages, req.Template)
		if err != nil {
			return engine.GenResult{}, err
		}
		prompt, control = p, req.Messages[len(req.Messages)-1].Text()
	}
	text, res, err := f.answer(ctx, model, prompt, control, req.Options, req.OnToken, req.Messages != nil)
	res.Text = text
	return res, err
}

// Runs returns the requests Run has received, in order.
func (f *Fake) Runs() []engine.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Request(nil), f.runs...)
}

// LastRequest returns the latest request Run received.
func (f *Fake) LastRequest() engine.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastReq
}

// Tokenize implements sqlfuncs.Backend.
func (f *Fake) Tokenize(ctx context.Context, model, text string) ([]int32, error) {
	f.tokenizes.Add(1)
	if err := f.check(model); err != nil {
		return nil, err
	}
	ids := []int32{BOS}
	for i := 0; i < len(text); i++ {
		ids = append(ids, int32(text[i])+3)
	}
	return ids, nil
}

// Detokenize implements sqlfuncs.Backend.
func (f *Fake) Detokenize(ctx context.Context, model string, ids []int32) (string, error) {
	if err := f.check(model); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id == BOS:
		case id >= 3 && id < 259:
			b.WriteByte(byte(id - 3))
		default:
			return "", fmt.Errorf("token id %d is outside the vocabulary (0 to 258)", id)
		}
	}
	return b.String(), nil
}

// Generates is the number of Generate calls so far.
func (f *Fake) Generates() int64 { return f.generates.Load() }

// Tokenizes is the number of Tokenize calls so far.
func (f *Fake) Tokenizes() int64 { return f.tokenizes.Load() }

// Blocked is the number of Generate calls waiting for cancellation now.
func (f *Fake) Blocked() int64 { return f.blocked.Load() }

// Last returns the options and context of the latest Generate call that
// passed validation.
func (f *Fake) Last() (engine.GenerateOptions, context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.lastCtx
}

// MaxParallel is the largest number of Generate calls that ran at once.
func (f *Fake) MaxParallel() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxPar
}

// Score implements sqlfuncs.ScoreBackend with scores a test can predict:
// a reply scores 5 if the last line of the conversation's last message
// contains it (in any case), less a tenth of its length in bytes. It counts the conversation's
// bytes as prompt tokens and the replies' as reply tokens.
func (f *Fake) Score(ctx context.Context, model string, req engine.ScoreRequest) (engine.ScoreResult, error) {
	f.scores.Add(1)
	if err := f.check(model); err != nil {
		return engine.ScoreResult{}, err
	}
	f.mu.Lock()
	f.lastScore = req
	f.mu.Unlock()
	prompt, err := f.ApplyChatTemplate(model, req.Messages, req.Template)
	if err != nil {
		return engine.ScoreResult{}, err
	}
	if f.Context > 0 && len(prompt)+1 >= f.Context {
		return engine.ScoreResult{}, &engine.PromptTooLongError{Tokens: len(prompt) + 1, Context: f.Context}
	}
	if err := ctx.Err(); err != nil {
		return engine.ScoreResult{}, err
	}
	last := strings.ToLower(req.Messages[len(req.Messages)-1].Text())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	res := engine.ScoreResult{PromptTokens: len(prompt) + 1}
	for _, r := range req.Replies {
		lp := -float64(len(r)) / 10
		if strings.Contains(last, strings.ToLower(r)) {
			lp += 5
		}
		res.LogProbs = append(res.LogProbs, lp)
		res.ReplyTokens += len(r)
	}
	return res, nil
}

// Scores is the number of Score calls so far.
func (f *Fake) Scores() int64 { return f.scores.Load() }

// LastScore returns the latest request Score received.
func (f *Fake) LastScore() engine.ScoreRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastScore
}

// PromptTokens implements sqlfuncs.PromptBackend: one token per byte of
// the prompt (a conversation rendered first) and BOS, as Run counts.
func (f *Fake) PromptTokens(ctx context.Context, model string, req engine.Request) (int, error) {
	if err := f.check(model); err != nil {
		return 0, err
	}
	prompt := req.Prompt
	if req.Messages != nil {
		p, err := f.ApplyChatTemplate(model, req.Messages, req.Template)
		if err != nil {
			return 0, err
		}
		prompt = p
	}
	return len(prompt) + 1, nil
}

// ContextSize implements sqlfuncs.PromptBackend: Context, or without one
// a size nothing reaches.
func (f *Fake) ContextSize(ctx context.Context, model string) (int, error) {
	if err := f.check(model); err != nil {
		return 0, err
	}
	if f.Context > 0 {
		return f.Context, nil
	}
	return 1 << 30, nil
}
