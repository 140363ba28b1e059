package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/internal/testenv"
)

// TestMain applies LLMSQL_KERNELS to this package's tests (internal/testenv),
// or runs the command as a child process for a test (child_test.go).
func TestMain(m *testing.M) {
	runChildIfAsked()
	testenv.Main(m)
}

// TestKernelEnv checks the level TestMain set (and makes the test cache
// key on LLMSQL_KERNELS).
func TestKernelEnv(t *testing.T) { testenv.Check(t) }

func TestEngineEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if e := readEngineEnv(env(map[string]string{"LLMSQL_KERNELS": " go ", "LLMSQL_PACK": "0"})); e.Kernels != "go" || !e.NoPack {
		t.Fatalf("read %+v", e)
	}
	if e := readEngineEnv(env(map[string]string{"LLMSQL_MMAP": "1"})); !e.Mmap || e.NoPack {
		t.Errorf("LLMSQL_MMAP=1: %+v", e)
	}
	if e := readEngineEnv(env(nil)); e.Kernels != "" || e.NoPack || e.Mmap {
		t.Fatalf("empty environment read as %+v", e)
	}
	var stderr bytes.Buffer
	if err := (engineEnv{Kernels: "neon"}).apply(&stderr); err == nil || !strings.Contains(err.Error(), "want go, avx2 or avx512") {
		t.Fatalf("unknown level: %v", err)
	}
	before := tensor.KernelLevel()
	defer tensor.SetLevel(before)
	if err := (engineEnv{Kernels: "go"}).apply(&stderr); err != nil || tensor.KernelLevel() != "go" {
		t.Fatalf("go: %v, level %s", err, tensor.KernelLevel())
	}
}
