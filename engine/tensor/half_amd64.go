package tensor

//go:noescape
func floatsToHalvesAVX2(dst *uint16, src *float32, n int)

// floatsToHalvesF16C is FloatsToHalves with F16C, eight values at a time.
func floatsToHalvesF16C(dst []uint16, src []float32) {
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		floatsToHalvesAVX2(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = floatToHalf(src[i])
	}
}
