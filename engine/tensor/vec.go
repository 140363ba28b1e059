package tensor

import (
	"fmt"
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Vec is one activation vector converted to a weight type's partner
// format exactly as MatMul converts it, for computing single-row dot
// products (tests, benchmarks). It keeps the kernel level current when it
// was made.
type Vec struct {
	t   gguf.GGMLType
	n   int
	im  *impl
	buf []byte
}

// NewVec converts x for dot products with rows of type t.
func NewVec(t gguf.GGMLType, x []float32) (*Vec, error) {
	f, ok := formats[t]
	if !ok {
		return nil, fmt.Errorf("tensor: unsupported weight type %s", t)
	}
	if len(x)%f.block != 0 {
		return nil, fmt.Errorf("tensor: %d values is not a whole number of %s blocks", len(x), t)
	}
	im := implFor(t, f, len(x), false)
	v := &Vec{t: t, n: len(x), im: im, buf: make([]byte, actBytes(im.act, len(x))+64)}
	quantizeAct(f, im.act, v.buf, x)
	return v, nil
}

// Len is the number of values.
func (v *Vec) Len() int { return v.n }

// Dot returns the dot product of a weight row (v.Len() values of the type
// v was made for) with v. It panics if row is too short.
func (v *Vec) Dot(row []byte) float32 {
	rs := v.t.RowSize(v.n)
	if len(row) < rs {
		panic(fmt.Sprintf("tensor: %s row of %d values needs %d bytes, got %d", v.t, v.n, rs, len(row)))
	}
	im := v.im
	if im.tiles[0] == nil || v.n == 0 {
		return im.dot(row, v.buf, v.n)
	}
	nAsm := v.n / im.chunk * im.chunk
	var s float32
	if nAsm > 0 {
		im.tiles[0](unsafe.Pointer(unsafe.SliceData(row)), uintptr(rs), 1, nAsm,
			unsafe.Pointer(unsafe.SliceData(v.buf)), 0, unsafe.Pointer(&s), 0)
	}
	if nAsm < v.n {
		s += im.dot(row[v.t.RowSize(nAsm):], v.buf[actBytes(im.act, nAsm):], v.n-nAsm)
	}
	return s
}
