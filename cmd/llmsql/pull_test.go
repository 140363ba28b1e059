package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/fakehub"
	"github.com/llmsql/llmsql/internal/testutil"
)

// fakeHubWithStories serves stories260K (from ../shared) as
// tests/stories-GGUF with its F32 and Q8_0 files, and points HF_ENDPOINT
// at it.
func fakeHubWithStories(t *testing.T) (*fakehub.Hub, []byte) {
	t.Helper()
	f32, err := os.ReadFile(testutil.Shared(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	q8, err := os.ReadFile(testutil.Shared(t, "models/stories260K-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	h := fakehub.New()
	t.Cleanup(h.Close)
	h.Add("tests/stories-GGUF", &fakehub.Repo{Files: map[string][]byte{
		"stories260K-F32.gguf": f32, "stories260K-Q8_0.gguf": q8, "README.md": []byte("stories\n"),
	}})
	t.Setenv("HF_ENDPOINT", h.URL)
	t.Setenv("HF_TOKEN", "")
	return h, q8
}

func TestPullCommand(t *testing.T) {
	h, q8 := fakeHubWithStories(t)
	h.DropAfter(q8, 200_000) // the connection breaks once; the pull resumes
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"pull", "hf://tests/stories-GGUF:Q8_0", "--models-dir", dir, "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res struct {
		Ref        string `json:"ref"`
		Path       string `json:"path"`
		Bytes      int64  `json:"bytes"`
		Downloaded int64  `json:"downloaded_bytes"`
		Files      []struct {
			Name     string `json:"name"`
			SHA256   string `json:"sha256"`
			Verified bool   `json:"verified"`
		} `json:"files"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	want := filepath.Join(dir, "tests", "stories-GGUF", "stories260K-Q8_0.gguf")
	if res.Path != want || res.Bytes != int64(len(q8)) || res.Downloaded != int64(len(q8)) ||
		len(res.Files) != 1 || !res.Files[0].Verified || res.Files[0].SHA256 != fakehub.SHA256(q8) {
		t.Fatalf("result %+v", res)
	}
	if got, _ := os.ReadFile(want); !bytes.Equal(got, q8) {
		t.Fatal("file differs")
	}
	// Not a terminal, and quick: no progress lines.
	if errb.Len() != 0 {
		t.Errorf("stderr %q", errb.String())
	}

	// Text output, already there.
	out.Reset()
	code = run([]string{"pull", "--models-dir", dir, "hf://tests/stories-GGUF/stories260K-Q8_0.gguf"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "is already in "+want) {
		t.Errorf("exit %d: %q %q", code, out.String(), errb.String())
	}

	// The model pulled runs: generate takes the reference itself.
	t.Chdir(filepath.Dir(dir))
	os.Rename(dir, "models")
	out.Reset()
	code = run([]string{"generate", "-m", "hf://tests/stories-GGUF:Q8_0", "-p", "Once upon a time", "-n", "4", "--temp", "0", "--json"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), `"generated_ids"`) {
		t.Errorf("generate: exit %d: %q %q", code, out.String(), errb.String())
	}
}

func TestPullCommandErrors(t *testing.T) {
	fakeHubWithStories(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pull", "hf://tests/stories-GGUF:Q4_0"}, 1, "no GGUF file in tests/stories-GGUF has the quantization Q4_0"},
		{[]string{"pull", "hf://tests/stories-GGUF/nope.gguf"}, 1, "hf://tests/stories-GGUF/stories260K-Q8_0.gguf"},
		{[]string{"pull", "hf://tests/missing:Q8_0"}, 1, "not found or needs authentication"},
		{[]string{"pull", "hf://tests"}, 2, "usage: llmsql pull"},
		{[]string{"pull"}, 2, "want one REF"},
	} {
		var out, errb bytes.Buffer
		code := run(append(c.args, "--models-dir", dir), &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.want)
		}
	}
}

// TestProgressPlainLines checks the report written where stderr is not a
// terminal: nothing for a quick job, then a line every plainEvery with
// the bytes, the percentage, a rate and the time left.
func TestProgressPlainLines(t *testing.T) {
	// A clock of the test's (a loaded machine can pause the test longer
	// than any plainEvery between two calls).
	now := time.Unix(1_000_000, 0)
	savedNow := progressNow
	progressNow = func() time.Time { return now }
	defer func() { progressNow = savedNow }()

	var b bytes.Buffer
	p := newProgressMode(&b, false, "pulling m.gguf", 4<<20, unitBytes)
	now = now.Add(plainEvery - time.Millisecond)
	p.Set(1 << 20)
	if b.Len() != 0 {
		t.Fatalf("printed before plainEvery: %q", b.String())
	}
	now = now.Add(time.Millisecond)
	p.Set(2 << 20)
	now = now.Add(plainEvery - time.Millisecond)
	p.Set(3 << 20) // too soon after the last line
	p.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", b.String())
	}
	re := regexp.MustCompile(`^pulling m\.gguf: 2\.0 MiB of 4\.0 MiB \(50%\), [0-9.]+ [KMG]iB/s, [0-9hms.]+ left$`)
	if !re.MatchString(lines[0]) {
		t.Errorf("line %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "pulling m.gguf: 3.0 MiB of 4.0 MiB (75%)") {
		t.Errorf("last line %q", lines[1])
	}

	// A terminal gets the progress bar, cleared at the end.
	b.Reset()
	p = newProgressMode(&b, true, "pulling m.gguf", 4<<20, unitBytes)
	p.Set(2 << 20)
	time.Sleep(150 * time.Millisecond) // past the bar's redraw throttle
	p.Set(3 << 20)
	p.Finish()
	if s := b.String(); !strings.Contains(s, "pulling m.gguf") || !strings.Contains(s, "/4.0 MiB") || !strings.Contains(s, "\r") {
		t.Errorf("terminal output %q", s)
	}
}

// TestServeModelFromHub is `llmsql serve --model s=hf://...` against the
// fake hub (HF_ENDPOINT): the server starts at once, llm.models shows the
// download's progress with loaded 0, then the model is registered and
// generates; INSERT of another reference does the same, and a reference
// that fails shows its error until DELETE.
func TestServeModelFromHub(t *testing.T) {
	h, q8 := fakeHubWithStories(t)
	h.Hold() // the Q8_0 file stops after 64 KiB until Release
	t.Cleanup(h.Release)
	dir := t.TempDir()
	cfg, err := parseServe([]string{"--memory", "--models-dir", dir, "--model", "s=hf://tests/stories-GGUF:Q8_0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, cfg, realEngine)
	db := ts.db()

	// Downloading: progress, loaded 0, no metadata yet.
	var done, total sql.NullInt64
	var loaded bool
	var arch sql.NullString
	for deadline := time.Now().Add(time.Minute); !total.Valid && time.Now().Before(deadline); {
		row := db.QueryRow("SELECT download_bytes, download_total, loaded, architecture FROM llm.models WHERE name = 's'")
		if err := row.Scan(&done, &total, &loaded, &arch); err != nil {
			t.Fatalf("while downloading: %v\n%s", err, ts.logs)
		}
	}
	if !total.Valid || total.Int64 != int64(len(q8)) || done.Int64 >= total.Int64 || loaded || arch.Valid {
		t.Errorf("while downloading: %v of %v, loaded %v, architecture %v", done, total, loaded, arch)
	}
	h.Release()

	waitRows(t, db, "SELECT name, path, architecture, quantization, download_bytes, error FROM llm.models",
		"s|hf://tests/stories-GGUF:Q8_0|llama|MOSTLY_Q8_0|NULL|NULL")
	want := filepath.Join(dir, "tests", "stories-GGUF", "stories260K-Q8_0.gguf")
	if got, _ := os.ReadFile(want); !bytes.Equal(got, q8) {
		t.Fatalf("%s is not the hub's file", want)
	}
	var text string
	if err := db.QueryRow("SELECT generate('s', 'Once upon a time', 0, 8)").Scan(&text); err != nil || text == "" {
		t.Fatalf("generate: %q, %v", text, err)
	}
	expectRows(t, db, "SELECT loaded FROM llm.models WHERE name = 's'", "1")

	// INSERT a file by name; and a quantization the repository lacks.
	mustExec(t, db, "INSERT INTO llm.models (name, path) VALUES ('f', 'hf://tests/stories-GGUF/stories260K-F32.gguf'), ('bad', 'hf://tests/stories-GGUF:Q4_0')")
	waitRows(t, db, "SELECT name, architecture, error IS NULL FROM llm.models ORDER BY name", "bad|NULL|0", "f|llama|1", "s|llama|1")
	var msg string
	if err := db.QueryRow("SELECT error FROM llm.models WHERE name = 'bad'").Scan(&msg); err != nil || !strings.Contains(msg, "has the quantization Q4_0") {
		t.Errorf("error column %q, %v", msg, err)
	}
	if err := db.QueryRow("SELECT generate('f', 'Once upon a time', 0, 8)").Scan(&text); err != nil || text == "" {
		t.Fatalf("generate on f: %q, %v", text, err)
	}
	mustExec(t, db, "DELETE FROM llm.models WHERE name = 'bad'")
	expectRows(t, db, "SELECT name FROM llm.models ORDER BY name", "f", "s")
	expectError(t, db, "INSERT INTO llm.models (name, path) VALUES ('s', 'hf://tests/stories-GGUF:Q8_0')", "already registered")
	if logs := ts.logs.String(); !strings.Contains(logs, "model registered") || !strings.Contains(logs, "download failed") {
		t.Errorf("log:\n%s", logs)
	}
}

// waitRows polls q until its rows are want.
func waitRows(t *testing.T, db sqlRunner, q string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var got []string
	for time.Now().Before(deadline) {
		if got = queryRows(t, db, q); strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: got %q, want %q", q, got, want)
}

// TestPullSplitModelRuns pulls stories260K published in three parts (as
// large models are on Hugging Face) and generates with it: the same greedy
// text as from the single file.
func TestPullSplitModelRuns(t *testing.T) {
	h, q8 := fakeHubWithStories(t)
	f, err := gguf.Parse(q8)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := fakehub.Split(f, 3)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for i, p := range parts {
		files[gguf.SplitPath("Q8_0/stories260K-Q8_0", i+1, 3)] = p
	}
	h.Add("tests/split-GGUF", &fakehub.Repo{Files: files})
	single := testutil.Shared(t, "models/stories260K-q8_0.gguf")
	t.Chdir(t.TempDir())

	greedy := func(model string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run([]string{"generate", "-m", model, "-p", "Once upon a time", "-n", "16", "--temp", "0", "--json"}, &out, &errb); code != 0 {
			t.Fatalf("generate -m %s: exit %d: %s", model, code, errb.String())
		}
		var res struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		return res.Text
	}
	split := greedy("hf://tests/split-GGUF:Q8_0")
	for i := 1; i <= 3; i++ {
		if _, err := os.Stat(filepath.Join("models", "tests", "split-GGUF", gguf.SplitPath("Q8_0/stories260K-Q8_0", i, 3))); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
	}
	if whole := greedy(single); split != whole || split == "" {
		t.Errorf("split model: %q, single file: %q", split, whole)
	}
}

// TestServeModelsDirSplit registers a split model in --models-dir once,
// from its first part, under the name without the part suffix.
func TestServeModelsDirSplit(t *testing.T) {
	f, err := gguf.Open(testutil.Shared(t, "models/stories260K-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts, err := fakehub.Split(f, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, p := range parts {
		if err := os.WriteFile(gguf.SplitPath(filepath.Join(dir, "stories"), i+1, 3), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := newServer(t, serveConfig{Memory: true, ModelsDir: dir}, realEngine)
	db := ts.db()
	expectRows(t, db, "SELECT name, architecture FROM llm.models", "stories|llama")
	var text string
	if err := db.QueryRow("SELECT generate('stories', 'Once upon a time', 0, 8)").Scan(&text); err != nil || text == "" {
		t.Fatalf("generate: %q, %v", text, err)
	}
	if strings.Contains(ts.logs.String(), "not registered") {
		t.Errorf("warnings:\n%s", ts.logs)
	}
}
