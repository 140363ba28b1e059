package sqlfuncs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/llmsql/llmsql/engine"
)

// The policy of model calls. Every function whose answer is a model
// generation (generate(), chat(), and the functions built the same way)
// runs its requests through runCall and turns the outcome into its SQL
// value with answer, so they all follow the same rules:
//
//   - A row that fails is that row's problem, as MySQL's non-strict mode
//     has it for bad values: with @@llm_on_error = 'null' (the default) or
//     the call option "on_error": "null", the row's value is NULL and a
//     warning names the row and the cause (SHOW WARNINGS; the OK packet
//     counts them). With 'error' the statement fails, as it did before.
//     Only failures of the row's own generation count (a prompt longer than
//     the context, the token budget, a RowError, a remote model's request
//     that still failed after its retries); errors in the call itself (an
//     unknown model, bad options, cancellation, a remote server refusing
//     the key or the model) fail the statement.
//   - "truncate": "start" | "end" fits a prompt longer than the context
//     instead (a warning says how many tokens were dropped); a generation
//     cut off by the context also warns.
//   - "details": true returns a JSON object instead of the text:
//     {"text", "finish_reason" ("stop", "length", "context",
//     "stop_string"), "prompt_tokens", "generated_tokens", "error"}; a row
//     that failed under on_error 'null' gives its error there.
//   - @@llm_max_tokens_per_statement and @@llm_max_tokens_per_session
//     (0 = none) bound the tokens (prompt and generated) a statement or a
//     session computes; once spent, the remaining calls fail with "token
//     budget reached", as row failures. Calls already running finish.
//   - Generated tokens count in llm.progress as they are produced.

// System variables of the policy.
const (
	OnErrorVariable               = "llm_on_error"
	MaxTokensPerStatementVariable = "llm_max_tokens_per_statement"
	MaxTokensPerSessionVariable   = "llm_max_tokens_per_session"
)

// Values of @@llm_on_error and the "on_error" option.
const (
	OnErrorNull  = "null"
	OnErrorError = "error"
)

// Policy is a call's own choices, from its options object.
type Policy struct {
	OnError string // "" follows @@llm_on_error
	Details bool
}

// Warning codes: 1105 (ER_UNKNOWN_ERROR) for a row whose value became
// NULL, 1265 (WARN_DATA_TRUNCATED) for a prompt or an answer cut short.
const (
	warnRowFailed = mysql.ERUnknownError
	warnTruncated = mysql.ERWarnDataTruncated
)

// ErrTokenBudget is the cause of calls made after a token budget is spent.
var ErrTokenBudget = errors.New("token budget reached")

type budgetError struct {
	variable string
	limit    int64
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("token budget reached (@@%s = %d)", e.variable, e.limit)
}

func (e *budgetError) Is(target error) bool { return target == ErrTokenBudget }

// RowError marks an error that concerns one row's data rather than the
// call, so that on_error applies to it. Functions wrap their row-level
// failures in it.
type RowError struct{ Err error }

func (e *RowError) Error() string { return e.Err.Error() }
func (e *RowError) Unwrap() error { return e.Err }

// rowLevel reports whether err is a failure of one row's generation.
func rowLevel(err error) bool {
	var pt *engine.PromptTooLongError
	var re *RowError
	var remote *engine.RemoteError // a remote request that failed for good
	return errors.As(err, &pt) || errors.Is(err, ErrTokenBudget) || errors.As(err, &re) ||
		(errors.As(err, &remote) && remote.RowLevel())
}

// runCall runs one request under the policy: the token budgets are
// checked first and charged after, and tokens count in prog as they come.
func runCall(ctx *sql.Context, b Backend, req Request, prog *queryProgress) (engine.GenResult, error) {
	bud := budgetOf(ctx)
	if err := bud.check(ctx); err != nil {
		return engine.GenResult{}, err
	}
	var live atomic.Int64
	res, err := generateResult(ctx, b, req, func() {
		live.Add(1)
		prog.addTokens(1)
	})
	if err == nil && req.Schema != "" && !res.Incomplete {
		res.Text, err = checkReply(req.Schema, res.Text)
	}
	// Backends that do not report tokens as they come report them now.
	if n := int64(res.GeneratedTokens) - live.Load(); n > 0 {
		prog.addTokens(n)
	}
	bud.charge(max(int64(res.PromptTokens+res.GeneratedTokens), live.Load()))
	return res, err
}

// answer turns a call's outcome into its SQL value under the policy. warn
// says whether to add the outcome's warnings (once per generation, however
// often it is evaluated); row is the row's number in the statement (0 if
// not known).
func answer(ctx *sql.Context, name string, req Request, res engine.GenResult, err error, warn bool, row int64) (any, error) {
	where := name + "()"
	if row > 0 {
		where = fmt.Sprintf("%s at row %d", where, row)
	}
	if err != nil {
		if !rowLevel(err) || onError(ctx, req.Policy) == OnErrorError {
			return nil, err
		}
		if warn {
			addWarning(ctx, warnRowFailed, fmt.Sprintf("%s: %v; the value is NULL (on_error 'null')", where, err))
		}
		if req.Policy.Details {
			msg := err.Error()
			return detailsJSON(details{Error: &msg}), nil
		}
		return nil, nil
	}
	if res.Incomplete {
		// A grammar's output cut at max_tokens: never half a JSON document.
		msg := fmt.Sprintf("the output was cut at max_tokens (%d) before its grammar was complete; the value is NULL (raise max_tokens)", req.Options.MaxTokens)
		if warn {
			addWarning(ctx, warnTruncated, where+": "+msg)
		}
		if req.Policy.Details {
			reason := res.FinishReason
			return detailsJSON(details{FinishReason: &reason, PromptTokens: tokensOr(res.AnswerPromptTokens, res.PromptTokens),
				GeneratedTokens: tokensOr(res.AnswerGeneratedTokens, res.GeneratedTokens), Error: &msg}), nil
		}
		return nil, nil
	}
	if warn && res.Truncated > 0 {
		addWarning(ctx, warnTruncated, fmt.Sprintf("%s: the prompt did not fit the context; %d tokens were cut from its %s (option truncate)",
			where, res.Truncated, req.Options.Truncate))
	}
	if warn && res.FinishReason == engine.FinishContext {
		addWarning(ctx, warnTruncated, fmt.Sprintf("%s: the answer was cut off where the sequence filled the model's context, after %d generated tokens",
			where, tokensOr(res.AnswerGeneratedTokens, res.GeneratedTokens)))
	}
	if req.Policy.Details {
		text, reason := res.Text, res.FinishReason
		d := details{Text: &text, PromptTokens: tokensOr(res.AnswerPromptTokens, res.PromptTokens),
			GeneratedTokens: tokensOr(res.AnswerGeneratedTokens, res.GeneratedTokens)}
		if reason != "" {
			d.FinishReason = &reason
		}
		return detailsJSON(d), nil
	}
	return res.Text, nil
}

func tokensOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// details is the JSON "details": true returns.
type details struct {
	Text            *string `json:"text"`
	FinishReason    *string `json:"finish_reason"`
	PromptTokens    int     `json:"prompt_tokens"`
	GeneratedTokens int     `json:"generated_tokens"`
	Error           *string `json:"error"`
}

func detailsJSON(d details) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(d)
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

func addWarning(ctx *sql.Context, code int, msg string) {
	if ctx != nil && ctx.Session != nil {
		ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: code, Message: msg})
	}
}

// onError is the call's on_error, or @@llm_on_error.
func onError(ctx *sql.Context, p Policy) string {
	if p.OnError != "" {
		return p.OnError
	}
	if v := sessionString(ctx, OnErrorVariable); v != "" {
		return v
	}
	return OnErrorNull
}

func sessionString(ctx *sql.Context, name string) string {
	if ctx == nil || ctx.Session == nil {
		return ""
	}
	v, err := ctx.GetSessionVariable(ctx, name)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

func sessionInt(ctx *sql.Context, name string) int64 {
	if ctx == nil || ctx.Session == nil {
		return 0
	}
	v, err := ctx.GetSessionVariable(ctx, name)
	if err != nil || v == nil {
		return 0
	}
	n, err := toInt(v)
	if err != nil {
		return 0
	}
	return n
}

// budget counts a session's tokens, in all and in its current statement.
type budget struct {
	mu      sync.Mutex
	stmtID  stmtID // the statement counted in stmt
	stmt    int64
	session int64
}

// stmtID tells a session's statements apart: the process list's id, and
// the time the statement started (applications that embed the engine may
// leave the id 0).
type stmtID struct {
	pid  uint64
	time time.Time
}

// budgets holds each session's budget, keyed by a weak pointer to the
// session (IDs are not unique across storages and tests) and dropped when
// the session is collected.
var budgets sync.Map // weak.Pointer[byte] or uint32 -> *budget

// budgetOf returns ctx's session's budget (nil without a session: no
// limit).
func budgetOf(ctx *sql.Context) *budget {
	if ctx == nil || ctx.Session == nil {
		return nil
	}
	var key any = ctx.Session.ID()
	var ptr *byte
	if v := reflect.ValueOf(ctx.Session); v.Kind() == reflect.Pointer && !v.IsNil() {
		ptr = (*byte)(v.UnsafePointer())
		key = weak.Make(ptr)
	}
	if b, ok := budgets.Load(key); ok {
		return b.(*budget)
	}
	b, loaded := budgets.LoadOrStore(key, &budget{})
	if !loaded && ptr != nil {
		runtime.AddCleanup(ptr, func(k any) { budgets.Delete(k) }, key)
	}
	return b.(*budget)
}

// check fails when the statement's or the session's budget is spent.
func (b *budget) check(ctx *sql.Context) error {
	if b == nil {
		return nil
	}
	perStmt := sessionInt(ctx, MaxTokensPerStatementVariable)
	perSession := sessionInt(ctx, MaxTokensPerSessionVariable)
	b.mu.Lock()
	defer b.mu.Unlock()
	if id := (stmtID{ctx.Pid(), ctx.QueryTime()}); id != b.stmtID {
		b.stmtID, b.stmt = id, 0
	}
	if perStmt > 0 && b.stmt >= perStmt {
		return &budgetError{MaxTokensPerStatementVariable, perStmt}
	}
	if perSession > 0 && b.session >= perSession {
		return &budgetError{MaxTokensPerSessionVariable, perSession}
	}
	return nil
}

// charge counts n tokens against the current statement and the session.
func (b *budget) charge(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	b.stmt += n
	b.session += n
	b.mu.Unlock()
}
