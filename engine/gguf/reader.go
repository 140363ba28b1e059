// Package gguf reads and writes GGUF files, llama.cpp's model format: a
// header of typed metadata and tensor descriptions followed by an aligned
// data section. Open maps the file read-only so tensors are zero-copy views
// of the page cache; Parse does the same over a byte slice.
//
// The reader treats every file as hostile: each count, length and offset is
// checked against the bytes that are really there before anything is
// allocated, and each error names the byte offset where the file went wrong.
package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"unsafe"
)

const (
	magic            = 0x46554747 // "GGUF" read as a little-endian uint32
	DefaultAlignment = 32
	// MaxDims is GGML_MAX_DIMS: tensors have at most four dimensions.
	MaxDims = 4
	// maxNesting bounds nested arrays so a hostile file cannot recurse deeply.
	maxNesting = 8
)

// FormatError is a malformed-file error with the byte offset it was found at.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("gguf: at byte %d: %s", e.Offset, e.Msg)
}

// KV is one metadata entry, in file order.
type KV struct {
	Key   string
	Value Value
}

// Tensor describes one tensor and, once the file is parsed, holds its bytes.
type Tensor struct {
	Name string
	// Dims are ggml's ne: Dims[0] is the row length (contiguous), so a
	// matrix with n rows of k columns has Dims = [k, n].
	Dims   []uint64
	Type   GGMLType
	Offset uint64 // relative to the start of the data section
	Data   []byte // a view of the mapped file; read-only
}

// Elements returns the number of elements.
func (t *Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes returns the size of the tensor's data.
func (t *Tensor) Bytes() uint64 {
	ti, _ := t.Type.Info()
	if ti.BlockSize == 0 {
		return 0
	}
	return t.Elements() / uint64(ti.BlockSize) * uint64(ti.TypeSize)
}

// Rows is the number of rows: the product of all dims but the first.
func (t *Tensor) Rows() int {
	n := 1
	for _, d := range t.Dims[1:] {
		n *= int(d)
	}
	return n
}

// File is a parsed GGUF file.
type File struct {
	Version    uint32
	Metadata   []KV
	Tensors    []*Tensor
	Alignment  uint64
	DataOffset int64 // where the data section starts in the file
	Size       int64 // total file size

	kvIndex     map[string]int
	tensorIndex map[string]int
	mapping     []byte // the whole file, when mapped by Open or read by Load
	resident    bool   // mapping is memory Load read the file into
	unmap       func() error
	parts       []*File // the other parts of a split model, opened with the first
}

// Parse reads a GGUF file held in data. The tensors' Data slices alias data.
func Parse(data []byte) (*File, error) {
	r := &reader{buf: data}
	f := &File{Size: int64(len(data))}
	if err := f.parse(r); err != nil {
		return nil, err
	}
	return f, nil
}

type reader struct {
	buf []byte
	off int64
}

func (r *reader) errf(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// what names the field being read, for error messages. It is formatted
// only when an error is reported: a vocabulary has hundreds of thousands of
// strings, and formatting a name for each would dominate loading time.
type what struct {
	format string
	s      string
	i      int
	args   int // 0: none; 1: s; 2: i; 3: s then i
}

func (w what) String() string {
	switch w.args {
	case 1:
		return fmt.Sprintf(w.format, w.s)
	case 2:
		return fmt.Sprintf(w.format, w.i)
	case 3:
		return fmt.Sprintf(w.format, w.s, w.i)
	}
	return w.format
}

func plain(s string) what            { return what{format: s} }
func withS(f, s string) what         { return what{format: f, s: s, args: 1} }
func withI(f string, i int) what     { return what{format: f, i: i, args: 2} }
func withSI(f, s string, i int) what { return what{format: f, s: s, i: i, args: 3} }

func (r *reader) remaining() int64 { return int64(len(r.buf)) - r.off }

func (r *reader) need(n int64, what what) error {
	if n < 0 || r.remaining() < n {
		return r.errf(r.off, "truncated: %s needs %d bytes, %d left in the file", what, n, r.remaining())
	}
	return nil
}

func (r *reader) u8(what what) (uint8, error) {
	if err := r.need(1, what); err != nil {
		return 0, err
	}
	v := r.buf[r.off]
	r.off++
	return v, nil
}

func (r *reader) u16(what what) (uint16, error) {
	if err := r.need(2, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.buf[r.off:])
	r.off += 2
	return v, nil
}

func (r *reader) u32(what what) (uint32, error) {
	if err := r.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.buf[r.off:])
	r.off += 4
	return v, nil
}

func (r *reader) u64(what what) (uint64, error) {
	if err := r.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(r.buf[r.off:])
	r.off += 8
	return v, nil
}

// count reads a uint64 element count and checks that count elements of at
// least minSize bytes each could fit in what is left of the file, so that a
// hostile count never drives a large allocation.
func (r *reader) count(what what, minSize int64) (int, error) {
	at := r.off
	n, err := r.u64(what)
	if err != nil {
		return 0, err
	}
	if minSize > 0 && n > uint64(r.remaining()/minSize) {
		return 0, r.errf(at, "%s is %d, more than the %d bytes left in the file can hold", what, n, r.remaining())
	}
	if n > math.MaxInt32 {
		return 0, r.errf(at, "%s is %d, too large", what, n)
	}
	return int(n), nil
}

func (r *reader) str(what what) (string, error) {
	at := r.off
	lw := what
	lw.format += " length"
	n, err := r.u64(lw)
	if err != nil {
		return "", err
	}
	if n > uint64(r.remaining()) {
		return "", r.errf(at, "%s length %d exceeds the %d bytes left in the file", what, n, r.remaining())
	}
	s := string(r.buf[r.off : r.off+int64(n)])
	r.off += int64(n)
	return s, nil
}

func (f *File) parse(r *reader) error {
	m, err := r.u32(plain("magic"))
	if err != nil {
		return err
	}
	if m != magic {
		// Say nothing of what the file holds: a server registering
		// paths from SQL must not become a way to read other files.
		return r.errf(0, "not a GGUF file (it does not start with \"GGUF\")")
	}
	verAt := r.off
	ver, err := r.u32(plain("version"))
	if err != nil {
		return err
	}
	switch {
	case ver == 2 || ver == 3:
	case ver == 1:
		return r.errf(verAt, "GGUF version 1 is not supported (only 2 and 3)")
	case bits.ReverseBytes32(ver) == 2 || bits.ReverseBytes32(ver) == 3:
		return r.errf(verAt, "big-endian GGUF files are not supported")
	default:
		return r.errf(verAt, "unsupported GGUF version %d (only 2 and 3)", ver)
	}
	f.Version = ver

	// Every tensor info takes at least 8 (name length) + 4 (n_dims) +
	// 4 (type) + 8 (offset) bytes; every KV at least 8 + 4 + 1.
	nTensors, err := r.count(plain("tensor count"), 24)
	if err != nil {
		return err
	}
	nKV, err := r.count(plain("metadata count"), 13)
	if err != nil {
		return err
	}

	f.Metadata = make([]KV, 0, nKV)
	f.kvIndex = make(map[string]int, nKV)
	for i := 0; i < nKV; i++ {
		at := r.off
		key, err := r.str(withI("metadata key %d", i))
		if err != nil {
			return err
		}
		if _, dup := f.kvIndex[key]; dup {
			return r.errf(at, "duplicate metadata key %q", key)
		}
		v, err := r.value(key, 0)
		if err != nil {
			return err
		}
		f.kvIndex[key] = len(f.Metadata)
		f.Metadata = append(f.Metadata, KV{key, v})
	}

	f.Alignment = DefaultAlignment
	if v, ok := f.Lookup("general.alignment"); ok {
		a, isU32 := v.v.(uint32)
		if !isU32 {
			return r.errf(r.off, "general.alignment must be u32, found %s", describe(v))
		}
		if a == 0 || a&(a-1) != 0 {
			return r.errf(r.off, "general.alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]*Tensor, 0, nTensors)
	f.tensorIndex = make(map[string]int, nTensors)
	for i := 0; i < nTensors; i++ {
		t, err := r.tensorInfo(i, f.Alignment)
		if err != nil {
			return err
		}
		if _, dup := f.tensorIndex[t.Name]; dup {
			return r.errf(r.off, "duplicate tensor name %q", t.Name)
		}
		f.tensorIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}

	// The data section starts at the next multiple of the alignment. A file
	// with no tensors may end before that padding.
	dataOff := (uint64(r.off) + f.Alignment - 1) / f.Alignment * f.Alignment
	f.DataOffset = int64(dataOff)
	return f.placeTensors(r)
}

func (r *reader) tensorInfo(i int, align uint64) (*Tensor, error) {
	at := r.off
	name, err := r.str(withI("tensor %d name", i))
	if err != nil {
		return nil, err
	}
	ndAt := r.off
	nd, err := r.u32(withS("tensor %q dimension count", name))
	if err != nil {
		return nil, err
	}
	if nd == 0 || nd > MaxDims {
		return nil, r.errf(ndAt, "tensor %q has %d dimensions (1 to %d allowed)", name, nd, MaxDims)
	}
	t := &Tensor{Name: name, Dims: make([]uint64, nd)}
	total := uint64(1)
	for j := range t.Dims {
		dAt := r.off
		d, err := r.u64(withSI("tensor %q dimension %d", name, j))
		if err != nil {
			return nil, err
		}
		if d > math.MaxInt64 {
			return nil, r.errf(dAt, "tensor %q dimension %d is %d, negative as int64", name, j, d)
		}
		hi, lo := bits.Mul64(total, d)
		if hi != 0 || lo > math.MaxInt64 {
			return nil, r.errf(dAt, "tensor %q: element count overflows (dims %v...)", name, t.Dims[:j+1])
		}
		total = lo
		t.Dims[j] = d
	}
	typAt := r.off
	typ, err := r.u32(withS("tensor %q type", name))
	if err != nil {
		return nil, err
	}
	t.Type = GGMLType(typ)
	ti, ok := t.Type.Info()
	if !ok {
		return nil, r.errf(typAt, "tensor %q has unknown ggml type %d", name, typ)
	}
	if t.Dims[0]%uint64(ti.BlockSize) != 0 {
		return nil, r.errf(typAt, "tensor %q: row length %d is not a multiple of %s's block size %d", name, t.Dims[0], ti.Name, ti.BlockSize)
	}
	// Bytes = total/block*typesize; check it fits in int64.
	hi, lo := bits.Mul64(total/uint64(ti.BlockSize), uint64(ti.TypeSize))
	if hi != 0 || lo > math.MaxInt64 {
		return nil, r.errf(typAt, "tensor %q: byte size overflows", name)
	}
	offAt := r.off
	t.Offset, err = r.u64(withS("tensor %q offset", name))
	if err != nil {
		return nil, err
	}
	if t.Offset%align != 0 {
		return nil, r.errf(offAt, "tensor %q offset %d is not a multiple of the alignment %d", name, t.Offset, align)
	}
	_ = at
	return t, nil
}

// placeTensors checks every tensor lies inside the data section and apart
// from the others, then points its Data at the bytes.
func (f *File) placeTensors(r *reader) error {
	size := uint64(len(r.buf))
	order := make([]*Tensor, len(f.Tensors))
	copy(order, f.Tensors)
	sort.Slice(order, func(i, j int) bool { return order[i].Offset < order[j].Offset })
	var prevEnd uint64
	var prev *Tensor
	for _, t := range order {
		n := t.Bytes()
		start := uint64(f.DataOffset) + t.Offset
		if start < t.Offset || start+n < start || start+n > size {
			return r.errf(int64(min(start, size)), "tensor %q data [%d, +%d) lies outside the file (data section starts at byte %d, file is %d bytes)", t.Name, t.Offset, n, f.DataOffset, size)
		}
		if prev != nil && t.Offset < prevEnd && n > 0 {
			return r.errf(int64(start), "tensor %q data overlaps tensor %q", t.Name, prev.Name)
		}
		t.Data = r.buf[start : start+n : start+n]
		if t.Offset+n > prevEnd {
			prevEnd, prev = t.Offset+n, t
		}
	}
	return nil
}

func (r *reader) value(key string, depth int) (Value, error) {
	at := r.off
	typ, err := r.u32(withS("type of %q", key))
	if err != nil {
		return Value{}, err
	}
	t := ValueType(typ)
	if !t.valid() {
		return Value{}, r.errf(at, "metadata %q has unknown value type %d", key, typ)
	}
	if t == ArrayType {
		a, err := r.array(key, depth)
		if err != nil {
			return Value{}, err
		}
		return Value{ArrayType, a}, nil
	}
	return r.scalar(key, t)
}

func (r *reader) scalar(key string, t ValueType) (Value, error) {
	what := withS("value of %q", key)
	switch t {
	case StringType:
		s, err := r.str(what)
		return Value{t, s}, err
	case BoolType:
		at := r.off
		b, err := r.u8(what)
		if err != nil {
			return Value{}, err
		}
		if b > 1 {
			return Value{}, r.errf(at, "metadata %q: bool byte is %d, not 0 or 1", key, b)
		}
		return Value{t, b == 1}, nil
	}
	if err := r.need(int64(t.size()), what); err != nil {
		return Value{}, err
	}
	p := r.buf[r.off:]
	r.off += int64(t.size())
	switch t {
	case Uint8Type:
		return Value{t, p[0]}, nil
	case Int8Type:
		return Value{t, int8(p[0])}, nil
	case Uint16Type:
		return Value{t, binary.LittleEndian.Uint16(p)}, nil
	case Int16Type:
		return Value{t, int16(binary.LittleEndian.Uint16(p))}, nil
	case Uint32Type:
		return Value{t, binary.LittleEndian.Uint32(p)}, nil
	case Int32Type:
		return Value{t, int32(binary.LittleEndian.Uint32(p))}, nil
	case Float32Type:
		return Value{t, math.Float32frombits(binary.LittleEndian.Uint32(p))}, nil
	case Uint64Type:
		return Value{t, binary.LittleEndian.Uint64(p)}, nil
	case Int64Type:
		return Value{t, int64(binary.LittleEndian.Uint64(p))}, nil
	case Float64Type:
		return Value{t, math.Float64frombits(binary.LittleEndian.Uint64(p))}, nil
	}
	return Value{}, r.errf(r.off, "metadata %q: bad scalar type %s", key, t)
}

// strings reads n length-prefixed strings into one shared backing string:
// a vocabulary's hundreds of thousands of tokens then cost two allocations
// instead of one each.
func (r *reader) strings(key string, n int) ([]string, error) {
	start := r.off
	total := 0
	for i := 0; i < n; i++ {
		at := r.off
		l, err := r.u64(withSI("%s[%d] length", key, i))
		if err != nil {
			return nil, err
		}
		if l > uint64(r.remaining()) {
			return nil, r.errf(at, "%s[%d] length %d exceeds the %d bytes left in the file", key, i, l, r.remaining())
		}
		r.off += int64(l)
		total += int(l)
	}
	buf := make([]byte, 0, total)
	r.off = start
	for i := 0; i < n; i++ {
		l := int64(binary.LittleEndian.Uint64(r.buf[r.off:]))
		buf = append(buf, r.buf[r.off+8:r.off+8+l]...)
		r.off += 8 + l
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	out := make([]string, n)
	r.off = start
	pos := 0
	for i := range out {
		l := int(binary.LittleEndian.Uint64(r.buf[r.off:]))
		out[i] = all[pos : pos+l]
		pos += l
		r.off += 8 + int64(l)
	}
	return out, nil
}

// nestedKey names element i of array key. Nested arrays are rare and
// small, so formatting eagerly here costs nothing.
func nestedKey(key string, i int) string { return fmt.Sprintf("%s[%d]", key, i) }

func (r *reader) array(key string, depth int) (*Array, error) {
	if depth >= maxNesting {
		return nil, r.errf(r.off, "metadata %q: arrays nested deeper than %d", key, maxNesting)
	}
	at := r.off
	et, err := r.u32(withS("element type of %q", key))
	if err != nil {
		return nil, err
	}
	elem := ValueType(et)
	if !elem.valid() {
		return nil, r.errf(at, "metadata %q: array of unknown value type %d", key, et)
	}
	minSize := int64(elem.size())
	switch elem {
	case StringType:
		minSize = 8
	case ArrayType:
		minSize = 12
	}
	n, err := r.count(withS("length of array %q", key), minSize)
	if err != nil {
		return nil, err
	}
	a := &Array{Elem: elem}
	switch elem {
	case StringType:
		ss, err := r.strings(key, n)
		if err != nil {
			return nil, err
		}
		a.data = ss
	case ArrayType:
		as := make([]*Array, n)
		for i := range as {
			if as[i], err = r.array(nestedKey(key, i), depth+1); err != nil {
				return nil, err
			}
		}
		a.data = as
	case BoolType:
		bs := make([]bool, n)
		for i := range bs {
			if r.buf[r.off] > 1 {
				return nil, r.errf(r.off, "metadata %s[%d]: bool byte is %d, not 0 or 1", key, i, r.buf[r.off])
			}
			bs[i] = r.buf[r.off] == 1
			r.off++
		}
		a.data = bs
	default:
		// count() has checked the bytes are there.
		p := r.buf[r.off : r.off+int64(n)*minSize]
		r.off += int64(len(p))
		a.data = decodeNumbers(elem, p, n)
	}
	return a, nil
}

func decodeNumbers(t ValueType, p []byte, n int) any {
	le := binary.LittleEndian
	switch t {
	case Uint8Type:
		return append([]uint8(nil), p...)
	case Int8Type:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(p[i])
		}
		return out
	case Uint16Type:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(p[2*i:])
		}
		return out
	case Int16Type:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(p[2*i:]))
		}
		return out
	case Uint32Type:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(p[4*i:])
		}
		return out
	case Int32Type:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(p[4*i:]))
		}
		return out
	case Float32Type:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(p[4*i:]))
		}
		return out
	case Uint64Type:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(p[8*i:])
		}
		return out
	case Int64Type:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(p[8*i:]))
		}
		return out
	case Float64Type:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(p[8*i:]))
		}
		return out
	}
	return nil
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 32 || c > 126 {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
