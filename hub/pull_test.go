package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/fakehub"
)

// tinyGGUF writes a small valid GGUF (a few hundred KiB: big enough that a
// connection can break in the middle) and returns its bytes.
func tinyGGUF(t testing.TB, name string, seed byte) []byte {
	t.Helper()
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("llama"))
	w.Set("general.name", gguf.String(name))
	data := make([]byte, 4*100_000)
	for i := range data {
		data[i] = byte(i*7) ^ seed
	}
	if err := w.AddTensor("blob", gguf.TypeF32, []uint64{100_000}, data); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type fixture struct {
	hub  *fakehub.Hub
	dir  string
	opts Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	h := fakehub.New()
	t.Cleanup(h.Close)
	dir := t.TempDir()
	return &fixture{hub: h, dir: dir, opts: Options{Dir: dir, Endpoint: h.URL, RetryDelay: time.Millisecond}}
}

func (fx *fixture) pull(t *testing.T, ref string) (Result, error) {
	t.Helper()
	r, err := ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	return Pull(context.Background(), r, fx.opts)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func partials(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestParseRef(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Ref
	}{
		{"hf://Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf", Ref{Repo: "Qwen/Qwen3-0.6B-GGUF", File: "Qwen3-0.6B-Q8_0.gguf", Revision: "main"}},
		{"hf://Qwen/Qwen3-0.6B-GGUF:q8_0", Ref{Repo: "Qwen/Qwen3-0.6B-GGUF", Quant: "Q8_0", Revision: "main"}},
		{"hf://u/r", Ref{Repo: "u/r", Revision: "main"}},
		{"HF://u/r/sub/dir/m.gguf", Ref{Repo: "u/r", File: "sub/dir/m.gguf", Revision: "main"}},
		{"https://example.com/models/m.gguf", Ref{URL: "https://example.com/models/m.gguf"}},
	} {
		got, err := ParseRef(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"hf://", "hf://u", "hf://u/r:Q4 K", "hf://u/r/../x.gguf", "hf://u/r//x.gguf", "hf://../r/x.gguf", "/models/m.gguf", "https://", "https://example.com/"} {
		if r, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error", bad, r)
		}
	}
	if !IsRef("hf://a/b") || !IsRef("HTTPS://x/y") || IsRef("/a/b.gguf") || IsRef("models/hf.gguf") {
		t.Error("IsRef")
	}
	u, ok := fromResolveURL("https://huggingface.co/u/r/resolve/main/d/m.gguf?download=true", DefaultEndpoint)
	if !ok || u != (Ref{Repo: "u/r", Revision: "main", File: "d/m.gguf"}) {
		t.Errorf("fromResolveURL = %+v, %v", u, ok)
	}
}

func files(paths ...string) []RepoFile {
	out := make([]RepoFile, len(paths))
	for i, p := range paths {
		out[i] = RepoFile{Path: p, Size: int64(1000 * (i + 1))}
	}
	return out
}

func TestChoose(t *testing.T) {
	repo := files("README.md", "m-Q4_K_M.gguf", "m-Q8_0.gguf", "m-IQ4_XS.gguf", "mmproj-m-Q8_0.gguf",
		"big-Q6_K-00002-of-00002.gguf", "big-Q6_K-00001-of-00002.gguf", "m-f16.gguf")
	for _, c := range []struct{ quant, want string }{
		{"Q4_K_M", "m-Q4_K_M.gguf"},
		{"", "m-Q4_K_M.gguf"}, // llama.cpp's default
		{"Q8_0", "m-Q8_0.gguf"},
		{"IQ4_XS", "m-IQ4_XS.gguf"},
		{"F16", "m-f16.gguf"},
		{"Q6_K", "big-Q6_K-00001-of-00002.gguf"},
	} {
		got, err := choose(Ref{Repo: "u/r", Quant: c.quant}, repo)
		if err != nil || got.Path != c.want {
			t.Errorf("quant %q: got %q, %v; want %q", c.quant, got.Path, err, c.want)
		}
	}
	// Q4_0 must not pick IQ4_0-like names, and a missing tag lists what exists.
	_, err := choose(Ref{Repo: "u/r", Quant: "Q5_K_M"}, repo)
	var nm *NoMatchError
	if !errors.As(err, &nm) || !strings.Contains(err.Error(), "Q8_0") || strings.Contains(err.Error(), "mmproj") {
		t.Errorf("missing quant: %v", err)
	}
	if _, err := choose(Ref{Repo: "u/r", Quant: "Q4_XS"}, files("m-IQ4_XS.gguf")); err == nil {
		t.Error("Q4_XS matched IQ4_XS")
	}
	// Two models carry Q4_K_M: refuse, naming both.
	_, err = choose(Ref{Repo: "u/r", Quant: "Q4_K_M"}, files("a-Q4_K_M.gguf", "b-Q4_K_M.gguf", "a-Q8_0.gguf"))
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 ||
		!strings.Contains(err.Error(), "hf://u/r/a-Q4_K_M.gguf") || !strings.Contains(err.Error(), "hf://u/r/b-Q4_K_M.gguf") {
		t.Errorf("ambiguous: %v", err)
	}
	// No tag and no default: the only model, or a refusal.
	if got, err := choose(Ref{Repo: "u/r"}, files("x.gguf", "README.md")); err != nil || got.Path != "x.gguf" {
		t.Errorf("only model: %v %v", got, err)
	}
	if _, err := choose(Ref{Repo: "u/r"}, files("x-F16.gguf", "x-Q2_K.gguf")); !errors.As(err, &amb) {
		t.Errorf("two models, no tag: %v", err)
	}
}

func TestPullFileAndQuant(t *testing.T) {
	fx := newFixture(t)
	q8, q4 := tinyGGUF(t, "q8", 1), tinyGGUF(t, "q4", 2)
	fx.hub.Add("org/model-GGUF", &fakehub.Repo{Files: map[string][]byte{
		"model-Q8_0.gguf": q8, "model-Q4_K_M.gguf": q4, "README.md": []byte("# model\n"),
	}})
	var mu sync.Mutex
	var seen []Progress
	fx.opts.Progress = func(p Progress) { mu.Lock(); seen = append(seen, p); mu.Unlock() }

	res, err := fx.pull(t, "hf://org/model-GGUF:q8_0")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(fx.dir, "org", "model-GGUF", "model-Q8_0.gguf")
	if res.Path != want || !bytes.Equal(mustRead(t, want), q8) {
		t.Fatalf("path %s, want %s with the Q8_0 bytes", res.Path, want)
	}
	f := res.Files[0]
	if !f.Verified || f.SHA256 != fakehub.SHA256(q8) || res.Downloaded != int64(len(q8)) || f.Present {
		t.Errorf("file %+v, downloaded %d", f, res.Downloaded)
	}
	if len(seen) < 2 || seen[len(seen)-1].Done != int64(len(q8)) || seen[len(seen)-1].Total != int64(len(q8)) {
		t.Errorf("progress %+v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done < seen[i-1].Done {
			t.Errorf("progress went back: %+v then %+v", seen[i-1], seen[i])
		}
	}
	if p := partials(t, fx.dir); len(p) != 0 {
		t.Errorf("partial files left: %v", p)
	}

	// Again: already there, nothing fetched; by file name as well.
	res, err = fx.pull(t, "hf://org/model-GGUF/model-Q8_0.gguf")
	if err != nil || res.Downloaded != 0 || !res.Files[0].Present || res.Path != want {
		t.Errorf("second pull: %+v, %v", res, err)
	}
	// The default quantization is Q4_K_M, as with llama.cpp.
	res, err = fx.pull(t, "hf://org/model-GGUF")
	if err != nil || filepath.Base(res.Path) != "model-Q4_K_M.gguf" || !bytes.Equal(mustRead(t, res.Path), q4) {
		t.Errorf("default quant: %+v, %v", res, err)
	}
	// The hub's resolve URL is pulled as the hf:// reference it names.
	os.Remove(want)
	res, err = fx.pull(t, fx.hub.URL+"/org/model-GGUF/resolve/main/model-Q8_0.gguf")
	if err != nil || res.Path != want || !res.Files[0].Verified {
		t.Errorf("resolve URL: %+v, %v", res, err)
	}
}

func TestPullResumesInOneCall(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 3)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}})
	fx.hub.DropAfter(m, 150_000, 50_000) // two broken connections

	res, err := fx.pull(t, "hf://u/r/m-Q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, res.Path), m) || !res.Files[0].Verified {
		t.Fatal("content differs after resuming")
	}
	var ranges []string
	for _, r := range fx.hub.Requests() {
		if r.Server == "cdn" {
			ranges = append(ranges, r.Range)
		}
	}
	want := []string{"", "bytes=150000-", "bytes=200000-"}
	if strings.Join(ranges, ",") != strings.Join(want, ",") {
		t.Errorf("CDN ranges %q, want %q", ranges, want)
	}
	if res.Downloaded != int64(len(m)) {
		t.Errorf("downloaded %d, want %d", res.Downloaded, len(m))
	}
}

func TestPullResumesNextCall(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 4)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}})
	fx.hub.DropAfter(m, 123_456)
	fx.opts.Retries = -1

	_, err := fx.pull(t, "hf://u/r:Q8_0")
	if err == nil || !strings.Contains(err.Error(), "connection") {
		t.Fatalf("want a broken connection, got %v", err)
	}
	p := partials(t, fx.dir)
	if len(p) != 1 {
		t.Fatalf("partials %v", p)
	}
	if st, _ := os.Stat(p[0]); st.Size() != 123_456 {
		t.Fatalf("partial has %d bytes", st.Size())
	}
	var first Progress
	fx.opts.Progress = func(pr Progress) {
		if first.File == "" {
			first = pr
		}
	}
	res, err := fx.pull(t, "hf://u/r:Q8_0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, res.Path), m) || res.Downloaded != int64(len(m)-123_456) {
		t.Fatalf("downloaded %d", res.Downloaded)
	}
	if first.Resumed != 123_456 || first.Done != 123_456 {
		t.Errorf("first progress %+v", first)
	}
	reqs := fx.hub.Requests()
	if last := reqs[len(reqs)-1]; last.Server != "cdn" || last.Range != "bytes=123456-" {
		t.Errorf("last request %+v", last)
	}
}

func TestPullWrongChecksum(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 5)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}})
	fx.hub.Corrupt(m)
	_, err := fx.pull(t, "hf://u/r:Q8_0")
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Want != fakehub.SHA256(m) {
		t.Fatalf("want a checksum error, got %v", err)
	}
	if _, serr := os.Stat(filepath.Join(fx.dir, "u", "r", "m-Q8_0.gguf")); serr == nil {
		t.Error("a corrupt download was renamed into place")
	}
	if p := partials(t, fx.dir); len(p) != 0 {
		t.Errorf("corrupt partial kept: %v", p)
	}
}

func TestPullAmbiguous(t *testing.T) {
	fx := newFixture(t)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{
		"base-Q4_K_M.gguf": tinyGGUF(t, "a", 6), "instruct-Q4_K_M.gguf": tinyGGUF(t, "b", 7),
	}})
	_, err := fx.pull(t, "hf://u/r:Q4_K_M")
	var amb *AmbiguousError
	if !errors.As(err, &amb) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"hf://u/r/base-Q4_K_M.gguf", "hf://u/r/instruct-Q4_K_M.gguf", "name the file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	for _, r := range fx.hub.Requests() {
		if r.Server == "cdn" {
			t.Errorf("downloaded despite the ambiguity: %+v", r)
		}
	}
}

func TestPullSplit(t *testing.T) {
	fx := newFixture(t)
	p1, p2, p3 := tinyGGUF(t, "p1", 8), tinyGGUF(t, "p2", 9), tinyGGUF(t, "p3", 10)
	fx.hub.Add("u/big", &fakehub.Repo{Files: map[string][]byte{
		"Q8_0/big-Q8_0-00001-of-00003.gguf": p1,
		"Q8_0/big-Q8_0-00002-of-00003.gguf": p2,
		"Q8_0/big-Q8_0-00003-of-00003.gguf": p3,
		"big-Q2_K.gguf":                     tinyGGUF(t, "q2", 11),
	}})
	fx.hub.DropAfter(p2, 100_000) // one part breaks and resumes
	var last Progress
	fx.opts.Progress = func(p Progress) { last = p }
	res, err := fx.pull(t, "hf://u/big:Q8_0")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(fx.dir, "u", "big", "Q8_0")
	if res.Path != filepath.Join(dir, "big-Q8_0-00001-of-00003.gguf") || len(res.Files) != 3 {
		t.Fatalf("result %+v", res)
	}
	for i, want := range [][]byte{p1, p2, p3} {
		if got := mustRead(t, res.Files[i].Path); !bytes.Equal(got, want) || !res.Files[i].Verified {
			t.Errorf("part %d differs or is unverified", i+1)
		}
	}
	total := int64(len(p1) + len(p2) + len(p3))
	if last.Index != 3 || last.Files != 3 || last.Done != total || last.Total != total {
		t.Errorf("last progress %+v, want 3 of 3 and %d bytes", last, total)
	}
	// Naming a later part fetches (here: finds) the whole model.
	res, err = fx.pull(t, "hf://u/big/Q8_0/big-Q8_0-00002-of-00003.gguf")
	if err != nil || res.Path != filepath.Join(dir, "big-Q8_0-00001-of-00003.gguf") || res.Downloaded != 0 {
		t.Errorf("by part 2: %+v, %v", res, err)
	}
}

func TestPullNotFound(t *testing.T) {
	fx := newFixture(t)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"a-Q8_0.gguf": tinyGGUF(t, "a", 12), "notes.txt": []byte("x")}})
	_, err := fx.pull(t, "hf://u/r/a-Q4_0.gguf")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(err.Error(), "hf://u/r/a-Q8_0.gguf") || strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("missing file: %v", err)
	}
	// A missing repository, asked anonymously, is a 401 as on Hugging Face.
	_, err = fx.pull(t, "hf://u/nope:Q8_0")
	if !errors.As(err, &he) || he.Status != 401 || !strings.Contains(err.Error(), "not found or needs authentication") || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("missing repository, anonymous: %v", err)
	}
	fx.hub.Tokens["hf_good"] = true
	fx.opts.Token = "hf_good"
	_, err = fx.pull(t, "hf://u/nope:Q8_0")
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(err.Error(), "repository u/nope was not found") {
		t.Errorf("missing repository, with a token: %v", err)
	}
}

func TestPullGated(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 13)
	fx.hub.Tokens["hf_granted"] = true
	fx.hub.Tokens["hf_other"] = true
	fx.hub.Add("meta/gated", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}, Gated: true, Granted: map[string]bool{"hf_granted": true}})

	_, err := fx.pull(t, "hf://meta/gated:Q8_0")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 401 || !strings.Contains(err.Error(), "gated") || !strings.Contains(err.Error(), "set HF_TOKEN") ||
		!strings.Contains(err.Error(), fx.hub.URL+"/meta/gated") {
		t.Errorf("anonymous: %v", err)
	}
	fx.opts.Token = "hf_other"
	_, err = fx.pull(t, "hf://meta/gated:Q8_0")
	if !errors.As(err, &he) || he.Status != 403 || !strings.Contains(err.Error(), "not been granted access") {
		t.Errorf("token without access: %v", err)
	}
	fx.opts.Token = "hf_bogus"
	_, err = fx.pull(t, "hf://meta/gated:Q8_0")
	if !errors.As(err, &he) || he.Status != 401 || !strings.Contains(err.Error(), "HF_TOKEN was refused as invalid") {
		t.Errorf("invalid token: %v", err)
	}
	fx.opts.Token = "hf_granted"
	res, err := fx.pull(t, "hf://meta/gated:Q8_0")
	if err != nil || !bytes.Equal(mustRead(t, res.Path), m) {
		t.Fatalf("granted: %v", err)
	}
	// The token goes to the hub only, never to the CDN it redirects to.
	sent := false
	for _, r := range fx.hub.Requests() {
		if r.Server == "cdn" && r.Auth != "" {
			t.Errorf("the CDN got the token: %+v", r)
		}
		if r.Server == "hub" && r.Path == "/meta/gated/resolve/"+res.Commit+"/m-Q8_0.gguf" && r.Auth == "Bearer hf_granted" {
			sent = true
		}
	}
	if !sent {
		t.Error("the hub never got the token")
	}
}

func TestPullNoNetwork(t *testing.T) {
	fx := newFixture(t)
	fx.opts.Endpoint = "http://127.0.0.1:1" // nothing listens there
	_, err := fx.pull(t, "hf://u/r:Q8_0")
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1") || !strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Fatalf("got %v", err)
	}
	// A model pulled before is used without the hub.
	p := filepath.Join(fx.dir, "u", "r", "m-Q8_0.gguf")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("GGUF"), 0o644)
	for _, ref := range []string{"hf://u/r:Q8_0", "hf://u/r/m-Q8_0.gguf"} {
		res, err := fx.pull(t, ref)
		if err != nil || res.Path != p || !res.Offline {
			t.Errorf("%s offline: %+v, %v", ref, res, err)
		}
	}
}

func TestPullDiskFull(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 14)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}})

	// Checked before downloading: the message says what is needed.
	saved := freeSpace
	freeSpace = func(string) int64 { return 1000 }
	_, err := fx.pull(t, "hf://u/r:Q8_0")
	freeSpace = saved
	var df *DiskFullError
	if !errors.As(err, &df) || df.Need != int64(len(m)) || !strings.Contains(err.Error(), FormatBytes(int64(len(m)))+" more are needed") ||
		!strings.Contains(err.Error(), "pull again to resume") {
		t.Fatalf("got %v", err)
	}

	// A write that fails with ENOSPC (the partial file is /dev/full) after
	// a first part arrived: the partial is kept and the message says so.
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	spec := fileSpec{sha256: fakehub.SHA256(m), dest: filepath.Join(fx.dir, "u", "r", "m-Q8_0.gguf")}
	os.Remove(spec.partial())
	if err := os.Symlink("/dev/full", spec.partial()); err != nil {
		t.Fatal(err)
	}
	_, err = fx.pull(t, "hf://u/r:Q8_0")
	if !errors.As(err, &df) || df.Partial != spec.partial() || df.Need != int64(len(m)) || !strings.Contains(err.Error(), "is kept") {
		t.Fatalf("ENOSPC: %v", err)
	}
}

func TestPullPlainURL(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 15)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m.gguf": m}})
	fx.hub.DropAfter(m, 70_000)
	// The CDN's blob URL is a plain URL: stored under its host, resumed
	// with the size the server gives, with no published digest to check.
	u := fx.hub.CDNURL + "/blobs/" + fakehub.SHA256(m)
	res, err := fx.pull(t, u)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.ReplaceAll(strings.TrimPrefix(fx.hub.CDNURL, "http://"), ":", "_")
	if res.Path != filepath.Join(fx.dir, host, fakehub.SHA256(m)) || !bytes.Equal(mustRead(t, res.Path), m) {
		t.Fatalf("result %+v", res)
	}
	if f := res.Files[0]; f.Verified || f.SHA256 != fakehub.SHA256(m) {
		t.Errorf("file %+v: want the computed digest, unverified", f)
	}
}

func TestPullStalled(t *testing.T) {
	fx := newFixture(t)
	m := tinyGGUF(t, "m", 16)
	fx.hub.Add("u/r", &fakehub.Repo{Files: map[string][]byte{"m-Q8_0.gguf": m}})
	fx.hub.Stall(10 * time.Second) // the CDN goes silent
	fx.opts.StallTimeout = 200 * time.Millisecond
	fx.opts.Retries = 2
	start := time.Now()
	_, err := fx.pull(t, "hf://u/r:Q8_0")
	if err == nil || !strings.Contains(err.Error(), "no data from the server for 200ms") {
		t.Fatalf("got %v", err)
	}
	// Three tries of 200 ms; well below the CDN's 10 s silence (a loaded
	// machine can take seconds more).
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("gave up after %s", d)
	}
	if n := len(fx.hub.Requests()); n != 1+3*2 { // the listing, then a redirect and a CDN request per try
		t.Errorf("%d requests, want 7", n)
	}
	// A connection that sends data is not abandoned, however slow.
	fx.hub.Stall(0)
	fx.hub.SlowDown(100 * time.Millisecond)
	fx.opts.StallTimeout = 5 * time.Second // pauses of 100 ms, also on a loaded machine
	res, err := fx.pull(t, "hf://u/r:Q8_0")
	if err != nil || !bytes.Equal(mustRead(t, res.Path), m) {
		t.Fatalf("after the stall: %+v, %v", res, err)
	}
}
