package sqlfuncs

import (
	"math"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// BatchSizeVariable is the system variable holding how many rows the
// batching hook reads ahead and generates for at once; 0 turns the
// read-ahead off (each call then runs when its row is evaluated, still once
// per row).
const BatchSizeVariable = "llm_batch_size"

// DefaultBatchSize is @@llm_batch_size's default.
const DefaultBatchSize = 64

// MaxBatchSize bounds @@llm_batch_size.
const MaxBatchSize = 4096

var registerOnce sync.Once

// RegisterVariables adds the functions' system variables (session and
// global) to go-mysql-server's: @@llm_batch_size, @@llm_on_error,
// @@llm_max_tokens_per_statement and @@llm_max_tokens_per_session.
// Sessions created before it take the defaults. Register and
// EnableBatching call it.
func RegisterVariables() {
	registerOnce.Do(func() {
		both := sql.GetMysqlScope(sql.SystemVariableScope_Both)
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
			&sql.MysqlSystemVariable{
				Name:    BatchSizeVariable,
				Scope:   both,
				Dynamic: true,
				Type:    types.NewSystemIntType(BatchSizeVariable, 0, MaxBatchSize, false),
				Default: int64(DefaultBatchSize),
			},
			&sql.MysqlSystemVariable{
				Name:    OnErrorVariable,
				Scope:   both,
				Dynamic: true,
				Type:    types.NewSystemEnumType(OnErrorVariable, OnErrorNull, OnErrorError),
				Default: OnErrorNull,
			},
			&sql.MysqlSystemVariable{
				Name:    MaxTokensPerStatementVariable,
				Scope:   both,
				Dynamic: true,
				Type:    types.NewSystemIntType(MaxTokensPerStatementVariable, 0, math.MaxInt64, false),
				Default: int64(0),
			},
			&sql.MysqlSystemVariable{
				Name:    MaxTokensPerSessionVariable,
				Scope:   both,
				Dynamic: true,
				Type:    types.NewSystemIntType(MaxTokensPerSessionVariable, 0, math.MaxInt64, false),
				Default: int64(0),
			},
		})
	})
}

// batchSize reads @@llm_batch_size for ctx's session.
func batchSize(ctx *sql.Context) int {
	if ctx.Session == nil {
		return DefaultBatchSize
	}
	v, err := ctx.GetSessionVariable(ctx, BatchSizeVariable)
	if err != nil || v == nil {
		return DefaultBatchSize
	}
	n, err := toInt(v)
	if err != nil || n < 0 {
		return DefaultBatchSize
	}
	return int(min(n, MaxBatchSize))
}
