package tensor

//go:noescape
func dotF16x64AVX512(a, b *uint16, n int) float32

//go:noescape
func dotF16x64AVX2(a, b *uint16, n int) float32
