package model

import (
	"testing"

	"github.com/llmsql/llmsql/internal/testenv"
)

// TestMain applies LLMSQL_KERNELS to this package's tests (internal/testenv).
func TestMain(m *testing.M) { testenv.Main(m) }

// TestKernelEnv checks the level TestMain set (and makes the test cache
// key on LLMSQL_KERNELS).
func TestKernelEnv(t *testing.T) { testenv.Check(t) }
