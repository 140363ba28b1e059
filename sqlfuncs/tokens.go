package sqlfuncs

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Tokenize is tokenize(model, text): the token ids of text as a JSON array
// (with BOS when the vocabulary adds one), so JSON_LENGTH and JSON_EXTRACT
// work on it.
type Tokenize struct{ call }

// Detokenize is detokenize(model, ids): the text of a JSON array of ids.
type Detokenize struct{ call }

// CountTokens is count_tokens(model, text): how many tokens tokenize would
// return, as an integer.
type CountTokens struct{ call }

var (
	_ sql.FunctionExpression = (*Tokenize)(nil)
	_ sql.FunctionExpression = (*Detokenize)(nil)
	_ sql.FunctionExpression = (*CountTokens)(nil)
	_ sql.CollationCoercible = (*Detokenize)(nil)
)

func (t *Tokenize) Type(*sql.Context) sql.Type    { return types.JSON }
func (t *Detokenize) Type(*sql.Context) sql.Type  { return types.LongText }
func (t *CountTokens) Type(*sql.Context) sql.Type { return types.Int64 }

func (t *Tokenize) Description() string {
	return "returns the token ids of a text under a registered model, as a JSON array"
}
func (t *Detokenize) Description() string {
	return "returns the text of a JSON array of token ids under a registered model"
}
func (t *CountTokens) Description() string {
	return "returns the number of tokens of a text under a registered model"
}

// CollationCoercibility implements sql.CollationCoercible.
func (t *Detokenize) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return ctx.GetCollation(), 4
}

func (t *Tokenize) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := t.withArgs(children)
	return &Tokenize{c}, err
}

func (t *Detokenize) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := t.withArgs(children)
	return &Detokenize{c}, err
}

func (t *CountTokens) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	c, err := t.withArgs(children)
	return &CountTokens{c}, err
}

// tokens evaluates model and text and tokenizes; ok is false for NULL.
func (c *call) tokens(ctx *sql.Context, row sql.Row) (ids []int32, ok bool, err error) {
	model, ok, err := c.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return nil, false, err
	}
	text, ok, err := c.text(ctx, row, 1, "text")
	if !ok || err != nil {
		return nil, false, err
	}
	ids, err = c.backend.Tokenize(ctx, model, text)
	return ids, err == nil, err
}

func (t *Tokenize) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	ids, ok, err := t.tokens(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	arr := make([]any, len(ids))
	for i, id := range ids {
		arr[i] = int64(id)
	}
	return types.JSONDocument{Val: arr}, nil
}

func (t *CountTokens) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	ids, ok, err := t.tokens(ctx, row)
	if !ok || err != nil {
		return nil, err
	}
	return int64(len(ids)), nil
}

func (t *Detokenize) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	model, ok, err := t.text(ctx, row, 0, "model")
	if !ok || err != nil {
		return nil, err
	}
	v, err := t.arg(ctx, row, 1)
	if err != nil || v == nil {
		return nil, err
	}
	ids, err := tokenIDs(ctx, v)
	if err != nil {
		return nil, t.errorf("ids: %v", err)
	}
	text, err := t.backend.Detokenize(ctx, model, ids)
	if err != nil {
		return nil, err
	}
	return validUTF8(text), nil
}

// validUTF8 replaces each byte that is not part of valid UTF-8 with U+FFFD,
// as llama.cpp's detokenizer output reaches clients (its server's JSON,
// node-llama-cpp's strings): token ids can split a character, and a text
// value must not hold invalid UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// tokenIDs reads a JSON array of integers, given as a JSON value or as text.
func tokenIDs(ctx *sql.Context, v any) ([]int32, error) {
	var arr any
	switch x := v.(type) {
	case sql.JSONWrapper:
		var err error
		if arr, err = x.ToInterface(ctx); err != nil {
			return nil, err
		}
	default:
		text, _, err := textOf(ctx, v)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(&arr); err != nil {
			return nil, fmt.Errorf("want a JSON array of token ids such as [1, 15043]: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("want a JSON array of token ids such as [1, 15043], with nothing after it")
		}
	}
	list, ok := arr.([]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON array of token ids such as [1, 15043], got %T", arr)
	}
	ids := make([]int32, len(list))
	for i, e := range list {
		n, err := jsonInt(e)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("element %d (%v) is not a token id", i, e)
		}
		ids[i] = int32(n)
	}
	return ids, nil
}

func jsonInt(e any) (int64, error) {
	switch x := e.(type) {
	case json.Number:
		return toInt(x.String())
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("not an integer")
		}
		return int64(x), nil
	case string, bool, nil, []any, map[string]any:
		return 0, fmt.Errorf("not a number")
	}
	return toInt(e)
}
