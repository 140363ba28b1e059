package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Writer builds a GGUF v3 file: set metadata and add tensors, then WriteTo.
// Tensor bytes may be given up front or produced while writing (for a
// quantizer that streams a large model without holding it in memory).
type Writer struct {
	Alignment uint64
	kvs       []KV
	kvIndex   map[string]int
	tensors   []writerTensor
	names     map[string]bool
}

type writerTensor struct {
	name string
	dims []uint64
	typ  GGMLType
	size uint64
	data []byte
	fill func(w io.Writer) error
}

// NewWriter returns a Writer with the default alignment.
func NewWriter() *Writer {
	return &Writer{Alignment: DefaultAlignment, kvIndex: map[string]int{}, names: map[string]bool{}}
}

// Set stores a metadata value, replacing any earlier value under key while
// keeping its position.
func (w *Writer) Set(key string, v Value) {
	if i, ok := w.kvIndex[key]; ok {
		w.kvs[i].Value = v
		return
	}
	w.kvIndex[key] = len(w.kvs)
	w.kvs = append(w.kvs, KV{key, v})
}

// Delete removes a metadata key if present.
func (w *Writer) Delete(key string) {
	i, ok := w.kvIndex[key]
	if !ok {
		return
	}
	w.kvs = append(w.kvs[:i], w.kvs[i+1:]...)
	delete(w.kvIndex, key)
	for j := i; j < len(w.kvs); j++ {
		w.kvIndex[w.kvs[j].Key] = j
	}
}

// CopyMetadata copies every metadata entry of f, in order.
func (w *Writer) CopyMetadata(f *File) {
	for _, kv := range f.Metadata {
		w.Set(kv.Key, kv.Value)
	}
}

// AddTensor adds a tensor whose bytes are data. dims follow ggml's order
// (row length first).
func (w *Writer) AddTensor(name string, typ GGMLType, dims []uint64, data []byte) error {
	size, err := w.checkTensor(name, typ, dims)
	if err != nil {
		return err
	}
	if uint64(len(data)) != size {
		return fmt.Errorf("gguf: tensor %q: %d bytes given, %s%v needs %d", name, len(data), typ, dims, size)
	}
	w.tensors = append(w.tensors, writerTensor{name: name, dims: dims, typ: typ, size: size, data: data})
	return nil
}

// AddTensorFunc adds a tensor whose bytes fill writes during WriteTo; fill
// must write exactly the tensor's size.
func (w *Writer) AddTensorFunc(name string, typ GGMLType, dims []uint64, fill func(io.Writer) error) error {
	size, err := w.checkTensor(name, typ, dims)
	if err != nil {
		return err
	}
	w.tensors = append(w.tensors, writerTensor{name: name, dims: dims, typ: typ, size: size, fill: fill})
	return nil
}

func (w *Writer) checkTensor(name string, typ GGMLType, dims []uint64) (uint64, error) {
	if w.names[name] {
		return 0, fmt.Errorf("gguf: duplicate tensor %q", name)
	}
	ti, ok := typ.Info()
	if !ok {
		return 0, fmt.Errorf("gguf: tensor %q: unknown type %d", name, typ)
	}
	if len(dims) == 0 || len(dims) > MaxDims {
		return 0, fmt.Errorf("gguf: tensor %q: %d dimensions", name, len(dims))
	}
	if dims[0]%uint64(ti.BlockSize) != 0 {
		return 0, fmt.Errorf("gguf: tensor %q: row length %d is not a multiple of %s's block size %d", name, dims[0], ti.Name, ti.BlockSize)
	}
	n := uint64(1)
	for _, d := range dims {
		n *= d
	}
	w.names[name] = true
	return n / uint64(ti.BlockSize) * uint64(ti.TypeSize), nil
}

func (w *Writer) align(n uint64) uint64 {
	return (n + w.Alignment - 1) / w.Alignment * w.Alignment
}

// WriteFile writes the file to path.
func (w *Writer) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteTo writes the whole file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.Alignment == 0 || w.Alignment&(w.Alignment-1) != 0 {
		return 0, fmt.Errorf("gguf: alignment %d is not a power of two", w.Alignment)
	}
	if w.Alignment != DefaultAlignment {
		w.Set("general.alignment", Uint32(uint32(w.Alignment)))
	}
	cw := &countWriter{w: bufio.NewWriterSize(out, 1<<20)}
	e := &encoder{w: cw}
	e.u32(magic)
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.value(kv.Value)
	}
	var off uint64
	for _, t := range w.tensors {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(uint32(t.typ))
		e.u64(off)
		off = w.align(off + t.size)
	}
	e.pad(w.align(uint64(cw.n)) - uint64(cw.n))
	if e.err != nil {
		return cw.n, e.err
	}
	for _, t := range w.tensors {
		start := cw.n
		if t.fill != nil {
			if err := t.fill(cw); err != nil {
				return cw.n, fmt.Errorf("gguf: writing tensor %q: %w", t.name, err)
			}
		} else if _, err := cw.Write(t.data); err != nil {
			return cw.n, err
		}
		if got := uint64(cw.n - start); got != t.size {
			return cw.n, fmt.Errorf("gguf: tensor %q: wrote %d bytes, want %d", t.name, got, t.size)
		}
		e.pad(w.align(uint64(cw.n)) - uint64(cw.n))
		if e.err != nil {
			return cw.n, e.err
		}
	}
	return cw.n, cw.w.(*bufio.Writer).Flush()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (e *encoder) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) u8(v uint8) { e.buf[0] = v; e.write(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.write(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.write(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.write(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
func (e *encoder) pad(n uint64) {
	var zero [64]byte
	for n > 0 {
		k := min(n, uint64(len(zero)))
		e.write(zero[:k])
		n -= k
	}
}

func (e *encoder) value(v Value) {
	e.u32(uint32(v.Type))
	e.payload(v)
}

func (e *encoder) payload(v Value) {
	switch x := v.v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case *Array:
		e.array(x)
	default:
		if e.err == nil {
			e.err = fmt.Errorf("gguf: cannot encode %T", v.v)
		}
	}
}

func (e *encoder) array(a *Array) {
	e.u32(uint32(a.Elem))
	n := a.Len()
	e.u64(uint64(n))
	if nested, ok := a.data.([]*Array); ok {
		for _, x := range nested {
			e.array(x)
		}
		return
	}
	for i := 0; i < n; i++ {
		e.payload(a.Index(i))
	}
}
