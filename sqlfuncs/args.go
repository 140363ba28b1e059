package sqlfuncs

import (
	"context"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Argument values come in more forms than a string: go-mysql-server hands
// string and []byte; Dolt hands TEXT and BLOB values stored out of line
// (anything over a few KB) as wrappers that load on demand (sql.StringWrapper,
// sql.BytesWrapper, both sql.AnyWrapper); JSON columns and JSON functions give
// sql.JSONWrapper documents; numbers, decimals and times appear where a user
// passes them. Every function reads its arguments through arg and textOf, so
// each accepts every form on both storage modes.

// arg evaluates argument i on row and unwraps a storage wrapper, so the
// value is a plain Go value (string, []byte, a number, a JSON document...).
func (c *call) arg(ctx *sql.Context, row sql.Row, i int) (any, error) {
	v, err := c.args[i].Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	return unwrap(ctx, v)
}

// unwrap loads a value that storage handed over as a wrapper.
func unwrap(ctx context.Context, v any) (any, error) {
	if w, ok := v.(sql.AnyWrapper); ok {
		u, err := w.UnwrapAny(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading a stored value: %w", err)
		}
		return u, nil
	}
	return v, nil
}

// textOf converts v, in any form a function may receive, to text: strings
// and bytes as they are, wrappers loaded, JSON documents as MySQL prints
// them, numbers and times as CAST(v AS CHAR) would. ok is false for NULL.
func textOf(ctx context.Context, v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case []byte:
		return string(x), true, nil
	case sql.JSONWrapper:
		s, err := types.JsonToMySqlString(ctx, x)
		if err != nil {
			return "", false, err
		}
		return s, true, nil
	case sql.AnyWrapper:
		u, err := unwrap(ctx, x)
		if err != nil {
			return "", false, err
		}
		if _, again := u.(sql.AnyWrapper); again {
			return "", false, fmt.Errorf("a stored value of type %T did not unwrap", v)
		}
		return textOf(ctx, u)
	}
	s, err = types.ConvertToString(ctx, v, types.LongText, nil)
	if err != nil {
		return "", false, err
	}
	return s, true, nil
}

// texts evaluates the first len(names) arguments as text, in order,
// names[i] naming argument i in errors. ok is false, and the arguments
// after it are not evaluated, at the first NULL.
func (c *call) texts(ctx *sql.Context, row sql.Row, names ...string) (vals []string, ok bool, err error) {
	vals = make([]string, len(names))
	for i, name := range names {
		if vals[i], ok, err = c.text(ctx, row, i, name); !ok || err != nil {
			return nil, false, err
		}
	}
	return vals, true, nil
}

// text evaluates argument i as text; ok is false for NULL. what names the
// argument in errors ("prompt", "model").
func (c *call) text(ctx *sql.Context, row sql.Row, i int, what string) (s string, ok bool, err error) {
	v, err := c.args[i].Eval(ctx, row)
	if err != nil || v == nil {
		return "", false, err
	}
	s, ok, err = textOf(ctx, v)
	if err != nil {
		return "", false, c.errorf("%s: %v", what, err)
	}
	return s, ok, nil
}
