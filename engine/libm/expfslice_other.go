//go:build !amd64

package libm

var useVector = false

func expf8AVX512(dst, src *float32, n int, tab *[expN]uint64, consts *[6]float64) bool {
	panic("unreachable")
}
