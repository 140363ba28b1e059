package main

// A test-only window into a child server's Go heap, for the soak test's
// memory figures: with LLMSQL_TEST_CHILD_DEBUG=ADDR the child (this test
// binary, see child_test.go) serves on ADDR /memstats (runtime.MemStats as
// JSON, after a GC with ?gc=1), /heap (a pprof heap profile, for go tool
// pprof -inuse_space), /heapsplit (the live heap: Dolt's storage layer's
// and the rest) and /goroutine (the goroutines, grouped by stack). It
// lives in the test binary only: the server itself has no such endpoint.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

const childDebugEnv = "LLMSQL_TEST_CHILD_DEBUG"

// serveChildDebug starts the debug endpoint when the environment asks.
func serveChildDebug() {
	addr := os.Getenv(childDebugEnv)
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(&ms)
	})
	mux.HandleFunc("/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC() // inuse figures as of now, not of the last cycle
		pprof.Lookup("heap").WriteTo(w, 0)
	})
	mux.HandleFunc("/heapsplit", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		json.NewEncoder(w).Encode(splitHeap())
	})
	mux.HandleFunc("/goroutine", func(w http.ResponseWriter, r *http.Request) {
		pprof.Lookup("goroutine").WriteTo(w, 1)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child debug:", err)
		os.Exit(2)
	}
	go http.Serve(ln, mux)
}

// heapSplit is the live Go heap (estimated from the heap profile, as of
// the last GC) by who allocated it: Dolt's storage layer, or the rest
// (our packages, go-mysql-server, vitess, the standard library).
type heapSplit struct {
	Dolt  int64 `json:"dolt"`
	Other int64 `json:"other"`
}

// splitHeap sorts the heap profile's live bytes by the package of the
// function that allocated them (the first frame outside the runtime).
func splitHeap() heapSplit {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	rate := float64(runtime.MemProfileRate)
	var hs heapSplit
	for _, r := range recs {
		objs, bytes := r.InUseObjects(), r.InUseBytes()
		if objs <= 0 || bytes <= 0 {
			continue
		}
		// Undo the sampling as pprof does (one sample per rate bytes
		// on average, so small objects are under-counted).
		if rate > 1 {
			avg := float64(bytes) / float64(objs)
			bytes = int64(float64(bytes) / (1 - math.Exp(-avg/rate)))
		}
		if allocatedByDolt(r.Stack()) {
			hs.Dolt += bytes
		} else {
			hs.Other += bytes
		}
	}
	return hs
}

// allocatedByDolt says whether the allocation was made for Dolt's storage
// layer (or the flatbuffers it serializes with): whether the first
// function on stack that belongs to Dolt, go-mysql-server, vitess or
// llmsql is Dolt's. The runtime, the standard library and other
// libraries are skipped: Dolt keeps hash strings (encoding/base32), LRU
// list entries (golang-lru) and pooled buffers that those allocate on its
// behalf, and they grow with its commits as the rest of its share does.
// Counted as ours, they made a 10-minute soak's median outside Dolt climb
// from 45 to 75 MiB (limit 89); in a 6-minute soak's profiles, what was
// allocated with no Dolt function on the stack went from 31 to 37 MiB
// while what was allocated under Dolt's went from 22 to 63 MiB.
func allocatedByDolt(stack []uintptr) bool {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		switch fn := f.Function; {
		case strings.HasPrefix(fn, "github.com/dolthub/dolt/") || strings.HasPrefix(fn, "github.com/dolthub/flatbuffers/"):
			return true
		case strings.HasPrefix(fn, "github.com/dolthub/") || strings.HasPrefix(fn, "github.com/llmsql/"):
			return false
		}
		if !more {
			return false
		}
	}
}

// childDebug is the test's side of a child's debug endpoint.
type childDebug struct{ addr string }

// newChildDebug picks a free port for a child's debug endpoint and returns
// it with the environment entry that turns it on.
func newChildDebug(t *testing.T) (*childDebug, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return &childDebug{addr: addr}, childDebugEnv + "=" + addr
}

var debugClient = &http.Client{Timeout: 30 * time.Second}

// heapSplit reads the child's live heap, Dolt's and the rest.
func (d *childDebug) heapSplit() (heapSplit, error) {
	var hs heapSplit
	resp, err := debugClient.Get("http://" + d.addr + "/heapsplit")
	if err != nil {
		return hs, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&hs)
	return hs, err
}

// memStats reads the child's runtime.MemStats (after a GC if gc).
func (d *childDebug) memStats(gc bool) (runtime.MemStats, error) {
	var ms runtime.MemStats
	url := "http://" + d.addr + "/memstats"
	if gc {
		url += "?gc=1"
	}
	resp, err := debugClient.Get(url)
	if err != nil {
		return ms, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&ms)
	return ms, err
}

// save writes the child's profile (heap or goroutine) to dir/name.
func (d *childDebug) save(profile, dir, name string) error {
	resp, err := debugClient.Get("http://" + d.addr + "/" + profile)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
