package tensor

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Activations are converted to the weight type's partner format (what ggml
// calls vec_dot_type) with the same values ggml-cpu computes on x86, but
// stored in layouts of our own that suit the kernels: each block's int8
// quants first, then its scale already widened to float32, then a
// per-block constant the kernels need.
//
//	actQ8_0: per 32 values, 40 bytes: qs[32] int8, d float32 (the F16 scale
//	         widened), corr int32 = -k*sum(qs) with k chosen by the weight
//	         type (see format.corr).
//	actQ8_1: per 32 values, 40 bytes: qs[32], d float32, s float32 (Q8_1's
//	         F16 d*sum(qs) widened).
//	actQ8_K: per 256 values, 320 bytes: qs[256], bsums16[16] int16 (sums of
//	         16 quants), bsums32[8] int16 (sums of 32), d float32, padding.
//	actF32:  float32 values, rounded to F16 or BF16 first when the weights
//	         are F16 or BF16 (ggml rounds the activations to the weights'
//	         type; float32 holds those values exactly).
//	actBF16: raw bfloat16 values, for the AVX512-BF16 kernel.
//	actF16:  raw F16 values, for the decode kernels of F16 weights.
//	actQ8_0L: per 32 values, 72 bytes: qs[32], the eight 4-quant lanes'
//	         corrections -128*sum as int32, d float32, padding: for the
//	         VNNI Q8_0 kernel, which offsets the weights by 128.
type actKind uint8

const (
	actF32 actKind = iota
	actQ8_0
	actQ8_1
	actQ8_K
	actBF16
	actF16
	actQ8_0L
)

const (
	q8BlockBytes  = 40
	q8LBlockBytes = 72
	q8KBlockBytes = 320

	q8KBsums16 = 256
	q8KBsums32 = 288
	q8KD       = 304
)

// actBytes is the size of n activations in layout k.
func actBytes(k actKind, n int) int {
	switch k {
	case actQ8_0, actQ8_1:
		return n / 32 * q8BlockBytes
	case actQ8_K:
		return n / 256 * q8KBlockBytes
	case actQ8_0L:
		return n / 32 * q8LBlockBytes
	case actBF16, actF16:
		return 2 * n
	}
	return 4 * n
}

// round says how actF32 values are rounded before storing.
type rounding uint8

const (
	roundNone rounding = iota
	roundF16
	roundBF16
)

// quantizeAct converts x into dst (actBytes(k, len(x)) bytes) for a weight
// format f.
func quantizeAct(f *format, k actKind, dst []byte, x []float32) {
	v := vecs()
	switch k {
	case actQ8_0:
		if v.quantQ8_0 != nil {
			v.quantQ8_0(dst, x, f.corr)
			return
		}
		for b := 0; b*32 < len(x); b++ {
			o := dst[b*q8BlockBytes : (b+1)*q8BlockBytes]
			d16, sum := quantizeQ8Block(o[:32], x[b*32:b*32+32])
			putF32(o[32:], halfToFloat(d16))
			binary.LittleEndian.PutUint32(o[36:], uint32(-f.corr*sum))
		}
	case actQ8_0L:
		if v.quantQ8_0L != nil {
			v.quantQ8_0L(dst, x)
			return
		}
		for b := 0; b*32 < len(x); b++ {
			o := dst[b*q8LBlockBytes : (b+1)*q8LBlockBytes]
			d16, _ := quantizeQ8Block(o[:32], x[b*32:b*32+32])
			for l := 0; l < 8; l++ {
				var s int32
				for _, q := range o[4*l : 4*l+4] {
					s += int32(int8(q))
				}
				binary.LittleEndian.PutUint32(o[32+4*l:], uint32(-128*s))
			}
			putF32(o[64:], halfToFloat(d16))
			clear(o[68:])
		}
	case actQ8_1:
		if v.quantQ8_1 != nil {
			v.quantQ8_1(dst, x)
			return
		}
		for b := 0; b*32 < len(x); b++ {
			o := dst[b*q8BlockBytes : (b+1)*q8BlockBytes]
			d16, s16 := quantizeQ8_1Block(o[:32], x[b*32:b*32+32])
			putF32(o[32:], halfToFloat(d16))
			putF32(o[36:], halfToFloat(s16))
		}
	case actQ8_K:
		if v.quantQ8_K != nil {
			v.quantQ8_K(dst, x)
			return
		}
		for b := 0; b*256 < len(x); b++ {
			o := dst[b*q8KBlockBytes : (b+1)*q8KBlockBytes]
			var bs [16]int16
			d := quantizeQ8KBlock(o[:256], &bs, x[b*256:b*256+256])
			for j, s := range bs {
				binary.LittleEndian.PutUint16(o[q8KBsums16+2*j:], uint16(s))
			}
			for j := 0; j < 8; j++ {
				binary.LittleEndian.PutUint16(o[q8KBsums32+2*j:], uint16(bs[2*j]+bs[2*j+1]))
			}
			putF32(o[q8KD:], d)
			clear(o[q8KD+4:])
		}
	case actBF16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], floatToBF16(v))
		}
	case actF16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], floatToHalf(v))
		}
	default:
		if f.round == roundF16 && v.roundF16 != nil {
			v.roundF16(dst, x)
			return
		}
		if f.round == roundNone && len(x) > 0 && littleEndian {
			// The values as they are, stored as this machine stores them:
			// one copy, not a conversion per value.
			copy(dst[:4*len(x)], unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)))
			return
		}
		for i, v := range x {
			switch f.round {
			case roundF16:
				v = roundHalf(v)
			case roundBF16:
				v = bf16ToFloat(floatToBF16(v))
			}
			putF32(dst[4*i:], v)
		}
	}
}

// quantizeQ8Block is ggml-cpu's x86 quantize_row_q8_0 for one block: it
// multiplies by 127/amax (not by 1/d as the portable reference does) and
// rounds to nearest even (not half away from zero). It returns the F16
// scale and the sum of the quants.
func quantizeQ8Block(qs []byte, x []float32) (d16 uint16, sum int32) {
	_ = qs[31]
	x = x[:32]
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d16 = floatToHalf(amax / 127)
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	for i, v := range x {
		q := cvtps(v * id)
		qs[i] = byte(q)
		sum += int32(q)
	}
	return d16, sum
}

// quantizeQ8_1Block is ggml-cpu's x86 quantize_row_q8_1 for one block: as
// Q8_0, plus s = F16(d * sum) with d = amax/127 unrounded.
func quantizeQ8_1Block(qs []byte, x []float32) (d16, s16 uint16) {
	var amax float32
	for _, v := range x[:32] {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	d16, sum := quantizeQ8Block(qs, x)
	return d16, floatToHalf(d * float32(sum))
}

// cvtps is _mm256_round_ps(nearest) then _mm256_cvtps_epi32 then the
// saturating packs down to int8. Adding and removing 1.5*2^23 rounds to
// nearest even for the magnitudes that reach here (|v| <= 127 and a bit).
func cvtps(v float32) int8 {
	if !(v >= -128 && v <= 127) { // out of range or NaN (which converts to INT_MIN)
		if v > 0 {
			return 127
		}
		return -128
	}
	return int8((v + 12582912) - 12582912)
}

// quantizeQ8KBlock is ggml's quantize_row_q8_K_ref (which ggml-cpu's x86
// build also runs) for one block; it returns d and fills bsums.
func quantizeQ8KBlock(qs []byte, bsums *[16]int16, x []float32) float32 {
	x = x[:256]
	var mx, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, mx = ax, v
		}
	}
	if amax == 0 {
		clear(qs[:256])
		*bsums = [16]int16{}
		return 0
	}
	iscale := -127 / mx
	for j, v := range x {
		qs[j] = byte(int8(min(127, nearestInt(iscale*v))))
	}
	for j := range bsums {
		var s int16
		for _, q := range qs[16*j : 16*j+16] {
			s += int16(int8(q))
		}
		bsums[j] = s
	}
	return 1 / iscale
}

// nearestInt is ggml's nearest_int: adding 1.5*2^23 leaves the rounded
// value (ties to even) in the low mantissa bits.
func nearestInt(f float32) int32 {
	v := f + 12582912
	i := int32(math.Float32bits(v))
	return (i & 0x007fffff) - 0x00400000
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// littleEndian: float32s in memory are already the activations' layout.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func putF32(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) }

func getF32(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

func getHalf(b []byte) float32 { return halfTable[binary.LittleEndian.Uint16(b)] }

// QuantizeQ8_0 writes x as ggml block_q8_0 blocks (34 bytes per 32 values)
// the way ggml-cpu's x86 build quantizes activations. len(x) must be a
// multiple of 32 and dst at least 34*len(x)/32 bytes.
func QuantizeQ8_0(dst []byte, x []float32) {
	for b := 0; b*32 < len(x); b++ {
		o := dst[b*34 : b*34+34]
		d16, _ := quantizeQ8Block(o[2:], x[b*32:b*32+32])
		binary.LittleEndian.PutUint16(o, d16)
	}
}

// QuantizeQ8_1 writes x as ggml block_q8_1 blocks (36 bytes per 32 values:
// d, s = d*sum(qs), qs) as ggml-cpu's x86 build does.
func QuantizeQ8_1(dst []byte, x []float32) {
	for b := 0; b*32 < len(x); b++ {
		o := dst[b*36 : b*36+36]
		d16, s16 := quantizeQ8_1Block(o[4:], x[b*32:b*32+32])
		binary.LittleEndian.PutUint16(o, d16)
		binary.LittleEndian.PutUint16(o[2:], s16)
	}
}

// QuantizeQ8_K writes x as ggml block_q8_K blocks (292 bytes per 256
// values: float32 d, qs[256], bsums[16] int16).
func QuantizeQ8_K(dst []byte, x []float32) {
	for b := 0; b*256 < len(x); b++ {
		o := dst[b*292 : b*292+292]
		var bs [16]int16
		putF32(o, quantizeQ8KBlock(o[4:260], &bs, x[b*256:b*256+256]))
		for j, s := range bs {
			binary.LittleEndian.PutUint16(o[260+2*j:], uint16(s))
		}
	}
}
