package catalog

import (
	"fmt"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// ResultCacheVariable is the global system variable that turns the result
// cache on and off.
const ResultCacheVariable = "llm_result_cache"

var (
	cacheVarMu     sync.Mutex
	cacheVarTarget *Catalog
)

// RegisterVariables adds @@llm_result_cache (global, ON by default) to
// go-mysql-server's system variables; setting it switches the result cache
// of this catalog's registry. go-mysql-server keeps system variables per
// process, so the catalog registered last is the one switched. Registering
// resets the variable to ON, and the registry's cache with it.
func (c *Catalog) RegisterVariables() error {
	a, ok := c.accounting()
	if !ok {
		return fmt.Errorf("catalog: the registry has no result cache to switch")
	}
	cacheVarMu.Lock()
	cacheVarTarget = c
	cacheVarMu.Unlock()
	a.SetResultCache(true)
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{&sql.MysqlSystemVariable{
		Name:    ResultCacheVariable,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
		Dynamic: true,
		Type:    types.NewSystemBoolType(ResultCacheVariable),
		Default: int8(1),
		// Called with go-mysql-server's variable lock held: it must not
		// make a context (that reads the variables).
		NotifyChanged: func(ctx *sql.Context, _ sql.SystemVariableScope, v sql.SystemVarValue) error {
			on, err := sql.ConvertToBool(ctx, v.Val)
			if err != nil {
				return err
			}
			cacheVarMu.Lock()
			target := cacheVarTarget
			cacheVarMu.Unlock()
			if a, ok := target.accounting(); ok {
				a.SetResultCache(on)
			}
			return nil
		},
	}})
	return nil
}
