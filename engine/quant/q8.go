package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The 8-bit formats. Q8_0 stores weights; Q8_1 and Q8_K are what llama.cpp
// quantizes activations to before dot products with Q4_1/Q5_1 and the
// K-quants. Layouts, little-endian:
//
//	Q8_0 (34 bytes):  d f16, qs[32] int8
//	Q8_1 (36 bytes):  d f16, s f16 (= d * sum(qs)), qs[32] int8
//	Q8_K (292 bytes): d f32, qs[256] int8, bsums[16] int16 (sums of qs in
//	                  groups of 16)
//
// These run per token, so each has a fast path for the usual block (finite
// values, normal scale) that rounds with float64 arithmetic instead of
// math.Round; blocks outside it take the literal translation of ggml's code.

// minNormal is the smallest normal float32. A block whose scale is at least
// this has a finite reciprocal and every x*id within [-127.5, 127.5].
const minNormal = 0x1p-126

func quantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*34 : b*34+34]
		finite, amax := allFinite(x)
		d := amax / 127
		if !finite || d < minNormal {
			quantizeQ8_0Ref(y, x)
			continue
		}
		id := 1 / d
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		q := y[2:34]
		for j, v := range x {
			q[j] = uint8(roundSmall(v * id))
		}
	}
}

// quantizeQ8_0Ref is quantize_row_q8_0_ref for one block, word for word.
func quantizeQ8_0Ref(y []byte, x []float32) {
	var amax float32
	for _, v := range x {
		amax = maxC(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
	for j, v := range x {
		y[2+j] = uint8(roundf(v * id))
	}
}

func dequantizeQ8_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*34 : b*34+34]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		q := x[2:34]
		for j := range y {
			y[j] = float32(int8(q[j])) * d
		}
	}
}

func quantizeQ8_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*36 : b*36+36]
		finite, amax := allFinite(x)
		d := amax / 127
		if !finite || d < minNormal {
			quantizeQ8_1Ref(y, x)
			continue
		}
		id := 1 / d
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		q := y[4:36]
		var sum int32
		for j, v := range x {
			r := int8(roundSmall(v * id))
			q[j] = uint8(r)
			sum += int32(r)
		}
		binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(float32(sum)*d))
	}
}

// quantizeQ8_1Ref is quantize_row_q8_1_ref for one block.
func quantizeQ8_1Ref(y []byte, x []float32) {
	var amax float32
	for _, v := range x {
		amax = maxC(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
	var sum int32
	for j := 0; j < qk/2; j++ {
		r0 := int8(roundf(x[j] * id))
		r1 := int8(roundf(x[j+qk/2] * id))
		y[4+j] = uint8(r0)
		y[4+j+qk/2] = uint8(r1)
		sum += int32(r0) + int32(r1)
	}
	binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(float32(sum)*d))
}

// dequantizeQ8_1 has no ggml counterpart (ggml never stores Q8_1); it
// decodes qs*d like Q8_0.
func dequantizeQ8_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*36 : b*36+36]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		q := x[4:36]
		for j := range y {
			y[j] = float32(int8(q[j])) * d
		}
	}
}

const qkK = 256

// quantizeQ8_K is quantize_row_q8_K_ref. nearestInt is already branch-free
// and exact for any input, so there is one path.
func quantizeQ8_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*292 : b*292+292]
		var max, amax float32
		for _, v := range x {
			if ax := abs32(v); ax > amax {
				amax, max = ax, v
			}
		}
		if amax == 0 {
			clear(y)
			continue
		}
		iscale := -127 / max
		q := y[4:260]
		for j, v := range x {
			q[j] = uint8(min(127, nearestInt(iscale*v)))
		}
		for j := 0; j < qkK/16; j++ {
			var sum int32
			for _, v := range q[16*j : 16*j+16] {
				sum += int32(int8(v))
			}
			binary.LittleEndian.PutUint16(y[260+2*j:], uint16(sum))
		}
		binary.LittleEndian.PutUint32(y, math.Float32bits(1/iscale))
	}
}

func dequantizeQ8_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*292 : b*292+292]
		d := math.Float32frombits(binary.LittleEndian.Uint32(x))
		q := x[4:260]
		for j := range y {
			y[j] = d * float32(int8(q[j]))
		}
	}
}

func validateQ8_K(src []byte) error {
	for b := 0; b+292 <= len(src); b += 292 {
		if u := binary.LittleEndian.Uint32(src[b:]); u&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("quant: block %d has scale %v", b/292, math.Float32frombits(u))
		}
	}
	return nil
}
