package tensor

import "encoding/binary"

// Pure-Go dot products of one K-quant weight row with Q8_K activations
// (layout actQ8_K). Each 256-element super-block sums its integer products
// exactly; the super-block scales are applied in float32.

func q8kBsum16(ab []byte, j int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(ab[q8KBsums16+2*j:])))
}

func q8kBsum32(ab []byte, j int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(ab[q8KBsums32+2*j:])))
}

// dotQ2_K is ggml_vec_dot_q2_K_q8_K as its AVX2 build computes it (the
// assembly does the same): eight lanes, lane L holding, per block, the
// mins term of sub-blocks 2L and 2L+1 and the scaled dots of bytes
// 4L..4L+3 of each 32-value chunk, each added to its float lane with one
// fused multiply-add (mins first), the lanes summed by hsum8.
func dotQ2_K(w, a []byte, n int) float32 {
	var acc [8]float32
	for b := 0; b < n/256; b++ {
		wb, ab := w[b*84:b*84+84], a[b*q8KBlockBytes:(b+1)*q8KBlockBytes]
		sc, q2 := wb[:16], wb[16:80]
		dy := getF32(ab[q8KD:])
		d, dmin := dy*getHalf(wb[80:]), -dy*getHalf(wb[82:])
		var dots [8]int32
		for j := 0; j < 2; j++ {
			for c := 0; c < 4; c++ {
				for L := 0; L < 8; L++ {
					var s int32
					for bb := 4 * L; bb < 4*L+4; bb++ {
						s += int32(q2[32*j+bb]>>(2*c)&3) * int32(int8(ab[128*j+32*c+bb]))
					}
					dots[L] += int32(sc[8*j+2*c+L/4]&15) * s
				}
			}
		}
		for L := 0; L < 8; L++ {
			mins := q8kBsum16(ab, 2*L)*int32(sc[2*L]>>4) + q8kBsum16(ab, 2*L+1)*int32(sc[2*L+1]>>4)
			acc[L] = fma32(dmin, float32(mins), acc[L])
			acc[L] = fma32(d, float32(dots[L]), acc[L])
		}
	}
	return hsum8(&acc)
}

// q3Scales decodes Q3_K's sixteen 6-bit scales (without the -32 offset).
func q3Scales(p []byte) [16]int32 {
	const m1, m2 = 0x03030303, 0x0f0f0f0f
	a0 := binary.LittleEndian.Uint32(p)
	a1 := binary.LittleEndian.Uint32(p[4:])
	t := binary.LittleEndian.Uint32(p[8:])
	u := [4]uint32{
		a0&m2 | (t>>0&m1)<<4,
		a1&m2 | (t>>2&m1)<<4,
		a0>>4&m2 | (t>>4&m1)<<4,
		a1>>4&m2 | (t>>6&m1)<<4,
	}
	var s [16]int32
	for i := range s {
		s[i] = int32(byte(u[i/4] >> (8 * (i % 4))))
	}
	return s
}

func dotQ3_K(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/256; b++ {
		wb, ab := w[b*110:b*110+110], a[b*q8KBlockBytes:(b+1)*q8KBlockBytes]
		hm, qs := wb[:32], wb[32:96]
		sc := q3Scales(wb[96:108])
		var isum int32
		for j := 0; j < 16; j++ {
			half, k, l0 := j/8, j%8/2, j%2*16
			bit := byte(1) << (4*half + k)
			var s int32
			for l := l0; l < l0+16; l++ {
				v := int32(qs[32*half+l] >> (2 * k) & 3)
				if hm[l]&bit == 0 {
					v -= 4
				}
				s += v * int32(int8(ab[128*half+32*k+l]))
			}
			isum += (sc[j] - 32) * s
		}
		sum += getHalf(wb[108:]) * getF32(ab[q8KD:]) * float32(isum)
	}
	return sum
}

// k4Scales decodes the 6-bit scales and mins shared by Q4_K and Q5_K.
func k4Scales(p []byte) (sc, mn [8]int32) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			sc[j], mn[j] = int32(p[j]&63), int32(p[j+4]&63)
		} else {
			sc[j] = int32(p[j+4]&0xf | p[j-4]>>6<<4)
			mn[j] = int32(p[j+4]>>4 | p[j]>>6<<4)
		}
	}
	return sc, mn
}

func dotQ4_K(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/256; b++ {
		wb, ab := w[b*144:b*144+144], a[b*q8KBlockBytes:(b+1)*q8KBlockBytes]
		sc, mn := k4Scales(wb[4:16])
		qs := wb[16:144]
		var isum, msum int32
		for j := 0; j < 4; j++ {
			var lo, hi int32
			for l := 0; l < 32; l++ {
				q := qs[32*j+l]
				lo += int32(q&15) * int32(int8(ab[64*j+l]))
				hi += int32(q>>4) * int32(int8(ab[64*j+32+l]))
			}
			isum += sc[2*j]*lo + sc[2*j+1]*hi
		}
		for j := 0; j < 8; j++ {
			msum += mn[j] * q8kBsum32(ab, j)
		}
		dy := getF32(ab[q8KD:])
		sum += dy*getHalf(wb)*float32(isum) - dy*getHalf(wb[2:])*float32(msum)
	}
	return sum
}

func dotQ5_K(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/256; b++ {
		wb, ab := w[b*176:b*176+176], a[b*q8KBlockBytes:(b+1)*q8KBlockBytes]
		sc, mn := k4Scales(wb[4:16])
		qh, qs := wb[16:48], wb[48:176]
		var isum, msum int32
		for j := 0; j < 4; j++ {
			var lo, hi int32
			for l := 0; l < 32; l++ {
				q := qs[32*j+l]
				vl := int32(q&15 | (qh[l]>>(2*j)&1)<<4)
				vh := int32(q>>4 | (qh[l]>>(2*j+1)&1)<<4)
				lo += vl * int32(int8(ab[64*j+l]))
				hi += vh * int32(int8(ab[64*j+32+l]))
			}
			isum += sc[2*j]*lo + sc[2*j+1]*hi
		}
		for j := 0; j < 8; j++ {
			msum += mn[j] * q8kBsum32(ab, j)
		}
		dy := getF32(ab[q8KD:])
		sum += dy*getHalf(wb)*float32(isum) - dy*getHalf(wb[2:])*float32(msum)
	}
	return sum
}

// dotQ6_K is ggml_vec_dot_q6_K_q8_K as its AVX2 build computes it (the
// assembly does the same): eight integer lanes per block, lane L holding
// the scaled dots of bytes 4L..4L+3 of each 32-value chunk (quants taken
// unsigned) less 32 times the scaled sums of sub-blocks 2L and 2L+1, each
// added to its float lane with one fused multiply-add, the lanes summed by
// hsum8.
func dotQ6_K(w, a []byte, n int) float32 {
	var acc [8]float32
	for b := 0; b < n/256; b++ {
		wb, ab := w[b*210:b*210+210], a[b*q8KBlockBytes:(b+1)*q8KBlockBytes]
		ql, qh, sc := wb[:128], wb[128:192], wb[192:208]
		var lanes [8]int32
		for j := 0; j < 2; j++ {
			for c := 0; c < 4; c++ {
				for L := 0; L < 8; L++ {
					var s int32
					for bb := 4 * L; bb < 4*L+4; bb++ {
						lb := ql[64*j+32*(c&1)+bb]
						if c >= 2 {
							lb >>= 4
						}
						v := int32(lb&15 | (qh[32*j+bb]>>(2*c)&3)<<4)
						s += v * int32(int8(ab[128*j+32*c+bb]))
					}
					lanes[L] += int32(int8(sc[8*j+2*c+L/4])) * s
				}
			}
		}
		d := getF32(ab[q8KD:]) * getHalf(wb[208:])
		for L := 0; L < 8; L++ {
			lanes[L] -= 32 * (q8kBsum16(ab, 2*L)*int32(int8(sc[2*L])) + q8kBsum16(ab, 2*L+1)*int32(int8(sc[2*L+1])))
			acc[L] = fma32(d, float32(lanes[L]), acc[L])
		}
	}
	return hsum8(&acc)
}
