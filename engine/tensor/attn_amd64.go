package tensor

import "unsafe"

//go:noescape
func madRowsF16AVX512(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)

//go:noescape
func madRowsF16AVX512x64(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)

//go:noescape
func madRowsF16Heads4AVX512(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)

//go:noescape
func madRowsF16Heads4ApartAVX512(acc, vals *uint16, stride uintptr, n int, offs *[4]uintptr, ms, vs *float32, np int)

//go:noescape
func madRowsF16AVX2x8(acc, vals *uint16, stride uintptr, n int, ms, vs *float32, np int)

//go:noescape
func madRowsF16Heads4x8AVX2(acc, vals *uint16, stride uintptr, n int, offs *[4]uintptr, ms, vs *float32, np int)

//go:noescape
func scoresF16Small8AVX512(out *float32, keys *uint16, stride uintptr, np8 int, q *uint16, n int, rem int)

//go:noescape
func scoresF16SmallAVX2(out *float32, keys *uint16, stride uintptr, np int, q *uint16, n int)

// attnAVX2 installs the batched attention loops at the AVX2 level (and,
// through attnAVX512, above it): one assembly call per query row and head
// for small heads' scores and value sums (a multiple of 8 values, under
// 64), four heads' value sums at once for any multiple of 8, and the
// four-head online softmax.
func attnAVX2(v *vecFuncs) {
	scores, madRows := v.scoresF16, v.madRowsF16
	v.scoresF16 = func(out []float32, keys []uint16, stride int, q []uint16) {
		if len(q) >= 64 || len(q)%8 != 0 || len(q) == 0 || len(out) == 0 {
			scores(out, keys, stride, q)
			return
		}
		_ = keys[(len(out)-1)*stride+len(q)-1]
		scoresF16SmallAVX2(&out[0], &keys[0], uintptr(2*stride), len(out), &q[0], len(q))
	}
	v.madRowsF16 = func(acc []uint16, vals []uint16, stride int, ms, vs []float32) {
		if len(acc)%8 != 0 || len(acc) == 0 || len(vs) == 0 {
			madRows(acc, vals, stride, ms, vs)
			return
		}
		madRowsF16AVX2x8(&acc[0], &vals[0], uintptr(2*stride), len(acc), &ms[0], &vs[0], len(vs))
	}
	v.softmax4 = softmax4AVX2With
	heads4 := v.madRowsF16Heads4
	v.heads4 = func(n int, apart bool) bool { return n%8 == 0 && n > 0 }
	v.madRowsF16Heads4 = func(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32) {
		n := len(acc) / 4
		if n%8 != 0 || n == 0 || len(vs) == 0 {
			heads4(acc, vals, stride, offs, ms, vs)
			return
		}
		b := byteOffsets(offs)
		madRowsF16Heads4x8AVX2(&acc[0], &vals[0], uintptr(2*stride), n, &b, &ms[0], &vs[0], len(vs)/4)
	}
}

// attnAVX512 installs the batched attention loops at the AVX-512 level:
// one assembly call per query row and head where the head size allows.
func attnAVX512(v *vecFuncs) {
	dot, scale, mad := v.dotF16, v.scaleF16, v.madF16
	scores, madRows := scoresWith(dot), madRowsWith(scale, mad)
	small := vecFuncs{scoresF16: scores, madRowsF16: madRows, madRowsF16Heads4: madRowsHeads4With(scale, mad)}
	attnAVX2(&small)
	scores, madRows = small.scoresF16, small.madRowsF16
	v.scoresF16 = func(out []float32, keys []uint16, stride int, q []uint16) {
		if len(q)%64 != 0 || len(out) == 0 {
			// Small heads: eight positions at a time, the rest (and
			// heads this kernel does not take) as before. A last
			// partial eight goes whole through the kernel where the
			// slice's capacity holds its rows (a KV cache's keys run on
			// to the end of the cache), its extra sums not stored.
			if n8 := len(out) / 8 * 8; len(q)%8 == 0 && len(q) < 64 {
				_ = keys[(len(out)-1)*stride+len(q)-1]
				if rem := len(out) - n8; rem > 0 && cap(keys) >= (n8+7)*stride+len(q) {
					scoresF16Small8AVX512(&out[0], &keys[0], uintptr(2*stride), n8/8, &q[0], len(q), rem)
					return
				}
				if n8 > 0 {
					scoresF16Small8AVX512(&out[0], &keys[0], uintptr(2*stride), n8/8, &q[0], len(q), 0)
					if n8 == len(out) {
						return
					}
					out, keys = out[n8:], keys[n8*stride:]
				}
			}
			scores(out, keys, stride, q)
			return
		}
		dotF16RowsQuadAVX512(unsafe.Pointer(&keys[0]), uintptr(2*stride), len(out), len(q), unsafe.Pointer(&q[0]), unsafe.Pointer(&out[0]))
	}
	v.softmax4 = softmax4With
	v.softmax8 = softmax8With
	v.scoresHeads8 = true
	v.softmaxMad8 = true
	// Heads of a multiple of 64 values take the AVX-512 kernels, others
	// the AVX2 one: one that reads each value row once
	// for all four where they share it, one that reads each head's own.
	heads4 := small.madRowsF16Heads4
	v.heads4 = func(n int, apart bool) bool { return small.heads4(n, apart) || (n%64 == 0 && n > 0) }
	v.madRowsF16Heads4 = func(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32) {
		n := len(acc) / 4
		if n%64 != 0 || n == 0 || len(vs) == 0 {
			heads4(acc, vals, stride, offs, ms, vs)
			return
		}
		if offs == [4]int{offs[0], offs[0], offs[0], offs[0]} {
			madRowsF16Heads4AVX512(&acc[0], &vals[offs[0]], uintptr(2*stride), n, &ms[0], &vs[0], len(vs)/4)
			return
		}
		b := byteOffsets(offs)
		madRowsF16Heads4ApartAVX512(&acc[0], &vals[0], uintptr(2*stride), n, &b, &ms[0], &vs[0], len(vs)/4)
	}
	// Eight heads of a multiple of 8 values under 64 go two to a vector.
	v.heads8 = func(n int) bool { return n%8 == 0 && n > 0 && n < 64 }
	v.madRowsF16 = func(acc []uint16, vals []uint16, stride int, ms, vs []float32) {
		if len(acc)%16 != 0 || len(acc) == 0 || len(vs) == 0 {
			madRows(acc, vals, stride, ms, vs) // the small-head kernel, or Go
			return
		}
		if len(acc)%64 == 0 {
			madRowsF16AVX512x64(&acc[0], &vals[0], uintptr(2*stride), len(acc), &ms[0], &vs[0], len(vs))
			return
		}
		madRowsF16AVX512(&acc[0], &vals[0], uintptr(2*stride), len(acc), &ms[0], &vs[0], len(vs))
	}
}

// byteOffsets turns MadRowsF16Heads4's offsets, in F16 values, into the
// byte offsets the four-head kernels take.
func byteOffsets(offs [4]int) (b [4]uintptr) {
	for h, o := range offs {
		b[h] = uintptr(2 * o)
	}
	return b
}
