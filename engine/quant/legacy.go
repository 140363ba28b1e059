package quant

import (
	"encoding/binary"
	"math"
)

// The 32-value block formats. Layouts (ggml-common.h), little-endian:
//
//	Q4_0 (18 bytes): d f16, qs[16] (value j in the low nibble of qs[j],
//	                 value j+16 in the high nibble)
//	Q4_1 (20 bytes): d f16, m f16, qs[16]
//	Q5_0 (22 bytes): d f16, qh u32 (bit j = fifth bit of value j), qs[16]
//	Q5_1 (24 bytes): d f16, m f16, qh u32, qs[16]
//	Q8_0 (34 bytes): d f16, qs[32] int8
//	Q8_1 (36 bytes): d f16, s f16 (= d * sum(qs)), qs[32] int8

const qk = 32

// blockAbsMax is ggml's "if (amax < fabsf(v)) { amax = fabsf(v); max = v; }"
// loop: the largest |x| and the first value that has it.
func blockAbsMax(x []float32) (amax, max float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, max = a, v
		}
	}
	return amax, max
}

// allFinite reports whether no value is Inf or NaN, and the largest |x|
// (for finite values this is exactly what ggml's MAX(amax, fabsf(v)) loop
// computes, since non-negative floats order like their bits).
func allFinite(x []float32) (bool, float32) {
	var m uint32
	for _, v := range x {
		if b := math.Float32bits(v) &^ 0x80000000; b > m {
			m = b
		}
	}
	return m < 0x7f800000, math.Float32frombits(m)
}

func quantizeQ4_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*18 : b*18+18]
		_, max := blockAbsMax(x)
		d := max / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		for j := 0; j < qk/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+qk/2] * id)
			xi0 := min(15, int32(int8(cvtt(x0+8.5))))
			xi1 := min(15, int32(int8(cvtt(x1+8.5))))
			y[2+j] = uint8(xi0) | uint8(xi1<<4)
		}
	}
}

func dequantizeQ4_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*18 : b*18+18]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		for j := 0; j < qk/2; j++ {
			y[j] = float32(int32(x[2+j]&0x0F)-8) * d
			y[j+qk/2] = float32(int32(x[2+j]>>4)-8) * d
		}
	}
}

// blockMinMax is the min/max loop of the Q4_1 and Q5_1 quantizers.
func blockMinMax(x []float32) (mn, mx float32) {
	mn, mx = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	return mn, mx
}

func quantizeQ4_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*20 : b*20+20]
		mn, mx := blockMinMax(x)
		d := (mx - mn) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(mn))
		for j := 0; j < qk/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[j+qk/2] - mn) * id)
			xi0 := min(15, int32(int8(cvtt(x0+0.5))))
			xi1 := min(15, int32(int8(cvtt(x1+0.5))))
			y[4+j] = uint8(xi0) | uint8(xi1<<4)
		}
	}
}

func dequantizeQ4_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*20 : b*20+20]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		m := fp16Table[binary.LittleEndian.Uint16(x[2:])]
		for j := 0; j < qk/2; j++ {
			y[j] = float32(float32(x[4+j]&0x0F)*d) + m
			y[j+qk/2] = float32(float32(x[4+j]>>4)*d) + m
		}
	}
}

func quantizeQ5_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*22 : b*22+22]
		_, max := blockAbsMax(x)
		d := max / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		var qh uint32
		for j := 0; j < qk/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+qk/2] * id)
			xi0 := uint8(min(31, int32(int8(cvtt(x0+16.5)))))
			xi1 := uint8(min(31, int32(int8(cvtt(x1+16.5)))))
			y[6+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk/2)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

func dequantizeQ5_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*22 : b*22+22]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		qh := binary.LittleEndian.Uint32(x[2:])
		for j := 0; j < qk/2; j++ {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(int32(x[6+j]&0x0F|xh0)-16) * d
			y[j+qk/2] = float32(int32(x[6+j]>>4|xh1)-16) * d
		}
	}
}

func quantizeQ5_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk; b++ {
		x := src[b*qk : b*qk+qk]
		y := dst[b*24 : b*24+24]
		mn, mx := blockMinMax(x)
		d := (mx - mn) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(y, FP32ToFP16(d))
		binary.LittleEndian.PutUint16(y[2:], FP32ToFP16(mn))
		var qh uint32
		for j := 0; j < qk/2; j++ {
			x0 := float32((x[j] - mn) * id)
			x1 := float32((x[j+qk/2] - mn) * id)
			xi0 := uint8(cvtt(x0 + 0.5))
			xi1 := uint8(cvtt(x1 + 0.5))
			y[8+j] = xi0&0x0F | (xi1&0x0F)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk/2)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

func dequantizeQ5_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk; b++ {
		y := dst[b*qk : b*qk+qk]
		x := src[b*24 : b*24+24]
		d := fp16Table[binary.LittleEndian.Uint16(x)]
		m := fp16Table[binary.LittleEndian.Uint16(x[2:])]
		qh := binary.LittleEndian.Uint32(x[4:])
		for j := 0; j < qk/2; j++ {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(float32(x[8+j]&0x0F|xh0)*d) + m
			y[j+qk/2] = float32(float32(x[8+j]>>4|xh1)*d) + m
		}
	}
}
