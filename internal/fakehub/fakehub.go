// Package fakehub is a local imitation of Hugging Face's download
// endpoints for tests, which may not reach the internet: the model API
// listing (/api/models/USER/REPO?blobs=true), the resolve URLs
// (/USER/REPO/resolve/REV/FILE) that redirect files to a CDN on another
// host with X-Linked-Etag, X-Linked-Size and X-Repo-Commit, a CDN that
// honours Range, Hugging Face's error answers (401 for a missing or
// private repository asked anonymously, 401/403 GatedRepo, 404
// EntryNotFound) and faults to inject: a connection dropped mid-file, bytes
// that do not match the published sha256.
package fakehub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request is one request a server received.
type Request struct {
	Server string // "hub" or "cdn"
	Method string
	Path   string
	Range  string
	Auth   string // the Authorization header
}

// Repo is a repository the hub serves.
type Repo struct {
	Files map[string][]byte // path in the repository -> content
	// Gated repositories serve downloads only to the tokens in Granted
	// (which must also be in Hub.Tokens).
	Gated   bool
	Granted map[string]bool
	Commit  string // 40 hex digits; made up when empty
}

// Hub is the fake hub and its CDN.
type Hub struct {
	URL    string          // the endpoint (HF_ENDPOINT)
	CDNURL string          // the CDN (the hub redirects to it under the name localhost)
	Tokens map[string]bool // valid access tokens; any other is refused as invalid credentials

	hub, cdn *httptest.Server
	mu       sync.Mutex
	repos    map[string]*Repo
	blobs    map[string][]byte // sha256 -> content as served
	drops    map[string][]int64
	delay    time.Duration
	stall    time.Duration
	hold     chan struct{} // Hold's: closed by Release
	log      []Request
}

// New starts a hub. Close it when done.
func New() *Hub {
	h := &Hub{Tokens: map[string]bool{}, repos: map[string]*Repo{}, blobs: map[string][]byte{}, drops: map[string][]int64{}}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.URL = h.hub.URL
	h.CDNURL = h.cdn.URL
	return h
}

// Close stops both servers.
func (h *Hub) Close() {
	h.hub.Close()
	h.cdn.Close()
}

// Add serves repo as USER/REPO.
func (h *Hub) Add(name string, repo *Repo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if repo.Commit == "" {
		sum := sha256.Sum256([]byte(name))
		repo.Commit = hex.EncodeToString(sum[:20])
	}
	h.repos[name] = repo
	for _, b := range repo.Files {
		h.blobs[SHA256(b)] = b
	}
}

// SHA256 is the hex digest Hugging Face publishes for an LFS file.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// DropAfter makes the next requests for the file content (one per value)
// break the connection after that many bytes of the response body.
func (h *Hub) DropAfter(content []byte, after ...int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := SHA256(content)
	h.drops[k] = append(h.drops[k], after...)
}

// Corrupt makes the CDN serve content with one byte changed, while the hub
// keeps publishing the original's sha256.
func (h *Hub) Corrupt(content []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	bad := bytes.Clone(content)
	bad[len(bad)/2] ^= 0xff
	h.blobs[SHA256(content)] = bad
}

// SlowDown makes the CDN pause this long after every 64 KiB it sends, so
// tests can watch a download in progress.
func (h *Hub) SlowDown(d time.Duration) {
	h.mu.Lock()
	h.delay = d
	h.mu.Unlock()
}

// Hold makes the CDN stop after the first 64 KiB of each file it sends,
// until Release: tests can watch a download in progress however slow the
// machine (SlowDown only makes it likely).
func (h *Hub) Hold() {
	h.mu.Lock()
	if h.hold == nil {
		h.hold = make(chan struct{})
	}
	h.mu.Unlock()
}

// Release lets the downloads Hold stopped go on.
func (h *Hub) Release() {
	h.mu.Lock()
	if h.hold != nil {
		close(h.hold)
		h.hold = nil
	}
	h.mu.Unlock()
}

// Stall makes the CDN wait this long before answering, as a dead
// connection would.
func (h *Hub) Stall(d time.Duration) {
	h.mu.Lock()
	h.stall = d
	h.mu.Unlock()
}

// Requests returns the requests received so far.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.log...)
}

func (h *Hub) record(server string, r *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, Request{server, r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("Authorization")})
	h.mu.Unlock()
}

func hfError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// repo finds USER/REPO, answering as Hugging Face does when it is missing
// (401 to an anonymous request, 404 to an authenticated one).
func (h *Hub) repo(w http.ResponseWriter, r *http.Request, name string) *Repo {
	h.mu.Lock()
	repo := h.repos[name]
	h.mu.Unlock()
	if repo != nil {
		return repo
	}
	status := http.StatusUnauthorized
	if r.Header.Get("Authorization") != "" {
		status = http.StatusNotFound
	}
	hfError(w, status, "RepoNotFound", "Repository not found")
	return nil
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.record("hub", r)
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	h.mu.Lock()
	valid := h.Tokens[token]
	h.mu.Unlock()
	if token != "" && !valid {
		hfError(w, http.StatusUnauthorized, "", "Invalid credentials in Authorization header")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(p, "api/models/"); ok {
		h.serveInfo(w, r, rest)
		return
	}
	parts := strings.SplitN(p, "/", 5)
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	name := parts[0] + "/" + parts[1]
	repo := h.repo(w, r, name)
	if repo == nil {
		return
	}
	if parts[3] != "main" && parts[3] != repo.Commit {
		hfError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+parts[3])
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	if repo.Gated && !repo.Granted[token] {
		status := http.StatusUnauthorized
		if token != "" {
			status = http.StatusForbidden
		}
		hfError(w, status, "GatedRepo", "Access to model "+name+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		return
	}
	content, ok := repo.Files[parts[4]]
	if !ok {
		hfError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	sum := SHA256(content)
	w.Header().Set("X-Linked-Size", fmt.Sprint(len(content)))
	w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
	w.Header().Set("ETag", `"`+sum[:40]+`"`)
	// The CDN is on another host name, so the client must not send it the
	// token (localhost against the hub's 127.0.0.1).
	w.Header().Set("Location", strings.Replace(h.cdn.URL, "127.0.0.1", "localhost", 1)+"/blobs/"+sum+"?X-Amz-Signature=fake")
	w.WriteHeader(http.StatusFound)
}

func (h *Hub) serveInfo(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.Split(rest, "/")
	if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "revision") {
		http.NotFound(w, r)
		return
	}
	name := parts[0] + "/" + parts[1]
	repo := h.repo(w, r, name)
	if repo == nil {
		return
	}
	if len(parts) == 4 && parts[3] != "main" && parts[3] != repo.Commit {
		hfError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+parts[3])
		return
	}
	type lfs struct {
		SHA256      string `json:"sha256"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type sibling struct {
		RFilename string `json:"rfilename"`
		Size      *int   `json:"size,omitempty"`
		BlobID    string `json:"blobId,omitempty"`
		LFS       *lfs   `json:"lfs,omitempty"`
	}
	var sib []sibling
	for path, b := range repo.Files {
		s := sibling{RFilename: path}
		if r.URL.Query().Get("blobs") == "true" {
			n := len(b)
			s.Size = &n
			s.BlobID = SHA256([]byte(path))[:40]
			s.LFS = &lfs{SHA256(b), len(b), 134}
		}
		sib = append(sib, s)
	}
	sort.Slice(sib, func(i, j int) bool { return sib[i].RFilename < sib[j].RFilename })
	gated := any(false)
	if repo.Gated {
		gated = "auto"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"_id": "fake", "id": name, "modelId": name, "sha": repo.Commit, "private": false,
		"gated": gated, "tags": []string{"gguf"}, "siblings": sib,
	})
}

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.record("cdn", r)
	sum, ok := strings.CutPrefix(r.URL.Path, "/blobs/")
	h.mu.Lock()
	content, found := h.blobs[sum]
	var drop int64 = -1
	if d := h.drops[sum]; len(d) > 0 && found {
		drop, h.drops[sum] = d[0], d[1:]
	}
	delay, stall, hold := h.delay, h.stall, h.hold
	h.mu.Unlock()
	if stall > 0 {
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
			return
		}
	}
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	var out http.ResponseWriter = w
	if drop >= 0 || delay > 0 || hold != nil {
		out = &faultWriter{ResponseWriter: w, left: drop, delay: delay, hold: hold, done: r.Context().Done()}
	}
	http.ServeContent(out, r, "", time.Time{}, bytes.NewReader(content))
}

// faultWriter breaks the connection after left bytes of body (left < 0:
// never), pauses after every 64 KiB and, with hold, waits after the first
// 64 KiB until hold is closed.
type faultWriter struct {
	http.ResponseWriter
	left    int64
	delay   time.Duration
	hold    <-chan struct{}
	done    <-chan struct{} // the request's end
	counted int64
}

func (f *faultWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		if f.left >= 0 && int64(n) >= f.left {
			n = int(f.left)
			f.ResponseWriter.Write(b[:n])
			if fl, ok := f.ResponseWriter.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler) // the server closes the connection mid-body
		}
		m, err := f.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		if f.left >= 0 {
			f.left -= int64(m)
		}
		b = b[n:]
		if f.delay > 0 || f.hold != nil {
			if fl, ok := f.ResponseWriter.(http.Flusher); ok {
				fl.Flush()
			}
			time.Sleep(f.delay)
		}
		if f.hold != nil {
			select {
			case <-f.hold:
			case <-f.done:
			}
			f.hold = nil
		}
	}
	return written, nil
}
