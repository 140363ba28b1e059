package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// llama.cpp does not quantize activations with the reference code when it
// runs on x86 with AVX or AVX2 (every x86-64-v3 build, and the AVX-512
// ones): ggml-cpu's quantize_row_q8_0 and quantize_row_q8_1 scale by
// 127/amax instead of 1/(amax/127) and round ties to even. About one block
// in ten thousand comes out different from quantize_row_q8_*_ref. These
// functions reproduce the SIMD code, lane order of the max reduction and
// saturating packs included, for an engine that wants llama.cpp's
// activations exactly. (Q8_K has no such variant: x86 uses the reference.)

// QuantizeQ8_0AVX quantizes src to Q8_0 like ggml-cpu's AVX/AVX2
// quantize_row_q8_0. len(src) must be a multiple of 32 and len(dst) 34
// bytes per 32 values.
func QuantizeQ8_0AVX(dst []byte, src []float32) error {
	if err := checkQ8x86(dst, src, 34); err != nil {
		return err
	}
	for b := 0; b < len(src)/qk; b++ {
		quantizeQ8x86Block(dst[b*34:b*34+34], src[b*qk:b*qk+qk], false)
	}
	return nil
}

// QuantizeQ8_1AVX quantizes src to Q8_1 like ggml-cpu's AVX/AVX2
// quantize_row_q8_1 (36 bytes per 32 values).
func QuantizeQ8_1AVX(dst []byte, src []float32) error {
	if err := checkQ8x86(dst, src, 36); err != nil {
		return err
	}
	for b := 0; b < len(src)/qk; b++ {
		quantizeQ8x86Block(dst[b*36:b*36+36], src[b*qk:b*qk+qk], true)
	}
	return nil
}

func checkQ8x86(dst []byte, src []float32, blockBytes int) error {
	if len(src)%qk != 0 {
		return fmt.Errorf("quant: %d values is not a multiple of 32", len(src))
	}
	if want := len(src) / qk * blockBytes; len(dst) != want {
		return fmt.Errorf("quant: %d values need %d bytes, dst has %d", len(src), want, len(dst))
	}
	return nil
}

func quantizeQ8x86Block(y []byte, x []float32, withSum bool) {
	// Usual blocks: finite values and an amax large enough that 127/amax is
	// finite. Then every x*id is within ±127.00001, nearestInt rounds it to
	// even exactly like vroundps, and nothing saturates.
	if finite, amax := allFinite(x); finite && amax >= 0x1p-120 {
		d, id := amax/127, 127/amax
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		q := y[len(y)-qk:]
		var sum int32
		for j, v := range x {
			i := nearestInt(v * id)
			sum += i
			q[j] = uint8(i)
		}
		if withSum {
			binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(d*float32(sum)))
		}
		return
	}
	quantizeQ8x86Slow(y, x, withSum)
}

// quantizeQ8x86Slow follows the SIMD code step by step, for any input.
func quantizeQ8x86Slow(y []byte, x []float32, withSum bool) {
	// The max reduction: eight lanes over the four vectors, then halves
	// folded (vmaxps returns its second operand unless the first is
	// greater, like maxC).
	var m [8]float32
	for l := range m {
		m[l] = maxC(maxC(maxC(abs32(x[l]), abs32(x[8+l])), abs32(x[16+l])), abs32(x[24+l]))
	}
	m0 := maxC(m[4], m[0])
	m1 := maxC(m[5], m[1])
	m2 := maxC(m[6], m[2])
	m3 := maxC(m[7], m[3])
	amax := maxC(maxC(m0, m2), maxC(m1, m3))

	d := amax / 127
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
	q := y[len(y)-qk:]
	var sum int32
	for j, v := range x {
		i := cvtpsEven(v * id)
		sum += i
		q[j] = uint8(int8(min(max(i, -128), 127)))
	}
	if withSum {
		binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(d*float32(sum)))
	}
}

// cvtpsEven is vroundps (nearest even) then vcvtps2dq: NaN, Inf and values
// outside int32 give math.MinInt32.
func cvtpsEven(f float32) int32 {
	r := math.RoundToEven(float64(float32(f)))
	if r >= -2147483648 && r < 2147483648 {
		return int32(r)
	}
	return math.MinInt32
}
