package tensor

import "encoding/binary"

// Pure-Go dot products of one weight row with one activation row for the
// 32-element block formats. n is the number of elements. Each sums the
// integer products of a block exactly and accumulates block scales in
// float32, as ggml's generic kernels do.

func dotQ4_0(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb, ab := w[b*18:b*18+18], a[b*q8BlockBytes:b*q8BlockBytes+q8BlockBytes]
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[2+j]
			s += (int32(q&15)-8)*int32(int8(ab[j])) + (int32(q>>4)-8)*int32(int8(ab[j+16]))
		}
		sum += getHalf(wb) * getF32(ab[32:]) * float32(s)
	}
	return sum
}

func dotQ4_1(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb, ab := w[b*20:b*20+20], a[b*q8BlockBytes:b*q8BlockBytes+q8BlockBytes]
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[4+j]
			s += int32(q&15)*int32(int8(ab[j])) + int32(q>>4)*int32(int8(ab[j+16]))
		}
		sum += getHalf(wb)*getF32(ab[32:])*float32(s) + getHalf(wb[2:])*getF32(ab[36:])
	}
	return sum
}

func dotQ5_0(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb, ab := w[b*22:b*22+22], a[b*q8BlockBytes:b*q8BlockBytes+q8BlockBytes]
		qh := binary.LittleEndian.Uint32(wb[2:])
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[6+j]
			x0 := int32(q&15|byte(qh>>j&1)<<4) - 16
			x1 := int32(q>>4|byte(qh>>(j+16)&1)<<4) - 16
			s += x0*int32(int8(ab[j])) + x1*int32(int8(ab[j+16]))
		}
		sum += getHalf(wb) * getF32(ab[32:]) * float32(s)
	}
	return sum
}

func dotQ5_1(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb, ab := w[b*24:b*24+24], a[b*q8BlockBytes:b*q8BlockBytes+q8BlockBytes]
		qh := binary.LittleEndian.Uint32(wb[4:])
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[8+j]
			x0 := int32(q&15 | byte(qh>>j&1)<<4)
			x1 := int32(q>>4 | byte(qh>>(j+16)&1)<<4)
			s += x0*int32(int8(ab[j])) + x1*int32(int8(ab[j+16]))
		}
		sum += getHalf(wb)*getF32(ab[32:])*float32(s) + getHalf(wb[2:])*getF32(ab[36:])
	}
	return sum
}

func dotQ8_0(w, a []byte, n int) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb, ab := w[b*34:b*34+34], a[b*q8BlockBytes:b*q8BlockBytes+q8BlockBytes]
		var s int32
		for j := 0; j < 32; j++ {
			s += int32(int8(wb[2+j])) * int32(int8(ab[j]))
		}
		sum += getHalf(wb) * getF32(ab[32:]) * float32(s)
	}
	return sum
}
