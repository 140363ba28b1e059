package tensor

import (
	"math"

	"github.com/llmsql/llmsql/engine/libm"
)

// Flash attention's online softmax between the scores and the value sums
// (attn.go): one query row and head's scores in position order turned
// into the factors the value sum is scaled by (ms) and the weights of the
// value rows (vs), as llama.cpp's CPU flash attention computes them.

// SoftmaxFactors runs the online softmax over the scores sc of one query
// row and head in position order: position p's factors go to ms[p*step]
// (what the value sum is scaled by first) and vs[p*step] (the weight of
// its value row); it returns the sum of the weights. A nonzero softcap
// caps each scaled score as softcap*tanh(score*scale).
func SoftmaxFactors(sc []float32, scale, softcap float32, ms, vs []float32, step int) float32 {
	var sum, maxS float32 = 0, float32(math.Inf(-1))
	for p := range sc {
		v := sc[p] * scale
		if softcap != 0 {
			v = softcap * libm.Tanhf(v)
		}
		m, e := float32(1), float32(1)
		if v > maxS {
			m = libm.Expf(maxS - v)
			maxS = v
		} else {
			e = libm.Expf(v - maxS)
		}
		ms[p*step], vs[p*step] = m, e
		sum = SoftmaxSum(sum, m, e)
	}
	return sum
}

// SoftmaxFactors4 is SoftmaxFactors for four heads of one query row at
// once: head h's n scores are sc[h*n:(h+1)*n], its factors go to
// ms[4p+h] and vs[4p+h] (the layout MadRowsF16Heads4 reads), and its sum
// to the result's [h]. Each head gets exactly SoftmaxFactors' operations;
// with AVX-512 the four run in the lanes of one vector, the exponentials
// being Expf's operations lane by lane, so a position costs one pass of
// the loop instead of four calls of Expf.
func SoftmaxFactors4(sc []float32, n int, scale, softcap float32, ms, vs []float32) [4]float32 {
	if len(sc) < 4*n || len(ms) < 4*n || len(vs) < 4*n {
		panic("tensor: SoftmaxFactors4 arguments too short")
	}
	if v := vecs(); n > 0 && softcap == 0 && v.softmax4 != nil {
		return v.softmax4(sc, n, scale, ms, vs)
	}
	var sums [4]float32
	for h := range sums {
		sums[h] = SoftmaxFactors(sc[h*n:(h+1)*n], scale, softcap, ms[h:], vs[h:], 4)
	}
	return sums
}

// SoftmaxFactors8 is SoftmaxFactors4 for eight heads of one query row:
// head h's n scores are sc[h*n:(h+1)*n]; the factors of heads 0-3 go to
// ms[:4n] and vs[:4n] as SoftmaxFactors4 lays them out, those of heads 4-7
// to ms[4n:] and vs[4n:] (MadRowsF16Heads8's layout), and head h's sum to
// the result's [h]. With AVX-512 the eight run in the lanes of one vector;
// elsewhere it is two SoftmaxFactors4 calls.
func SoftmaxFactors8(sc []float32, n int, scale, softcap float32, ms, vs []float32) [8]float32 {
	if len(sc) < 8*n || len(ms) < 8*n || len(vs) < 8*n {
		panic("tensor: SoftmaxFactors8 arguments too short")
	}
	if v := vecs(); n > 0 && softcap == 0 && v.softmax8 != nil {
		return v.softmax8(sc, n, scale, ms, vs)
	}
	lo := SoftmaxFactors4(sc[:4*n], n, scale, softcap, ms[:4*n], vs[:4*n])
	hi := SoftmaxFactors4(sc[4*n:8*n], n, scale, softcap, ms[4*n:8*n], vs[4*n:8*n])
	return [8]float32{lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]}
}

// SoftmaxMadHeads8 is SoftmaxFactors8 over sc (n = len(sc)/8 positions)
// followed by MadRowsF16Heads8 over its factors, for eight heads of 8
// values (acc: 64 halves): the same operations, and with AVX-512 one pass
// over the positions that applies each position's factors as it makes
// them (softmaxMadHeads8AVX512). ms and vs (8n each) are the two calls'
// scratch where that kernel does not serve.
func SoftmaxMadHeads8(acc, vals []uint16, stride int, offs [8]int, sc []float32, scale, softcap float32, ms, vs []float32) [8]float32 {
	n := len(sc) / 8
	if len(acc) != 64 || len(sc) != 8*n {
		panic("tensor: SoftmaxMadHeads8 arguments do not fit")
	}
	for _, o := range offs {
		if o < 0 || (n > 0 && len(vals) < o+(n-1)*stride+8) {
			panic("tensor: SoftmaxMadHeads8 value rows too short")
		}
	}
	if v := vecs(); n > 0 && softcap == 0 && v.softmaxMad8 {
		b := byteOffsets8(offs)
		var sums [8]float32
		softmaxMadHeads8AVX512(&acc[0], &vals[0], uintptr(2*stride), &b, &sc[0], uintptr(4*n), n, scale, &sums, libm.ExpfVectorData())
		return sums
	}
	sums := SoftmaxFactors8(sc, n, scale, softcap, ms[:8*n], vs[:8*n])
	MadRowsF16Heads8(acc, vals, stride, offs, ms[:8*n], vs[:8*n])
	return sums
}

// SoftmaxSum is the online softmax's S*ms + vs, which GCC fuses into one
// fma in llama.cpp. Usually the score did not raise the maximum and ms is
// 1: the fused result is then the exact sum rounded once, which is what a
// float32 addition computes, so the add gives the same bits without the
// software fma (a tenth of a small model's attention time).
func SoftmaxSum(s, ms, vs float32) float32 {
	if ms == 1 {
		return s + vs
	}
	return libm.Fmaf(s, ms, vs)
}
