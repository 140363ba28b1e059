package tensor

import (
	"fmt"
	"unsafe"
)

// quantSegment is how many activation values one quantization work item
// converts: enough to outweigh waking a worker.
const quantSegment = 4096

// MatMul computes out[t*m.Rows + r] = dot(row r of m, x[t*m.Cols:(t+1)*m.Cols])
// for t in [0,nTok). It first converts x to the weight type's partner
// format (work split over the threads), then all threads compute rows
// claimed in chunks, each weight row meeting up to four tokens per pass.
// It allocates nothing once the Pool's scratch has grown to the largest
// batch. Shapes that do not fit, or a malformed m, panic with a
// description: they are programming errors, checked once at model load
// with m.Check.
func (p *Pool) MatMul(out []float32, m Matrix, x []float32, nTok int) {
	p.matmul(out, m, x, nTok, false)
}

// MatMulMixed is MatMul where the first nDecode tokens are decode steps:
// those go through the decode kernels, which stream one weight row at a
// time (what memory-bound decoding wants), and the rest through the prompt
// kernels, which share each weight load among several rows. The choice
// follows each token's role, never the batch's size or makeup, so a
// sequence computes the same bits alone or batched with others.
func (p *Pool) MatMulMixed(out []float32, m Matrix, x []float32, nTok, nDecode int) {
	nDecode = min(max(nDecode, 0), nTok)
	if nDecode > 0 {
		p.matmul(out[:nDecode*m.Rows], m, x[:nDecode*m.Cols], nDecode, true)
	}
	if nTok > nDecode {
		p.matmul(out[nDecode*m.Rows:], m, x[nDecode*m.Cols:], nTok-nDecode, false)
	}
}

func (p *Pool) matmul(out []float32, m Matrix, x []float32, nTok int, decode bool) {
	f, ok := formats[m.Type]
	if !ok {
		panic(fmt.Sprintf("tensor: MatMul with unsupported weight type %s", m.Type))
	}
	if m.Packed {
		f = packedFormats[m.Type]
	}
	if err := m.Check(); err != nil {
		panic(err.Error())
	}
	if nTok < 0 || len(x) < nTok*m.Cols || len(out) < nTok*m.Rows {
		panic(fmt.Sprintf("tensor: MatMul of %dx%d %s by %d tokens: x has %d values (need %d), out %d (need %d)",
			m.Rows, m.Cols, m.Type, nTok, len(x), nTok*m.Cols, len(out), nTok*m.Rows))
	}
	if nTok == 0 || m.Rows == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()

	j := &p.mm
	j.f, j.m, j.out, j.x, j.nTok = f, m, out, x, nTok
	j.im = implFor(m.Type, f, m.Cols, decode)
	j.actRow = (actBytes(j.im.act, m.Cols) + 63) &^ 63
	need := nTok*j.actRow + 64
	if cap(p.act) < need {
		p.act = make([]byte, need)
	}
	// Align to a cache line so no activation block straddles two.
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(p.act))) & 63)
	j.act = p.act[off : off+nTok*j.actRow]

	// Quantize: whole segments of blocks per work item.
	seg := max(quantSegment/f.actBlock()*f.actBlock(), f.actBlock())
	j.segs = (m.Cols + seg - 1) / seg
	j.seg = seg
	j.phase = phaseQuantize
	items := nTok * j.segs
	if nTok*m.Cols < 2*quantSegment {
		j.run(0, items)
	} else {
		p.parallel(items, 1, j)
	}

	j.phase = phaseRows
	// Rows go in chunks of 64, enough that each chunk's pass over the
	// activations (L2 or L3 resident for long prompts) is well amortized.
	chunk := 64
	// Keep a few chunks per thread so the last ones balance the load, in
	// multiples of 8 rows, the tallest kernel tile.
	chunk = max(8, min(chunk, m.Rows/(4*p.threads))&^7)
	p.parallel(m.Rows, chunk, j)
	j.m, j.out, j.x, j.act = Matrix{}, nil, nil, nil
}

// actBlock is the number of values quantized together: the activation
// block size of the partner format.
func (f *format) actBlock() int {
	switch f.block {
	case 1:
		return 1
	case 32:
		return 32
	}
	return 256
}

const (
	phaseQuantize = iota
	phaseRows
)

type matmulJob struct {
	phase  int
	f      *format
	im     *impl
	m      Matrix
	out, x []float32
	nTok   int
	act    []byte
	actRow int
	seg    int // values per quantization item
	segs   int // items per token
}

func (j *matmulJob) run(lo, hi int) {
	if j.phase == phaseQuantize {
		for it := lo; it < hi; it++ {
			t, s := it/j.segs, it%j.segs
			c0 := s * j.seg
			c1 := min(c0+j.seg, j.m.Cols)
			xs := j.x[t*j.m.Cols+c0 : t*j.m.Cols+c1]
			a := j.act[t*j.actRow:]
			quantizeAct(j.f, j.im.act, a[actBytes(j.im.act, c0):actBytes(j.im.act, c1)], xs)
		}
		return
	}
	j.rows(lo, hi)
}

// rows computes rows [lo,hi) for every token.
func (j *matmulJob) rows(lo, hi int) {
	m, im := j.m, j.im
	rs := m.RowSize()
	n := m.Cols
	if im.tiles[0] == nil {
		for t := 0; t < j.nTok; t++ {
			a := j.act[t*j.actRow : (t+1)*j.actRow]
			o := j.out[t*m.Rows:]
			for r := lo; r < hi; r++ {
				o[r] = im.dot(m.Data[r*rs:(r+1)*rs], a, n)
			}
		}
		return
	}
	nAsm := n / im.chunk * im.chunk
	w := unsafe.Pointer(unsafe.SliceData(m.Data[lo*rs:]))
	stride := uintptr(rs)
	if j.f.group != nil { // packed: groups of eight rows
		gs := j.f.group(n)
		w, stride = unsafe.Pointer(unsafe.SliceData(m.Data[lo/8*gs:])), uintptr(gs)
	}
	for t0 := 0; t0 < j.nTok; t0 += 4 {
		T := min(4, j.nTok-t0)
		if nAsm > 0 {
			im.tiles[T-1](w, stride, hi-lo, nAsm,
				unsafe.Pointer(&j.act[t0*j.actRow]), uintptr(j.actRow),
				unsafe.Pointer(&j.out[t0*m.Rows+lo]), uintptr(4*m.Rows))
		} else {
			for t := t0; t < t0+T; t++ {
				clear(j.out[t*m.Rows+lo : t*m.Rows+hi])
			}
		}
		if nAsm < n {
			j.tail(lo, hi, t0, T, nAsm)
		}
	}
}

// tail adds the elements past the assembly's last whole chunk.
func (j *matmulJob) tail(lo, hi, t0, T, nAsm int) {
	m, im := j.m, j.im
	rs := m.RowSize()
	wOff := m.Type.RowSize(nAsm)
	aOff := actBytes(im.act, nAsm)
	for t := t0; t < t0+T; t++ {
		a := j.act[t*j.actRow+aOff : (t+1)*j.actRow]
		o := j.out[t*m.Rows:]
		for r := lo; r < hi; r++ {
			o[r] += im.dot(m.Data[r*rs+wOff:(r+1)*rs], a, m.Cols-nAsm)
		}
	}
}
