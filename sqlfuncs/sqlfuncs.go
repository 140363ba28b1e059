// Package sqlfuncs holds llmsql's SQL functions for go-mysql-server:
// generate, chat, apply_chat_template, tokenize, detokenize,
// count_tokens, embed, similarity and rerank (with an EmbedBackend), and
// the structured ones: judge, classify and extract (also extract_json).
// They work in any
// go-mysql-server application: give them a Backend (an *engine.Pool, or
// anything with the same three methods) and either call Register on an
// engine or serve Functions from a sql.FunctionProvider.
//
// EnableBatching additionally makes a statement over many rows hand their
// model calls (generate(), chat(), judge(), classify(), extract(),
// embed(), similarity(), rerank()) to the backend together
// (@@llm_batch_size rows at a time), evaluates each call once per row, and
// reports running queries through a Tracker.
//
// Aggregates: summarize_agg and reduce_agg answer for a group of rows by
// map-reduce beyond the context window (agg.go explains how; agg_pack.go
// packs texts into prompts, agg_batch.go runs all groups of a statement
// together). They need a Backend that also measures prompts
// (PromptBackend); importing the package adds their names to
// go-mysql-server's list of aggregate functions.
//
// Arguments: every function reads its arguments through call.arg and
// call.text (args.go), which accept each form go-mysql-server and Dolt hand
// a value in: strings, byte slices, Dolt's out-of-line TEXT and BLOB
// wrappers, JSON documents (as MySQL prints them where text is expected),
// numbers. New functions must read their arguments the same way.
//
// Model calls: a function whose answer is a model generation implements
// modelCall (modelcall.go: Arguments builds the Request, reading its
// options with callOptions) and evaluates through evalModelCall, so that
// batching binds it to the memo and it follows the policy of policy.go:
// @@llm_on_error and the "on_error" option (a row that fails is NULL with
// a warning, or fails the statement), "truncate", "details" (a JSON
// object with finish_reason and token counts), the token budgets
// @@llm_max_tokens_per_statement and @@llm_max_tokens_per_session, and
// tokens counted in llm.progress as they are generated. Wrap a failure
// that concerns one row's data in RowError so on_error applies to it.
// Sampling calls written twice in a SELECT list are independent draws;
// the planner's copies of one call share its answer (memoCall.key).
package sqlfuncs

import (
	"context"
	"fmt"
	"strings"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/engine"
)

// Backend runs the model work behind the functions. *engine.Pool satisfies
// it. Every call receives the query's *sql.Context, so KILL QUERY and a
// dropped connection cancel the work.
type Backend interface {
	Generate(ctx context.Context, model, prompt string, opts engine.GenerateOptions) (string, error)
	Tokenize(ctx context.Context, model, text string) ([]int32, error)
	Detokenize(ctx context.Context, model string, ids []int32) (string, error)
}

// Names of the functions, as SQL sees them.
const (
	GenerateName          = "generate"
	ChatName              = "chat"
	ApplyChatTemplateName = "apply_chat_template"
	TokenizeName          = "tokenize"
	DetokenizeName        = "detokenize"
	CountTokensName       = "count_tokens"
)

// Functions returns the SQL functions backed by b.
func Functions(b Backend) []sql.Function {
	return append([]sql.Function{
		sql.FunctionN{Name: GenerateName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 2 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(GenerateName, "2, 3 or 4", len(args))
			}
			return newGenerate(ctx, b, args), nil
		}},
		sql.FunctionN{Name: ChatName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 2 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(ChatName, "2, 3 or 4", len(args))
			}
			return newChat(ctx, b, args), nil
		}},
		sql.FunctionN{Name: JudgeName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 3 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(JudgeName, "3 or 4", len(args))
			}
			return newJudge(ctx, b, args), nil
		}},
		sql.FunctionN{Name: ClassifyName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 3 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(ClassifyName, "3 or 4", len(args))
			}
			return newClassify(ctx, b, args), nil
		}},
		extractFunction(b),
		sql.FunctionN{Name: ExtractJSONName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 3 || len(args) > 4 {
				return nil, sql.ErrInvalidArgumentNumber.New(ExtractJSONName, "3 or 4", len(args))
			}
			return newExtract(ctx, b, ExtractJSONName, args), nil
		}},
		sql.FunctionN{Name: ApplyChatTemplateName, Fn: func(ctx *sql.Context, args ...sql.Expression) (sql.Expression, error) {
			if len(args) < 2 || len(args) > 3 {
				return nil, sql.ErrInvalidArgumentNumber.New(ApplyChatTemplateName, "2 or 3", len(args))
			}
			return &ApplyChatTemplate{newCallAt(ApplyChatTemplateName, args, b)}, nil
		}},
		sql.Function2{Name: TokenizeName, Fn: func(ctx *sql.Context, model, text sql.Expression) sql.Expression {
			return &Tokenize{newCallAt(TokenizeName, []sql.Expression{model, text}, b)}
		}},
		sql.Function2{Name: DetokenizeName, Fn: func(ctx *sql.Context, model, ids sql.Expression) sql.Expression {
			return &Detokenize{newCallAt(DetokenizeName, []sql.Expression{model, ids}, b)}
		}},
		sql.Function2{Name: CountTokensName, Fn: func(ctx *sql.Context, model, text sql.Expression) sql.Expression {
			return &CountTokens{newCallAt(CountTokensName, []sql.Expression{model, text}, b)}
		}},
	}, append(embedFunctions(b), aggregateFunctions(b)...)...)
}

// Register adds the functions to eng's built-in function registry, which
// both the in-memory and the Dolt database providers consult. It fails,
// registering nothing, if one of the names is already taken. extract takes
// the place of go-mysql-server's own, which it calls for two arguments.
func Register(eng *sqle.Engine, b Backend) error {
	RegisterVariables()
	ctx := sql.NewEmptyContext()
	cat := eng.Analyzer.Catalog
	var fns []sql.Function
	var extract sql.Function
	for _, f := range Functions(b) {
		if f.FunctionName() == ExtractName {
			extract = f
			continue
		}
		// RegisterFunction panics on a duplicate name; report it instead.
		if _, exists := cat.Function(ctx, "", f.FunctionName()); exists {
			return fmt.Errorf("sqlfuncs: a function named %s is already registered", f.FunctionName())
		}
		fns = append(fns, f)
	}
	if err := replaceBuiltin(cat, extract); err != nil {
		return err
	}
	cat.RegisterFunction(ctx, fns...)
	return nil
}

// Provider is a sql.FunctionProvider serving the functions, for
// applications that compose their own provider.
type Provider struct {
	fns map[string]sql.Function
}

var _ sql.FunctionProvider = (*Provider)(nil)

// NewProvider returns a Provider whose functions use b.
func NewProvider(b Backend) *Provider {
	p := &Provider{fns: map[string]sql.Function{}}
	for _, f := range Functions(b) {
		p.fns[f.FunctionName()] = f
	}
	return p
}

// Function implements sql.FunctionProvider; names are case-insensitive.
func (p *Provider) Function(_ *sql.Context, _ string, name string) (sql.Function, bool) {
	f, ok := p.fns[strings.ToLower(name)]
	return f, ok
}
