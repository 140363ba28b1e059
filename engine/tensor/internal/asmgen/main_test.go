package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedFilesUpToDate fails when kernels_amd64.s or its Go
// declarations differ from what this generator writes: run go generate in
// engine/tensor after changing a kernel.
func TestGeneratedFilesUpToDate(t *testing.T) {
	asm, decl, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{"../../kernels_amd64.s": asm, "../../kernels_decl_amd64.go": decl} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./engine/tensor", path)
		}
	}
}
