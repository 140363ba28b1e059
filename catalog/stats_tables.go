package catalog

import (
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/sqlfuncs"
)

// Names of the catalog's report tables. Like ModelsTable, they cannot be
// used as model names.
const (
	UsageTable    = "usage"
	CacheTable    = "cache"
	ProgressTable = "progress"
)

// Accounting is what llm.usage and llm.cache report and what
// @@llm_result_cache switches. *engine.Pool satisfies it; a Registry
// without it shows empty tables.
type Accounting interface {
	Usage() []engine.Usage
	CacheStats() engine.CacheStats
	SetResultCache(on bool)
}

// ProgressSource lists the running generate() queries for llm.progress.
// *sqlfuncs.Tracker satisfies it.
type ProgressSource interface {
	Running() []sqlfuncs.QueryProgress
}

// SetProgress makes llm.progress show src's queries.
func (c *Catalog) SetProgress(src ProgressSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.progress = src
}

func (c *Catalog) progressSource() ProgressSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progress
}

func (c *Catalog) accounting() (Accounting, bool) {
	a, ok := c.reg.(Accounting)
	return a, ok
}

// reportTable is a read-only table whose rows are computed at scan time.
type reportTable struct {
	name    string
	comment string
	schema  sql.Schema
	rows    func() []sql.Row
}

var _ sql.Table = (*reportTable)(nil)

func (t *reportTable) Name() string                   { return t.name }
func (t *reportTable) String() string                 { return DatabaseName + "." + t.name }
func (t *reportTable) Schema(*sql.Context) sql.Schema { return t.schema }
func (t *reportTable) Collation() sql.CollationID     { return sql.Collation_Default }
func (t *reportTable) Comment() string                { return t.comment }

func (t *reportTable) Partitions(*sql.Context) (sql.PartitionIter, error) { return partitions(), nil }

func (t *reportTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	return &rowsIter{rows: t.rows()}, nil
}

func reportSchema(table string, pk int, cols ...*sql.Column) sql.Schema {
	for i, c := range cols {
		c.Source, c.DatabaseSource = table, DatabaseName
		c.PrimaryKey = i == pk
		c.Nullable = i != pk
	}
	return cols
}

var queryTextType = types.MustCreateStringWithDefaults(sqltypes.VarChar, sqlfuncs.MaxProgressQuery)

var (
	usageSchema = reportSchema(UsageTable, 0,
		&sql.Column{Name: "model", Type: nameType},
		&sql.Column{Name: "calls", Type: types.Int64},
		&sql.Column{Name: "cache_hits", Type: types.Int64},
		&sql.Column{Name: "prompt_tokens", Type: types.Int64},
		&sql.Column{Name: "generated_tokens", Type: types.Int64},
	)
	cacheSchema = reportSchema(CacheTable, -1,
		&sql.Column{Name: "hits", Type: types.Int64},
		&sql.Column{Name: "misses", Type: types.Int64},
		&sql.Column{Name: "entries", Type: types.Int64},
		&sql.Column{Name: "bytes", Type: types.Int64},
		&sql.Column{Name: "enabled", Type: types.Boolean},
	)
	progressSchema = reportSchema(ProgressTable, 1,
		&sql.Column{Name: "connection_id", Type: types.Uint32},
		&sql.Column{Name: "query_id", Type: types.Uint64},
		&sql.Column{Name: "query", Type: queryTextType},
		&sql.Column{Name: "rows_submitted", Type: types.Int64},
		&sql.Column{Name: "rows_done", Type: types.Int64},
		&sql.Column{Name: "tokens_generated", Type: types.Int64},
		&sql.Column{Name: "tokens_per_s", Type: types.Float64},
		&sql.Column{Name: "started", Type: types.DatetimeMaxPrecision},
		&sql.Column{Name: "chunks_submitted", Type: types.Int64},
		&sql.Column{Name: "chunks_done", Type: types.Int64},
		&sql.Column{Name: "levels", Type: types.Int64},
	)
)

// reportTable returns the report table called lower, if there is one.
func (c *Catalog) reportTable(lower string) (*reportTable, bool) {
	switch lower {
	case UsageTable:
		return &reportTable{UsageTable, "generate() calls and tokens per model since the server started", usageSchema, c.usageRows}, true
	case CacheTable:
		return &reportTable{CacheTable, "the result cache of deterministic generate() calls; SET GLOBAL llm_result_cache = ON|OFF", cacheSchema, c.cacheRows}, true
	case ProgressTable:
		return &reportTable{ProgressTable, "running queries that call generate()", progressSchema, c.progressRows}, true
	case EndpointsTable:
		return &reportTable{EndpointsTable, "the endpoints of remote models: requests in flight, sent, failed and retried; rested_until when resting after failures", endpointsSchema, c.endpointRows}, true
	}
	return nil, false
}

func (c *Catalog) usageRows() []sql.Row {
	a, ok := c.accounting()
	if !ok {
		return nil
	}
	var rows []sql.Row
	for _, u := range a.Usage() {
		rows = append(rows, sql.Row{u.Model, u.Calls, u.CacheHits, u.PromptTokens, u.GeneratedTokens})
	}
	return rows
}

func (c *Catalog) cacheRows() []sql.Row {
	a, ok := c.accounting()
	if !ok {
		return nil
	}
	st := a.CacheStats()
	enabled := int8(0)
	if st.Enabled {
		enabled = 1
	}
	return []sql.Row{{st.Hits, st.Misses, int64(st.Entries), st.Bytes, enabled}}
}

func (c *Catalog) progressRows() []sql.Row {
	src := c.progressSource()
	if src == nil {
		return nil
	}
	var rows []sql.Row
	for _, q := range src.Running() {
		rows = append(rows, sql.Row{q.ConnectionID, q.QueryID, q.Query, q.RowsSubmitted, q.RowsDone,
			q.TokensGenerated, q.TokensPerSecond, q.Started.UTC().Truncate(time.Microsecond),
			q.ChunksSubmitted, q.ChunksDone, q.Levels})
	}
	return rows
}
