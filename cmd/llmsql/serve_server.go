package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/llmsql/llmsql/catalog"
	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/hub"
	"github.com/llmsql/llmsql/sqlfuncs"
)

// defaultDatabase is the user database that always exists and that new
// connections start in, so CREATE TABLE works without a USE.
const defaultDatabase = "llmsql"

// shutdownGrace bounds how long Close waits for killed queries and closed
// connections before closing the databases anyway.
const shutdownGrace = 5 * time.Second

type serveConfig struct {
	Addr      string
	Listener  net.Listener // if set, used instead of listening on Addr (tests)
	DataDir   string
	Memory    bool
	Models    []modelFlag
	ModelsDir string
	User      string
	Password  string
	Threads   int
	// MemoryBudget bounds what loaded models take (0: no budget);
	// ResultCacheBytes sizes the result cache (0: the engine's default,
	// negative: none). See engine.PoolConfig.
	MemoryBudget     int64
	ResultCacheBytes int64
	// RestrictModelPaths makes SQL registrations (INSERT/UPDATE
	// llm.models) accept only files inside the models directory (Hub.Dir)
	// and downloads.
	RestrictModelPaths bool
	// RemoteKeyEnv lists the environment variables, besides those whose
	// names start with LLMSQL_ and OPENAI_API_KEY, that a remote model's
	// registration may name as api_key_env (--remote-key-env).
	RemoteKeyEnv []string
	// SecureFilePriv is the directory LOAD_FILE, LOAD DATA INFILE and
	// INTO OUTFILE may use: "" or "auto" = DataDir/files (file access off
	// with Memory), "none" = off.
	SecureFilePriv string
	// MaxConnections caps open connections (0: DefaultMaxConnections).
	MaxConnections int
	// MaxSequences is how many generations one model decodes at once
	// (the engine's default when 0); more wait for a slot.
	MaxSequences int
	// Context caps positions per sequence (0: the engine's default).
	Context int
	// Hub configures downloads of models registered by reference
	// (--model NAME=hf://..., INSERT ... 'hf://...'): the models directory,
	// HF_TOKEN, HF_ENDPOINT. An empty Dir disables them.
	Hub    hub.Options
	Logger *slog.Logger
	// LogLevel is the level of the logger serve makes (--log-level).
	LogLevel slog.Level
	// HTTPAddr, when set, serves OpenAI's HTTP API there (HTTPListener,
	// if set, instead: tests); APIKey is its bearer token and HTTPQueue
	// the requests it admits at once (0: httpapi's default).
	HTTPAddr     string
	HTTPListener net.Listener
	APIKey       string
	HTTPQueue    int
	// Backend chooses what the SQL functions run on; nil means the pool
	// itself. Tests pass a fake that still consults the pool's registry.
	Backend func(*engine.Pool) sqlfuncs.Backend
}

// storage is a go-mysql-server engine over some database provider, with
// what the MySQL server needs to make sessions for it.
type storage struct {
	eng        *sqle.Engine
	ctxFactory sql.ContextFactory
	sessions   server.SessionBuilder
	close      func() error // flushes and closes the databases
}

type llmServer struct {
	log        *slog.Logger
	pool       *engine.Pool
	cat        *catalog.Catalog
	st         *storage
	srv        *server.Server
	ln         *guardedListener
	guard      *connGuard
	addr       net.Addr
	http       *httpServer // nil without --http
	acceptDone chan error  // receives when the listener stops accepting
	stopIdle   chan struct{}
	idleDone   chan struct{}
}

func startServer(cfg serveConfig) (_ *llmServer, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bridgeLogrus(log)

	ln := cfg.Listener
	if ln == nil {
		if cfg.User == "" && !loopback(cfg.Addr) {
			return nil, fmt.Errorf("refusing to listen on %s without --user and --password: without them anyone who can reach the port is root", cfg.Addr)
		}
		if cfg.Password == "" && !loopback(cfg.Addr) {
			return nil, fmt.Errorf("refusing to listen on %s with an empty --password: anyone who can reach the port could log in as %s", cfg.Addr, cfg.User)
		}
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()

	pool := engine.NewPool(engine.PoolConfig{Threads: cfg.Threads, MaxSequences: cfg.MaxSequences, Context: cfg.Context, NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap,
		MemoryBudget: cfg.MemoryBudget, ResultCacheBytes: cfg.ResultCacheBytes})
	defer func() {
		if err != nil {
			pool.Close()
		}
	}()

	// With --memory, SQL model registrations last for the run; with a data
	// directory they are saved beside the databases.
	var store catalog.Store
	if !cfg.Memory {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		store = catalog.FileStore{Path: filepath.Join(dir, registrationsFile)}
	}
	cat := catalog.New(pool, store)
	if cfg.Hub.Dir != "" {
		cat.SetDownloads(downloader(cfg.Hub, log))
	}
	cat.SetRemotes(remoteModels(cfg.RemoteKeyEnv))
	defer func() {
		if err != nil {
			cat.Close()
		}
	}()
	var st *storage
	if cfg.Memory {
		st, err = openMemory(cat)
	} else {
		st, err = openDolt(cfg.DataDir, cat, log)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.close()
		}
	}()

	if cfg.RestrictModelPaths {
		if cfg.Hub.Dir == "" {
			return nil, fmt.Errorf("--allow-any-model-path=false needs a models directory (--models-dir)")
		}
		cat.RestrictPaths(cfg.Hub.Dir)
	}
	if err := registerModels(cfg, cat, log); err != nil {
		return nil, err
	}
	restored, failed, err := cat.Restore()
	if err != nil {
		return nil, fmt.Errorf("reading the saved model registrations: %w", err)
	}
	for _, m := range restored {
		log.Info("model registered", "name", m.Name, "path", m.Path, "from", "saved registrations")
	}
	for _, e := range failed {
		log.Warn("saved model not registered; it is retried at the next start", "err", e)
	}

	var backend sqlfuncs.Backend = pool
	if cfg.Backend != nil {
		backend = cfg.Backend(pool)
	}
	if err := sqlfuncs.Register(st.eng, backend); err != nil {
		return nil, err
	}
	// The file guard and then batching hook the engine's executable-tree
	// builder, after Dolt installed its own (each chains to the previous).
	fileDir, err := resolveSecureFilePriv(cfg)
	if err != nil {
		return nil, err
	}
	if err := installFileGuard(st.eng, fileDir); err != nil {
		return nil, err
	}
	tracker := sqlfuncs.NewTracker()
	if err := sqlfuncs.EnableBatching(st.eng, tracker); err != nil {
		return nil, err
	}
	cat.SetProgress(tracker)
	if err := cat.RegisterVariables(); err != nil {
		return nil, err
	}
	acct := newAccount(cfg.User, cfg.Password)
	grantAccount(st.eng, acct)

	maxConns := cfg.MaxConnections
	if maxConns <= 0 {
		maxConns = DefaultMaxConnections
	}
	if err := sql.SystemVariables.AssignValues(map[string]any{"max_connections": int64(maxConns)}); err != nil {
		return nil, err
	}
	gl := newGuardedListener(ln, log)
	var guard *connGuard
	sessions := &sync.Map{}
	srv, err := server.NewServerWithHandler(server.Config{
		Protocol:                "tcp",
		Address:                 ln.Addr().String(),
		Listener:                gl,
		ProtocolListenerFactory: listenerWithAccount(acct),
	}, st.eng, st.ctxFactory, recordSessions(st.sessions, sessions), nil, func(h mysql.Handler) (mysql.Handler, error) {
		g, err := newConnGuard(h)
		if g != nil {
			g.sessions = sessions
			g.log = log
		}
		guard = g
		return g, err
	})
	if err != nil {
		return nil, err
	}
	s := &llmServer{log: log, pool: pool, cat: cat, st: st, srv: srv, ln: gl, guard: guard, addr: ln.Addr(),
		acceptDone: make(chan error, 1), stopIdle: make(chan struct{}), idleDone: make(chan struct{})}
	if cfg.HTTPAddr != "" || cfg.HTTPListener != nil {
		if s.http, err = startHTTP(cfg, pool, cat, s); err != nil {
			return nil, err
		}
	}
	go func() {
		srv.Start()
		s.acceptDone <- gl.stopped()
	}()
	go s.closeIdleLoop()
	where := []any{"storage", "memory"}
	if !cfg.Memory {
		where = []any{"storage", "dolt", "data_dir", cfg.DataDir}
	}
	log.Info("ready", append([]any{"addr", s.addr.String(), "models", len(pool.Models())}, where...)...)
	return s, nil
}

func (s *llmServer) Addr() string { return s.addr.String() }

// HTTPAddr is the address of the HTTP API, "" without one.
func (s *llmServer) HTTPAddr() string {
	if s.http == nil {
		return ""
	}
	return s.http.addr.String()
}

// closeIdleLoop closes idle connections (wait_timeout) once a second until
// the server closes.
func (s *llmServer) closeIdleLoop() {
	defer close(s.idleDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stopIdle:
			return
		case now := <-tick.C:
			s.guard.closeIdle(now, s.st.eng.ProcessList, s.srv.SessionManager(), s.log)
		}
	}
}

// Close stops accepting connections, cancels running queries, closes the
// connections and then flushes and closes the databases.
func (s *llmServer) Close() error {
	if s.http != nil {
		s.http.close()
	}
	s.srv.Close()
	close(s.stopIdle)
	<-s.idleDone
	sm := s.srv.SessionManager()
	var ids []uint32
	_ = sm.Iter(func(sess sql.Session) (bool, error) {
		ids = append(ids, sess.ID())
		return false, nil
	})
	for _, id := range ids {
		s.st.eng.ProcessList.Kill(id)
		_ = sm.KillConnection(id)
	}
	done := make(chan struct{})
	go func() {
		sm.WaitForClosedConnections()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		s.log.Warn("connections still open after shutdown grace period", "grace", shutdownGrace)
	}
	s.cat.Close() // stops downloads in progress; their partial files stay for the next start
	err := s.st.close()
	s.pool.Close()
	if err != nil {
		s.log.Error("closing databases", "err", err)
		return err
	}
	s.log.Info("stopped")
	return nil
}

// registerModels registers the --model and --models-dir models for this
// run. A bad --model stops the server; a bad file in --models-dir is
// skipped with a warning, so one stray file does not keep the server down.
func registerModels(cfg serveConfig, cat *catalog.Catalog, log *slog.Logger) error {
	for _, m := range cfg.Models {
		info, err := cat.Register(m.name, m.path, false)
		if err != nil {
			return fmt.Errorf("--model %s=%s: %w", m.name, m.path, err)
		}
		if hub.IsRef(m.path) {
			log.Info("model download started; it is registered when complete (see llm.models)", "name", m.name, "ref", m.path, "models_dir", cfg.Hub.Dir)
			continue
		}
		log.Info("model registered", "name", info.Name, "path", info.Path, "from", "--model")
		warnContext(log, info)
	}
	if cfg.ModelsDir == "" {
		return nil
	}
	entries, err := os.ReadDir(cfg.ModelsDir)
	if err != nil {
		return fmt.Errorf("--models-dir: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".gguf") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(f, ".gguf")
		// A split model is registered once, from its first part, under the
		// name without the part suffix; the other parts load with it.
		if m := splitPart.FindStringSubmatch(f); m != nil {
			if m[2] != "00001" {
				continue
			}
			name = m[1]
		}
		info, err := cat.Register(name, filepath.Join(cfg.ModelsDir, f), false)
		if err != nil {
			log.Warn("model in --models-dir not registered", "file", f, "err", err)
			continue
		}
		log.Info("model registered", "name", info.Name, "path", info.Path, "from", "--models-dir")
		warnContext(log, info)
	}
	return nil
}

// splitPart matches a part of a split model, NAME-00002-of-00003.gguf.
var splitPart = regexp.MustCompile(`^(.+)-([0-9]{5})-of-([0-9]{5})\.gguf$`)

// warnContext warns when --context runs a model past the context it was
// trained on: allowed, but what it generates there is unreliable.
func warnContext(log *slog.Logger, info engine.ModelInfo) {
	if msg := catalog.ContextWarning(info); msg != "" {
		log.Warn(msg, "name", info.Name)
	}
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// queryAll runs a statement on eng and drains its rows; used for setup.
func queryAll(ctx *sql.Context, eng *sqle.Engine, q string) error {
	_, iter, _, err := eng.Query(ctx, q)
	if err != nil {
		return err
	}
	_, err = sql.RowIterToRows(ctx, iter)
	return err
}

// downloadLogEvery is how often the server logs a download's progress.
var downloadLogEvery = 10 * time.Second

// downloader fetches the models registered by reference into the models
// directory, logging progress every downloadLogEvery and the outcome.
func downloader(opts hub.Options, log *slog.Logger) catalog.Downloads {
	return catalog.Downloads{
		Fetch: func(ctx context.Context, ref string, progress func(done, total int64)) (string, error) {
			r, err := hub.ParseRef(ref)
			if err != nil {
				return "", err
			}
			o := opts
			next := time.Now().Add(downloadLogEvery)
			o.Progress = func(p hub.Progress) {
				progress(p.Done, p.Total)
				if now := time.Now(); now.After(next) {
					next = now.Add(downloadLogEvery)
					log.Info("downloading", "ref", ref, "file", p.File, "bytes", p.Done, "total", p.Total)
				}
			}
			res, err := hub.Pull(ctx, r, o)
			if err != nil {
				return "", err
			}
			if res.Downloaded > 0 {
				log.Info("downloaded", "ref", ref, "path", res.Path, "bytes", res.Downloaded)
			}
			return res.Path, nil
		},
		Done: func(name, ref string, info engine.ModelInfo, err error) {
			if err != nil {
				log.Error("model not registered: its download failed; DELETE and INSERT it again to retry", "name", name, "ref", ref, "err", err)
				return
			}
			log.Info("model registered", "name", name, "path", info.Path, "from", ref)
		},
	}
}
