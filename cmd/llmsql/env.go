package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llmsql/llmsql/engine/tensor"
)

// engineEnv is the engine configuration taken from the environment. It is
// read here, once, at the start of a command, and passed down as options:
// no package below cmd reads the environment.
//
//	LLMSQL_KERNELS=go|avx2|avx512  kernel level (default: the CPU's best)
//	LLMSQL_PACK=0                  keep Q4_0/Q4_K weights in the file's layout
//	LLMSQL_MMAP=1                  map model files instead of reading them into memory
type engineEnv struct {
	Kernels string
	NoPack  bool
	Mmap    bool
}

// engineOpts is what run read for the command being run.
var engineOpts engineEnv

func readEngineEnv(getenv func(string) string) engineEnv {
	return engineEnv{
		Kernels: strings.TrimSpace(getenv("LLMSQL_KERNELS")),
		NoPack:  strings.TrimSpace(getenv("LLMSQL_PACK")) == "0",
		Mmap:    strings.TrimSpace(getenv("LLMSQL_MMAP")) == "1",
	}
}

// apply sets the process-wide kernel level. A level this CPU cannot run
// falls back to its best, with a warning; an unknown name is an error.
func (e engineEnv) apply(stderr io.Writer) error {
	if e.Kernels == "" {
		return nil
	}
	if _, err := tensor.SetLevel(e.Kernels); err != nil {
		if !isKnownLevel(e.Kernels) {
			return fmt.Errorf("LLMSQL_KERNELS=%s: want go, avx2 or avx512", e.Kernels)
		}
		fmt.Fprintf(stderr, "llmsql: LLMSQL_KERNELS=%s: %v; using %s\n", e.Kernels, err, tensor.KernelLevel())
	}
	return nil
}

func isKnownLevel(name string) bool {
	return name == "go" || name == "avx2" || name == "avx512"
}

func loadEnv(stderr io.Writer) error {
	engineOpts = readEngineEnv(os.Getenv)
	return engineOpts.apply(stderr)
}
