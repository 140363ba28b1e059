package catalog

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/hub"
)

// Downloads lets the catalog register models by reference (hf://USER/REPO:QUANT,
// hf://USER/REPO/FILE.gguf, https://...): the registration returns at once,
// the file is fetched in the background, and the model is registered when
// it is complete. Until then llm.models shows the download's progress, and
// a failed download's error, which DELETE and INSERT retry.
type Downloads struct {
	// Fetch gets the file ref names and returns its local path, reporting
	// bytes done and the total (-1 while unknown). It must return when ctx
	// ends (DELETE, shutdown), keeping what it fetched for the next try.
	Fetch func(ctx context.Context, ref string, progress func(done, total int64)) (path string, err error)
	// Done, if set, hears how each download ended: the registered model,
	// or the error.
	Done func(name, ref string, info engine.ModelInfo, err error)
}

// download is a registration waiting for its file.
type download struct {
	name, ref   string
	done, total atomic.Int64
	cancel      context.CancelFunc
	err         error // set under Catalog.mu when the download failed
}

// SetDownloads enables registrations by reference. Call it before the
// catalog is used; Close stops the downloads in progress.
func (c *Catalog) SetDownloads(d Downloads) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetch = d
	if c.downloads == nil {
		c.downloads = map[string]*download{}
		c.origin = map[string]string{}
		c.base, c.stop = context.WithCancel(context.Background())
	}
}

// Close stops the downloads in progress (their partial files are kept)
// and waits for them to return.
func (c *Catalog) Close() {
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
	}
	c.mu.Unlock()
	c.running.Wait()
}

// registerRefLocked starts fetching ref for name. c.mu is held.
func (c *Catalog) registerRefLocked(name, ref string, persist bool) (engine.ModelInfo, error) {
	if c.fetch.Fetch == nil {
		return engine.ModelInfo{}, fmt.Errorf("model '%s': %s is a download, and this server does not download models; register a local file", name, ref)
	}
	if _, err := hub.ParseRef(ref); err != nil {
		return engine.ModelInfo{}, fmt.Errorf("model '%s': %w", name, err)
	}
	if _, dup := c.downloads[name]; dup {
		return engine.ModelInfo{}, engine.DuplicateModelError(name)
	}
	for _, m := range c.reg.Models() {
		if m.Name == name {
			return engine.ModelInfo{}, engine.DuplicateModelError(name)
		}
	}
	if err := engine.CheckModelName(name); err != nil {
		return engine.ModelInfo{}, err
	}
	if persist && c.store != nil {
		prev, had := c.saved[name]
		c.saved[name] = ref
		if err := c.saveLocked(); err != nil {
			if had {
				c.saved[name] = prev
			} else {
				delete(c.saved, name)
			}
			return engine.ModelInfo{}, err
		}
	}
	c.startLocked(name, ref)
	return engine.ModelInfo{Name: name, Path: ref}, nil
}

// startLocked runs the download of ref for name in the background.
func (c *Catalog) startLocked(name, ref string) {
	ctx, cancel := context.WithCancel(c.base)
	d := &download{name: name, ref: ref, cancel: cancel}
	d.total.Store(-1)
	c.downloads[name] = d
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		defer cancel()
		path, err := c.fetch.Fetch(ctx, ref, func(done, total int64) {
			d.done.Store(done)
			d.total.Store(total)
		})
		c.mu.Lock()
		if c.downloads[name] != d { // deleted, or deleted and inserted again
			c.mu.Unlock()
			return
		}
		var info engine.ModelInfo
		if err == nil {
			info, err = c.reg.Register(name, path)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("download stopped: %w", err)
			}
			d.err = err
		} else {
			delete(c.downloads, name)
			c.origin[name] = ref
		}
		done := c.fetch.Done
		c.mu.Unlock()
		if done != nil && c.base.Err() == nil { // not at shutdown
			done(name, ref, info, err)
		}
	}()
}

// unregisterDownloadLocked stops and forgets the download registered as
// name, if there is one.
func (c *Catalog) unregisterDownloadLocked(name string) bool {
	d, ok := c.downloads[name]
	if !ok {
		return false
	}
	d.cancel()
	delete(c.downloads, name)
	return true
}

// DownloadState is a registration whose file is still being fetched, or
// whose download failed.
type DownloadState struct {
	Name, Ref   string
	Done, Total int64 // bytes; Total is -1 while unknown
	Err         error // the failure; nil while in progress
}

// Downloading lists the registrations waiting for their file, by name.
func (c *Catalog) Downloading() []DownloadState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.downloadingLocked()
}

func (c *Catalog) downloadingLocked() []DownloadState {
	out := make([]DownloadState, 0, len(c.downloads))
	for _, d := range c.downloads {
		out = append(out, DownloadState{d.name, d.ref, d.done.Load(), d.total.Load(), d.err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// origins returns the reference each model registered from a download
// was registered with, by name.
func (c *Catalog) origins() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.origin))
	for k, v := range c.origin {
		out[k] = v
	}
	return out
}
