package quant

import (
	"encoding/binary"
	"math"
)

// Q4_K (144 bytes per 256 values): d f16, dmin f16, scales[12] (eight 6-bit
// sub-block scales and eight 6-bit mins, see getScaleMinK4), qs[128] (4-bit
// values: qs[32*h+l] holds value 64*h+l in the low nibble and 64*h+l+32 in
// the high nibble).
//
// Q5_K (176 bytes): d f16, dmin f16, scales[12], qh[32] (fifth bit of value
// 64*h+l in bit 2h of qh[l], of value 64*h+l+32 in bit 2h+1), qs[128] as
// Q4_K. For both, value = d*scale*q - dmin*min.

// kScalesMins is the part of quantize_row_q4_K_ref and q5_K_ref before the
// packing: per 32-value sub-block scale searches, the 6-bit scale/min
// encoding, and the final rounding of each value against its decoded scale.
// It writes d, dmin and scales into y and leaves the levels in L.
func kScalesMins(x []float32, y []byte, L *[qkK]uint8, nmax int32, rmin, rdelta float32, nstep int) {
	var laux [32]uint8
	var weights [32]float32
	var mins, scales [qkK / 32]float32
	var maxScale, maxMin float32
	for j := 0; j < qkK/32; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQkx2Quants(nmax, xs, weights[:], L[32*j:32*j+32], laux[:], rmin, rdelta, nstep, false)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	sc := y[4:16]
	for j := 0; j < qkK/32; j++ {
		ls := min(63, uint8(nearestInt(invScale*scales[j])))
		lm := min(63, uint8(nearestInt(invMin*mins[j])))
		if j < 4 {
			sc[j] = ls
			sc[j+4] = lm
		} else {
			sc[j+4] = ls&0xF | (lm&0xF)<<4
			sc[j-4] |= (ls >> 4) << 6
			sc[j] |= (lm >> 4) << 6
		}
	}
	dh := FP32ToFP16(maxScale / 63)
	dminh := FP32ToFP16(maxMin / 63)
	binary.LittleEndian.PutUint16(y[0:], dh)
	binary.LittleEndian.PutUint16(y[2:], dminh)
	for j := 0; j < qkK/32; j++ {
		s, m := getScaleMinK4(j, sc)
		d := float32(fp16Table[dh] * float32(s))
		if d == 0 {
			continue
		}
		dm := float32(fp16Table[dminh] * float32(m))
		for ii := 0; ii < 32; ii++ {
			L[32*j+ii] = uint8(clampI(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

func quantizeQ4_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*144 : b*144+144]
		kScalesMins(x, y, &L, 15, -1, 0.1, 20)
		q := y[16:144]
		for j := 0; j < qkK; j += 64 {
			for l := 0; l < 32; l++ {
				q[l] = L[j+l] | L[j+l+32]<<4
			}
			q = q[32:]
		}
	}
}

func quantizeQ5_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*176 : b*176+176]
		kScalesMins(x, y, &L, 31, -0.5, 0.1, 15)
		qh := y[16:48]
		clear(qh)
		ql := y[48:176]
		m1, m2 := uint8(1), uint8(2)
		for n := 0; n < qkK; n += 64 {
			for j := 0; j < 32; j++ {
				l1 := L[n+j]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				l2 := L[n+j+32]
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
			ql = ql[32:]
		}
	}
}

func dequantizeQ4_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*144 : b*144+144]
		d := fp16Table[binary.LittleEndian.Uint16(x[0:])]
		mn := fp16Table[binary.LittleEndian.Uint16(x[2:])]
		sc := x[4:16]
		q := x[16:144]
		for j, is := 0, 0; j < qkK; j, is = j+64, is+2 {
			s, m := getScaleMinK4(is, sc)
			d1, m1 := float32(d*float32(s)), float32(mn*float32(m))
			s, m = getScaleMinK4(is+1, sc)
			d2, m2 := float32(d*float32(s)), float32(mn*float32(m))
			for l := 0; l < 32; l++ {
				y[j+l] = float32(d1*float32(q[l]&0xF)) - m1
			}
			for l := 0; l < 32; l++ {
				y[j+32+l] = float32(d2*float32(q[l]>>4)) - m2
			}
			q = q[32:]
		}
	}
}

func dequantizeQ5_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*176 : b*176+176]
		d := fp16Table[binary.LittleEndian.Uint16(x[0:])]
		mn := fp16Table[binary.LittleEndian.Uint16(x[2:])]
		sc := x[4:16]
		qh := x[16:48]
		ql := x[48:176]
		u1, u2 := uint8(1), uint8(2)
		for j, is := 0, 0; j < qkK; j, is = j+64, is+2 {
			s, m := getScaleMinK4(is, sc)
			d1, m1 := float32(d*float32(s)), float32(mn*float32(m))
			s, m = getScaleMinK4(is+1, sc)
			d2, m2 := float32(d*float32(s)), float32(mn*float32(m))
			for l := 0; l < 32; l++ {
				v := int32(ql[l] & 0xF)
				if qh[l]&u1 != 0 {
					v += 16
				}
				y[j+l] = float32(d1*float32(v)) - m1
			}
			for l := 0; l < 32; l++ {
				v := int32(ql[l] >> 4)
				if qh[l]&u2 != 0 {
					v += 16
				}
				y[j+32+l] = float32(d2*float32(v)) - m2
			}
			ql = ql[32:]
			u1 <<= 2
			u2 <<= 2
		}
	}
}
