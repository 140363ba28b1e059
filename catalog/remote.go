package catalog

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/llmsql/llmsql/engine"
)

// Remote models are registered with an endpoint instead of a path:
//
//	INSERT INTO llm.models (name, endpoint, remote_model, api_key_env, max_concurrency)
//	VALUES ('big', 'http://gpu-1:8000/v1,http://gpu-2:8000/v1', 'Qwen/Qwen3-32B', 'VLLM_KEY', 64)
//
// The key is read from the named environment variable of the server
// process (by the Remotes factory the program gives), never stored.

// RemoteRegistry is a Registry that also runs remote models.
// *engine.Pool satisfies it.
type RemoteRegistry interface {
	RegisterRemote(name string, spec engine.RemoteSpec, m engine.RemoteModel) (engine.ModelInfo, error)
	Endpoints() []engine.EndpointStats
}

// Remotes makes the client of a remote model (package remote's, with the
// API key read from spec.APIKeyEnv).
type Remotes func(name string, spec engine.RemoteSpec) (engine.RemoteModel, error)

// SetRemotes enables remote registrations.
func (c *Catalog) SetRemotes(f Remotes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remotes = f
}

// EndpointsTable is llm.endpoints: the remote models' endpoints.
const EndpointsTable = "endpoints"

// RemoteFields are a remote model's registration (Registration.Endpoint
// set): llm.models' columns of the same names.
type RemoteFields struct {
	Endpoint          string `json:"endpoint,omitempty"`
	RemoteModel       string `json:"remote_model,omitempty"`
	APIKeyEnv         string `json:"api_key_env,omitempty"`
	MaxConcurrency    int    `json:"max_concurrency,omitempty"`
	RequestsPerMinute int    `json:"requests_per_minute,omitempty"`
	TokensPerMinute   int    `json:"tokens_per_minute,omitempty"`
	TimeoutSeconds    int    `json:"timeout_seconds,omitempty"`
	ChatTemplate      string `json:"chat_template,omitempty"`
}

// spec is the engine's description of the registration.
func (r RemoteFields) spec() engine.RemoteSpec {
	var eps []string
	for _, e := range strings.Split(r.Endpoint, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	model := r.RemoteModel
	return engine.RemoteSpec{Endpoints: eps, Model: model, APIKeyEnv: r.APIKeyEnv, MaxConcurrency: r.MaxConcurrency,
		RequestsPerMinute: r.RequestsPerMinute, TokensPerMinute: r.TokensPerMinute,
		Timeout: time.Duration(r.TimeoutSeconds) * time.Second, ChatTemplate: r.ChatTemplate}
}

// check validates a remote registration's values.
func (r RemoteFields) check(name string) error {
	spec := r.spec()
	switch {
	case len(spec.Endpoints) == 0:
		return fmt.Errorf("remote model '%s': endpoint is empty; give the server's base URL, such as 'http://gpu-1:8000/v1' (several separated by commas)", name)
	case r.MaxConcurrency < 0 || r.MaxConcurrency > 100000:
		return fmt.Errorf("remote model '%s': max_concurrency must be 1 to 100000 (0 or NULL for the default)", name)
	case r.RequestsPerMinute < 0, r.TokensPerMinute < 0:
		return fmt.Errorf("remote model '%s': requests_per_minute and tokens_per_minute must be 0 (no limit) or more", name)
	case r.TimeoutSeconds < 0:
		return fmt.Errorf("remote model '%s': timeout_seconds must be 0 (the default) or more", name)
	}
	switch r.ChatTemplate {
	case "", engine.TemplateServer, engine.TemplateNone:
	default:
		return fmt.Errorf("remote model '%s': chat_template must be '%s' (the server applies its template; generate() sends its prompt as the user's turn) or '%s' (a base model: generate() sends prompts as they are)",
			name, engine.TemplateServer, engine.TemplateNone)
	}
	for _, e := range spec.Endpoints {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			return fmt.Errorf("remote model '%s': endpoint %q must be an http:// or https:// URL such as 'http://gpu-1:8000/v1'", name, e)
		}
	}
	return nil
}

// RegisterRemote registers a remote model (saved with persist).
func (c *Catalog) RegisterRemote(reg Registration, persist bool) (engine.ModelInfo, error) {
	name := reg.Name
	if reserved(name) {
		return engine.ModelInfo{}, fmt.Errorf("the model name '%s' is reserved for the table %s.%s; choose another", name, DatabaseName, strings.ToLower(name))
	}
	if reg.RemoteModel == "" {
		reg.RemoteModel = name
	}
	if err := reg.RemoteFields.check(name); err != nil {
		return engine.ModelInfo{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rr, ok := c.reg.(RemoteRegistry)
	if !ok || c.remotes == nil {
		return engine.ModelInfo{}, fmt.Errorf("this server does not run remote models")
	}
	if _, dup := c.downloads[name]; dup {
		return engine.ModelInfo{}, fmt.Errorf("model '%s' is already registered", name)
	}
	spec := reg.spec()
	m, err := c.remotes(name, spec)
	if err != nil {
		return engine.ModelInfo{}, fmt.Errorf("remote model '%s': %w", name, err)
	}
	info, err := rr.RegisterRemote(name, spec, m)
	if err != nil {
		m.Close()
		return engine.ModelInfo{}, err
	}
	if !persist || c.store == nil {
		return info, nil
	}
	prev, had := c.savedRemote[name]
	c.savedRemote[name] = reg
	if err := c.saveLocked(); err != nil {
		if had {
			c.savedRemote[name] = prev
		} else {
			delete(c.savedRemote, name)
		}
		_ = c.reg.Unregister(name)
		return engine.ModelInfo{}, err
	}
	return info, nil
}

var endpointsSchema = reportSchema(EndpointsTable, -1,
	&sql.Column{Name: "model", Type: nameType},
	&sql.Column{Name: "endpoint", Type: types.LongText},
	&sql.Column{Name: "outstanding", Type: types.Int64},
	&sql.Column{Name: "requests", Type: types.Int64},
	&sql.Column{Name: "failures", Type: types.Int64},
	&sql.Column{Name: "retries", Type: types.Int64},
	&sql.Column{Name: "rested_until", Type: types.DatetimeMaxPrecision},
	&sql.Column{Name: "last_error", Type: types.LongText},
)

func (c *Catalog) endpointRows() []sql.Row {
	rr, ok := c.reg.(RemoteRegistry)
	if !ok {
		return nil
	}
	eps := rr.Endpoints()
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].Model < eps[j].Model })
	rows := make([]sql.Row, 0, len(eps))
	for _, e := range eps {
		var rested, last any
		if !e.RestedUntil.IsZero() {
			rested = e.RestedUntil.UTC().Truncate(time.Microsecond)
		}
		if e.LastError != "" {
			last = e.LastError
		}
		rows = append(rows, sql.Row{e.Model, e.Endpoint, int64(e.Outstanding), e.Requests, e.Failures, e.Retries, rested, last})
	}
	return rows
}

// remoteColumns are llm.models' values for a remote model's columns
// (endpoint ... timeout_seconds), NULL for a local one.
func remoteColumns(m engine.ModelInfo) []any {
	r := m.Remote
	if r == nil {
		return []any{nil, nil, nil, nil, nil, nil, nil}
	}
	opt := func(n int) any {
		if n == 0 {
			return nil
		}
		return int64(n)
	}
	var env any
	if r.APIKeyEnv != "" {
		env = r.APIKeyEnv
	}
	return []any{strings.Join(r.Endpoints, ","), r.Model, env, opt(r.MaxConcurrency), opt(r.RequestsPerMinute),
		opt(r.TokensPerMinute), opt(int(r.Timeout / time.Second))}
}

// remoteColumn is the index of llm.models.endpoint, the first remote column.
var remoteColumn = func() int {
	for i, c := range modelsSchema {
		if c.Name == "endpoint" {
			return i
		}
	}
	panic("llm.models has no endpoint column")
}()

// insertRemote registers a row of llm.models that names an endpoint.
func (e *modelsEditor) insertRemote(ctx *sql.Context, name string, row sql.Row) error {
	reg := Registration{Name: name}
	for i := 2; i < len(row); i++ {
		v := row[i]
		if v == nil {
			continue
		}
		col := modelsSchema[i].Name
		str := func() (string, error) {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("%s.%s: %s must be text", DatabaseName, ModelsTable, col)
			}
			return s, nil
		}
		num := func() (int, error) {
			n, ok := v.(int64)
			if !ok || n < 0 || n > 1<<31-1 {
				return 0, fmt.Errorf("%s.%s: %s must be a whole number, 0 or more", DatabaseName, ModelsTable, col)
			}
			return int(n), nil
		}
		var err error
		switch col {
		case "endpoint":
			reg.Endpoint, err = str()
		case "remote_model":
			reg.RemoteModel, err = str()
		case "api_key_env":
			reg.APIKeyEnv, err = str()
		case "chat_template":
			reg.ChatTemplate, err = str()
		case "max_concurrency":
			reg.MaxConcurrency, err = num()
		case "requests_per_minute":
			reg.RequestsPerMinute, err = num()
		case "tokens_per_minute":
			reg.TokensPerMinute, err = num()
		case "timeout_seconds":
			reg.TimeoutSeconds, err = num()
		default:
			err = fmt.Errorf("%s.%s: %s cannot be set for a remote model; set endpoint, remote_model, api_key_env, max_concurrency, requests_per_minute, tokens_per_minute, timeout_seconds or chat_template", DatabaseName, ModelsTable, col)
		}
		if err != nil {
			return err
		}
	}
	if _, err := e.c.RegisterRemote(reg, true); err != nil {
		return err
	}
	e.undo = append(e.undo, func() { _ = e.c.Unregister(name) })
	return nil
}

// remoteRegistration returns name's registration if it is a remote model.
func (c *Catalog) remoteRegistration(name string) (Registration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.savedRemote[name]; ok {
		return r, true
	}
	for _, m := range c.reg.Models() {
		if m.Name == name && m.Remote != nil {
			s := m.Remote
			r := Registration{Name: name, RemoteFields: RemoteFields{Endpoint: strings.Join(s.Endpoints, ","), RemoteModel: s.Model,
				APIKeyEnv: s.APIKeyEnv, MaxConcurrency: s.MaxConcurrency, RequestsPerMinute: s.RequestsPerMinute,
				TokensPerMinute: s.TokensPerMinute, TimeoutSeconds: int(s.Timeout / time.Second), ChatTemplate: s.ChatTemplate}}
			return r, true
		}
	}
	return Registration{}, false
}
