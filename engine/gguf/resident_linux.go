package gguf

import "golang.org/x/sys/unix"

// adviseHuge asks for transparent huge pages over b (MADV_HUGEPAGE: with
// the kernel's usual "madvise" setting only memory that asks gets them).
// It is advice: where huge pages are off or none are free, b stays on
// small pages and everything works as before.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
