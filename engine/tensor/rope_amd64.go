package tensor

//go:noescape
func ropePairsAVX2(x *float32, heads, stride, half int, cs, sn *float32)

//go:noescape
func ropeHalvesAVX2(x *float32, heads, stride, half int, cs, sn *float32)

// ropePairsVec runs ropePairsAVX2 on the pairs in whole vectors of four
// and ropePairsGo on the rest.
func ropePairsVec(x []float32, heads, stride int, cs, sn []float32) {
	n := len(cs) &^ 3
	if heads > 0 && n > 0 {
		ropePairsAVX2(&x[0], heads, stride, n, &cs[0], &sn[0])
	}
	if n < len(cs) && heads > 0 {
		ropePairsGo(x[2*n:], heads, stride, cs[n:], sn[n:])
	}
}

// ropeHalvesVec is ropeHalvesAVX2 where the half is a whole number of
// vectors of eight, ropeHalvesGo otherwise.
func ropeHalvesVec(x []float32, heads, stride int, cs, sn []float32) {
	if heads > 0 && len(cs) > 0 && len(cs)%8 == 0 {
		ropeHalvesAVX2(&x[0], heads, stride, len(cs), &cs[0], &sn[0])
		return
	}
	ropeHalvesGo(x, heads, stride, cs, sn)
}
