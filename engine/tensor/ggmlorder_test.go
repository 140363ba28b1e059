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
					m := randomFloatMatrix(r, typ, rows, cols)
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

// TestDecodeFollowsVecDot holds the decode kernels of float weights to
// ggml_vec_dot's order bit for bit at every level: that is llama.cpp's
// path for a single token (F16 activations rounded to F16 first).
func TestDecodeFollowsVecDot(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		r := rand.New(rand.NewPCG(5, 6))
		p := NewPool(2)
		defer p.Close()
		for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16} {
			for _, cols := range []int{7, 8, 63, 64, 69, 172, 2048} {
				const rows, nTok = 13, 3 // chunks of 8 and 5 rows: F32 takes four at a time, then one
				m := randomFloatMatrix(r, typ, rows, cols)
				x := make([]float32, nTok*cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				out := make([]float32, nTok*rows)
				p.MatMulMixed(out, m, x, nTok, nTok)
				for tk := 0; tk < nTok; tk++ {
					xs := x[tk*cols : (tk+1)*cols]
					for row := 0; row < rows; row++ {
						w := m.Row(row)
						var want float32
						if typ == gguf.TypeF16 {
							a := make([]uint16, cols)
							for i, v := range xs {
								a[i] = floatToHalf(v)
							}
							want = dotF16Go(halves(w, cols), a)
							wide := make([]byte, 4*cols)
							for i, h := range a {
								putF32(wide[4*i:], halfToFloat(h))
							}
							if got := dotF16DecodeF32(w, wide, cols); math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("F16 cols %d row %d: dotF16DecodeF32 %v, ggml_vec_dot order %v", cols, row, got, want)
							}
						} else {
							want = vecDotF32(cols, func(i int) float32 { return getF32(w[4*i:]) }, func(i int) float32 { return xs[i] })
						}
						if got := out[tk*rows+row]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("%s cols %d token %d row %d: %v, ggml_vec_dot order %v", typ, cols, tk, row, got, want)
						}
					}
				}
			}
		}
	})
}

// TestQ8_0FollowsGGMLOrder holds every Q8_0 kernel, prompt and decode, to
// ggml's x86 arithmetic bit for bit (dotQ8_0: eight lanes per block, a
// fused multiply-add per block, hsum_float_8), written out here once more
// from the activations' quantized values.
func TestQ8_0FollowsGGMLOrder(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		r := rand.New(rand.NewPCG(7, 8))
		p := NewPool(2)
		defer p.Close()
		const rows, cols, nTok = 13, 1024, 5
		f := make([]float32, rows*cols)
		for i := range f {
			f[i] = float32(r.NormFloat64() * 0.02)
		}
		m := Matrix{Type: gguf.TypeQ8_0, Rows: rows, Cols: cols, Data: make([]byte, rows*gguf.TypeQ8_0.RowSize(cols))}
		QuantizeQ8_0(m.Data, f)
		x := make([]float32, nTok*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, nd := range []int{0, 2, nTok} {
			out := make([]float32, nTok*rows)
			p.MatMulMixed(out, m, x, nTok, nd)
			for tk := 0; tk < nTok; tk++ {
				var qs [cols]int8
				var ds [cols / 32]float32
				for b := range ds {
					var blk [32]byte
					d16, _ := quantizeQ8Block(blk[:], x[tk*cols+32*b:tk*cols+32*b+32])
					ds[b] = halfToFloat(d16)
					for j, q := range blk {
						qs[32*b+j] = int8(q)
					}
				}
				for row := 0; row < rows; row++ {
					w := m.Row(row)
					var acc [8]float32
					for b := range ds {
						d := halfToFloat(binary.LittleEndian.Uint16(w[34*b:])) * ds[b]
						for l := range acc {
							var s int32
							for j := 4 * l; j < 4*l+4; j++ {
								s += int32(int8(w[34*b+2+j])) * int32(qs[32*b+j])
							}
							acc[l] = float32(math.FMA(float64(d), float64(s), float64(acc[l])))
						}
					}
					h := [4]float32{acc[4] + acc[0], acc[5] + acc[1], acc[6] + acc[2], acc[7] + acc[3]}
					want := (h[0] + h[2]) + (h[1] + h[3])
					if got := out[tk*rows+row]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%d decode tokens: token %d row %d: %v, ggml %v", nd, tk, row, got, want)
					}
				}
			}
		}
	})
}

func randomFloatMatrix(r *rand.Rand, typ gguf.GGMLType, rows, cols int) Matrix {
	m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: make([]byte, rows*typ.RowSize(cols))}
	for i := 0; i < rows*cols; i++ {
		v := float32(r.NormFloat64())
		if typ == gguf.TypeF32 {
			binary.LittleEndian.PutUint32(m.Data[4*i:], math.Float32bits(v))
		} else {
			binary.LittleEndian.PutUint16(m.Data[2*i:], floatToHalf(v))
		}
	}
	return m
}
