package tensor

import (
	"fmt"
	"unsafe"
)

// quantSegment is how many activation values one quantization work item
// converts: enough to outweigh handing it to another member.
const quantSegment = 4096

// Product is one matrix of a MatMul and where its result goes:
// Out[t*M.Rows + r] is row r of M against token t.
type Product struct {
	Out []float32
	M   Matrix
}

// MatMul computes every product's Out = M·x for the nTok tokens of x (rows
// of M.Cols values), the first nDecode of them decode steps: those go
// through the decode kernels, which stream one weight row at a time (what
// memory-bound decoding wants), and the rest through the prompt kernels,
// which share each weight load among several tokens. The choice follows
// each token's role, never the batch's size or makeup, so a sequence
// computes the same bits alone or batched with others.
//
// It is one op of the team: every member calls it with the same
// arguments. The activations are first converted to each weight type's
// partner format (ggml's vec_dot_type), once per format however many
// products share it, the conversions split among the members; after a
// barrier the members claim chunks of rows of all products from one
// counter, and a last barrier makes the results visible. So products of
// the same input (Q, K and V; gate and up) cost one op, not three.
//
// Shapes that do not fit, or a malformed matrix, panic with a
// description: they are programming errors, checked once at model load
// with Matrix.Check. MatMul allocates nothing once the Pool's scratch has
// grown to the largest batch.
func (w *Worker) MatMul(x []float32, nTok, nDecode int, ps ...Product) {
	w.MatMulRuns(x, nTok, nDecode, nil, ps...)
}

// MatMulRuns is MatMul where the prompt tokens come in runs (the lengths
// of consecutive tokens of one sequence, summing to nTok-nDecode; nil is
// one run). Kernels take a run's tokens in groups of four from its start
// and the rest one by one, and some formats compute a whole group
// differently from a single token, as llama.cpp does (packed Q4_K: ggml's
// gemm and gemv orders), so a sequence's prompt gives the same bits
// whatever else shares the batch as long as its runs are the same.
func (w *Worker) MatMulRuns(x []float32, nTok, nDecode int, runs []int, ps ...Product) {
	if len(ps) == 0 || nTok == 0 {
		return
	}
	if len(ps) > maxProducts {
		panic(fmt.Sprintf("tensor: MatMul of %d products (at most %d)", len(ps), maxProducts))
	}
	nDecode = min(max(nDecode, 0), nTok)
	cols := ps[0].M.Cols
	for _, p := range ps {
		m := p.M
		if err := m.Check(); err != nil {
			panic(err.Error())
		}
		if m.Cols != cols || nTok < 0 || len(x) < nTok*m.Cols || len(p.Out) < nTok*m.Rows {
			panic(fmt.Sprintf("tensor: MatMul of %dx%d %s by %d tokens: x has %d values (need %d), out %d (need %d)",
				m.Rows, m.Cols, m.Type, nTok, len(x), nTok*m.Cols, len(p.Out), nTok*m.Rows))
		}
	}
	pl := &w.plan
	pl.build(x, nTok, nDecode, ps, w.n)
	if runs != nil {
		sum := 0
		for _, r := range runs {
			sum += r
		}
		if sum != nTok-nDecode {
			panic(fmt.Sprintf("tensor: MatMul runs add up to %d, not the %d prompt tokens", sum, nTok-nDecode))
		}
		for i := 0; i < pl.nJobs; i++ {
			if j := &pl.jobs[i]; j.buf.t0 > 0 || nDecode == 0 {
				j.runs = runs
			}
		}
	}
	w.reserveAct(pl.actBytes)
	pl.bind(*w.actScratch())

	// Convert the activations: items are (buffer, token, segment).
	if pl.quantItems > 0 {
		lo, hi := w.Range(pl.quantItems)
		pl.quantize(lo, hi)
		w.Sync()
	}

	c := w.Chunks(pl.chunks, 1)
	for lo, hi, ok := c.Next(); ok; lo, hi, ok = c.Next() {
		for ci := lo; ci < hi; ci++ {
			pl.runChunk(ci)
		}
	}
	w.Sync()
	pl.release()
}

// reserveAct makes the Pool's activation scratch hold n bytes (plus room
// to align). Every member makes the same call between the same barriers,
// so all see the same capacity, and the one that grows it does so between
// two more.
func (w *Worker) reserveAct(n int) {
	n += 64
	act := w.actScratch()
	if cap(*act) >= n {
		return
	}
	w.Sync()
	if w.id == 0 {
		*act = make([]byte, n)
	}
	w.Sync()
}

// actScratch is where w's MatMul converts activations: the Pool's,
// shared by a team, or a solo worker's own.
func (w *Worker) actScratch() *[]byte {
	if w.solo {
		return &w.act
	}
	return &w.p.act
}

// maxProducts bounds the products of one MatMul (plans are fixed arrays).
const maxProducts = 4

// mmPlan is one member's view of a MatMul: every member builds the same
// plan from the same arguments, so they agree on the work items without
// sharing anything but the activation scratch.
type mmPlan struct {
	x       []float32
	nTok    int
	nDecode int
	cols    int

	bufs       [2 * maxProducts]actBuf // distinct activation conversions
	nBufs      int
	jobs       [2 * maxProducts]mmJob // (product, part) pairs with tokens
	nJobs      int
	actBytes   int
	quantItems int
	chunks     int
}

// actBuf is one conversion of the activations of a part (decode tokens or
// prompt tokens) to a layout.
type actBuf struct {
	f        *format
	kind     actKind
	t0, nTok int // the part's tokens
	row      int // bytes per token, a multiple of 64 (an alias: 4*cols)
	off      int // offset in the scratch
	seg      int // values per quantization item
	segs     int // items per token (0 for an alias)
	data     []byte
	alias    bool // data is x itself (F32 weights)
}

// mmJob is one product's rows for one part.
type mmJob struct {
	f       *format
	im      *impl
	m       Matrix
	out     []float32 // the part's first token's output
	buf     *actBuf
	runs    []int // of the part's tokens; nil: one
	chunk   int   // rows per work chunk
	chunks  int
	firstCh int // index of its first chunk in the plan
}

func (pl *mmPlan) build(x []float32, nTok, nDecode int, ps []Product, members int) {
	*pl = mmPlan{x: x, nTok: nTok, nDecode: nDecode, cols: ps[0].M.Cols}
	for part := 0; part < 2; part++ {
		t0, nt, decode := 0, nDecode, true
		if part == 1 {
			t0, nt, decode = nDecode, nTok-nDecode, false
		}
		if nt == 0 {
			continue
		}
		for _, p := range ps {
			m := p.M
			f := formats[m.Type]
			if f == nil {
				panic(fmt.Sprintf("tensor: MatMul with unsupported weight type %s", m.Type))
			}
			if m.Packed {
				f = packedFormats[m.Type]
			}
			im := implFor(m.Type, f, m.Cols, decode)
			j := &pl.jobs[pl.nJobs]
			pl.nJobs++
			*j = mmJob{f: f, im: im, m: m, out: p.Out[t0*m.Rows:], buf: pl.bufFor(f, im.act, t0, nt)}
		}
	}
	for i := 0; i < pl.nBufs; i++ {
		b := &pl.bufs[i]
		if b.kind == actF32 && b.f.round == roundNone && littleEndian {
			// F32 weights read the activations as they are: point at x
			// rather than copy it (and the MatMul skips a barrier when
			// nothing else needs converting).
			b.alias, b.row, b.segs = true, 4*pl.cols, 0
			xs := x[b.t0*pl.cols : (b.t0+b.nTok)*pl.cols]
			b.data = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(xs))), 4*len(xs))
			continue
		}
		b.off = pl.actBytes
		pl.actBytes += b.nTok * b.row
		pl.quantItems += b.nTok * b.segs
	}
	pl.setChunks(members)
}

// setChunks sizes the jobs' row chunks for n members.
func (pl *mmPlan) setChunks(n int) {
	pl.chunks = 0
	for i := 0; i < pl.nJobs; i++ {
		j := &pl.jobs[i]
		// Rows go in chunks of 64, enough that each chunk's pass over the
		// activations (L2 or L3 resident for long prompts) is well
		// amortized; a few chunks per member let the last ones balance
		// the load; multiples of 8 rows, the tallest kernel tile, or of a
		// packed format's group.
		j.chunk = max(8, min(64, j.m.Rows/(4*n))&^7)
		if j.m.Packed {
			g := j.f.rowsPerGroup()
			j.chunk = (j.chunk + g - 1) / g * g
		}
		j.chunks = (j.m.Rows + j.chunk - 1) / j.chunk
		j.firstCh = pl.chunks
		pl.chunks += j.chunks
	}
}

// bufFor returns the conversion of the part's activations that format f's
// implementation reads, adding it if no earlier product needs the same.
func (pl *mmPlan) bufFor(f *format, k actKind, t0, nt int) *actBuf {
	for i := 0; i < pl.nBufs; i++ {
		b := &pl.bufs[i]
		if b.t0 == t0 && b.kind == k && sameConversion(b.f, f, k) {
			return b
		}
	}
	b := &pl.bufs[pl.nBufs]
	pl.nBufs++
	seg := max(quantSegment/f.actBlock()*f.actBlock(), f.actBlock())
	*b = actBuf{f: f, kind: k, t0: t0, nTok: nt, row: (actBytes(k, pl.cols) + 63) &^ 63,
		seg: seg, segs: (pl.cols + seg - 1) / seg}
	return b
}

// sameConversion says whether formats f and g convert activations to
// layout k identically (Q8_0's correction and the float rounding depend
// on the weight type).
func sameConversion(f, g *format, k actKind) bool {
	switch k {
	case actQ8_0:
		return f.corr == g.corr
	case actF32:
		return f.round == g.round
	}
	return true
}

// bind points the buffers into the scratch, aligned to a cache line so no
// activation block straddles two.
func (pl *mmPlan) bind(act []byte) {
	base := int(-uintptr(unsafe.Pointer(unsafe.SliceData(act))) & 63)
	for i := 0; i < pl.nBufs; i++ {
		if b := &pl.bufs[i]; !b.alias {
			b.data = act[base+b.off : base+b.off+b.nTok*b.row]
		}
	}
}

// release drops the plan's references to caller memory.
func (pl *mmPlan) release() {
	pl.x = nil
	for i := 0; i < pl.nBufs; i++ {
		pl.bufs[i].data = nil
	}
	for i := 0; i < pl.nJobs; i++ {
		pl.jobs[i].out, pl.jobs[i].m, pl.jobs[i].runs = nil, Matrix{}, nil
	}
}

// quantize converts the items [lo, hi): (buffer, token, segment) in order.
func (pl *mmPlan) quantize(lo, hi int) {
	cols := pl.cols
	bi, base := 0, 0
	for it := lo; it < hi; it++ {
		for it-base >= pl.bufs[bi].nTok*pl.bufs[bi].segs {
			base += pl.bufs[bi].nTok * pl.bufs[bi].segs
			bi++
		}
		b := &pl.bufs[bi]
		t, s := (it-base)/b.segs, (it-base)%b.segs
		c0 := s * b.seg
		c1 := min(c0+b.seg, cols)
		xs := pl.x[(b.t0+t)*cols+c0 : (b.t0+t)*cols+c1]
		a := b.data[t*b.row:]
		quantizeAct(b.f, b.kind, a[actBytes(b.kind, c0):actBytes(b.kind, c1)], xs)
	}
}

// runChunk computes chunk ci of the plan.
func (pl *mmPlan) runChunk(ci int) {
	j := &pl.jobs[0]
	for k := 1; k < pl.nJobs && ci >= pl.jobs[k].firstCh; k++ {
		j = &pl.jobs[k]
	}
	lo := (ci - j.firstCh) * j.chunk
	hi := min(lo+j.chunk, j.m.Rows)
	j.rows(lo, hi)
}

// rows computes rows [lo,hi) of j's matrix for every token of its part.
func (j *mmJob) rows(lo, hi int) {
	m, im, b := j.m, j.im, j.buf
	rs := m.RowSize()
	n := m.Cols
	if im.tiles[0] == nil {
		for t := 0; t < b.nTok; t++ {
			a := b.data[t*b.row : (t+1)*b.row]
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
	if j.f.group != nil { // packed: groups of rows
		gs := j.f.group(n)
		w, stride = unsafe.Pointer(unsafe.SliceData(m.Data[lo/j.f.rowsPerGroup()*gs:])), uintptr(gs)
	}
	ts := &im.tiles
	if im.wideFrom > 0 && b.nTok >= im.wideFrom {
		ts = &im.wide
	}
	start, runs := 0, j.runs
	for start < b.nTok {
		end := b.nTok
		if len(runs) > 0 {
			end = min(start+runs[0], b.nTok)
			runs = runs[1:]
		}
		j.tiles(ts, w, stride, lo, hi, nAsm, start, end)
		start = end
	}
}

// tiles computes rows [lo,hi) for tokens [t1, t2) of j's part, in groups
// of four from t1, with the kernels ts.
func (j *mmJob) tiles(ts *[4]tileFn, w unsafe.Pointer, stride uintptr, lo, hi, nAsm, t1, t2 int) {
	m, b := j.m, j.buf
	n := m.Cols
	for t0 := t1; t0 < t2; t0 += 4 {
		T := min(4, t2-t0)
		if nAsm > 0 {
			ts[T-1](w, stride, hi-lo, nAsm,
				unsafe.Pointer(&b.data[t0*b.row]), uintptr(b.row),
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
func (j *mmJob) tail(lo, hi, t0, T, nAsm int) {
	m, im, b := j.m, j.im, j.buf
	rs := m.RowSize()
	wOff := m.Type.RowSize(nAsm)
	aOff := actBytes(im.act, nAsm)
	for t := t0; t < t0+T; t++ {
		a := b.data[t*b.row+aOff : (t+1)*b.row]
		o := j.out[t*m.Rows:]
		for r := lo; r < hi; r++ {
			o[r] += im.dot(m.Data[r*rs+wOff:(r+1)*rs], a, m.Cols-nAsm)
		}
	}
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

// singleMatMul is the one-op MatMul of Pool.MatMul and MatMulMixed.
type singleMatMul struct {
	x             []float32
	nTok, nDecode int
	p             Product
}

// MatMul computes out[t*m.Rows + r] = dot(row r of m, x[t*m.Cols:(t+1)*m.Cols])
// for t in [0,nTok) as one Run of the team (see Worker.MatMul).
func (p *Pool) MatMul(out []float32, m Matrix, x []float32, nTok int) {
	p.MatMulMixed(out, m, x, nTok, 0)
}

// MatMulMixed is MatMul where the first nDecode tokens are decode steps
// (see Worker.MatMul).
func (p *Pool) MatMulMixed(out []float32, m Matrix, x []float32, nTok, nDecode int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.single = singleMatMul{x: x, nTok: nTok, nDecode: nDecode, p: Product{Out: out, M: m}}
	p.run(p.singleFn)
	p.single = singleMatMul{}
}

func (p *Pool) runSingle(w *Worker) {
	s := &p.single
	w.MatMul(s.x, s.nTok, s.nDecode, s.p)
}
