package sqlfuncs

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql/types"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

// extract() guarantees JSON that validates against its schema. The grammar
// does most of it: the reply is generated under the schema's grammar, so
// it has the schema's shape, and its text has the characters the grammar
// matched (textout.Stream.GrammarUTF8). The reply is then validated with a
// JSON Schema validator (santhosh-tekuri/jsonschema), so that a difference
// between the grammar and the schema's meaning fails the row (NULL with a
// warning under on_error 'null') rather than returning a document that
// does not validate. So does a number too large for SQL's JSON type (the
// grammar, like JSON, allows any exponent).

// checkReply returns reply if it validates against schema, else a RowError
// saying why.
func checkReply(schema, reply string) (string, error) {
	s, err := compiledSchema(schema)
	if err != nil {
		return "", err
	}
	doc, err := validator.UnmarshalJSON(strings.NewReader(reply))
	if err != nil {
		return "", &RowError{fmt.Errorf("the reply is not JSON: %v", err)}
	}
	if err := s.Validate(doc); err != nil {
		msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
		return "", &RowError{fmt.Errorf("the reply does not validate against the schema: %s", msg)}
	}
	// JSON allows numbers a JSON value in SQL (a float64) cannot hold.
	if _, _, err := types.JSON.Convert(context.Background(), reply); err != nil {
		return "", &RowError{fmt.Errorf("the reply is JSON that SQL's JSON type cannot hold: %v", err)}
	}
	return reply, nil
}

// schemas caches compiled validators by schema text: the rows of a
// statement share one.
var schemas struct {
	sync.Mutex
	m map[string]*validator.Schema
}

// maxSchemas bounds the cache; past it, it starts again.
const maxSchemas = 64

// compiledSchema returns schema compiled for validation. References are
// resolved within the schema only: nothing is loaded from files or the
// network.
func compiledSchema(schema string) (*validator.Schema, error) {
	schemas.Lock()
	s := schemas.m[schema]
	schemas.Unlock()
	if s != nil {
		return s, nil
	}
	doc, err := validator.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	c := validator.NewCompiler()
	c.UseLoader(noLoader{})
	const url = "llmsql:///schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	if s, err = c.Compile(url); err != nil {
		return nil, err
	}
	schemas.Lock()
	if len(schemas.m) >= maxSchemas || schemas.m == nil {
		schemas.m = map[string]*validator.Schema{}
	}
	schemas.m[schema] = s
	schemas.Unlock()
	return s, nil
}

// noLoader refuses every reference outside the schema.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references outside the schema are not loaded (%s)", url)
}
