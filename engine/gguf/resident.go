package gguf

import (
	"fmt"
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on x86-64 and arm64
// with 4 KiB base pages; aligning the memory to it lets every whole
// 2 MiB of the file sit in one.
const hugePage = 2 << 20

// readResident reads the size bytes of fd into anonymous memory aligned
// to a huge page and, where the kernel has them, asked to be backed by
// huge pages before its first touch (adviseHuge). It returns the data and
// the function that frees it.
func readResident(fd *os.File, size int) ([]byte, func() error, error) {
	region, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, fmt.Errorf("allocating %d bytes: %w", size, err)
	}
	free := func() error { return unix.Munmap(region) }
	off := 0
	if r := addrOf(region) % hugePage; r != 0 {
		off = hugePage - int(r)
	}
	data := region[off : off+size : off+size]
	adviseHuge(data)
	if _, err := io.ReadFull(io.NewSectionReader(fd, 0, int64(size)), data); err != nil {
		free()
		return nil, nil, err
	}
	return data, free, nil
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
