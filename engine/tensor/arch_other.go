//go:build !amd64

package tensor

// registerArch is called once by the package's init: other architectures
// run the pure-Go kernels.
func registerArch() {}
