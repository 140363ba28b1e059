package quant

import "encoding/binary"

// Q2_K (84 bytes per 256 values): scales[16] (low nibble: sub-block scale,
// high nibble: sub-block min, both 4-bit), qs[64] (2-bit values: qs[32*h+l]
// holds values 128*h+l+32*k in bits 2k..2k+1), d f16, dmin f16. Value =
// d*scale*q - dmin*min.

func quantizeQ2_K(dst []byte, src []float32) {
	var L [qkK]uint8
	var laux [16]uint8
	var weights [16]float32
	var mins, scales [qkK / 16]float32
	const q4scale = 15
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*84 : b*84+84]
		var maxScale, maxMin float32
		for j := 0; j < qkK/16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQkx2Quants(3, xs, weights[:], L[16*j:16*j+16], laux[:], -0.5, 0.1, 15, true)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		sc := y[0:16]
		var dh, dminh uint16
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range sc {
				sc[j] = uint8(nearestInt(iscale * scales[j]))
			}
			dh = FP32ToFP16(maxScale / q4scale)
		} else {
			clear(sc)
			dh = FP32ToFP16(0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= uint8(nearestInt(iscale*mins[j]) << 4)
			}
			dminh = FP32ToFP16(maxMin / q4scale)
		} else {
			dminh = FP32ToFP16(0)
		}
		binary.LittleEndian.PutUint16(y[80:], dh)
		binary.LittleEndian.PutUint16(y[82:], dminh)
		for j := 0; j < qkK/16; j++ {
			d := float32(fp16Table[dh] * float32(sc[j]&0xF))
			if d == 0 {
				continue
			}
			dm := float32(fp16Table[dminh] * float32(sc[j]>>4))
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = uint8(clampI(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		packQ2(y[16:80], &L)
	}
}

// packQ2 stores 2-bit values as Q2_K and Q3_K lay them out.
func packQ2(qs []byte, L *[qkK]uint8) {
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

func dequantizeQ2_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*84 : b*84+84]
		d := fp16Table[binary.LittleEndian.Uint16(x[80:])]
		mn := fp16Table[binary.LittleEndian.Uint16(x[82:])]
		scales := x[0:16]
		q := x[16:80]
		is, o := 0, 0
		for n := 0; n < qkK; n += 128 {
			shift := uint(0)
			for j := 0; j < 4; j++ {
				for half := 0; half < 2; half++ {
					sc := scales[is]
					is++
					dl := float32(d * float32(sc&0xF))
					ml := float32(mn * float32(sc>>4))
					qq := q[16*half : 16*half+16]
					for l := 0; l < 16; l++ {
						y[o+l] = float32(dl*float32((qq[l]>>shift)&3)) - ml
					}
					o += 16
				}
				shift += 2
			}
			q = q[32:]
		}
	}
}
