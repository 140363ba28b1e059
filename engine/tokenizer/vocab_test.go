package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/testutil"
)

// sharedDir returns ../shared next to the module root, skipping the test
// when its vocabularies are absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	testutil.Shared(t, "vocab")
	return testutil.Shared(t, "")
}

var (
	loadedMu sync.Mutex
	loaded   = map[string]*Tokenizer{}
)

// loadVocab loads ../shared/vocab/ggml-vocab-NAME.gguf once per test run.
func loadVocab(t testing.TB, name string) *Tokenizer {
	t.Helper()
	path := filepath.Join(sharedDir(t), "vocab", "ggml-vocab-"+name+".gguf")
	return loadPath(t, path)
}

func loadPath(t testing.TB, path string) *Tokenizer {
	t.Helper()
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if tok, ok := loaded[path]; ok {
		return tok
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Load(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	loaded[path] = tok
	return tok
}

// vocabCases reads NAME.gguf.inp and NAME.gguf.out: test strings separated
// by "\n__ggml_vocab_test__\n" and one line of expected ids per string.
func vocabCases(t *testing.T, path string) (texts []string, want [][]int32) {
	inp, err := os.ReadFile(path + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	outp, err := os.ReadFile(path + ".out")
	if err != nil {
		t.Fatal(err)
	}
	texts = strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if n := len(texts); n > 0 && texts[n-1] == "" {
		texts = texts[:n-1]
	}
	lines := strings.Split(strings.TrimSuffix(string(outp), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%s: %d test strings but %d expected lines", filepath.Base(path), len(texts), len(lines))
	}
	for _, l := range lines {
		var ids []int32
		for _, f := range strings.Fields(l) {
			v, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				t.Fatalf("%s: bad id %q", filepath.Base(path), f)
			}
			ids = append(ids, int32(v))
		}
		want = append(want, ids)
	}
	return texts, want
}

// TestVocabFiles runs llama.cpp's tokenizer test vectors: every vocab with
// .inp and .out files must reproduce every expected id sequence.
func TestVocabFiles(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "vocab")
	paths, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range paths {
		if _, err := os.Stat(path + ".inp"); err != nil {
			continue
		}
		if _, err := os.Stat(path + ".out"); err != nil {
			continue
		}
		n++
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "ggml-vocab-"), ".gguf")
		t.Run(name, func(t *testing.T) {
			tok := loadPath(t, path)
			texts, want := vocabCases(t, path)
			for i, text := range texts {
				got := tok.Encode(text, false, false)
				if !equalIDs(got, want[i]) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, text, got, want[i])
				}
			}
		})
	}
	if n == 0 {
		t.Skip("no vocab test vectors found")
	}
}

// TestVocabFilesLoad loads every vocabulary, including those without test
// strings.
func TestVocabFilesLoad(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "vocab")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if len(paths) == 0 {
		t.Skip("no vocab files")
	}
	for _, path := range paths {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Load(f)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		// The tokenizer owns its data: it outlives the mapped file.
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if tok.VocabSize() == 0 {
			t.Errorf("%s: empty vocabulary", filepath.Base(path))
		}
		ids := tok.Encode("Hello world", false, false)
		if len(ids) == 0 {
			t.Errorf("%s: no tokens for plain text", filepath.Base(path))
		}
		if got := strings.TrimSpace(strings.ToLower(tok.Decode(ids))); got != "hello world" {
			t.Errorf("%s: Hello world decodes as %q", filepath.Base(path), got)
		}
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
