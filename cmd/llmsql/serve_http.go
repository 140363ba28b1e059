package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/llmsql/llmsql/catalog"
	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/httpapi"
	"github.com/llmsql/llmsql/remote"
)

// httpAddr completes serve --http's address: a bare port or ":port"
// listens on loopback, so the API is reachable from elsewhere only when
// asked for by host.
func httpAddr(v string) (string, error) {
	if _, err := strconv.Atoi(v); err == nil {
		v = ":" + v
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		return "", usagef("--http %q: want HOST:PORT, :PORT or PORT", v)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// httpServer is the OpenAI-compatible HTTP API of a running server.
type httpServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// startHTTP listens on cfg.HTTPAddr (or uses cfg.HTTPListener) and serves
// the API over pool. The bearer token is --api-key, else the account's
// password; without either the API listens on loopback only.
func startHTTP(cfg serveConfig, pool *engine.Pool, cat *catalog.Catalog, s *llmServer) (*httpServer, error) {
	token := cfg.APIKey
	if token == "" && cfg.User != "" {
		token = cfg.Password
	}
	ln := cfg.HTTPListener
	if ln == nil {
		if token == "" && !loopback(cfg.HTTPAddr) {
			return nil, fmt.Errorf("refusing to serve HTTP on %s without --api-key (or --user and --password): anyone who can reach the port could use the models", cfg.HTTPAddr)
		}
		var err error
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("--http: %w", err)
		}
	}
	pending := func(name string) bool {
		for _, d := range cat.Downloading() {
			if d.Name == name && d.Err == nil {
				return true
			}
		}
		return false
	}
	api := httpapi.New(pool, httpapi.Config{APIKey: token, MaxQueue: cfg.HTTPQueue, Pending: pending, Log: s.log})
	h := &httpServer{addr: ln.Addr(), done: make(chan error, 1),
		srv: &http.Server{Handler: api, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute}}
	go func() {
		err := h.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		h.done <- err
	}()
	s.log.Info("http api ready", "addr", ln.Addr().String(), "auth", token != "")
	return h, nil
}

// close stops accepting and ends the requests in flight: their contexts
// are cancelled, which stops their generations within a step.
func (h *httpServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.srv.Close()
	}
	<-h.done
}

// remoteModels makes the clients of remote models (INSERT INTO llm.models
// (name, endpoint, ...)): the API key is read here, from the environment
// variable the registration names, and goes no further than the client.
//
// A SQL user chooses both the variable and the endpoint the key is sent
// to, so only some variables may be named: those starting with LLMSQL_,
// OPENAI_API_KEY, and the ones the operator lists (--remote-key-env).
// Otherwise any variable of the server (a cloud secret, a database
// password) could be sent to a server of the user's choosing.
func remoteModels(allowed []string) func(name string, spec engine.RemoteSpec) (engine.RemoteModel, error) {
	ok := map[string]bool{"OPENAI_API_KEY": true}
	for _, a := range allowed {
		ok[a] = true
	}
	return func(name string, spec engine.RemoteSpec) (engine.RemoteModel, error) {
		var key string
		if env := spec.APIKeyEnv; env != "" {
			if !ok[env] && !strings.HasPrefix(env, remoteKeyPrefix) {
				return nil, fmt.Errorf("api_key_env names %s, which this server does not let SQL read: use a variable whose name starts with %s, OPENAI_API_KEY, or start the server with --remote-key-env %s", env, remoteKeyPrefix, env)
			}
			var set bool
			if key, set = os.LookupEnv(env); !set {
				return nil, fmt.Errorf("api_key_env names %s, which is not set in the server's environment", env)
			}
		}
		return remote.New(remote.Config{Name: name, Endpoints: spec.Endpoints, Model: spec.Model, APIKey: key,
			MaxConcurrency: spec.MaxConcurrency, RequestsPerMinute: spec.RequestsPerMinute, TokensPerMinute: spec.TokensPerMinute,
			Timeout: spec.Timeout})
	}
}

// remoteKeyPrefix starts the names of environment variables any remote
// registration may name as its api_key_env.
const remoteKeyPrefix = "LLMSQL_"
