package quant

import "encoding/binary"

// Q6_K (210 bytes per 256 values): ql[128] (low four bits), qh[64] (high two
// bits), scales[16] int8, d f16. Within each half of 128 values, value l
// (l < 32) lives in ql[l] low nibble, l+32 in ql[l+32] low nibble, l+64 in
// ql[l] high nibble, l+96 in ql[l+32] high nibble, and their high bits in
// qh[l] bits 0-1, 2-3, 4-5, 6-7. Value = d*scale*(q-32).

func quantizeQ6_K(dst []byte, src []float32) {
	var L [qkK]int8
	var scales [qkK / 16]float32
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		y := dst[b*210 : b*210+210]
		var maxScale, maxAbsScale float32
		for ib := 0; ib < qkK/16; ib++ {
			scale := makeQxQuants(32, x[16*ib:16*ib+16], L[16*ib:16*ib+16])
			scales[ib] = scale
			if a := abs32(scale); a > maxAbsScale {
				maxAbsScale, maxScale = a, scale
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(y)
			binary.LittleEndian.PutUint16(y[208:], FP32ToFP16(0))
			continue
		}
		iscale := -128 / maxScale
		dh := FP32ToFP16(1 / iscale)
		binary.LittleEndian.PutUint16(y[208:], dh)
		sc := y[192:208]
		for ib := range sc {
			sc[ib] = uint8(min(127, nearestInt(iscale*scales[ib])))
		}
		for j := 0; j < qkK/16; j++ {
			d := float32(fp16Table[dh] * float32(int8(sc[j])))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampI(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		ql := y[0:128]
		qh := y[128:192]
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				a, b2, c, e := uint8(L[j+l]), uint8(L[j+l+32]), uint8(L[j+l+64]), uint8(L[j+l+96])
				ql[l] = a&0xF | (c&0xF)<<4
				ql[l+32] = b2&0xF | (e&0xF)<<4
				qh[l] = a>>4 | (b2>>4)<<2 | (c>>4)<<4 | (e>>4)<<6
			}
			ql = ql[64:]
			qh = qh[32:]
		}
	}
}

func dequantizeQ6_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := dst[b*qkK : b*qkK+qkK]
		x := src[b*210 : b*210+210]
		d := fp16Table[binary.LittleEndian.Uint16(x[208:])]
		ql := x[0:128]
		qh := x[128:192]
		sc := x[192:208]
		for n := 0; n < qkK; n += 128 {
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int8(ql[l]&0xF|(qh[l]&3)<<4) - 32
				q2 := int8(ql[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
				q3 := int8(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
				q4 := int8(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
				y[n+l] = float32(d*float32(int8(sc[is]))) * float32(q1)
				y[n+l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
				y[n+l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
				y[n+l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
			}
			ql = ql[64:]
			qh = qh[32:]
			sc = sc[8:]
		}
	}
}
