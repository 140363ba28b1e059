package tensor

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
)

// TestGGMLOrderKernelsAreBitExact holds the assembly to the pure-Go order
// exactly: the point of these kernels is to round like llama.cpp, so a
// tolerance would hide the only thing they are for.
func TestGGMLOrderKernelsAreBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	half := func() uint16 { return floatToHalf(float32(r.NormFloat64())) }
	for _, lvl := range Levels() {
		t.Run(lvl, func(t *testing.T) {
			restore, err := SetLevel(lvl)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			for _, n := range []int{1, 8, 63, 64, 65, 128, 200, 256, 1000} {
				a, b := make([]uint16, n), make([]uint16, n)
				for i := range a {
					a[i], b[i] = half(), half()
				}
				if got, want := DotF16(a, b), dotF16Go(a, b); math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("DotF16 n=%d: %v, pure Go %v", n, got, want)
				}
			}
			// F32 and F16 weight rows, multiples of 16 (tinyBLAS's order,
			// the assembly tiles) and not (ggml_vec_dot's, pure Go).
			for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16} {
				for _, cols := range []int{16, 64, 172, 256, 2048} {
					rows, nTok := 9, 5
					m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: make([]byte, rows*typ.RowSize(cols))}
					for i := 0; i < rows*cols; i++ {
						v := float32(r.NormFloat64())
						if typ == gguf.TypeF32 {
							binary.LittleEndian.PutUint32(m.Data[4*i:], math.Float32bits(v))
						} else {
							binary.LittleEndian.PutUint16(m.Data[2*i:], floatToHalf(v))
						}
					}
					x := make([]float32, nTok*cols)
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					out := make([]float32, nTok*rows)
					p := NewPool(2)
					p.MatMul(out, m, x, nTok)
					p.Close()
					for tk := 0; tk < nTok; tk++ {
						a := make([]byte, 4*cols)
						for i, v := range x[tk*cols : (tk+1)*cols] {
							if typ == gguf.TypeF16 {
								v = halfToFloat(floatToHalf(v))
							}
							binary.LittleEndian.PutUint32(a[4*i:], math.Float32bits(v))
						}
						for row := 0; row < rows; row++ {
							w := m.Data[row*typ.RowSize(cols) : (row+1)*typ.RowSize(cols)]
							var want float32
							if typ == gguf.TypeF32 {
								want = dotF32(w, a, cols)
							} else {
								want = dotF16(w, a, cols)
							}
							if got := out[tk*rows+row]; math.Float32bits(got) != math.Float32bits(want) {
								if lvl == "avx2" && cols%16 == 0 {
									continue // AVX2 tiles sum in 8 lanes, as llama.cpp's AVX2 build does
								}
								t.Fatalf("%s %dx%d token %d row %d: %v, ggml order %v", typ, rows, cols, tk, row, got, want)
							}
						}
					}
				}
			}
		})
	}
}

// TestReduceOrder pins the reduction tree with values whose sum depends on
// the order: a different tree gives a different float.
func TestReduceOrder(t *testing.T) {
	var acc [16]float32
	for i := range acc {
		acc[i] = float32(int(1) << (i % 4 * 8))
		if i%2 == 1 {
			acc[i] = -acc[i] + 1e-3
		}
	}
	t8 := [8]float32{}
	for i := range t8 {
		t8[i] = acc[i] + acc[i+8]
	}
	t4 := [4]float32{t8[0] + t8[4], t8[1] + t8[5], t8[2] + t8[6], t8[3] + t8[7]}
	want := (t4[0] + t4[2]) + (t4[1] + t4[3])
	if got := reduce16(&acc); got != want {
		t.Fatalf("reduce16 = %v, want %v", got, want)
	}
}
