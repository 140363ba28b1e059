package quant

// The scale searches of the K-quants (ggml-quants.c: make_qx_quants,
// make_q3_quants, make_qkx2_quants). Each tries a set of candidate scales
// and keeps the one minimising a weighted error. The float32 operations and
// their order are ggml's; products feeding sums are rounded explicitly so
// that Go never fuses them.

// groupMaxEps is GROUP_MAX_EPS: a group whose largest |x| is below it is
// treated as all zero.
const groupMaxEps = 1e-15

// makeQxQuants is make_qx_quants with rmse_type 1 and no quant weights (the
// weight of x[i] is x[i]^2), the only form the reference quantizers use. It
// fills L with values in [0, 2*nmax) and returns the scale (negative when
// the largest magnitude is positive, as in ggml).
func makeQxQuants(nmax int32, x []float32, L []int8) float32 {
	var max, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, max = ax, v
		}
	}
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	fnmax := float32(nmax)
	iscale := -fnmax / max
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampI(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := v * v
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fnmax + float32(0.1*float32(is))) / max
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := clampI(nearestInt(iscale*v), -nmax, nmax-1)
			w := v * v
			fl := float32(l)
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(nmax + clampI(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is make_q3_quants with do_rmse set (the Q3_K reference):
// start from the plain rounding, then move single values while that lowers
// the x^2-weighted error, for at most five passes.
func makeQ3Quants(nmax int32, x []float32, L []int8) float32 {
	var max, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, max = ax, v
		}
	}
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	iscale := -float32(nmax) / max
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampI(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w := v * v
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i, v := range x {
			w := v * v
			li := float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*li)*li)
				newL := clampI(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
				if newL != int32(L[i]) {
					fn := float32(newL)
					slx += float32(float32(w*v) * fn)
					sl2 += float32(float32(w*fn) * fn)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(newL)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range x {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQkx2Quants is make_qkx2_quants: an asymmetric (scale, min) fit of x
// to levels [0, nmax] under the given weights, trying nstep+1 scales around
// nmax/(max-min). It fills L and returns the scale and the negated min
// (ggml's *the_min). laux is scratch of len(x).
func makeQkx2Quants(nmax int32, x, weights []float32, L, laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < len(x); i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := range x {
			L[i] = 0
		}
		return 0, -mn
	}
	fnmax := float32(nmax)
	iscale := fnmax / (mx - mn)
	scale = 1 / iscale
	for i, v := range x {
		L[i] = uint8(clampI(nearestInt(iscale*(v-mn)), 0, nmax))
	}
	bestError := qkx2Error(x, weights, L, scale, mn, useMad)
	if nstep < 1 {
		return scale, -mn
	}
	for is := 0; is <= nstep; is++ {
		iscale = float32(float32(rmin+float32(rdelta*float32(is)))+fnmax) / (mx - mn)
		sumL, sumL2, sumXL := qkx2Levels(x, weights, laux, iscale, mn, nmax)
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			curError := qkx2Error(x, weights, laux, thisScale, thisMin, useMad)
			if curError < bestError {
				copy(L[:len(x)], laux[:len(x)])
				bestError = curError
				scale = thisScale
				mn = thisMin
			}
		}
	}
	return scale, -mn
}

// qkx2Levels rounds x to levels for one candidate scale and returns the
// weighted sums of the fit. A separate function so that its few values stay
// in registers.
func qkx2Levels(x, w []float32, L []uint8, iscale, mn float32, nmax int32) (sumL, sumL2, sumXL float32) {
	w, L = w[:len(x)], L[:len(x)]
	for i, v := range x {
		l := clampI(nearestInt(iscale*(v-mn)), 0, nmax)
		L[i] = uint8(l)
		fl := float32(l)
		wl := float32(w[i] * fl)
		sumL += wl
		sumL2 += float32(wl * fl)
		sumXL += float32(wl * v)
	}
	return
}

// qkx2Error is the weighted error of levels L under (scale, min).
func qkx2Error(x, w []float32, L []uint8, scale, min float32, useMad bool) float32 {
	w, L = w[:len(x)], L[:len(x)]
	var e float32
	if useMad {
		for i, v := range x {
			d := float32(float32(scale*float32(L[i]))+min) - v
			e += float32(w[i] * abs32(d))
		}
		return e
	}
	for i, v := range x {
		d := float32(float32(scale*float32(L[i]))+min) - v
		e += float32(w[i] * float32(d*d))
	}
	return e
}

// getScaleMinK4 unpacks sub-block j's 6-bit scale and min from the 12-byte
// scales field of Q4_K and Q5_K.
func getScaleMinK4(j int, q []byte) (d, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xF | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}
