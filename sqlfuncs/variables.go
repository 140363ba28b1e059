package sqlfuncs

import (
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

// RegisterVariables adds @@llm_batch_size (session and global) to
// go-mysql-server's system variables. Sessions created before it take the
// default. EnableBatching calls it.
func RegisterVariables() {
	registerOnce.Do(func() {
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{&sql.MysqlSystemVariable{
			Name:    BatchSizeVariable,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemIntType(BatchSizeVariable, 0, MaxBatchSize, false),
			Default: int64(DefaultBatchSize),
		}})
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
