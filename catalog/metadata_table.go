package catalog

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/llmsql/llmsql/engine/gguf"
)

// MaxArrayItems is the longest metadata array shown in full; longer ones
// (vocabularies, merges) are shown as "[N items]".
const MaxArrayItems = 16

// metadataTable is llm.<model>: one row per GGUF metadata key.
type metadataTable struct {
	c     *Catalog
	model string
}

var _ sql.Table = (*metadataTable)(nil)

var (
	keyType     = types.MustCreateStringWithDefaults(sqltypes.VarChar, 255)
	typeNameTyp = types.MustCreateStringWithDefaults(sqltypes.VarChar, 32)
)

func (t *metadataTable) Name() string   { return t.model }
func (t *metadataTable) String() string { return DatabaseName + "." + t.model }

func (t *metadataTable) Schema(*sql.Context) sql.Schema {
	col := func(name string, typ sql.Type) *sql.Column {
		return &sql.Column{Name: name, Type: typ, Source: t.model, DatabaseSource: DatabaseName}
	}
	s := sql.Schema{col("key", keyType), col("type", typeNameTyp), col("value", types.LongText)}
	s[0].PrimaryKey = true
	return s
}

func (t *metadataTable) Collation() sql.CollationID { return sql.Collation_Default }
func (t *metadataTable) Comment() string            { return "GGUF metadata of model " + t.model }

func (t *metadataTable) Partitions(*sql.Context) (sql.PartitionIter, error) { return partitions(), nil }

func (t *metadataTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	kvs, err := t.c.reg.Metadata(t.model)
	if err != nil {
		return nil, err
	}
	rows := make([]sql.Row, len(kvs))
	for i, kv := range kvs {
		rows[i] = sql.Row{kv.Key, TypeName(kv.Value), Render(kv.Value)}
	}
	return &rowsIter{rows: rows}, nil
}

// TypeName names a metadata value's type: "u32", "string", ...,
// "array[string]".
func TypeName(v gguf.Value) string {
	if a := v.Array(); a != nil {
		return v.Type.String() + "[" + a.Elem.String() + "]"
	}
	return v.Type.String()
}

// Render shows a metadata value: strings as they are, numbers in full,
// arrays of up to MaxArrayItems elements in full and longer ones as
// "[N items]".
func Render(v gguf.Value) string {
	if s, ok := v.Any().(string); ok {
		return s
	}
	return v.Format(MaxArrayItems)
}
