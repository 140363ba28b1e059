// Package testutil finds the read-only material in ../shared for tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding go.mod, searching up from the
// working directory (a package's directory under go test).
func ModuleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel inside ../shared (beside the module root),
// skipping the test, with the reason, when it is absent: a fresh clone
// elsewhere has no ../shared.
func Shared(t testing.TB, rel string) string {
	p := filepath.Join(ModuleRoot(t), "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s is absent (the project's read-only ../shared material is not beside this checkout)", p)
	}
	return p
}
