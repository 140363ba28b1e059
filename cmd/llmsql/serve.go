package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/httpapi"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the MySQL-protocol SQL server with generate() and the llm catalog",
		usage: "[--addr 127.0.0.1:3306] [--data-dir DIR | --memory] [--model NAME=PATH]... [--models-dir DIR] " +
			"[--user U --password P] [--secure-file-priv DIR|none] [--allow-any-model-path=false] [--remote-key-env NAMES] [--max-connections N] [--threads N] [--max-sequences N] [--context N] " +
			"[--memory-budget SIZE|auto|none] [--result-cache-bytes SIZE] [--http ADDR [--api-key KEY] [--http-queue N]] [--log-level LEVEL]",
		run: runServe,
	})
}

// modelFlags collects repeated --model NAME=PATH flags.
type modelFlags []modelFlag

type modelFlag struct{ name, path string }

func (m *modelFlags) String() string {
	parts := make([]string, len(*m))
	for i, f := range *m {
		parts[i] = f.name + "=" + f.path
	}
	return strings.Join(parts, " ")
}

func (m *modelFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*m = append(*m, modelFlag{name, path})
	return nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntil(ctx, cfg, stdout, stop)
}

// parseServe reads serve's flags, and the environment downloads use
// (HF_TOKEN, HF_ENDPOINT), into a configuration.
func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	c := commands["serve"]
	fs := newFlagSet(c, stderr)
	var cfg serveConfig
	var models modelFlags
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:3306", "`address` to listen on (host:port)")
	fs.StringVar(&cfg.DataDir, "data-dir", "llmsql-data", "`directory` of the Dolt databases and saved model registrations")
	fs.BoolVar(&cfg.Memory, "memory", false, "keep everything in memory and lose it at exit; without Dolt there are no dolt_ procedures (CALL dolt_commit), system tables or AS OF, and no file access")
	fs.Var(&models, "model", "register a model for this run as `NAME=PATH`; PATH may be hf://USER/REPO:QUANT (downloaded in the background) (repeatable)")
	fs.StringVar(&cfg.ModelsDir, "models-dir", "", "register every *.gguf in `DIR` for this run, named after the file; downloads go to DIR/USER/REPO/ (default: models/ beside the data directory)")
	fs.StringVar(&cfg.User, "user", "", "the only account that may connect (with --password)")
	fs.StringVar(&cfg.Password, "password", "", "password of --user")
	fs.IntVar(&cfg.Threads, "threads", 0, "worker threads per loaded model (0 = all cores)")
	fs.IntVar(&cfg.Context, "context", 0, "positions per sequence, which sizes each model's KV cache (0 = the model's training context, at most 4096)")
	keyEnv := fs.String("remote-key-env", "", "comma-separated `NAMES` of environment variables a remote model's registration may name as api_key_env, besides LLMSQL_* and OPENAI_API_KEY (its key is sent to the endpoint the SQL user registers)")
	anyPath := fs.Bool("allow-any-model-path", true, "let INSERT INTO llm.models register a file anywhere the server can read; false = only files in the models directory (--models-dir) and downloads, for shared servers")
	fs.StringVar(&cfg.SecureFilePriv, "secure-file-priv", "auto", "`DIR` that LOAD_FILE, LOAD DATA INFILE and SELECT ... INTO OUTFILE may read and write (auto = files/ in the data directory, none with --memory; none = no file access)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", DefaultMaxConnections, "open client connections at most, as MySQL's max_connections; one more is refused with error 1040")
	fs.IntVar(&cfg.MaxSequences, "max-sequences", 0, fmt.Sprintf("generations one model decodes together, each with its own KV cache slot (0 = %d)", engine.DefaultSlots))
	budget := &sizeFlag{text: "auto", named: map[string]bool{"auto": true, "none": true}}
	fs.Var(budget, "memory-budget", "`SIZE` (such as 16G) loaded models may take, weights and KV caches; idle models are unloaded, least recently used first, to make room, and a model that cannot fit is refused, naming the bytes. auto = 3/4 of the machine's memory; none = no budget")
	cacheBytes := &sizeFlag{text: "64M"}
	fs.Var(cacheBytes, "result-cache-bytes", "`SIZE` of the cache of deterministic generate() answers (0 = no cache)")
	fs.StringVar(&cfg.HTTPAddr, "http", "", "serve OpenAI's HTTP API (/v1/chat/completions, /v1/completions, /v1/models, /health) on `ADDR` (host:port; a bare port or :port listens on 127.0.0.1); off by default")
	fs.StringVar(&cfg.APIKey, "api-key", "", "bearer `KEY` the HTTP API requires (Authorization: Bearer KEY); without it, --password is required as the token when --user is set")
	fs.IntVar(&cfg.HTTPQueue, "http-queue", 0, fmt.Sprintf("HTTP generation requests admitted at once, running or waiting for a slot; one more gets 429 (0 = %d)", httpapi.DefaultMaxQueue))
	logLevel := fs.String("log-level", "info", "what the server logs to stderr: `LEVEL` debug (also each connection that ends, and why), info, warn or error")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return serveConfig{}, err
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return serveConfig{}, usagef("--log-level must be debug, info, warn or error, not %q", *logLevel)
	}
	switch n, name := budget.value(); name {
	case "auto":
		if total := engine.TotalMemory(); total > 0 {
			cfg.MemoryBudget = total / 4 * 3
		}
	case "none":
	default:
		if n == 0 {
			return serveConfig{}, usagef("--memory-budget 0 leaves no room for any model; use none for no budget")
		}
		cfg.MemoryBudget = n
	}
	if n, _ := cacheBytes.value(); n == 0 {
		cfg.ResultCacheBytes = -1
	} else {
		cfg.ResultCacheBytes = n
	}
	if len(pos) > 0 {
		return serveConfig{}, usagef("unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.Memory && set["data-dir"] {
		return serveConfig{}, usagef("--memory and --data-dir exclude each other")
	}
	if set["user"] != set["password"] {
		return serveConfig{}, usagef("--user and --password go together")
	}
	if set["user"] && cfg.User == "" {
		return serveConfig{}, usagef("--user is empty")
	}
	if cfg.Threads < 0 {
		return serveConfig{}, usagef("--threads must be 0 or more")
	}
	if cfg.Context < 0 {
		return serveConfig{}, usagef("--context must be 0 or more")
	}
	if cfg.MaxConnections < 1 || cfg.MaxConnections > 100000 {
		return serveConfig{}, usagef("--max-connections must be 1 to 100000")
	}
	if cfg.MaxSequences < 0 || cfg.MaxSequences > 1024 {
		return serveConfig{}, usagef("--max-sequences must be 0 to 1024")
	}
	cfg.RestrictModelPaths = !*anyPath
	for _, name := range strings.Split(*keyEnv, ",") {
		if name = strings.TrimSpace(name); name != "" {
			cfg.RemoteKeyEnv = append(cfg.RemoteKeyEnv, name)
		}
	}
	if set["api-key"] && !set["http"] {
		return serveConfig{}, usagef("--api-key needs --http")
	}
	if set["http"] {
		if cfg.HTTPAddr, err = httpAddr(cfg.HTTPAddr); err != nil {
			return serveConfig{}, err
		}
	}
	if cfg.HTTPQueue < 0 {
		return serveConfig{}, usagef("--http-queue must be 0 or more")
	}
	for _, m := range models {
		cfg.Models = append(cfg.Models, m)
	}
	downloads := cfg.ModelsDir
	if downloads == "" {
		dataDir := cfg.DataDir
		if cfg.Memory {
			dataDir = ""
		}
		downloads = defaultModelsDir(dataDir)
	}
	if cfg.Hub, err = hubOptions(downloads); err != nil {
		return serveConfig{}, err
	}
	return cfg, nil
}

// serveUntil runs the server until ctx ends (SIGINT or SIGTERM), then shuts
// it down: it stops accepting, cancels running queries, flushes the
// databases and returns nil. onStop is called when shutdown begins (the
// command uses it to restore default signal handling, so a second Ctrl-C
// kills a shutdown that hangs).
func serveUntil(ctx context.Context, cfg serveConfig, stdout io.Writer, onStop func()) error {
	srv, err := startServer(cfg)
	if err != nil {
		return err
	}
	if a := srv.HTTPAddr(); a != "" {
		fmt.Fprintf(stdout, "llmsql http on %s\n", a)
	}
	// The one line scripts wait for.
	fmt.Fprintf(stdout, "llmsql ready on %s\n", srv.Addr())
	select {
	case <-ctx.Done():
		srv.log.Info("shutting down", "reason", "signal")
	case err := <-srv.acceptDone:
		// The listener never stops on its own for an error about one
		// connection (see guardedListener): this one cannot accept again.
		if err == nil {
			err = errors.New("the listener stopped accepting connections")
		}
		srv.log.Error("listener stopped; shutting down", "err", err)
		if onStop != nil {
			onStop()
		}
		if cerr := srv.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return fmt.Errorf("listening on %s: %w", srv.Addr(), err)
	}
	if onStop != nil {
		onStop()
	}
	return srv.Close()
}
