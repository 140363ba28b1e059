package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fileSpec is one file to fetch.
type fileSpec struct {
	name   string // shown in progress and errors
	url    string
	dest   string
	size   int64  // -1: unknown until the server says
	sha256 string // lower-case hex; empty: unknown until the server says
	ref    Ref
}

// partial is the temporary name of a download: beside dest, keyed by the
// content's sha256 (or the URL) so that a partial file of another version
// is never resumed into this one.
func (s fileSpec) partial() string {
	key := s.sha256
	if key == "" {
		sum := sha256.Sum256([]byte(s.url))
		key = hex.EncodeToString(sum[:])
	}
	return s.dest + "." + key[:12] + ".part"
}

// freeSpace returns the bytes available to this process in dir, or -1 when
// it cannot tell. A variable so tests can pretend the disk is small.
var freeSpace = func(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// fetch downloads one file unless it is already complete at s.dest, and
// returns it with the bytes transferred.
func (c *client) fetch(ctx context.Context, s fileSpec, report func(done, total, resumed int64)) (File, int64, error) {
	defer lockDest(s.dest)()
	out := File{Name: s.name, Path: s.dest, Size: s.size, SHA256: s.sha256}
	if st, err := os.Stat(s.dest); err == nil && st.Mode().IsRegular() && (s.size < 0 || st.Size() == s.size) {
		out.Size, out.Present = st.Size(), true
		report(out.Size, out.Size, 0)
		return out, 0, nil
	}
	if err := os.MkdirAll(filepath.Dir(s.dest), 0o755); err != nil {
		return out, 0, err
	}
	part := s.partial()
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return out, 0, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	t := &transfer{c: c, s: &s, f: f, part: part, h: sha256.New(), report: report}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		t.off = st.Size()
	}
	if s.size >= 0 && t.off > s.size {
		if err := t.restart(); err != nil {
			return out, 0, err
		}
	}
	if t.off > 0 {
		// The digest covers the whole file, so read back what an earlier
		// call left before appending to it.
		if _, err := io.Copy(t.h, io.NewSectionReader(f, 0, t.off)); err != nil {
			return out, 0, err
		}
		t.resumed = t.off
	}
	if s.size >= 0 {
		if avail := freeSpace(filepath.Dir(s.dest)); avail >= 0 && avail < s.size-t.off {
			return out, 0, &DiskFullError{File: s.name, Partial: part, Need: s.size - t.off, Available: avail}
		}
	}
	report(t.off, s.size, t.resumed)

	tries, delay := 0, c.RetryDelay
	for {
		n, done, err := t.get(ctx)
		if done {
			break
		}
		if ctx.Err() != nil {
			return out, t.got, ctx.Err()
		}
		if n > 0 { // progress: the next break starts a fresh count
			tries, delay = 0, c.RetryDelay
		}
		tries++
		if !retryable(err) || c.Retries < 0 || tries > c.Retries || (unreachable(err) && tries > 1) {
			return out, t.got, err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return out, t.got, ctx.Err()
		}
		delay = min(2*delay, 30*time.Second)
	}

	out.Size = t.off
	sum := hex.EncodeToString(t.h.Sum(nil))
	if s.sha256 != "" && sum != s.sha256 {
		f.Close()
		f = nil
		os.Remove(part)
		return out, t.got, &ChecksumError{File: s.name, Want: s.sha256, Got: sum}
	}
	out.Verified = s.sha256 != ""
	out.SHA256 = sum
	if err := f.Sync(); err != nil {
		return out, t.got, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return out, t.got, err
	}
	if err := os.Rename(part, s.dest); err != nil {
		return out, t.got, err
	}
	if d, err := os.Open(filepath.Dir(s.dest)); err == nil {
		d.Sync()
		d.Close()
	}
	// Partial downloads of other versions of this file are of no more use.
	if old, _ := filepath.Glob(globEscape(s.dest) + ".*.part"); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	report(out.Size, out.Size, t.resumed)
	return out, t.got, nil
}

func globEscape(p string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(p)
}

// transfer is one file's download in progress.
type transfer struct {
	c       *client
	s       *fileSpec
	f       *os.File
	part    string
	h       hash.Hash
	off     int64 // bytes in the partial file
	got     int64 // bytes received by this call
	resumed int64
	report  func(done, total, resumed int64)
}

// restart empties the partial file.
func (t *transfer) restart() error {
	if err := t.f.Truncate(0); err != nil {
		return err
	}
	t.h.Reset()
	t.off, t.resumed = 0, 0
	return nil
}

// retryError marks a failure that another request (resuming) may get past.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var r *retryError
	return errors.As(err, &r)
}

// get makes one request for the rest of the file and appends what arrives.
// done reports the file complete; n is the bytes this request added.
func (t *transfer) get(ctx context.Context) (n int64, done bool, err error) {
	s := t.s
	if s.size >= 0 && t.off == s.size && t.off > 0 {
		return 0, true, nil
	}
	// A connection that goes silent (a dead route, a stuck proxy) is
	// abandoned after StallTimeout and the download resumed on a new one.
	reqCtx, cancelReq := context.WithCancel(ctx)
	defer cancelReq()
	var stalled atomic.Bool
	alive := make(chan struct{}, 1)
	go func() {
		timer := time.NewTimer(t.c.StallTimeout)
		defer timer.Stop()
		for {
			select {
			case <-reqCtx.Done():
				return
			case <-alive:
				timer.Reset(t.c.StallTimeout)
			case <-timer.C:
				stalled.Store(true)
				cancelReq()
				return
			}
		}
	}()
	stallError := func() error {
		return &retryError{fmt.Errorf("%s: no data from the server for %s after %s of %s", s.name, t.c.StallTimeout, FormatBytes(t.off), sizeText(s.size))}
	}
	req, err := t.c.newRequest(reqCtx, http.MethodGet, s.url)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Accept-Encoding", "identity") // the sizes and digests are of the raw bytes
	if t.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", t.off))
	}
	// The hub's redirect to its CDN carries the file's sha256 and size;
	// the CDN's answer does not.
	var linked http.Header
	hc := *t.c.http
	hc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if linked == nil && r.Response != nil && r.Response.Header.Get("X-Linked-Etag") != "" {
			linked = r.Response.Header
		}
		return nil
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		if stalled.Load() {
			return 0, false, stallError()
		}
		return 0, false, &retryError{&NetworkError{Host: req.URL.Host, Err: err}}
	}
	defer resp.Body.Close()
	if linked == nil && resp.Header.Get("X-Linked-Etag") != "" {
		linked = resp.Header
	}
	if linked != nil {
		etag := strings.ToLower(strings.Trim(strings.TrimPrefix(linked.Get("X-Linked-Etag"), "W/"), `"`))
		if s.sha256 == "" && sha256Hex.MatchString(etag) {
			s.sha256 = etag
		}
		if sz, err := strconv.ParseInt(linked.Get("X-Linked-Size"), 10, 64); err == nil && s.size < 0 {
			s.size = sz
		}
	}

	switch resp.StatusCode {
	case http.StatusOK:
		if t.off > 0 { // the server ignored the range: start over
			if err := t.restart(); err != nil {
				return 0, false, err
			}
		}
		if s.size < 0 && resp.ContentLength >= 0 {
			s.size = resp.ContentLength
		}
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != t.off {
			if err := t.restart(); err != nil {
				return 0, false, err
			}
			return 0, false, &retryError{fmt.Errorf("%s: asked for bytes from %d, the server sent %q", s.name, t.off, resp.Header.Get("Content-Range"))}
		}
		if s.size < 0 && total >= 0 {
			s.size = total
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The partial file is as long as the file or longer.
		if s.size >= 0 && t.off == s.size {
			return 0, true, nil
		}
		if err := t.restart(); err != nil {
			return 0, false, err
		}
		return 0, false, &retryError{fmt.Errorf("%s: the partial download did not match the file on the server; starting over", s.name)}
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		ref := s.ref
		if ref.Repo != "" {
			ref.File = s.name
		}
		e := t.c.httpError(resp, ref)
		if e.Status == 429 || e.Status >= 500 {
			return 0, false, &retryError{e}
		}
		return 0, false, e
	}

	buf := make([]byte, 256<<10)
	for {
		m, rerr := resp.Body.Read(buf)
		if m > 0 {
			if s.size >= 0 && t.off+int64(m) > s.size {
				return n, false, fmt.Errorf("%s: the server sent more than the %d bytes it announced", s.name, s.size)
			}
			if _, werr := t.f.WriteAt(buf[:m], t.off); werr != nil {
				if errors.Is(werr, syscall.ENOSPC) || errors.Is(werr, syscall.EDQUOT) {
					need := int64(m)
					if s.size >= 0 {
						need = s.size - t.off
					}
					return n, false, &DiskFullError{File: s.name, Partial: t.part, Need: need, Available: -1, Err: werr}
				}
				return n, false, werr
			}
			select {
			case alive <- struct{}{}:
			default:
			}
			t.h.Write(buf[:m])
			t.off += int64(m)
			t.got += int64(m)
			n += int64(m)
			t.report(t.off, s.size, t.resumed)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return n, false, ctx.Err()
			}
			if stalled.Load() {
				return n, false, stallError()
			}
			return n, false, &retryError{fmt.Errorf("%s: the connection broke after %s of %s: %w", s.name, FormatBytes(t.off), sizeText(s.size), rerr)}
		}
	}
	if s.size >= 0 && t.off < s.size {
		return n, false, &retryError{fmt.Errorf("%s: the connection ended after %s of %s: %w", s.name, FormatBytes(t.off), sizeText(s.size), io.ErrUnexpectedEOF)}
	}
	if s.size < 0 {
		s.size = t.off
	}
	return n, true, nil
}

func sizeText(n int64) string {
	if n < 0 {
		return "an unknown size"
	}
	return FormatBytes(n)
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*": -1).
func parseContentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}
