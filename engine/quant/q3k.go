package quant

import "encoding/binary"

// Q3_K (110 bytes per 256 values): hmask[32] (third bit of value j is bit
// j/32 of hmask[j%32]), qs[64] (low two bits, laid out like Q2_K),
// scales[12] (sixteen 6-bit signed scales, offset by 32), d f16. Value =
// d*(scale-32)*(q - 4 if the hmask bit is clear).

func quantizeQ3_K(dst []byte, src []float32) {
	var L [qkK]int8
	var scales [qkK / 16]float32
	var packed [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*110 : b*110+110]
		var maxScale, amax float32
		for j := 0; j < qkK/16; j++ {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if s := abs32(scales[j]); s > amax {
				amax, maxScale = s, scales[j]
			}
		}
		sc := y[96:108]
		clear(sc)
		var dh uint16
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < qkK/16; j++ {
				l := uint8(clampI(int32(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32)
				if j < 8 {
					sc[j] = l & 0xF
				} else {
					sc[j-8] |= (l & 0xF) << 4
				}
				l >>= 4
				sc[j%4+8] |= l << (2 * (j / 4))
			}
			dh = FP32ToFP16(1 / iscale)
		} else {
			dh = FP32ToFP16(0)
		}
		binary.LittleEndian.PutUint16(y[108:], dh)
		for j := 0; j < qkK/16; j++ {
			d := float32(fp16Table[dh] * float32(q3Scale(sc, j)))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampI(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		hmask := y[0:32]
		clear(hmask)
		m, hm := 0, uint8(1)
		for j := 0; j < qkK; j++ {
			if L[j] > 3 {
				hmask[m] |= hm
				L[j] -= 4
			}
			if m++; m == qkK/8 {
				m, hm = 0, hm<<1
			}
		}
		for j, v := range L {
			packed[j] = uint8(v)
		}
		packQ2(y[32:96], &packed)
	}
}

// q3Scale unpacks the j-th 6-bit scale of a Q3_K block, minus 32.
func q3Scale(sc []byte, j int) int8 {
	var lo uint8
	if j < 8 {
		lo = sc[j] & 0xF
	} else {
		lo = sc[j-8] >> 4
	}
	return int8(lo|((sc[8+j%4]>>(2*(j/4)))&3)<<4) - 32
}

func dequantizeQ3_K(dst []float32, src []byte) {
	var scales [16]int8
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*110 : b*110+110]
		dAll := fp16Table[binary.LittleEndian.Uint16(x[108:])]
		for j := range scales {
			scales[j] = q3Scale(x[96:108], j)
		}
		hm := x[0:32]
		q := x[32:96]
		m := uint8(1)
		is, o := 0, 0
		for n := 0; n < qkK; n += 128 {
			shift := uint(0)
			for j := 0; j < 4; j++ {
				for half := 0; half < 2; half++ {
					dl := float32(dAll * float32(scales[is]))
					is++
					qq := q[16*half : 16*half+16]
					hh := hm[16*half : 16*half+16]
					for l := 0; l < 16; l++ {
						v := int32((qq[l] >> shift) & 3)
						if hh[l]&m == 0 {
							v -= 4
						}
						y[o+l] = dl * float32(v)
					}
					o += 16
				}
				shift += 2
				m <<= 1
			}
			q = q[32:]
		}
	}
}
