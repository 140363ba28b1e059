package main



// The float formats: weights widened to float32 and fused-multiply-added
// with float32 activations (already rounded to the weights' precision).
// Each token has two accumulators, even and odd vectors, for every T.

type floatKind int

const (
	kF32 floatKind = iota
	kF16
	kBF16
)

var floatBytes = [...]int{kF32: 4, kF16: 2, kBF16: 2}

// floatAVX2: 16 elements per step in Y0/Y1; accumulators Y8..Y15.
func floatAVX2(name string, kind floatKind) *kernel {
	return &kernel{
		name: name, wStep: 16 * floatBytes[kind], aStep: 64, nShift: 4,
		accs: func(t int) []int { return []int{8 + 2*t, 9 + 2*t} },
		step: func(g *gen, T, steps int) {
			for v := 0; v < 2; v++ {
				off := 8 * v * floatBytes[kind]
				switch kind {
				case kF32:
					g.i("VMOVUPS %d(R8), %s", off, y(v))
				case kF16:
					g.i("VCVTPH2PS %d(R8), %s", off, y(v))
				case kBF16:
					g.i("VPMOVZXWD %d(R8), %s", off, y(v))
					g.i("VPSLLD $16, %s, %s", y(v), y(v))
				}
			}
			for t := 0; t < T; t++ {
				g.i("VFMADD231PS %s, Y0, %s", act(t, 0), y(8+2*t))
				g.i("VFMADD231PS %s, Y1, %s", act(t, 32), y(9+2*t))
			}
		},
	}
}

// floatAVX512: 32 elements per step in Z0/Z1; accumulators Z8..Z15.
func floatAVX512(name string, kind floatKind) *kernel {
	if kind == kBF16 {
		panic("bf16 has its own AVX-512 kernel")
	}
	return &kernel{
		name: name, wStep: 32 * floatBytes[kind], aStep: 128, nShift: 5, zmm: true,
		accs: func(t int) []int { return []int{8 + 2*t, 9 + 2*t} },
		step: func(g *gen, T, steps int) {
			for v := 0; v < 2; v++ {
				off := 16 * v * floatBytes[kind]
				switch kind {
				case kF32:
					g.i("VMOVUPS %d(R8), %s", off, z(v))
				case kF16:
					g.i("VCVTPH2PS %d(R8), %s", off, z(v))
				}
			}
			for t := 0; t < T; t++ {
				g.i("VFMADD231PS %s, Z0, %s", act(t, 0), z(8+2*t))
				g.i("VFMADD231PS %s, Z1, %s", act(t, 64), z(9+2*t))
			}
		},
	}
}

