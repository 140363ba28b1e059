package tensor

//go:noescape
func swiglu16AVX512(gate, up *float32, n int)

//go:noescape
func swiglu16AVX2(gate, up *float32, n int)

func swiglu16With(kernel func(gate, up *float32, n int)) func(gate, up []float32) {
	return func(gate, up []float32) {
		if len(gate) > 0 {
			kernel(&gate[0], &up[0], len(gate))
		}
	}
}
