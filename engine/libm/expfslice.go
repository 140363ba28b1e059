package libm

// ExpfSlice sets dst[i] = Expf(src[i]) for every i (dst must be at least
// as long as src), bit for bit as Expf, eight at a time with AVX-512 where
// the CPU has it: attention takes one exponential per position, and one
// call per position is most of a small model's softmax.
func ExpfSlice(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	if useVector {
		i = len(src) &^ 7
		if i > 0 && expf8AVX512(&dst[0], &src[0], i, &expTab, &expConsts) {
			// Some input had |x| >= 88, Inf or NaN: the vector path's
			// result for those is not Expf's; redo them.
			for j, x := range src[:i] {
				if abstop12(x) >= top12Of88 {
					dst[j] = Expf(x)
				}
			}
		}
	}
	for ; i < len(src); i++ {
		dst[i] = Expf(src[i])
	}
}

// expConsts are the vector path's constants, in the order expf8AVX512
// loads them.
var expConsts = [...]float64{expShift, expInvLn2N, expC0, expC1, expC2, 1}
