// Package testenv applies the engine settings a test run asks for in its
// environment. The engine's packages read no environment (cmd/llmsql
// reads it for the program); a test binary is its own program, so the
// packages whose tests run models call Main from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// and then
//
//	LLMSQL_KERNELS=go go test ./engine/...
//
// runs their tests on the pure-Go kernels (tests that loop over every
// level with tensor.SetLevel still do). Such a package also has
//
//	func TestKernelEnv(t *testing.T) { testenv.Check(t) }
//
// which both checks the level and makes go test's cache key on
// LLMSQL_KERNELS (what TestMain reads before the tests start is not
// recorded, so a cached result of another level would be reused).
package testenv

import (
	"fmt"
	"os"
	"testing"

	"github.com/llmsql/llmsql/engine/tensor"
)

// Main sets the kernel level from LLMSQL_KERNELS (go, avx2, avx512; empty
// is the CPU's best) and runs the tests. A level the CPU lacks or an
// unknown name fails the run rather than testing something else.
func Main(m *testing.M) {
	if l := os.Getenv("LLMSQL_KERNELS"); l != "" {
		if _, err := tensor.SetLevel(l); err != nil {
			fmt.Fprintf(os.Stderr, "LLMSQL_KERNELS=%s: %v\n", l, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// Check fails t unless the kernels run at the level LLMSQL_KERNELS names.
func Check(t *testing.T) {
	want := os.Getenv("LLMSQL_KERNELS")
	if want == "" {
		want = tensor.Levels()[len(tensor.Levels())-1]
	}
	if got := tensor.KernelLevel(); got != want {
		t.Fatalf("kernel level %s, LLMSQL_KERNELS asks for %s", got, want)
	}
}
