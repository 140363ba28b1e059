package tensor

import (
	"encoding/binary"
	"math"
)

// Pure-Go dot products for BF16 weights. The activations are float32
// values already rounded to the weights' precision (actF32), so the
// products are those ggml forms from two BF16 operands. Four partial sums
// keep the dependency chain short. (F32 and F16 rows follow llama.cpp's
// exact order: ggmlorder.go.)

func getBF16(b []byte) float32 {
	return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
}

func dotBF16(w, a []byte, n int) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += getBF16(w[2*i:]) * getF32(a[4*i:])
		s1 += getBF16(w[2*i+2:]) * getF32(a[4*i+4:])
		s2 += getBF16(w[2*i+4:]) * getF32(a[4*i+8:])
		s3 += getBF16(w[2*i+6:]) * getF32(a[4*i+12:])
	}
	for ; i < n; i++ {
		s0 += getBF16(w[2*i:]) * getF32(a[4*i:])
	}
	return (s0 + s1) + (s2 + s3)
}

// dotBF16BF16 is the twin of the AVX512-BF16 kernel, whose activations are
// raw bfloat16 (actBF16).
func dotBF16BF16(w, a []byte, n int) float32 {
	var s0, s1 float32
	i := 0
	for ; i+2 <= n; i += 2 {
		s0 += getBF16(w[2*i:]) * getBF16(a[2*i:])
		s1 += getBF16(w[2*i+2:]) * getBF16(a[2*i+2:])
	}
	for ; i < n; i++ {
		s0 += getBF16(w[2*i:]) * getBF16(a[2*i:])
	}
	return s0 + s1
}
