package sqlfuncs

import (
	"context"
	"errors"
	"fmt"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

// ResultBackend is a Backend that also reports what a generation cost.
// *engine.Pool implements it; the functions use it, when the Backend has
// it, to count generated tokens in llm.progress. A Backend without it still
// works: its calls count as rows without tokens.
type ResultBackend interface {
	GenerateResult(ctx context.Context, model, prompt string, opts engine.GenerateOptions) (engine.GenResult, error)
}

// ChatBackend is a Backend that runs chat models: chat(),
// apply_chat_template() and generate()'s use of a model's chat template
// need it. *engine.Pool implements it. With a Backend without it,
// generate() sends prompts as they are and the chat functions fail.
type ChatBackend interface {
	// Run runs one engine request (see engine.Request), conversations
	// included.
	Run(ctx context.Context, model string, req engine.Request) (engine.GenResult, error)
	// ApplyChatTemplate renders a conversation with the model's template.
	ApplyChatTemplate(model string, msgs []chattmpl.Message, opts engine.TemplateOptions) (string, error)
	// ChatTemplate says what the model renders conversations with:
	// engine.TemplateGGUF or engine.TemplateChatML (for a remote model
	// engine.TemplateServer or engine.TemplateNone).
	ChatTemplate(model string) (string, error)
}

// errNoChat is returned by the chat functions on a backend without chat.
var errNoChat = errors.New("this server's model backend does not run chat templates")

// ScoreBackend is a Backend that scores candidate replies to a
// conversation instead of generating one: classify() needs it.
// *engine.Pool implements it.
type ScoreBackend interface {
	Score(ctx context.Context, model string, req engine.ScoreRequest) (engine.ScoreResult, error)
}

// errNoScore is returned by classify() on a backend without scoring.
var errNoScore = errors.New("this server's model backend does not score replies")

// generateResult runs one request on b, with token counts when b has them.
// onToken (may be nil) is called as each token is generated, when b can
// tell (a ChatBackend).
func generateResult(ctx context.Context, b Backend, req Request, onToken func()) (engine.GenResult, error) {
	if req.Score != nil {
		return scoreResult(ctx, b, req)
	}
	if cb, ok := b.(ChatBackend); ok {
		er, err := engineRequest(cb, req)
		if err != nil {
			return engine.GenResult{}, err
		}
		er.OnToken = onToken
		return cb.Run(ctx, req.Model, er)
	}
	if req.Messages != nil {
		return engine.GenResult{}, errNoChat
	}
	if rb, ok := b.(ResultBackend); ok {
		return rb.GenerateResult(ctx, req.Model, req.Prompt, req.Options)
	}
	text, err := b.Generate(ctx, req.Model, req.Prompt, req.Options)
	return engine.GenResult{Text: text}, err
}

// engineRequest turns a SQL request into the engine's: a chat() call's
// conversation as it is; a generate() call's prompt as the user's turn when
// the model has a chat template (unless raw), else as it is.
func engineRequest(cb ChatBackend, req Request) (engine.Request, error) {
	er := engine.Request{Prompt: req.Prompt, Template: req.Template, Options: req.Options}
	switch {
	case req.Messages != nil:
		er.Messages = withSystem(req.Messages, req.System)
	case req.Raw:
		er.ParseSpecial = req.ParseSpecial
	default:
		src, err := cb.ChatTemplate(req.Model)
		if err != nil {
			return er, err
		}
		// A remote model's server applies its template (TemplateServer).
		if src == engine.TemplateGGUF || src == engine.TemplateServer {
			er.Messages = withSystem([]chattmpl.Message{{Role: "user", Content: req.Prompt}}, req.System)
			break
		}
		if req.System != "" {
			return er, fmt.Errorf("model '%s' has no chat template, so option system has nowhere to go; write the whole prompt with {\"raw\": true, \"parse_special\": true}", req.Model)
		}
		er.ParseSpecial = req.ParseSpecial
	}
	return er, nil
}

// withSystem puts a system turn first unless the conversation has one.
func withSystem(msgs []chattmpl.Message, system string) []chattmpl.Message {
	if system == "" || (len(msgs) > 0 && msgs[0].Role == "system") {
		return msgs
	}
	return append([]chattmpl.Message{{Role: "system", Content: system}}, msgs...)
}

// scoreResult runs a scoring request (Request.Score) on b: the replies'
// log-probabilities, made into the answer's text by the request's Choice.
// Its tokens count as prompt tokens (nothing is generated).
func scoreResult(ctx context.Context, b Backend, req Request) (engine.GenResult, error) {
	sb, ok := b.(ScoreBackend)
	if !ok {
		return engine.GenResult{}, errNoScore
	}
	res, err := sb.Score(ctx, req.Model, engine.ScoreRequest{Messages: req.Messages, Template: req.Template, Replies: req.Score.Labels})
	if err != nil {
		return engine.GenResult{}, err
	}
	if len(res.LogProbs) != len(req.Score.Labels) {
		return engine.GenResult{}, fmt.Errorf("the backend scored %d of %d replies", len(res.LogProbs), len(req.Score.Labels))
	}
	text, err := req.Score.answer(res.LogProbs)
	if err != nil {
		return engine.GenResult{}, &RowError{err}
	}
	out := engine.GenResult{Text: text, Cached: res.Cached,
		AnswerPromptTokens: res.PromptTokens + res.ReplyTokens}
	if !res.Cached {
		out.PromptTokens = res.PromptTokens + res.ReplyTokens
	}
	return out, nil
}
