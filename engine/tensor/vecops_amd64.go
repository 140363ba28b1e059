package tensor

import "unsafe"

// The AVX2 vector helpers cover whole vectors of 16 (dots) or 8 elements;
// the pure-Go versions finish the tail.

// registerVecAMD64 installs the vector helpers of the levels registerAMD64
// found (it runs after it: see registerArch).
func registerVecAMD64() {
	vecAt[levelAVX2] = &vecFuncs{
		dotF16: func(a, b []uint16) float32 { return dotF16Split(a, b, dotF16x64AVX2) },
		dotF32: func(a, b []float32) float32 {
			n := len(a) &^ 15
			var s float32
			if n > 0 {
				s = dotF32AVX2(&a[0], &b[0], n)
			}
			if n < len(a) {
				s += dotF32Go(a[n:], b[n:])
			}
			return s
		},
		madF16: func(y, x []uint16, v float32) {
			n := len(y) &^ 7
			if n > 0 {
				madF16AVX2(&y[0], &x[0], n, v)
			}
			madF16Go(y[n:], x[n:], v)
		},
		madF32: func(y []float32, x []uint16, v float32) {
			n := len(y) &^ 7
			if n > 0 {
				madF32AVX2(&y[0], &x[0], n, v)
			}
			madF32Go(y[n:], x[n:], v)
		},
		scaleF16: func(y []uint16, v float32) {
			n := len(y) &^ 7
			if n > 0 {
				scaleF16AVX2(&y[0], n, v)
			}
			scaleF16Go(y[n:], v)
		},
		axpy: func(y, x []float32, a float32) {
			n := len(y) &^ 7
			if n > 0 {
				axpyAVX2(&y[0], &x[0], n, a)
			}
			axpyGo(y[n:], x[n:], a)
		},
		scaleF32: func(y []float32, v float32) {
			n := len(y) &^ 7
			if n > 0 {
				scaleF32AVX2(&y[0], n, v)
			}
			scaleF32Go(y[n:], v)
		},
		quantQ8_0: func(dst []byte, x []float32, k int32) {
			if nb := len(x) / 32; nb > 0 {
				_ = dst[nb*q8BlockBytes-1]
				quantQ8_0AVX2(&dst[0], &x[0], nb, k)
			}
		},
		quantQ8_1: func(dst []byte, x []float32) {
			if nb := len(x) / 32; nb > 0 {
				_ = dst[nb*q8BlockBytes-1]
				quantQ8_1AVX2(&dst[0], &x[0], nb)
			}
		},
		quantQ8_K: func(dst []byte, x []float32) {
			if nb := len(x) / 256; nb > 0 {
				_ = dst[nb*q8KBlockBytes-1]
				quantQ8_KAVX2(&dst[0], &x[0], nb)
			}
		},
		swiglu16:   swiglu16With(swiglu16AVX2),
		toHalves:   floatsToHalvesF16C,
		widenScale: widenScaleF16C,
		ropePairs:  ropePairsVec,
		ropeHalves: ropeHalvesVec,
		scaleMul:   scaleMulVec,
		argMax:     argMaxVec,
		roundF16: func(dst []byte, x []float32) {
			n := len(x) &^ 7
			_ = dst[4*len(x)-1]
			if n > 0 {
				roundF16AVX2((*float32)(unsafe.Pointer(&dst[0])), &x[0], n)
			}
			for i := n; i < len(x); i++ {
				putF32(dst[4*i:], roundHalf(x[i]))
			}
		},
	}
	a2 := vecAt[levelAVX2]
	a2.scoresF16, a2.madRowsF16 = scoresWith(a2.dotF16), madRowsWith(a2.scaleF16, a2.madF16)
	a2.madRowsF16Heads4 = madRowsHeads4With(a2.scaleF16, a2.madF16)
	attnAVX2(a2)
	if cpuLevel >= levelAVX512 {
		v := *vecAt[levelAVX2]
		v.dotF16 = func(a, b []uint16) float32 { return dotF16Split(a, b, dotF16x64AVX512) }
		v.swiglu16 = swiglu16With(swiglu16AVX512)
		attnAVX512(&v)
		v.rmsSums8 = true
		v.quantQ8_0L = func(dst []byte, x []float32) {
			if nb := len(x) / 32; nb > 0 {
				_ = dst[nb*q8LBlockBytes-1]
				quantQ8_0LVNNI(&dst[0], &x[0], nb)
			}
		}
		vecAt[levelAVX512] = &v
	}
}
