package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is Hugging Face's address; Options.Endpoint overrides it
// (HF_ENDPOINT, read by the command line, names a mirror).
const DefaultEndpoint = "https://huggingface.co"

// Options configures a pull.
type Options struct {
	Dir      string // the models directory; files land in Dir/USER/REPO/FILE (Dir/HOST/NAME for a plain URL)
	Endpoint string // the hub's base URL; DefaultEndpoint when empty
	Token    string // sent as a bearer token to the hub (never to other hosts); empty: anonymous
	// Client makes the requests; http.DefaultClient's transport when nil.
	Client *http.Client
	// Progress, when set, is called as bytes arrive (often: throttle
	// before drawing), and once when each file is done.
	Progress func(Progress)
	// Retries bounds how often a broken transfer is resumed within one call
	// (default 5; negative: never). RetryDelay is the first wait between
	// tries, doubling after each (default 1s).
	Retries    int
	RetryDelay time.Duration
	// StallTimeout abandons a connection that sends nothing for this long
	// (the download then resumes on a new one, as after a broken
	// connection); default 60s.
	StallTimeout time.Duration
	UserAgent    string
}

// Progress is how far a pull has got.
type Progress struct {
	File    string // the file being fetched (its path in the repository, or the URL's file name)
	Index   int    // 1-based index of File among the pull's files
	Files   int    // how many files the pull fetches (the parts of a split model)
	Done    int64  // bytes of all the pull's files on disk so far, including what an earlier call left
	Total   int64  // bytes of all the pull's files; -1 while unknown
	Resumed int64  // bytes of File found from an earlier, interrupted download
}

// File is one file a pull produced.
type File struct {
	Name     string // path in the repository, or the URL's file name
	Path     string // the local file
	Size     int64
	SHA256   string // the sha256 the server published; empty when it published none
	Verified bool   // this call checked the downloaded bytes against SHA256
	Present  bool   // it was already complete locally and was not fetched
}

// Result is what a pull produced.
type Result struct {
	Ref        Ref
	Path       string // the model to load: the file, or the first part of a split model
	Files      []File
	Commit     string // the repository commit the files come from, when the hub said
	Downloaded int64  // bytes transferred by this call
	Offline    bool   // the hub could not be reached and complete local files were used
}

// Pull fetches the model ref names into opts.Dir (skipping files already
// complete there) and returns where it is.
func Pull(ctx context.Context, ref Ref, opts Options) (Result, error) {
	c := newClient(opts)
	if ref.URL != "" {
		if hf, ok := fromResolveURL(ref.URL, c.endpoint); ok {
			ref = hf
		} else {
			return c.pullURL(ctx, ref)
		}
	}
	return c.pullRepo(ctx, ref)
}

type client struct {
	Options
	endpoint string
	http     *http.Client
}

func newClient(o Options) *client {
	c := &client{Options: o, endpoint: strings.TrimSuffix(o.Endpoint, "/")}
	if c.endpoint == "" {
		c.endpoint = DefaultEndpoint
	}
	base := o.Client
	if base == nil {
		base = http.DefaultClient
	}
	// A copy, so CheckRedirect can record the hub's redirect headers
	// without touching the caller's client.
	hc := *base
	c.http = &hc
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = time.Minute
	}
	if c.UserAgent == "" {
		c.UserAgent = "llmsql"
	}
	if c.Dir == "" {
		c.Dir = "models"
	}
	return c
}

// onHub reports whether u is on the hub's host (where the token may go).
func (c *client) onHub(u *url.URL) bool {
	e, err := url.Parse(c.endpoint)
	return err == nil && strings.EqualFold(e.Host, u.Host)
}

func (c *client) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if c.Token != "" && c.onHub(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// httpError describes a refusal, reading Hugging Face's error headers.
func (c *client) httpError(resp *http.Response, ref Ref) *HTTPError {
	return &HTTPError{
		Status: resp.StatusCode, URL: resp.Request.URL.String(),
		Code: resp.Header.Get("X-Error-Code"), Message: resp.Header.Get("X-Error-Message"),
		Ref: ref, Endpoint: c.endpoint, Token: c.Token != "" && c.onHub(resp.Request.URL),
	}
}

// listing is a repository's files at one commit.
type listing struct {
	Commit string
	Files  []RepoFile
}

// list reads the repository's files from the hub's model API.
func (c *client) list(ctx context.Context, ref Ref) (listing, error) {
	u := c.endpoint + "/api/models/" + ref.Repo
	if ref.Revision != "" && ref.Revision != "main" {
		u += "/revision/" + url.PathEscape(ref.Revision)
	}
	u += "?blobs=true"
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, c.StallTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, u)
	if err != nil {
		return listing{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if outer.Err() != nil {
			return listing{}, outer.Err()
		}
		return listing{}, &NetworkError{Host: req.URL.Host, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		r := ref
		r.File = "" // a refusal of the listing is about the repository
		return listing{}, c.httpError(resp, r)
	}
	var body struct {
		SHA      string `json:"sha"`
		Siblings []struct {
			RFilename string `json:"rfilename"`
			Size      *int64 `json:"size"`
			LFS       *struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
			} `json:"lfs"`
		} `json:"siblings"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body); err != nil {
		return listing{}, fmt.Errorf("%s: reading the file listing of %s: %v", ref, ref.Repo, err)
	}
	l := listing{Commit: body.SHA}
	for _, s := range body.Siblings {
		if checkRepoPath(s.RFilename) != nil {
			continue
		}
		f := RepoFile{Path: s.RFilename, Size: -1}
		if s.Size != nil {
			f.Size = *s.Size
		}
		if s.LFS != nil {
			f.SHA256 = strings.ToLower(s.LFS.SHA256)
			if s.LFS.Size > 0 {
				f.Size = s.LFS.Size
			}
		}
		l.Files = append(l.Files, f)
	}
	return l, nil
}

func (c *client) pullRepo(ctx context.Context, ref Ref) (Result, error) {
	if ref.Revision == "" {
		ref.Revision = "main"
	}
	l, err := c.list(ctx, ref)
	var netErr *NetworkError
	if errors.As(err, &netErr) {
		// Without the hub, a model pulled before is still usable.
		if res, ok := c.local(ref); ok {
			return res, nil
		}
		return Result{}, err
	}
	if err != nil {
		return Result{}, err
	}
	var first RepoFile
	if ref.File != "" {
		found := false
		for _, f := range l.Files {
			if f.Path == ref.File {
				first, found = f, true
				break
			}
		}
		if !found {
			e := &HTTPError{Status: 404, Code: "EntryNotFound", Ref: ref, Endpoint: c.endpoint, URL: c.resolveURL(ref, l.Commit, ref.File)}
			for _, f := range l.Files {
				if strings.HasSuffix(f.Path, ".gguf") {
					e.Files = append(e.Files, Scheme+ref.Repo+"/"+f.Path+sizeNote(f.Size))
				}
			}
			return Result{}, e
		}
	} else {
		if first, err = choose(ref, l.Files); err != nil {
			return Result{}, err
		}
	}
	files, err := parts(first, l.Files)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", ref, err)
	}
	// A reference to a later part of a split model fetches the whole model
	// and loads it from the first part.
	res := Result{Ref: ref, Commit: l.Commit}
	specs := make([]fileSpec, len(files))
	var total int64
	for i, f := range files {
		specs[i] = fileSpec{
			name: f.Path, url: c.resolveURL(ref, l.Commit, f.Path),
			dest: filepath.Join(c.Dir, filepath.FromSlash(ref.Repo), filepath.FromSlash(f.Path)),
			size: f.Size, sha256: f.SHA256, ref: ref,
		}
		if total >= 0 && f.Size >= 0 {
			total += f.Size
		} else {
			total = -1
		}
	}
	if err := c.fetchAll(ctx, specs, total, &res); err != nil {
		return res, err
	}
	return res, nil
}

// resolveURL is the hub's download URL of file, pinned to the listed
// commit so every part comes from the same version.
func (c *client) resolveURL(ref Ref, commit, file string) string {
	rev := commit
	if rev == "" {
		rev = ref.Revision
	}
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.endpoint + "/" + ref.Repo + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(segs, "/")
}

// local finds a model pulled before for ref, for when the hub cannot be
// reached: the named file (with all its parts), or the one local file
// that matches the quantization.
func (c *client) local(ref Ref) (Result, bool) {
	dir := filepath.Join(c.Dir, filepath.FromSlash(ref.Repo))
	var files []RepoFile
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".gguf") {
			return nil
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil {
			return nil
		}
		st, serr := d.Info()
		if serr != nil {
			return nil
		}
		files = append(files, RepoFile{Path: filepath.ToSlash(rel), Size: st.Size()})
		return nil
	})
	var first RepoFile
	if ref.File != "" {
		found := false
		for _, f := range files {
			if f.Path == ref.File {
				first, found = f, true
			}
		}
		if !found {
			return Result{}, false
		}
	} else {
		var err error
		if first, err = choose(ref, files); err != nil {
			return Result{}, false
		}
	}
	ps, err := parts(first, files)
	if err != nil {
		return Result{}, false
	}
	res := Result{Ref: ref, Offline: true}
	for _, p := range ps {
		lp := filepath.Join(dir, filepath.FromSlash(p.Path))
		res.Files = append(res.Files, File{Name: p.Path, Path: lp, Size: p.Size, Present: true})
	}
	res.Path = res.Files[0].Path
	return res, true
}

func (c *client) pullURL(ctx context.Context, ref Ref) (Result, error) {
	u, err := url.Parse(ref.URL)
	if err != nil {
		return Result{}, err
	}
	name := path.Base(u.Path)
	if name == "" || name == "/" || name == "." || name == ".." {
		return Result{}, fmt.Errorf("%s names no file", ref.URL)
	}
	host := strings.ReplaceAll(u.Host, ":", "_")
	spec := fileSpec{name: name, url: ref.URL, dest: filepath.Join(c.Dir, host, name), size: -1, ref: ref}
	res := Result{Ref: ref}
	if err := c.fetchAll(ctx, []fileSpec{spec}, -1, &res); err != nil {
		return res, err
	}
	return res, nil
}

// fetchAll downloads specs in order into res, reporting progress over all
// of them.
func (c *client) fetchAll(ctx context.Context, specs []fileSpec, total int64, res *Result) error {
	var before int64 // bytes of the files already done
	for i, s := range specs {
		report := func(fileDone, fileTotal, resumed int64) {
			if c.Progress == nil {
				return
			}
			t := total
			if len(specs) == 1 {
				t = fileTotal
			}
			c.Progress(Progress{File: s.name, Index: i + 1, Files: len(specs), Done: before + fileDone, Total: t, Resumed: resumed})
		}
		f, n, err := c.fetch(ctx, s, report)
		res.Downloaded += n
		if err != nil {
			return err
		}
		res.Files = append(res.Files, f)
		before += f.Size
	}
	res.Path = res.Files[0].Path
	return nil
}

// destLocks serialises downloads of the same destination within the
// process (two registrations of one model, say).
var destLocks sync.Map // string -> *sync.Mutex

func lockDest(dest string) func() {
	m, _ := destLocks.LoadOrStore(dest, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
