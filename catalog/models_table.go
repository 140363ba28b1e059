package catalog

import (
	"errors"
	"fmt"
	"sort"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/llmsql/llmsql/engine"
)

// modelsTable is llm.models.
type modelsTable struct {
	c *Catalog
}

var (
	_ sql.InsertableTable = (*modelsTable)(nil)
	_ sql.DeletableTable  = (*modelsTable)(nil)
	_ sql.UpdatableTable  = (*modelsTable)(nil)
)

var nameType = types.MustCreateStringWithDefaults(sqltypes.VarChar, 64)

func modelsColumn(name string, typ sql.Type, nullable bool) *sql.Column {
	return &sql.Column{Name: name, Type: typ, Nullable: nullable, Source: ModelsTable, DatabaseSource: DatabaseName}
}

var modelsSchema = func() sql.Schema {
	s := sql.Schema{
		modelsColumn("name", nameType, false),
		// NULL for a remote model.
		modelsColumn("path", types.LongText, true),
		modelsColumn("architecture", types.LongText, true),
		modelsColumn("parameters", types.Uint64, true),
		modelsColumn("quantization", types.LongText, true),
		modelsColumn("context_length", types.Int64, true),
		modelsColumn("vocab_size", types.Int64, true),
		modelsColumn("file_bytes", types.Int64, true),
		modelsColumn("loaded", types.Boolean, true),
		// A model registered by reference (hf://...) shows its download
		// here until it is registered, and the error if the download failed.
		modelsColumn("download_bytes", types.Int64, true),
		modelsColumn("download_total", types.Int64, true),
		modelsColumn("error", types.LongText, true),
		// What chat() and apply_chat_template() render conversations
		// with: 'gguf' (the file's template; generate() then sends its
		// prompt as the user's turn) or 'chatml fallback' (the file has
		// none; generate() sends prompts as they are).
		modelsColumn("chat_template", types.LongText, true),
		// How the model runs: positions per sequence (serve --context, or
		// the training context up to 4096) and the memory it holds loaded
		// (weights and KV cache).
		modelsColumn("context", types.Int64, true),
		modelsColumn("memory_bytes", types.Int64, true),
		// What embed() returns: the length of its vectors (a reranker's
		// number of scores) and how a text's states are pooled ('none',
		// 'mean', 'cls', 'last', 'rank'), from the file's metadata.
		modelsColumn("embed_dim", types.Int64, true),
		modelsColumn("pooling", types.LongText, true),
		// A remote model (remote.go): its servers' base URLs (several
		// separated by commas), its name there, the environment variable
		// holding the API key (never the key), the requests at once per
		// endpoint, the pacing limits (NULL: none) and the timeout of a
		// request in seconds. chat_template is 'server' or 'none' for it.
		modelsColumn("endpoint", types.LongText, true),
		modelsColumn("remote_model", types.LongText, true),
		modelsColumn("api_key_env", types.LongText, true),
		modelsColumn("max_concurrency", types.Int64, true),
		modelsColumn("requests_per_minute", types.Int64, true),
		modelsColumn("tokens_per_minute", types.Int64, true),
		modelsColumn("timeout_seconds", types.Int64, true),
	}
	s[0].PrimaryKey = true
	return s
}()

func (t *modelsTable) Name() string                   { return ModelsTable }
func (t *modelsTable) String() string                 { return DatabaseName + "." + ModelsTable }
func (t *modelsTable) Schema(*sql.Context) sql.Schema { return modelsSchema }
func (t *modelsTable) Collation() sql.CollationID     { return sql.Collation_Default }
func (t *modelsTable) Comment() string {
	return "registered models: INSERT (name, path) registers (a path hf://USER/REPO:QUANT downloads first), INSERT (name, endpoint, remote_model, ...) a remote model, DELETE unregisters"
}

func (t *modelsTable) Partitions(*sql.Context) (sql.PartitionIter, error) { return partitions(), nil }

func (t *modelsTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	models := t.c.reg.Models()
	origin := t.c.origins()
	rows := make([]sql.Row, 0, len(models))
	for _, m := range models {
		loaded := int8(0)
		if m.Loaded {
			loaded = 1
		}
		var path any = m.Path
		if ref, ok := origin[m.Name]; ok {
			path = ref // as registered; the file is in the models directory
		}
		var tmpl any
		if m.ChatTemplate != "" {
			tmpl = m.ChatTemplate
		}
		var pooling any
		if m.Pooling != "" {
			pooling = m.Pooling
		}
		row := sql.Row{m.Name, path, m.Architecture, m.Parameters, m.Quantization,
			int64(m.ContextLength), int64(m.VocabSize), m.FileBytes, loaded, nil, nil, nil, tmpl,
			nullIfZero(int64(m.Context)), nullIfZero(m.MemoryBytes), nullIfZero(int64(m.EmbedDim)), pooling}
		if m.Remote != nil {
			// No file: no path and none of the file's columns.
			row = sql.Row{m.Name, nil, nil, nil, nil, nil, nil, nil, loaded, nil, nil, nil, tmpl, nil, nil, nil, nil}
		}
		rows = append(rows, append(row, remoteColumns(m)...))
	}
	for _, d := range t.c.Downloading() {
		var total, errText any
		if d.Total >= 0 {
			total = d.Total
		}
		if d.Err != nil {
			errText = d.Err.Error()
		}
		row := sql.Row{d.Name, d.Ref, nil, nil, nil, nil, nil, nil, int8(0), d.Done, total, errText, nil, nil, nil, nil, nil}
		rows = append(rows, append(row, remoteColumns(engine.ModelInfo{})...))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i][0].(string) < rows[j][0].(string) })
	return &rowsIter{rows: rows}, nil
}

func (t *modelsTable) Inserter(*sql.Context) sql.RowInserter { return &modelsEditor{c: t.c} }
func (t *modelsTable) Deleter(*sql.Context) sql.RowDeleter   { return &modelsEditor{c: t.c} }
func (t *modelsTable) Updater(*sql.Context) sql.RowUpdater   { return &modelsEditor{c: t.c} }

// modelsEditor registers and unregisters as rows arrive, and undoes the
// statement's changes if the statement fails.
type modelsEditor struct {
	c    *Catalog
	undo []func()
}

func (e *modelsEditor) StatementBegin(*sql.Context) { e.undo = nil }

func (e *modelsEditor) DiscardChanges(*sql.Context, error) error {
	for i := len(e.undo) - 1; i >= 0; i-- {
		e.undo[i]()
	}
	e.undo = nil
	return nil
}

func (e *modelsEditor) StatementComplete(*sql.Context) error {
	e.undo = nil
	return nil
}

func (e *modelsEditor) Close(*sql.Context) error { return nil }

// nullIfZero shows an unknown (zero) size as NULL.
func nullIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// ContextWarning says, for a model that runs past the context it was
// trained on (serve --context), that its output there is unreliable; ""
// otherwise.
func ContextWarning(info engine.ModelInfo) string {
	if info.ContextLength > 0 && info.Context > info.ContextLength {
		return fmt.Sprintf("model '%s' runs with a context of %d positions, above the %d it was trained on: what it generates past %d positions is unreliable",
			info.Name, info.Context, info.ContextLength, info.ContextLength)
	}
	return ""
}

func (e *modelsEditor) Insert(ctx *sql.Context, row sql.Row) error {
	if len(row) != len(modelsSchema) {
		return fmt.Errorf("%s: got %d values for %d columns", ModelsTable, len(row), len(modelsSchema))
	}
	name, ok1 := row[0].(string)
	path, ok2 := row[1].(string)
	if ok1 && row[1] == nil && row[remoteColumn] != nil {
		return e.insertRemote(ctx, name, row)
	}
	if !ok1 || !ok2 {
		return fmt.Errorf("INSERT INTO %s.%s needs a name and a path, e.g. (name, path) VALUES ('llama', '/models/llama.gguf'), or a name and an endpoint for a remote model", DatabaseName, ModelsTable)
	}
	for i := 2; i < len(row); i++ {
		if row[i] != nil {
			return fmt.Errorf("%s.%s: only name and path can be set; %s is read from the model file", DatabaseName, ModelsTable, modelsSchema[i].Name)
		}
	}
	if err := e.c.checkSQLPath(path); err != nil {
		return err
	}
	info, err := e.c.Register(name, path, true)
	if err != nil {
		return duplicateEntry(err, name)
	}
	if msg := ContextWarning(info); msg != "" && ctx != nil && ctx.Session != nil {
		ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: mysql.ERUnknownError, Message: msg})
	}
	e.undo = append(e.undo, func() { _ = e.c.Unregister(name) })
	return nil
}

// duplicateEntry gives a name that is taken MySQL's error for a duplicate
// key (1062, SQLSTATE 23000), saying how to point the name elsewhere.
func duplicateEntry(err error, name string) error {
	if !errors.Is(err, engine.ErrDuplicateModel) {
		return err
	}
	return mysql.NewSQLError(mysql.ERDupEntry, mysql.SSConstraintViolation,
		"Duplicate entry '%s' for key 'models.PRIMARY': %v; to point it at another file, UPDATE %s.%s SET path = '...' WHERE name = '%s'",
		name, err, DatabaseName, ModelsTable, name)
}

// Update re-registers a model whose name or path changes: the model is
// read from its (new) file as INSERT would. Other columns describe the
// file and cannot be set.
func (e *modelsEditor) Update(ctx *sql.Context, old, row sql.Row) error {
	if len(row) != len(modelsSchema) || len(old) != len(modelsSchema) {
		return fmt.Errorf("%s: got %d values for %d columns", ModelsTable, len(row), len(modelsSchema))
	}
	for i := 2; i < len(row); i++ {
		if fmt.Sprint(row[i]) != fmt.Sprint(old[i]) {
			return fmt.Errorf("%s.%s: only name and path can be set; %s is read from the model file", DatabaseName, ModelsTable, modelsSchema[i].Name)
		}
	}
	oldName, _ := old[0].(string)
	oldPath, _ := old[1].(string)
	name, ok1 := row[0].(string)
	path, ok2 := row[1].(string)
	if !ok1 || !ok2 || name == "" || path == "" {
		return fmt.Errorf("%s.%s: name and path cannot be empty", DatabaseName, ModelsTable)
	}
	if name == oldName && path == oldPath {
		return nil
	}
	if path != oldPath {
		if err := e.c.checkSQLPath(path); err != nil {
			return err
		}
	}
	persisted := e.c.Saved(oldName)
	if err := e.c.Unregister(oldName); err != nil {
		return err
	}
	info, err := e.c.Register(name, path, persisted)
	if err != nil {
		_, _ = e.c.Register(oldName, oldPath, persisted)
		return duplicateEntry(err, name)
	}
	if msg := ContextWarning(info); msg != "" && ctx != nil && ctx.Session != nil {
		ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: mysql.ERUnknownError, Message: msg})
	}
	e.undo = append(e.undo, func() {
		_ = e.c.Unregister(name)
		_, _ = e.c.Register(oldName, oldPath, persisted)
	})
	return nil
}

func (e *modelsEditor) Delete(_ *sql.Context, row sql.Row) error {
	name, _ := row[0].(string)
	path, _ := row[1].(string)
	persisted := e.c.Saved(name)
	reg, remote := e.c.remoteRegistration(name)
	if err := e.c.Unregister(name); err != nil {
		return err
	}
	if remote {
		e.undo = append(e.undo, func() { _, _ = e.c.RegisterRemote(reg, persisted) })
		return nil
	}
	e.undo = append(e.undo, func() { _, _ = e.c.Register(name, path, persisted) })
	return nil
}
