package catalog

import (
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// database is the `llm` database: the models table and one metadata table
// per registered model, listed afresh on every lookup so registrations
// show at once.
type database struct {
	c *Catalog
}

var _ sql.Database = (*database)(nil)

func (d *database) Name() string { return DatabaseName }

func (d *database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	if strings.EqualFold(name, ModelsTable) {
		return &modelsTable{d.c}, true, nil
	}
	if t, ok := d.c.reportTable(strings.ToLower(name)); ok {
		return t, true, nil
	}
	if m, ok := d.c.model(name); ok {
		return &metadataTable{c: d.c, model: m.Name}, true, nil
	}
	return nil, false, nil
}

func (d *database) GetTableNames(*sql.Context) ([]string, error) {
	names := []string{ModelsTable, UsageTable, CacheTable, ProgressTable, EndpointsTable}
	for _, m := range d.c.reg.Models() {
		names = append(names, m.Name)
	}
	return names, nil
}

// onePartition is the single partition of the catalog's tables.
type onePartition struct{}

func (onePartition) Key() []byte { return []byte("all") }

func partitions() sql.PartitionIter { return sql.PartitionsToPartitionIter(onePartition{}) }

// rowsIter returns rows built when the scan starts.
type rowsIter struct {
	rows []sql.Row
	i    int
}

func (it *rowsIter) Next(*sql.Context) (sql.Row, error) {
	if it.i >= len(it.rows) {
		return nil, io.EOF
	}
	it.i++
	return it.rows[it.i-1], nil
}

func (it *rowsIter) Close(*sql.Context) error { return nil }
