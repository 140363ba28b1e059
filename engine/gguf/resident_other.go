//go:build !linux

package gguf

// adviseHuge does nothing here: transparent huge pages are Linux's.
func adviseHuge(b []byte) {}
