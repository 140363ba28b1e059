package tensor

import (
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
)

// ggml's float dot products, in its order of operations.
//
// For F32 and F16 weights llama.cpp's CPU backend sums each row in one of
// two fixed orders, and the F16 KV cache makes those orders matter: a sum
// that differs in its last bit can round to a different half when it is
// stored, and the difference then grows through every later layer. So the
// pure-Go kernels below (and the AVX-512 ones, which do the same
// operations) follow the orders of llama.cpp's AVX-512 build on every
// machine:
//
//   - rows whose length is a multiple of 16 go through llamafile's
//     tinyBLAS: one accumulator of 16 lanes, fused multiply-adds over the
//     row in steps of 16, then _mm512_reduce_add_ps's tree;
//   - other rows, and the attention dot products, go through
//     ggml_vec_dot_f32/f16: four accumulators of 16 lanes over steps of
//     64, added pairwise, reduced by the same tree; then the leftover
//     elements, added one by one in float64 for F16 and as GCC compiles
//     the float32 loop for F32 (vecDotF32).
//
// llama.cpp also switches on the batch: a matrix product with a single
// token skips tinyBLAS and runs ggml_vec_dot_f32/f16 per row (for F16
// weights on activations rounded to F16). That is the path of every
// single-sequence decode step and of the last layer of a prompt, whose
// feed-forward and output run on the one row that wants logits. Our
// decode kernels (MatMulMixed's decode tokens) are that path, so a
// sequence decodes as llama.cpp decodes it alone, batched or not.

// implFor is the implementation that computes rows of cols elements of
// type t at the current level, for decode steps or prompt tokens. F32 and
// F16 rows that the assembly would split (a length not a multiple of its
// chunk) take the pure-Go path: llama.cpp sums those rows in one order
// (ggml_vec_dot's, or tinyBLAS's over 16s) that a split would not keep.
func implFor(t gguf.GGMLType, f *format, cols int, decode bool) *impl {
	im := f.implAt(currentLevel())
	if decode || (t == gguf.TypeF32 && cols%16 != 0) {
		// F32 rows that tinyBLAS cannot take are ggml_vec_dot_f32 for
		// prompts too: the decode kernel's order.
		im = f.decodeAt(currentLevel())
	}
	if (t == gguf.TypeF32 || t == gguf.TypeF16) && im.chunk > 1 && cols%im.chunk != 0 {
		if decode || t == gguf.TypeF32 && cols%16 != 0 {
			return f.decode[levelGo]
		}
		return f.impls[levelGo]
	}
	return im
}

// reduce16 is GCC's _mm512_reduce_add_ps: halves of 8, then 4, then pairs.
func reduce16(acc *[16]float32) float32 {
	var t8 [8]float32
	for i := range t8 {
		t8[i] = acc[i+8] + acc[i]
	}
	var t4 [4]float32
	for i := range t4 {
		t4[i] = t8[i+4] + t8[i]
	}
	return (t4[0] + t4[2]) + (t4[1] + t4[3])
}

// tinyDot is tinyBLAS's order for n a multiple of 16; get(i) returns the
// i-th product's two operands.
func tinyDot(n int, w func(i int) float32, a func(i int) float32) float32 {
	var acc [16]float32
	for c := 0; c < n; c += 16 {
		for l := range acc {
			acc[l] = fma32(w(c+l), a(c+l), acc[l])
		}
	}
	return reduce16(&acc)
}

// vecDot is ggml_vec_dot_f16's order: the reduced steps of 64 and then
// the leftovers summed in float64.
func vecDot(n int, w func(i int) float32, a func(i int) float32) float32 {
	s := float64(vecDot64(n, w, a))
	for i := n &^ 63; i < n; i++ {
		s += float64(w(i) * a(i))
	}
	return float32(s)
}

// vecDotF32 is ggml_vec_dot_f32's order, whose sum is a float32: the
// reduced steps of 64, then the leftovers as GCC compiles that loop (held
// to ggml-cpu's own results): runs of eight added product by product,
// each product rounded, and the last n%8 fused into the sum.
func vecDotF32(n int, w func(i int) float32, a func(i int) float32) float32 {
	s := vecDot64(n, w, a)
	np := n &^ 63
	n8 := np + (n-np)&^7
	for i := np; i < n8; i++ {
		s += float32(w(i) * a(i)) // rounded: never fused (GOAMD64=v3 would)
	}
	for i := n8; i < n; i++ {
		s = fma32(w(i), a(i), s)
	}
	return s
}

// vecDot64 is the SIMD part of ggml_vec_dot_f32/f16: four accumulators of
// 16 lanes over whole steps of 64, added pairwise, then reduced.
func vecDot64(n int, w func(i int) float32, a func(i int) float32) float32 {
	var sum [4][16]float32
	np := n &^ 63
	for i := 0; i < np; i += 64 {
		for j := range sum {
			for l := 0; l < 16; l++ {
				k := i + 16*j + l
				sum[j][l] = fma32(w(k), a(k), sum[j][l])
			}
		}
	}
	for l := 0; l < 16; l++ {
		sum[0][l] += sum[2][l]
		sum[1][l] += sum[3][l]
	}
	for l := 0; l < 16; l++ {
		sum[0][l] += sum[1][l]
	}
	return reduce16(&sum[0])
}

// ggmlOrderDot picks the order llama.cpp uses for a row of n elements.
func ggmlOrderDot(n int, w, a func(i int) float32) float32 {
	if n%16 == 0 {
		return tinyDot(n, w, a)
	}
	return vecDot(n, w, a)
}

func dotF32(w, a []byte, n int) float32 {
	wf, af := func(i int) float32 { return getF32(w[4*i:]) }, func(i int) float32 { return getF32(a[4*i:]) }
	if n%16 == 0 {
		return tinyDot(n, wf, af)
	}
	return vecDotF32(n, wf, af)
}

// dotF16's activations are float32 values already rounded to F16.
func dotF16(w, a []byte, n int) float32 {
	return ggmlOrderDot(n, func(i int) float32 { return getHalf(w[2*i:]) }, func(i int) float32 { return getF32(a[4*i:]) })
}

// dotF16Decode is ggml_vec_dot_f16 on an F16 weight row and actF16
// activations: the single-token path.
func dotF16Decode(w, a []byte, n int) float32 {
	return vecs().dotF16(halves(w, n), halves(a, n))
}

// dotF16DecodeF32 is dotF16Decode on activations widened once: float32
// values rounded to F16 (actF32 of an F16 format), the same operands.
func dotF16DecodeF32(w, a []byte, n int) float32 {
	return vecDot(n, func(i int) float32 { return getHalf(w[2*i:]) }, func(i int) float32 { return getF32(a[4*i:]) })
}

// dotF32Decode is ggml_vec_dot_f32 on an F32 weight row: the single-token
// path.
func dotF32Decode(w, a []byte, n int) float32 {
	return vecDotF32(n, func(i int) float32 { return getF32(w[4*i:]) }, func(i int) float32 { return getF32(a[4*i:]) })
}

func halves(b []byte, n int) []uint16 {
	_ = b[2*n-1]
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// dotF16Go is ggml_vec_dot_f16 on two F16 vectors (attention's q·k).
func dotF16Go(a, b []uint16) float32 {
	b = b[:len(a)]
	if len(a) < 64 {
		// No whole step: vecDot's leftovers alone (small heads).
		var s float64
		for i, x := range a {
			s += float64(halfTable[x] * halfTable[b[i]])
		}
		return float32(s)
	}
	return vecDot(len(a), func(i int) float32 { return halfTable[a[i]] }, func(i int) float32 { return halfTable[b[i]] })
}

// dotF16Split is dotF16Go with the whole steps of 64 done by kernel, which
// must perform vecDot's operations for that part.
func dotF16Split(a, b []uint16, kernel func(a, b *uint16, n int) float32) float32 {
	np := len(a) &^ 63
	if np == 0 {
		return dotF16Go(a, b)
	}
	s := float64(kernel(&a[0], &b[0], np))
	for i := np; i < len(a); i++ {
		s += float64(halfTable[a[i]] * halfTable[b[i]])
	}
	return float32(s)
}
