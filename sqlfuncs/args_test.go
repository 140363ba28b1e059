package sqlfuncs

import (
	"context"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/sqlfuncs/sqlfuncstest"
)

// stored stands in for Dolt's out-of-line TEXT and BLOB values
// (val.TextStorage, val.ByteArray): wrappers that load on Unwrap.
type stored[T string | []byte] struct{ v T }

func (s stored[T]) Unwrap(context.Context) (T, error)               { return s.v, nil }
func (s stored[T]) UnwrapAny(context.Context) (any, error)          { return s.v, nil }
func (s stored[T]) IsExactLength() bool                             { return true }
func (s stored[T]) MaxByteLength() int64                            { return int64(len(s.v)) }
func (s stored[T]) Hash() any                                       { return string(s.v) }
func (s stored[T]) Compare(context.Context, any) (int, bool, error) { return 0, false, nil }

var (
	_ sql.StringWrapper = stored[string]{}
	_ sql.BytesWrapper  = stored[[]byte]{}
)

// valueExpr evaluates to a fixed value of any Go type, as a column of a
// storage would.
type valueExpr struct{ v any }

func (e valueExpr) Resolved() bool                          { return true }
func (e valueExpr) String() string                          { return "value" }
func (e valueExpr) Type(*sql.Context) sql.Type              { return types.LongText }
func (e valueExpr) IsNullable(*sql.Context) bool            { return true }
func (e valueExpr) Eval(*sql.Context, sql.Row) (any, error) { return e.v, nil }
func (e valueExpr) Children() []sql.Expression              { return nil }
func (e valueExpr) WithChildren(*sql.Context, ...sql.Expression) (sql.Expression, error) {
	return e, nil
}

// TestArgumentForms feeds every function each form a text value takes in
// go-mysql-server and Dolt, at sizes from 10 bytes to 1 MB.
func TestArgumentForms(t *testing.T) {
	ctx := sql.NewEmptyContext()
	fake := &sqlfuncstest.Fake{}
	lit := func(v any) sql.Expression { return expression.NewLiteral(v, types.LongText) }
	for _, size := range []int{10, 4 << 10, 64 << 10, 1 << 20} {
		body := strings.Repeat("The little dog ran to the park. ", size/32+1)[:size]
		forms := map[string]any{
			"string":        body,
			"bytes":         []byte(body),
			"StringWrapper": stored[string]{body},
			"BytesWrapper":  stored[[]byte]{[]byte(body)},
		}
		for name, v := range forms {
			opts := lit(`{"temperature": 0, "max_tokens": 1048576}`)
			g := newGenerate(ctx, fake, []sql.Expression{stored[string]{"m"}.asExpr(), valueExpr{v}, opts})
			got, err := g.Eval(ctx, nil)
			if err != nil || got != strings.ToUpper(body) {
				t.Fatalf("%d bytes, %s: generate gave %d bytes, %v", size, name, len(asString(got)), err)
			}
			n, err := (&CountTokens{newCallAt(CountTokensName, []sql.Expression{lit("m"), valueExpr{v}}, fake)}).Eval(ctx, nil)
			if err != nil || n != int64(size+1) {
				t.Fatalf("%d bytes, %s: count_tokens = %v, %v", size, name, n, err)
			}
			ids, err := (&Tokenize{newCallAt(TokenizeName, []sql.Expression{lit("m"), valueExpr{v}}, fake)}).Eval(ctx, nil)
			if err != nil {
				t.Fatalf("%d bytes, %s: tokenize: %v", size, name, err)
			}
			idsText, _, err := textOf(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			// detokenize takes the ids as JSON, as text and as stored text.
			for idsName, idsVal := range map[string]any{"JSON": ids, "text": idsText, "StringWrapper": stored[string]{idsText}, "BytesWrapper": stored[[]byte]{[]byte(idsText)}} {
				back, err := (&Detokenize{newCallAt(DetokenizeName, []sql.Expression{lit("m"), valueExpr{idsVal}}, fake)}).Eval(ctx, nil)
				if err != nil || back != body {
					t.Fatalf("%d bytes, %s: detokenize from %s gave %d bytes, %v", size, name, idsName, len(asString(back)), err)
				}
			}
		}
	}
}

func (s stored[T]) asExpr() sql.Expression { return valueExpr{s} }

func asString(v any) string { s, _ := v.(string); return s }

// TestArgumentFormsOptions: options, temperature and max_tokens may come
// from stored text too; JSON documents where text is expected read as
// MySQL prints them.
func TestArgumentFormsOptions(t *testing.T) {
	ctx := sql.NewEmptyContext()
	fake := &sqlfuncstest.Fake{}
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"m", "hello", stored[string]{`{"max_tokens": 2}`}}, "HE"},
		{[]any{"m", "hello", stored[[]byte]{[]byte(`{"max_tokens": 3}`)}}, "HEL"},
		{[]any{"m", "hello", stored[string]{"0"}, stored[string]{"4"}}, "HELL"},
		{[]any{"m", types.JSONDocument{Val: map[string]any{"a": "b"}}, 0}, `{"A": "B"}`},
		{[]any{stored[string]{"m"}, types.JSONDocument{Val: "quoted"}, 0}, `"QUOTED"`},
	} {
		args := make([]sql.Expression, len(c.args))
		for i, a := range c.args {
			args[i] = valueExpr{a}
		}
		got, err := newGenerate(ctx, fake, args).Eval(ctx, nil)
		if err != nil || got != c.want {
			t.Errorf("generate(%v) = %v, %v; want %q", c.args, got, err, c.want)
		}
	}
}
