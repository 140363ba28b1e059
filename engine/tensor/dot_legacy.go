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

// dotQ8_0 is ggml_vec_dot_q8_0_q8_0 as ggml-cpu's x86 build computes it
// (tinyBLAS's Q8_0 kernel does the same operations): per block, eight
// integer sums of four products each, converted to float and added to
// eight float lanes with one fused multiply-add by the product of the two
// scales; the lanes are summed at the end by hsum8. The order matters:
// logits of Q8_0 models move by whole 8-bit rounding steps when a last
// bit differs upstream.
func dotQ8_0(w, a []byte, n int) float32 { return dotQ8_0Lanes(w, a, n, q8BlockBytes, 32) }

// dotQ8_0L is dotQ8_0 on the actQ8_0L layout.
func dotQ8_0L(w, a []byte, n int) float32 { return dotQ8_0Lanes(w, a, n, q8LBlockBytes, 64) }

// dotQ8_0Lanes is dotQ8_0 on activation blocks of ab bytes with the
// float32 scale at dOff.
func dotQ8_0Lanes(w, a []byte, n, ab, dOff int) float32 {
	var acc [8]float32
	for b := 0; b < n/32; b++ {
		wb, blk := w[b*34:b*34+34], a[b*ab:(b+1)*ab]
		d := getHalf(wb) * getF32(blk[dOff:])
		for l := range acc {
			var s int32
			for j := 4 * l; j < 4*l+4; j++ {
				s += int32(int8(wb[2+j])) * int32(int8(blk[j]))
			}
			acc[l] = fma32(d, float32(s), acc[l])
		}
	}
	return hsum8(&acc)
}

// hsum8 is ggml's hsum_float_8: the two 128-bit halves added, then lanes
// 0+2 and 1+3, then those two.
func hsum8(acc *[8]float32) float32 {
	var r [4]float32
	for i := range r {
		r[i] = acc[i+4] + acc[i]
	}
	return (r[0] + r[2]) + (r[1] + r[3])
}
