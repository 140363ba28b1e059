package tensor

import "github.com/llmsql/llmsql/engine/libm"

// RoPE rotates pairs of a head's values by the angles whose cosines and
// sines are cs and sn, as ggml computes x0*cos - x1*sin and x0*sin +
// x1*cos: GCC fuses the first product into the add, so each result is
// fma(x0, cos, -(x1*sin)) or fma(x0, sin, x1*cos), the second product
// rounded. The vector kernels perform those operations lane by lane.

// RopePairs rotates the pairs (2j, 2j+1), j < len(cs), of each of heads
// heads of x, stride values apart (llama's layout).
func RopePairs(x []float32, heads, stride int, cs, sn []float32) {
	if heads <= 0 || len(cs) == 0 {
		return
	}
	_ = x[(heads-1)*stride+2*len(cs)-1]
	_ = sn[len(cs)-1]
	vecs().ropePairs(x, heads, stride, cs, sn)
}

// RopeHalves rotates the pairs (j, j+len(cs)) of each of heads heads of
// x, stride values apart (NeoX's layout).
func RopeHalves(x []float32, heads, stride int, cs, sn []float32) {
	if heads <= 0 || len(cs) == 0 {
		return
	}
	_ = x[(heads-1)*stride+2*len(cs)-1]
	_ = sn[len(cs)-1]
	vecs().ropeHalves(x, heads, stride, cs, sn)
}

func ropePairsGo(x []float32, heads, stride int, cs, sn []float32) {
	for h := 0; h < heads; h++ {
		v := x[h*stride:]
		for j := range cs {
			x0, x1 := v[2*j], v[2*j+1]
			v[2*j] = libm.Fmaf(x0, cs[j], -(x1 * sn[j]))
			v[2*j+1] = libm.Fmaf(x0, sn[j], x1*cs[j])
		}
	}
}

func ropeHalvesGo(x []float32, heads, stride int, cs, sn []float32) {
	half := len(cs)
	for h := 0; h < heads; h++ {
		v := x[h*stride:]
		for j := range cs {
			x0, x1 := v[j], v[j+half]
			v[j] = libm.Fmaf(x0, cs[j], -(x1 * sn[j]))
			v[j+half] = libm.Fmaf(x0, sn[j], x1*cs[j])
		}
	}
}
