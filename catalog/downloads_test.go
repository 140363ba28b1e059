package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/catalog"
	"github.com/llmsql/llmsql/engine"
)

// fakeFetch stands in for the downloader: each call reports progress,
// then waits for the test to release it with a result.
type fakeFetch struct {
	mu      sync.Mutex
	calls   []string
	release map[string]chan fetchResult
	stopped []string // refs whose context ended while waiting
}

type fetchResult struct {
	path string
	err  error
}

func newFakeFetch() *fakeFetch { return &fakeFetch{release: map[string]chan fetchResult{}} }

func (f *fakeFetch) ch(ref string) chan fetchResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.release[ref]
	if !ok {
		c = make(chan fetchResult, 1)
		f.release[ref] = c
	}
	return c
}

func (f *fakeFetch) fetch(ctx context.Context, ref string, progress func(done, total int64)) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, ref)
	f.mu.Unlock()
	progress(300, 1000)
	select {
	case r := <-f.ch(ref):
		return r.path, r.err
	case <-ctx.Done():
		f.mu.Lock()
		f.stopped = append(f.stopped, ref)
		f.mu.Unlock()
		return "", ctx.Err()
	}
}

func (f *fakeFetch) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// waitFor polls q until it returns want.
func (h *harness) waitFor(q, want string) {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute)
	got := ""
	for time.Now().Before(deadline) {
		if got = h.exec(q); got == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("%s: got %s, want %s", q, got, want)
}

func TestRegisterByReference(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	ff := newFakeFetch()
	var mu sync.Mutex
	var ended []string
	h.cat.SetDownloads(catalog.Downloads{Fetch: ff.fetch, Done: func(name, ref string, info engine.ModelInfo, err error) {
		mu.Lock()
		ended = append(ended, fmt.Sprintf("%s %v", name, err))
		mu.Unlock()
	}})
	t.Cleanup(h.cat.Close)
	tiny := writeModel(t, dir, "tiny", 100)
	const cols = "SELECT name, path, architecture, loaded, download_bytes, download_total, error FROM llm.models"

	// The INSERT returns at once; the row shows the download.
	h.exec("INSERT INTO llm.models (name, path) VALUES ('q', 'hf://u/r:Q8_0')")
	h.waitFor(cols, "[[q hf://u/r:Q8_0 <nil> 0 300 1000 <nil>]]")
	if got := h.savedNames(); got != "q" {
		t.Fatalf("saved %q", got)
	}
	h.fails("INSERT INTO llm.models (name, path) VALUES ('q', 'hf://u/r:Q4_0')", "already registered")
	h.fails("INSERT INTO llm.models (name, path) VALUES ('x', 'hf://u')", "no repository")
	h.fails("INSERT INTO llm.models (name, path) VALUES ('1bad', 'hf://u/r:Q8_0')", "invalid model name")

	// Done: registered under the name, shown with the reference it came from.
	ff.ch("hf://u/r:Q8_0") <- fetchResult{path: tiny}
	h.waitFor(cols, "[[q hf://u/r:Q8_0 llama 0 <nil> <nil> <nil>]]")
	if got := h.exec("SELECT value FROM llm.q WHERE `key` = 'general.name'"); got != "[[tiny]]" {
		t.Fatalf("metadata: %s", got)
	}

	// A failed download shows its error; DELETE and INSERT try again.
	h.exec("INSERT INTO llm.models (name, path) VALUES ('bad', 'hf://u/missing:Q8_0')")
	ff.ch("hf://u/missing:Q8_0") <- fetchResult{err: errors.New("the repository u/missing was not found")}
	h.waitFor("SELECT name, loaded, error FROM llm.models WHERE name = 'bad'", "[[bad 0 the repository u/missing was not found]]")
	h.exec("DELETE FROM llm.models WHERE name = 'bad'")
	h.exec("INSERT INTO llm.models (name, path) VALUES ('bad', 'hf://u/missing:Q8_0')")
	ff.ch("hf://u/missing:Q8_0") <- fetchResult{path: tiny}
	h.waitFor("SELECT name, architecture, error FROM llm.models WHERE name = 'bad'", "[[bad llama <nil>]]")

	// DELETE during a download stops it and forgets the registration.
	h.exec("INSERT INTO llm.models (name, path) VALUES ('gone', 'hf://u/slow:Q8_0')")
	h.waitFor("SELECT download_bytes FROM llm.models WHERE name = 'gone'", "[[300]]")
	h.exec("DELETE FROM llm.models WHERE name = 'gone'")
	deadline := time.Now().Add(time.Minute)
	for {
		ff.mu.Lock()
		n := len(ff.stopped)
		ff.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the download was not stopped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := h.exec("SELECT name FROM llm.models ORDER BY name"); got != "[[bad] [q]]" {
		t.Fatalf("after DELETE: %s", got)
	}
	if got := h.savedNames(); got != "bad,q" {
		t.Fatalf("saved %q", got)
	}
	mu.Lock()
	if fmt.Sprint(ended) != "[q <nil> bad the repository u/missing was not found bad <nil>]" {
		t.Errorf("Done heard %q", ended)
	}
	mu.Unlock()

	// At the next start the saved references are fetched again (a pulled
	// model is found in the models directory, so this is quick).
	h.cat.Close()
	h2 := newHarness(t, dir)
	ff2 := newFakeFetch()
	h2.cat.SetDownloads(catalog.Downloads{Fetch: ff2.fetch})
	t.Cleanup(h2.cat.Close)
	ff2.ch("hf://u/r:Q8_0") <- fetchResult{path: tiny}
	ff2.ch("hf://u/missing:Q8_0") <- fetchResult{path: tiny}
	if _, failed, err := h2.cat.Restore(); err != nil || len(failed) != 0 {
		t.Fatal(failed, err)
	}
	h2.waitFor("SELECT name, path, architecture FROM llm.models ORDER BY name", "[[bad hf://u/missing:Q8_0 llama] [q hf://u/r:Q8_0 llama]]")
}

func TestRegisterByReferenceNeedsDownloads(t *testing.T) {
	h := newHarness(t, t.TempDir())
	h.fails("INSERT INTO llm.models (name, path) VALUES ('q', 'hf://u/r:Q8_0')", "does not download models")
}
