package engine

import (
	"fmt"
	"runtime/debug"
)

// Weights are read straight from the mapped model file. If the file
// shrinks while mapped (someone overwrites a loaded model in place), a
// read past its new end raises SIGBUS, which would kill the process.
// Every goroutine that reads mapped weights therefore asks the runtime to
// turn such a fault into a panic (debug.SetPanicOnFault) and recovers it
// at a request boundary: the scheduler's loop and the tensor pool's
// workers for forward passes, guardFaults for loading. The request fails;
// the pool sees the changed file at the next use and loads it again.

// guardFaults runs f on the calling goroutine with faults on mapped memory
// (and any other panic) turned into an error.
func guardFaults(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the model file failed (did it change on disk?): %v", r)
		}
	}()
	return f()
}
