package tensor

// Flash attention's two vector loops for one query row over an F16 cache,
// batched over the row's positions so that a long context costs one call
// instead of a few per position. Both keep ggml's operations exactly (see
// model's attention for the scalar softmax between them).

// ScoresF16 sets out[p] = DotF16(keys[p*stride:p*stride+n], q) for every
// p < len(out).
func ScoresF16(out []float32, keys []uint16, stride int, q []uint16) {
	n := len(q)
	if len(out) > 0 && len(keys) < (len(out)-1)*stride+n {
		panic("tensor: ScoresF16 keys too short")
	}
	vecs().scoresF16(out, keys, stride, q)
}

// scoresWith is ScoresF16 one dot product at a time.
func scoresWith(dot func(a, b []uint16) float32) func(out []float32, keys []uint16, stride int, q []uint16) {
	return func(out []float32, keys []uint16, stride int, q []uint16) {
		for p := range out {
			out[p] = dot(keys[p*stride:][:len(q)], q)
		}
	}
}

// ScoresF16Heads8 is ScoresF16 for eight query heads of n = len(q)/8
// values each: head h's query is q[h*n:(h+1)*n], its keys the rows
// keys[offs[h]+p*stride:][:n], and its np = len(out)/8 scores go to
// out[h*np:(h+1)*np]. Each score is ScoresF16's, bit for bit; where the
// level has the kernel (heads under 64 values, a multiple of 8), the
// heads that read one KV head share the conversion of its keys.
func ScoresF16Heads8(out []float32, keys []uint16, stride int, offs [8]int, q []uint16) {
	n, np := len(q)/8, len(out)/8
	if len(q) != 8*n || len(out) != 8*np {
		panic("tensor: ScoresF16Heads8 arguments do not fit")
	}
	for _, o := range offs {
		if o < 0 || (np > 0 && len(keys) < o+(np-1)*stride+n) {
			panic("tensor: ScoresF16Heads8 keys too short")
		}
	}
	if np == 0 {
		return
	}
	if v := vecs(); v.scoresHeads8 && n%8 == 0 && n > 0 && n < 64 {
		n8, rem := np/8*8, np%8
		far := 0 // the furthest element a whole last group reads
		for _, o := range offs {
			far = max(far, o+(n8+7)*stride+n)
		}
		if rem == 0 || cap(keys) >= far {
			b := byteOffsets8(offs)
			scoresF16Heads8AVX512(&out[0], uintptr(4*np), &keys[0], uintptr(2*stride), n8/8, &q[0], n, &b, rem)
			return
		}
	}
	for h, o := range offs {
		ScoresF16(out[h*np:(h+1)*np], keys[o:], stride, q[h*n:(h+1)*n])
	}
}

// MadRowsF16 runs, for p < len(vs), acc *= ms[p] when ms[p] != 1 (rounded
// to F16, ggml_vec_scale_f16) and then acc += vals[p*stride:]*vs[p]
// (ggml_vec_mad_f16): the value accumulation of online softmax.
func MadRowsF16(acc []uint16, vals []uint16, stride int, ms, vs []float32) {
	if len(ms) < len(vs) || (len(vs) > 0 && len(vals) < (len(vs)-1)*stride+len(acc)) {
		panic("tensor: MadRowsF16 arguments too short")
	}
	vecs().madRowsF16(acc, vals, stride, ms, vs)
}

// madRowsWith is MadRowsF16 one vector operation at a time.
func madRowsWith(scale func(y []uint16, v float32), mad func(y, x []uint16, v float32)) func(acc []uint16, vals []uint16, stride int, ms, vs []float32) {
	return func(acc []uint16, vals []uint16, stride int, ms, vs []float32) {
		for p := range vs {
			if ms[p] != 1 {
				scale(acc, ms[p])
			}
			mad(acc, vals[p*stride:][:len(acc)], vs[p])
		}
	}
}

// MadRowsF16Heads4 is MadRowsF16 for four heads at once: head h's
// accumulator is acc[h*n:(h+1)*n] for n = len(acc)/4, its value rows
// vals[offs[h]+p*stride:][:n] and its factors ms[4p+h] and vs[4p+h], for
// position p < np = len(vs)/4. Four query heads of one KV head have equal
// offsets; heads of different KV heads do not. Each head gets exactly
// MadRowsF16's operations; what the batching buys is four independent
// chains for the assembly to interleave (one head's sum waits on its
// rounding at every position). HeadsTogether says where it has that
// assembly.
func MadRowsF16Heads4(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32) {
	n, np := len(acc)/4, len(vs)/4
	if len(acc) != 4*n || len(vs) != 4*np || len(ms) < len(vs) {
		panic("tensor: MadRowsF16Heads4 arguments do not fit")
	}
	for _, o := range offs {
		if o < 0 || (np > 0 && len(vals) < o+(np-1)*stride+n) {
			panic("tensor: MadRowsF16Heads4 value rows too short")
		}
	}
	vecs().madRowsF16Heads4(acc, vals, stride, offs, ms[:len(vs)], vs)
}

// MadRowsF16Heads8 is MadRowsF16Heads4 for eight heads, each four laid
// out as MadRowsF16Heads4's: head h's accumulator is acc[h*n:(h+1)*n] for
// n = len(acc)/8, its value rows vals[offs[h]+p*stride:][:n], and the
// factors of heads 0-3 are ms[:4np] and vs[:4np], those of heads 4-7
// ms[4np:] and vs[4np:] (two SoftmaxFactors4 results side by side), for
// np = len(vs)/8 positions. Each head gets exactly MadRowsF16's
// operations. Heads8 says where it has assembly; elsewhere it is two
// MadRowsF16Heads4 calls.
func MadRowsF16Heads8(acc []uint16, vals []uint16, stride int, offs [8]int, ms, vs []float32) {
	n, np := len(acc)/8, len(vs)/8
	if len(acc) != 8*n || len(vs) != 8*np || len(ms) < len(vs) {
		panic("tensor: MadRowsF16Heads8 arguments do not fit")
	}
	for _, o := range offs {
		if o < 0 || (np > 0 && len(vals) < o+(np-1)*stride+n) {
			panic("tensor: MadRowsF16Heads8 value rows too short")
		}
	}
	if v := vecs(); v.heads8 != nil && v.heads8(n) && np > 0 {
		b := byteOffsets8(offs)
		madRowsF16Heads8AVX512(&acc[0], &vals[0], uintptr(2*stride), n, &b, &ms[0], &vs[0], np)
		return
	}
	lo, hi := [4]int(offs[:4]), [4]int(offs[4:])
	MadRowsF16Heads4(acc[:4*n], vals, stride, lo, ms[:4*np], vs[:4*np])
	MadRowsF16Heads4(acc[4*n:], vals, stride, hi, ms[4*np:8*np], vs[4*np:])
}

// Heads8 says whether MadRowsF16Heads8 has assembly for heads of n
// values at the current kernel level (two MadRowsF16Heads4 calls serve
// elsewhere, no faster than the callers making them).
func Heads8(n int) bool {
	v := vecs()
	return v.heads8 != nil && v.heads8(n)
}

// HeadsTogether is how many heads of n values the value sums should be
// given at once at the current kernel level: 4 where MadRowsF16Heads4
// has its interleaved assembly, 1 where MadRowsF16 one head at a time is
// as fast. apart says whether the four may read different value rows
// (query heads of different KV heads); if not, they must share them.
func HeadsTogether(n int) (heads int, apart bool) {
	v := vecs()
	if v.heads4 == nil {
		return 1, false
	}
	if v.heads4(n, true) {
		return 4, true
	}
	if v.heads4(n, false) {
		return 4, false
	}
	return 1, false
}

// madRowsHeads4With is MadRowsF16Heads4 through a level's one-head
// operations, position by position.
func madRowsHeads4With(scale func(y []uint16, v float32), mad func(y, x []uint16, v float32)) func(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32) {
	return func(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32) {
		n := len(acc) / 4
		for h := 0; h < 4; h++ {
			a := acc[h*n : (h+1)*n]
			for p := 0; p < len(vs)/4; p++ {
				if m := ms[4*p+h]; m != 1 {
					scale(a, m)
				}
				mad(a, vals[offs[h]+p*stride:][:n], vs[4*p+h])
			}
		}
	}
}

// byteOffsets8 turns eight heads' offsets, in F16 values, into the byte
// offsets the eight-head kernels take.
func byteOffsets8(offs [8]int) (b [8]uintptr) {
	for h, o := range offs {
		b[h] = uintptr(2 * o)
	}
	return b
}
