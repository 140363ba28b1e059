// Package catalog is the `llm` database that llmsql shows beside the user's
// databases: the table llm.models lists the registered models (INSERT
// registers one, DELETE unregisters it) and every registered model is also
// a table of its GGUF metadata. llm.usage, llm.cache and llm.progress report
// per-model totals, the result cache and the running generate() queries.
// It works over any Registry (an *engine.Pool, or a fake in tests) and in
// any go-mysql-server provider.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/hub"
)

// DatabaseName is the name of the catalog database.
const DatabaseName = "llm"

// ModelsTable is the name of the table of registered models.
const ModelsTable = "models"

// Registry is the model registry the catalog shows and edits.
// *engine.Pool satisfies it.
type Registry interface {
	Register(name, path string) (engine.ModelInfo, error)
	Unregister(name string) error
	Models() []engine.ModelInfo
	Metadata(name string) ([]gguf.KV, error)
}

// Registration is a model registered through SQL, as a Store keeps it.
type Registration struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"` // empty for a remote model
	RemoteFields
}

// Store keeps the registrations made through SQL across restarts.
type Store interface {
	Load() ([]Registration, error)
	Save([]Registration) error
}

// Catalog couples a Registry with the Store that remembers the
// registrations made through SQL. Registrations made with Register(...,
// false) (command-line flags) last for the run only.
type Catalog struct {
	reg   Registry
	store Store // nil: nothing persists

	mu    sync.Mutex
	saved map[string]string // name -> path, as the store holds them
	// Remote models (remote.go): the saved registrations and the factory
	// of their clients (nil: none can be registered).
	savedRemote map[string]Registration
	remotes     Remotes
	progress    ProgressSource // what llm.progress shows; nil shows nothing

	// Registrations by reference (downloads.go).
	fetch     Downloads
	downloads map[string]*download // name -> download not yet registered
	origin    map[string]string    // name -> the reference a downloaded model was registered with
	base      context.Context      // parent of the downloads' contexts
	stop      context.CancelFunc   // ends base (Close)
	running   sync.WaitGroup

	// pathsIn, if set, is the only directory SQL may register files from
	// (RestrictPaths).
	pathsIn string
}

// RestrictPaths makes registrations through SQL (INSERT and UPDATE on
// llm.models) accept only files inside dir (links followed) and downloads,
// which land there: on a shared server, SQL users cannot have the server
// open files elsewhere.
func (c *Catalog) RestrictPaths(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pathsIn = dir
}

// checkSQLPath refuses a path SQL may not register.
func (c *Catalog) checkSQLPath(path string) error {
	c.mu.Lock()
	dir := c.pathsIn
	c.mu.Unlock()
	return pathAllowed(dir, path)
}

// pathAllowed refuses a path outside dir (links followed); "" allows all.
func pathAllowed(dir, path string) error {
	if dir == "" || hub.IsRef(path) {
		return nil
	}
	deny := fmt.Errorf("model files must be in the models directory %s on this server (serve --allow-any-model-path=false)", dir)
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return deny
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return deny
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return deny
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return deny
	}
	return nil
}

// New returns a catalog over reg. With a nil store, SQL registrations last
// for the run only.
func New(reg Registry, store Store) *Catalog {
	return &Catalog{reg: reg, store: store, saved: map[string]string{}, savedRemote: map[string]Registration{}}
}

// RestoreError is a saved registration that could not be registered again
// at startup. It stays saved, so a model whose file comes back is
// registered at the next start; registering the name again through SQL
// replaces it.
type RestoreError struct {
	Registration
	Err error
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("saved model '%s' (%s) not registered: %v", e.Name, e.Path, e.Err)
}

func (e *RestoreError) Unwrap() error { return e.Err }

// Restore registers the models the store holds. Names already registered
// (for example by a command-line flag) are skipped: the registration made
// for this run wins. It returns the models registered and one
// *RestoreError per model that failed; err is set only if the store
// cannot be read.
func (c *Catalog) Restore() (restored []engine.ModelInfo, failed []error, err error) {
	if c.store == nil {
		return nil, nil, nil
	}
	regs, err := c.store.Load()
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	present := map[string]bool{}
	for _, m := range c.reg.Models() {
		present[m.Name] = true
	}
	for _, r := range regs {
		if r.Endpoint != "" {
			c.savedRemote[r.Name] = r
			if present[r.Name] {
				continue
			}
			c.mu.Unlock()
			info, err := c.RegisterRemote(r, false)
			c.mu.Lock()
			if err != nil {
				failed = append(failed, &RestoreError{r, err})
				continue
			}
			restored = append(restored, info)
			continue
		}
		c.saved[r.Name] = r.Path
		if present[r.Name] {
			continue
		}
		// A registration saved by an earlier run without
		// --allow-any-model-path=false came from SQL too: the restriction
		// holds for it. It stays saved for a run without the restriction.
		if err := pathAllowed(c.pathsIn, r.Path); err != nil {
			failed = append(failed, &RestoreError{r, err})
			continue
		}
		if hub.IsRef(r.Path) && c.fetch.Fetch != nil {
			// Fetched (or found complete in the models directory) in the
			// background; Downloads.Done hears when it is registered.
			if _, busy := c.downloads[r.Name]; !busy {
				c.startLocked(r.Name, r.Path)
			}
			continue
		}
		info, err := c.reg.Register(r.Name, r.Path)
		if err != nil {
			failed = append(failed, &RestoreError{r, err})
			continue
		}
		restored = append(restored, info)
	}
	return restored, failed, nil
}

// Register registers a model. With persist, the registration is saved and
// comes back at the next start. Relative paths are made absolute, so the
// saved registration does not depend on the working directory.
func (c *Catalog) Register(name, path string, persist bool) (engine.ModelInfo, error) {
	if reserved(name) {
		return engine.ModelInfo{}, fmt.Errorf("the model name '%s' is reserved for the table %s.%s; choose another", name, DatabaseName, strings.ToLower(name))
	}
	if path == "" {
		return engine.ModelInfo{}, fmt.Errorf("model '%s': the path is empty", name)
	}
	if hub.IsRef(path) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.registerRefLocked(name, path, persist)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.downloads[name]; dup {
		return engine.ModelInfo{}, engine.DuplicateModelError(name)
	}
	info, err := c.reg.Register(name, path)
	if err != nil {
		return engine.ModelInfo{}, err
	}
	if !persist || c.store == nil {
		return info, nil
	}
	prev, had := c.saved[name]
	c.saved[name] = path
	if err := c.saveLocked(); err != nil {
		if had {
			c.saved[name] = prev
		} else {
			delete(c.saved, name)
		}
		_ = c.reg.Unregister(name)
		return engine.ModelInfo{}, err
	}
	return info, nil
}

// Unregister removes a model and forgets its saved registration, if any.
func (c *Catalog) Unregister(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if !c.unregisterDownloadLocked(name) {
		err = c.reg.Unregister(name)
		delete(c.origin, name)
	}
	path, had := c.saved[name]
	rem, hadRemote := c.savedRemote[name]
	if !had && !hadRemote {
		return err
	}
	delete(c.saved, name)
	delete(c.savedRemote, name)
	if serr := c.saveLocked(); serr != nil {
		if had {
			c.saved[name] = path
		}
		if hadRemote {
			c.savedRemote[name] = rem
		}
		return errors.Join(err, serr)
	}
	// A saved model that failed to restore is not in the registry; forgetting
	// it is still a success.
	if errors.Is(err, engine.ErrUnknownModel) {
		return nil
	}
	return err
}

// Saved reports whether name has a saved registration.
func (c *Catalog) Saved(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.saved[name]
	_, remote := c.savedRemote[name]
	return ok || remote
}

func (c *Catalog) saveLocked() error {
	if c.store == nil {
		return nil
	}
	regs := make([]Registration, 0, len(c.saved))
	for n, p := range c.saved {
		regs = append(regs, Registration{Name: n, Path: p})
	}
	for _, r := range c.savedRemote {
		regs = append(regs, r)
	}
	sort.Slice(regs, func(i, j int) bool { return regs[i].Name < regs[j].Name })
	if err := c.store.Save(regs); err != nil {
		return fmt.Errorf("saving the model registrations: %w", err)
	}
	return nil
}

// reserved reports whether name is one of the catalog's own tables.
func reserved(name string) bool {
	switch strings.ToLower(name) {
	case ModelsTable, UsageTable, CacheTable, ProgressTable, EndpointsTable:
		return true
	}
	return false
}

// Database returns the `llm` database to add to a go-mysql-server
// provider.
func (c *Catalog) Database() sql.Database { return &database{c} }

// model returns the registered model called name, preferring an exact
// match to a case-insensitive one (SQL table names are case-insensitive;
// model names are not).
func (c *Catalog) model(name string) (engine.ModelInfo, bool) {
	var folded []engine.ModelInfo
	for _, m := range c.reg.Models() {
		if m.Name == name {
			return m, true
		}
		if strings.EqualFold(m.Name, name) {
			folded = append(folded, m)
		}
	}
	if len(folded) == 1 {
		return folded[0], true
	}
	return engine.ModelInfo{}, false
}
