package tensor

// Vector helpers for attention (the KV cache is F16, as in llama.cpp) and
// other per-row work. Each dispatches to the best implementation for the
// current level; the pure-Go versions below are the reference.

type vecFuncs struct {
	dotF16   func(a, b []uint16) float32
	madF16   func(y, x []uint16, v float32)
	madF32   func(y []float32, x []uint16, v float32)
	scaleF16 func(y []uint16, v float32)
	dotF32   func(a, b []float32) float32
	axpy     func(y, x []float32, a float32)
	scaleF32 func(y []float32, v float32)
	swiglu16 func(gate, up []float32)

	scoresF16  func(out []float32, keys []uint16, stride int, q []uint16)
	madRowsF16 func(acc []uint16, vals []uint16, stride int, ms, vs []float32)
	// madRowsF16Heads4 serves MadRowsF16Heads4; heads4, where set, says
	// for which head sizes it is assembly, for heads apart (reading
	// different value rows) or sharing them.
	madRowsF16Heads4 func(acc []uint16, vals []uint16, stride int, offs [4]int, ms, vs []float32)
	heads4           func(n int, apart bool) bool
	// heads8, where set, says for which head sizes MadRowsF16Heads8 runs
	// madRowsF16Heads8AVX512 (called directly: through a function value
	// its offsets would escape to the heap).
	heads8 func(n int) bool
	// scoresHeads8 says ScoresF16Heads8 runs scoresF16Heads8AVX512 for
	// heads under 64 values, a multiple of 8 (called directly, as above).
	scoresHeads8 bool
	// softmaxMad8 says SoftmaxMadHeads8 runs softmaxMadHeads8AVX512.
	softmaxMad8 bool
	// softmax4 serves SoftmaxFactors4 without a softcap, n > 0; nil
	// where four SoftmaxFactors calls serve.
	softmax4 func(sc []float32, n int, scale float32, ms, vs []float32) [4]float32
	// softmax8 serves SoftmaxFactors8 likewise; nil where two
	// SoftmaxFactors4 calls serve.
	softmax8 func(sc []float32, n int, scale float32, ms, vs []float32) [8]float32

	// Activation conversions (act.go), nil where the Go loops serve.
	quantQ8_0  func(dst []byte, x []float32, k int32)
	quantQ8_1  func(dst []byte, x []float32)
	quantQ8_0L func(dst []byte, x []float32)
	quantQ8_K  func(dst []byte, x []float32)
	roundF16   func(dst []byte, x []float32)
	toHalves   func(dst []uint16, src []float32)
	widenScale func(out []float32, acc []uint16, inv []float32)
	ropePairs  func(x []float32, heads, stride int, cs, sn []float32)
	ropeHalves func(x []float32, heads, stride int, cs, sn []float32)
	scaleMul   func(y, x, w []float32, scale float32)
	argMax     func(x []float32) int
	// rmsSums8 says RMSNorm's sums of squares go eight rows at a time
	// (rmsSums8AVX512, called directly: through a function value the
	// sums would escape to the heap).
	rmsSums8 bool
}

var vecAt = [numLevels]*vecFuncs{levelGo: {
	dotF16: dotF16Go, madF16: madF16Go, madF32: madF32Go, scaleF16: scaleF16Go,
	dotF32: dotF32Go, axpy: axpyGo, scaleF32: scaleF32Go, swiglu16: swiglu16Go,
	scoresF16: scoresWith(dotF16Go), madRowsF16: madRowsWith(scaleF16Go, madF16Go),
	madRowsF16Heads4: madRowsHeads4With(scaleF16Go, madF16Go),
	toHalves:         floatsToHalvesGo,
	widenScale:       widenScaleGo,
	ropePairs:        ropePairsGo,
	ropeHalves:       ropeHalvesGo,
	scaleMul:         scaleMulGo,
	argMax:           argMaxGo,
}}

// FloatsToHalves rounds src to halves in dst (len(dst) >= len(src)), to
// nearest with ties to even, as ggml-cpu converts activations and the F16
// KV cache's entries (F16C's VCVTPS2PH): overflow gives Inf, NaNs stay
// NaN with their payload's top bits.
func FloatsToHalves(dst []uint16, src []float32) {
	vecs().toHalves(dst[:len(src)], src)
}

// WidenScaleHeads sets out[h*n+k] = acc[h*n+k] (a half) * inv[h] for the
// len(inv) heads of n = len(acc)/len(inv) values each: attention's last
// step, a head's F16 sum of values widened and divided by its softmax sum
// (llama.cpp converts VKQ16 to float32, then scales by 1/S).
func WidenScaleHeads(out []float32, acc []uint16, inv []float32) {
	if len(inv) == 0 || len(acc)%len(inv) != 0 || len(out) < len(acc) {
		panic("tensor: WidenScaleHeads arguments do not fit")
	}
	if len(acc) == 0 {
		return
	}
	vecs().widenScale(out, acc, inv)
}

func widenScaleGo(out []float32, acc []uint16, inv []float32) {
	n := len(acc) / len(inv)
	for h, s := range inv {
		for k, a := range acc[h*n : (h+1)*n] {
			out[h*n+k] = halfToFloat(a) * s
		}
	}
}

func floatsToHalvesGo(dst []uint16, src []float32) {
	for i, x := range src {
		dst[i] = floatToHalf(x)
	}
}

func vecs() *vecFuncs {
	for l := currentLevel(); l > levelGo; l-- {
		if v := vecAt[l]; v != nil {
			return v
		}
	}
	return vecAt[levelGo]
}

// DotF16 returns the dot product of two F16 vectors of equal length,
// widening to float32 and accumulating in float32 like ggml_vec_dot_f16.
func DotF16(a, b []uint16) float32 {
	if len(a) != len(b) {
		panic("tensor: DotF16 of vectors of different lengths")
	}
	return vecs().dotF16(a, b)
}

// MadF16 computes y += x*v on F16 vectors (len(x) >= len(y)), each element
// widened, fused multiply-added in float32 and rounded back to F16, like
// ggml_vec_mad_f16.
func MadF16(y, x []uint16, v float32) {
	vecs().madF16(y, x[:len(y)], v)
}

// MadF32 computes y += x*v for a float32 y and an F16 x (len(x) >= len(y)).
func MadF32(y []float32, x []uint16, v float32) {
	vecs().madF32(y, x[:len(y)], v)
}

// ScaleF16 multiplies an F16 vector by v in float32, rounding back to F16
// (ggml_vec_scale_f16).
func ScaleF16(y []uint16, v float32) { vecs().scaleF16(y, v) }

// DotF32 returns the dot product of two float32 vectors of equal length.
func DotF32(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("tensor: DotF32 of vectors of different lengths")
	}
	return vecs().dotF32(a, b)
}

// Axpy computes y += a*x (len(x) >= len(y)).
func Axpy(y, x []float32, a float32) { vecs().axpy(y, x[:len(y)], a) }

// ScaleF32 multiplies y by v.
func ScaleF32(y []float32, v float32) { vecs().scaleF32(y, v) }

func madF16Go(y, x []uint16, v float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = floatToHalf(fma32(halfTable[x[i]], v, halfTable[y[i]]))
	}
}

func madF32Go(y []float32, x []uint16, v float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = fma32(halfTable[x[i]], v, y[i])
	}
}

func scaleF16Go(y []uint16, v float32) {
	for i := range y {
		y[i] = floatToHalf(halfTable[y[i]] * v)
	}
}

func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGo(y, x []float32, a float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = fma32(x[i], a, y[i])
	}
}

func scaleF32Go(y []float32, v float32) {
	for i := range y {
		y[i] *= v
	}
}
