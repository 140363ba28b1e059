package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/internal/testutil"
)

// tokenizeVocab returns the path of ../shared/vocab/ggml-vocab-NAME.gguf,
// skipping the test when the shared material is absent.
func tokenizeVocab(t *testing.T, name string) string {
	t.Helper()
	return testutil.Shared(t, "vocab/ggml-vocab-"+name+".gguf")
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestTokenizeCLI(t *testing.T) {
	spm := tokenizeVocab(t, "llama-spm")
	qwen := tokenizeVocab(t, "qwen2")
	cases := []struct {
		args []string
		want string
	}{
		// Ids as llama.cpp gives them (llama-tokenize, ../shared/ref/spm_tokenize.json,
		// and node-llama-cpp for the rest).
		{[]string{"tokenize", "-m", spm, "Hello world"}, "[1,15043,3186]\n"},
		{[]string{"tokenize", "Hello world", "-m", spm, "--no-bos"}, "[15043,3186]\n"},
		{[]string{"tokenize", "-m", spm, ""}, "[1]\n"},
		{[]string{"tokenize", "-m", spm, "--no-bos", ""}, "[]\n"},
		{[]string{"tokenize", "-m", spm, "--no-bos", "--parse-special", "<s> and </s> are"},
			"[1,29871,322,29871,2,29871,526]\n"},
		{[]string{"tokenize", "-m", spm, "--no-bos", "<s> and </s> are"},
			"[529,29879,29958,322,1533,29879,29958,526]\n"},
		{[]string{"tokenize", "-m", spm, "--no-bos", "--", "-x"}, "[448,29916]\n"},
		// Qwen2 does not add BOS; <|im_start|> is 151644 only when parsed.
		{[]string{"tokenize", "-m", qwen, "--parse-special", "<|im_start|>user"}, "[151644,872]\n"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != 0 || out != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", c.args[1:], code, out, errs, c.want)
		}
	}
}

func TestTokenizeCLIErrors(t *testing.T) {
	spm := tokenizeVocab(t, "llama-spm")
	missing := filepath.Join(t.TempDir(), "nope.gguf")
	notGGUF := filepath.Join(t.TempDir(), "x.gguf")
	if err := os.WriteFile(notGGUF, []byte("not a gguf file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"tokenize", "Hello"}, 2},                          // no -m
		{[]string{"tokenize", "-m", spm}, 2},                        // no TEXT
		{[]string{"tokenize", "-m", spm, "a", "b"}, 2},              // two TEXTs
		{[]string{"tokenize", "-m", spm, "--bogus", "a"}, 2},        // unknown flag
		{[]string{"tokenize", "-m", missing, "a"}, 1},               // no such file
		{[]string{"tokenize", "-m", notGGUF, "a"}, 1},               // not GGUF
		{[]string{"tokenize", "-m", t.TempDir(), "a"}, 1},           // a directory
		{[]string{"tokenize", "-m", spm, "--no-bos=maybe", "a"}, 2}, // bad bool
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", c.args[1:], code, c.code, errs)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing", c.args[1:], out)
		}
		if first, _, _ := strings.Cut(errs, "\n"); !strings.HasPrefix(first, "llmsql tokenize: ") {
			t.Errorf("%q: stderr %q does not start with an error line", c.args[1:], errs)
		}
		if c.code == 1 && strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: error is not one line: %q", c.args[1:], errs)
		}
	}
}
