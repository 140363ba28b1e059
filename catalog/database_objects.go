package catalog

import (
	"fmt"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// The llm database holds no views, triggers, procedures or events. It
// still implements those interfaces, answering "none": when accounts are
// enabled, go-mysql-server wraps every database in a PrivilegedDatabase
// that reports an error (for example "database 'llm' doesn't support
// views") for each interface the wrapped database lacks, and it asks for
// views while resolving any table name.

var (
	_ sql.ViewDatabase            = (*database)(nil)
	_ sql.TriggerDatabase         = (*database)(nil)
	_ sql.StoredProcedureDatabase = (*database)(nil)
	_ sql.EventDatabase           = (*database)(nil)
	_ sql.CollatedDatabase        = (*database)(nil)
)

func errNoObjects(what string) error {
	return fmt.Errorf("the %s database is built in and cannot hold %s", DatabaseName, what)
}

func (d *database) CreateView(*sql.Context, string, string, string) error {
	return errNoObjects("views")
}
func (d *database) DropView(_ *sql.Context, name string) error {
	return sql.ErrViewDoesNotExist.New(DatabaseName, name)
}
func (d *database) GetViewDefinition(*sql.Context, string) (sql.ViewDefinition, bool, error) {
	return sql.ViewDefinition{}, false, nil
}
func (d *database) AllViews(*sql.Context) ([]sql.ViewDefinition, error) { return nil, nil }

func (d *database) GetTriggers(*sql.Context) ([]sql.TriggerDefinition, error) { return nil, nil }
func (d *database) CreateTrigger(*sql.Context, sql.TriggerDefinition) error {
	return errNoObjects("triggers")
}
func (d *database) DropTrigger(_ *sql.Context, name string) error {
	return sql.ErrTriggerDoesNotExist.New(name)
}

func (d *database) GetStoredProcedure(*sql.Context, string) (sql.StoredProcedureDetails, bool, error) {
	return sql.StoredProcedureDetails{}, false, nil
}
func (d *database) GetStoredProcedures(*sql.Context) ([]sql.StoredProcedureDetails, error) {
	return nil, nil
}
func (d *database) SaveStoredProcedure(*sql.Context, sql.StoredProcedureDetails) error {
	return errNoObjects("stored procedures")
}
func (d *database) DropStoredProcedure(_ *sql.Context, name string) error {
	return sql.ErrStoredProcedureDoesNotExist.New(name)
}

func (d *database) GetEvent(*sql.Context, string) (sql.EventDefinition, bool, error) {
	return sql.EventDefinition{}, false, nil
}
func (d *database) GetEvents(*sql.Context) ([]sql.EventDefinition, interface{}, error) {
	return nil, nil, nil
}
func (d *database) SaveEvent(*sql.Context, sql.EventDefinition) (bool, error) {
	return false, errNoObjects("events")
}
func (d *database) DropEvent(_ *sql.Context, name string) error {
	return sql.ErrEventDoesNotExist.New(name)
}
func (d *database) UpdateEvent(*sql.Context, string, sql.EventDefinition) (bool, error) {
	return false, errNoObjects("events")
}
func (d *database) UpdateLastExecuted(*sql.Context, string, time.Time) error { return nil }
func (d *database) NeedsToReloadEvents(*sql.Context, interface{}) (bool, error) {
	return false, nil
}

func (d *database) GetCollation(*sql.Context) sql.CollationID { return sql.Collation_Default }
func (d *database) SetCollation(*sql.Context, sql.CollationID) error {
	return fmt.Errorf("the %s database is built in; its collation cannot be changed", DatabaseName)
}
