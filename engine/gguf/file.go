package gguf

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Open maps path read-only and parses it. Tensor data is not read: each
// tensor's Data is a view of the mapping, paged in by the kernel on first
// touch. Close the file when its tensors are no longer used. The first
// part of a split model (NAME-00001-of-0000N.gguf) opens every part, and
// its Tensors are all of theirs (split.go).
func Open(path string) (*File, error) { return open(path, false) }

// Load is Open with the file read into memory instead of mapped: anonymous
// memory that the kernel backs with transparent huge pages where it
// allows them (MADV_HUGEPAGE, see resident_linux.go). Decoding streams
// every weight once per token; over a mapping of the file's 4 KiB pages
// that is a TLB miss per 4 KiB and a hardware prefetcher stopping at
// every page edge, and on huge pages it is neither: F16 TinyLlama decodes
// about 16% faster (1.04-1.28x over six interleaved rounds, issue 19). The memory is the process's
// own, not the page cache's, and is freed by Close.
func Load(path string) (*File, error) { return open(path, true) }

// open is Open, or Load when resident is set: the file and, for a split
// model, every other part.
func open(path string, resident bool) (*File, error) {
	f, err := openOne(path, resident)
	if err != nil {
		return nil, err
	}
	if n, err := f.Uint("split.count"); err == nil && n > 1 {
		if err := f.openParts(path, int(n), resident); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// openOne maps one file, or reads it into memory when resident is set,
// and parses it.
func openOne(path string, resident bool) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("gguf: %s is not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("gguf: %s: %w", path, &FormatError{0, "empty file"})
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("gguf: %s: file too large to map", path)
	}
	var data []byte
	var unmap func() error
	if resident {
		data, unmap, err = readResident(fd, int(size))
		if err != nil {
			return nil, fmt.Errorf("gguf: reading %s: %w", path, err)
		}
	} else {
		data, err = unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("gguf: mmap %s: %w", path, err)
		}
		unmap = func() error { return unix.Munmap(data) }
	}
	f, err := Parse(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.mapping = data
	f.unmap = unmap
	f.resident = resident
	return f, nil
}

// Close unmaps the file (and the other parts of a split model). Tensor
// data must not be used afterwards.
func (f *File) Close() error {
	var err error
	for _, p := range f.parts {
		if perr := p.Close(); err == nil {
			err = perr
		}
	}
	f.parts = nil
	if f.unmap == nil {
		return err
	}
	if uerr := f.unmap(); err == nil {
		err = uerr
	}
	f.unmap = nil
	return err
}

// Prefetch asks the kernel to start reading the whole file ahead of use,
// so the first forward pass does not fault its weights in page by page
// (a file Load read is in memory already).
func (f *File) Prefetch() {
	if f.mapping != nil && !f.resident {
		_ = unix.Madvise(f.mapping, unix.MADV_WILLNEED)
	}
	for _, p := range f.parts {
		p.Prefetch()
	}
}

// Lookup returns the value stored under key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.Metadata[i].Value, true
}

// Has reports whether key is present.
func (f *File) Has(key string) bool { _, ok := f.kvIndex[key]; return ok }

// Tensor returns the tensor called name, or nil.
func (f *File) Tensor(name string) *Tensor {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil
	}
	return f.Tensors[i]
}

func (f *File) get(key, expected string) (Value, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return Value{}, &KeyError{Key: key, Expected: expected}
	}
	return v, nil
}

// String returns a string value.
func (f *File) String(key string) (string, error) {
	v, err := f.get(key, "string")
	if err != nil {
		return "", err
	}
	s, ok := v.v.(string)
	if !ok {
		return "", &KeyError{key, "string", describe(v)}
	}
	return s, nil
}

// Int returns an integer of any width and signedness as int64.
func (f *File) Int(key string) (int64, error) {
	v, err := f.get(key, "integer")
	if err != nil {
		return 0, err
	}
	n, ok := v.Int()
	if !ok {
		return 0, &KeyError{key, "integer", describe(v)}
	}
	return n, nil
}

// Uint returns a non-negative integer of any width.
func (f *File) Uint(key string) (uint64, error) {
	v, err := f.get(key, "unsigned integer")
	if err != nil {
		return 0, err
	}
	if u, ok := v.v.(uint64); ok {
		return u, nil
	}
	n, ok := v.Int()
	if !ok || n < 0 {
		return 0, &KeyError{key, "unsigned integer", describe(v) + fmt.Sprintf(" %v", v.v)}
	}
	return uint64(n), nil
}

// Float returns an f32 or f64 value.
func (f *File) Float(key string) (float64, error) {
	v, err := f.get(key, "float")
	if err != nil {
		return 0, err
	}
	x, ok := v.Float()
	if !ok {
		return 0, &KeyError{key, "float", describe(v)}
	}
	return x, nil
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.get(key, "bool")
	if err != nil {
		return false, err
	}
	b, ok := v.v.(bool)
	if !ok {
		return false, &KeyError{key, "bool", describe(v)}
	}
	return b, nil
}

// Array returns an array value of any element type.
func (f *File) Array(key string) (*Array, error) {
	v, err := f.get(key, "array")
	if err != nil {
		return nil, err
	}
	a := v.Array()
	if a == nil {
		return nil, &KeyError{key, "array", describe(v)}
	}
	return a, nil
}

func arrayOf[T any](f *File, key string, elem ValueType) ([]T, error) {
	expected := "array of " + elem.String()
	v, err := f.get(key, expected)
	if err != nil {
		return nil, err
	}
	a := v.Array()
	if a == nil {
		return nil, &KeyError{key, expected, describe(v)}
	}
	d, ok := a.data.([]T)
	if !ok {
		return nil, &KeyError{key, expected, describe(v)}
	}
	return d, nil
}

// Strings returns an array of strings. The slice is shared: do not modify.
func (f *File) Strings(key string) ([]string, error) { return arrayOf[string](f, key, StringType) }

// Float32s returns an array of f32. The slice is shared: do not modify.
func (f *File) Float32s(key string) ([]float32, error) { return arrayOf[float32](f, key, Float32Type) }

// Int32s returns an array of i32. The slice is shared: do not modify.
func (f *File) Int32s(key string) ([]int32, error) { return arrayOf[int32](f, key, Int32Type) }

// Ints returns an integer array of any element width as []int64.
func (f *File) Ints(key string) ([]int64, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, err
	}
	if !a.Elem.isInteger() {
		return nil, &KeyError{key, "array of integers", "array of " + a.Elem.String()}
	}
	out := make([]int64, a.Len())
	for i := range out {
		n, ok := a.Index(i).Int()
		if !ok {
			return nil, &KeyError{key, "array of integers fitting int64", "array of " + a.Elem.String()}
		}
		out[i] = n
	}
	return out, nil
}

// StringOr, IntOr, FloatOr and BoolOr return def when key is absent, and
// an error only when it is present with the wrong type.

func (f *File) StringOr(key, def string) (string, error) {
	if !f.Has(key) {
		return def, nil
	}
	return f.String(key)
}

func (f *File) IntOr(key string, def int64) (int64, error) {
	if !f.Has(key) {
		return def, nil
	}
	return f.Int(key)
}

func (f *File) FloatOr(key string, def float64) (float64, error) {
	if !f.Has(key) {
		return def, nil
	}
	return f.Float(key)
}

func (f *File) BoolOr(key string, def bool) (bool, error) {
	if !f.Has(key) {
		return def, nil
	}
	return f.Bool(key)
}

// Architecture returns general.architecture ("llama", "qwen2", ...).
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}

// ParameterCount sums the elements of all tensors.
func (f *File) ParameterCount() uint64 {
	var n uint64
	for _, t := range f.Tensors {
		n += t.Elements()
	}
	return n
}
