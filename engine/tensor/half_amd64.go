package tensor

//go:noescape
func floatsToHalvesAVX2(dst *uint16, src *float32, n int)

//go:noescape
func widenScaleAVX2(out *float32, acc *uint16, inv *float32, heads, n int)

// widenScaleF16C is WidenScaleHeads with F16C, for heads of a multiple of
// 8 values.
func widenScaleF16C(out []float32, acc []uint16, inv []float32) {
	n := len(acc) / len(inv)
	if n%8 != 0 {
		widenScaleGo(out, acc, inv)
		return
	}
	_ = out[len(acc)-1]
	widenScaleAVX2(&out[0], &acc[0], &inv[0], len(inv), n)
}

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
