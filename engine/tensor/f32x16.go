package tensor

import "unsafe"

// Packed F32 ("x16"): rows in groups of sixteen, transposed. For group g
// and column c, the 64 bytes at g*64*cols + 64*c hold W[16g+j][c] for
// j = 0..15; a last group of fewer rows is zero-filled.
//
// ggml's float sums are trees of lane-wise adds over a fixed set of
// accumulators (see ggmlorder.go). Row-major, a kernel finishes every row
// with a horizontal reduction: shuffles and adds, a chain as long as the
// multiplies of a short row and longer than its loads. Transposed, lane j
// of every vector belongs to row 16g+j, so each of ggml's accumulators
// (its lane l, for a column offset l) becomes a whole vector over sixteen
// rows, and the reduction tree becomes the same adds between vectors:
// sixteen rows reduced by as many instructions as one row took before,
// every operation on every row the one ggml performs, so the bits are the
// same. The activation is broadcast, one column at a time.
//
// The two orders, as in ggmlorder.go:
//   - f32x16Tiny: tinyBLAS (rows whose length is a multiple of 16, prompt
//     tokens);
//   - f32x16Vec: ggml_vec_dot_f32 (decode steps, and prompt rows of other
//     lengths), its leftovers included.

// packF32x16 writes src's rows x cols F32 matrix to dst in the x16 layout.
func packF32x16(dst, src []byte, rows, cols int) {
	d := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)/4)
	for r := 0; r < rows; r++ {
		g, j := r/16, r%16
		row := src[r*cols*4 : (r+1)*cols*4]
		for c := 0; c < cols; c++ {
			d[g*16*cols+16*c+j] = getF32(row[4*c:])
		}
	}
}

// f32x16Go runs dot, one row's sum in a ggml order, for every row of the
// tile: the pure-Go twin of the x16 kernels for T tokens.
func f32x16Go(T int, dot func(n int, w, a func(i int) float32) float32) tileFn {
	return func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
		groups := (nRows + 15) / 16
		gs := int(wStride) / 4
		ws := unsafe.Slice((*float32)(w), groups*gs)
		for g := 0; g < groups; g++ {
			gw := ws[g*gs : (g+1)*gs]
			for t := 0; t < T; t++ {
				act := unsafe.Slice((*float32)(unsafe.Add(a, uintptr(t)*aStride)), n)
				o := unsafe.Slice((*float32)(unsafe.Add(out, uintptr(t)*oStride+uintptr(64*g))), min(16, nRows-16*g))
				for j := range o {
					o[j] = dot(n, func(i int) float32 { return gw[16*i+j] }, func(i int) float32 { return act[i] })
				}
			}
		}
	}
}

// f32x16VecGo is ggml_vec_dot_f32's order on x16 rows.
func f32x16VecGo(T int) tileFn { return f32x16Go(T, vecDotF32) }

// f32x16TinyGo is tinyBLAS's order on x16 rows (n a multiple of 16).
func f32x16TinyGo(T int) tileFn { return f32x16Go(T, tinyDot) }
