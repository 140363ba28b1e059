package sqlfuncs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/apd/v3"
	"github.com/dolthub/go-mysql-server/sql"
)

// call is what every function shares: its name, argument expressions and
// backend, and the place in the statement it was written at.
type call struct {
	name    string
	args    []sql.Expression
	backend Backend
	// site tells apart the calls written in a statement: copies the
	// planner makes of one call keep it. Two sampling calls with the same
	// arguments at different sites are independent draws (as RAND(),
	// RAND() are); copies of one call give the same answer on a row.
	site uint64
}

// sites numbers calls as the planner creates them.
var sites atomic.Uint64

// newCallAt returns a call at a new site.
func newCallAt(name string, args []sql.Expression, b Backend) call {
	return call{name: name, args: args, backend: b, site: sites.Add(1)}
}

func (c *call) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

func (c *call) Children() []sql.Expression { return c.args }

func (c *call) callBackend() Backend { return c.backend }

func (c *call) callSite() uint64 { return c.site }

// IsNullable is true: a NULL argument gives NULL.
func (c *call) IsNullable(*sql.Context) bool { return true }

func (c *call) FunctionName() string { return c.name }

func (c *call) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.String()
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}

func (c *call) withArgs(children []sql.Expression) (call, error) {
	if len(children) != len(c.args) {
		return call{}, sql.ErrInvalidChildrenNumber.New(c.name, len(children), len(c.args))
	}
	return call{name: c.name, args: children, backend: c.backend, site: c.site}, nil
}

// errorf prefixes argument errors with the function's name so a client
// sees which call of a statement failed.
func (c *call) errorf(format string, args ...any) error {
	return fmt.Errorf(c.name+": "+format, args...)
}

// toFloat converts a SQL value to float64. Strings must be numbers in full:
// MySQL's lenient "12abc" -> 12 would hide typos in options.
func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *apd.Decimal:
		return x.Float64()
	case apd.Decimal:
		return x.Float64()
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	case []byte:
		return toFloat(string(x))
	}
	return 0, fmt.Errorf("%T is not a number", v)
}

// toInt converts a SQL value to an integer, refusing fractions.
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	case []byte:
		return toInt(string(x))
	}
	f, err := toFloat(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	return int64(f), nil
}
