package tensor

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
)

// lengths returns test row lengths for a type: whole and ragged numbers of
// blocks, and for the float types lengths that are not multiples of the
// assembly's vector width.
func lengths(t gguf.GGMLType) []int {
	bs := formats[t].block
	if bs == 1 {
		return []int{1, 3, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 172, 255, 256, 1000, 2048, 4099}
	}
	var ns []int
	for _, nb := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 64, 128} {
		if bs == 256 && nb > 16 {
			continue
		}
		ns = append(ns, nb*bs)
	}
	return ns
}

// q8_1Slack bounds the difference between Q8_1's stored s (F16 of the
// unrounded d times sum(qs)) and the d*sum(qs) implied by the decoded
// activations, weighted by the weight blocks' m.
func q8_1Slack(typ gguf.GGMLType, row []byte, a []byte, n int) float64 {
	if typ != gguf.TypeQ4_1 && typ != gguf.TypeQ5_1 {
		return 0
	}
	bs := typ.TypeSize()
	var slack float64
	for b := 0; b < n/32; b++ {
		m := math.Abs(float64(getHalf(row[b*bs+2:])))
		s := math.Abs(float64(getF32(a[b*q8BlockBytes+36:])))
		slack += m * s * 0x1p-9
	}
	return slack
}

// TestDotAgainstDequant checks every format's dot product at every level
// against a float64 sum over the quant package's dequantized weights and
// the activations the kernel was given.
func TestDotAgainstDequant(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		rng := newRand(1)
		for _, typ := range allTypes {
			for _, n := range lengths(typ) {
				row := randomRow(rng, typ, n, false)
				x := randomAct(rng, n, false)
				v, err := NewVec(typ, x)
				if err != nil {
					t.Fatal(err)
				}
				got := float64(v.Dot(row))
				want, mag := refDot(dequantRow(t, typ, row, n), actValues(v.im.act, v.buf, n))
				tol := 1e-5*mag + q8_1Slack(typ, row, v.buf, n) + 1e-30
				if math.Abs(got-want) > tol {
					t.Errorf("%s n=%d: got %g, want %g (diff %g, tol %g)", typ, n, got, want, got-want, tol)
				}
			}
		}
	})
}

// TestDotQuantizationError checks the whole dot product, activation
// rounding included, against the exact float64 one: the difference must be
// within what rounding the activations to the partner format allows.
func TestDotQuantizationError(t *testing.T) {
	rng := newRand(2)
	for _, typ := range allTypes {
		n := 512
		row := randomRow(rng, typ, n, false)
		x := randomAct(rng, n, false)
		w := dequantRow(t, typ, row, n)
		var want, bound float64
		ab := formats[typ].actBlock()
		for b := 0; b < n; b += max(ab, 32) {
			amax := 0.0
			for _, v := range x[b : b+max(ab, 32)] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			for i := b; i < b+max(ab, 32); i++ {
				want += w[i] * float64(x[i])
				// Q8: half a step of amax/127 (plus F16 rounding of d);
				// F16/BF16: half an ulp of each value.
				var e float64
				switch typ {
				case gguf.TypeF32:
					e = 0
				case gguf.TypeF16:
					e = math.Abs(float64(x[i])) * 0x1p-11
				case gguf.TypeBF16:
					e = math.Abs(float64(x[i])) * 0x1p-8
				default:
					e = amax/127*0.5 + math.Abs(float64(x[i]))*0x1p-10
				}
				bound += math.Abs(w[i]) * e
			}
		}
		v, _ := NewVec(typ, x)
		got := float64(v.Dot(row))
		_, mag := refDot(w, func() []float64 {
			f := make([]float64, n)
			for i := range x {
				f[i] = float64(x[i])
			}
			return f
		}())
		if d := math.Abs(got - want); d > bound+1e-5*mag {
			t.Errorf("%s: got %g, want %g: diff %g exceeds activation rounding bound %g", typ, got, want, d, bound)
		}
	}
}

// TestTilesMatchGo holds each assembly kernel to its pure-Go twin over
// several rows and 1 to 4 tokens: bit-exact when the data make every float
// sum exact, within 1e-5 of the terms' magnitude otherwise.
func TestTilesMatchGo(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		l, _ := parseLevel(lvl)
		if l == levelGo {
			t.Skip("no assembly at level go")
		}
		for _, typ := range allTypes {
			f := formats[typ]
			im := f.implAt(l)
			if im.tiles[0] == nil {
				continue
			}
			for _, exact := range []bool{true, false} {
				rng := newRand(3)
				for _, n := range lengths(typ) {
					n = n / im.chunk * im.chunk
					if n == 0 || (exact && n > 4096) {
						continue
					}
					t.Run(fmt.Sprintf("%s/%d/exact=%v", typ, n, exact), func(t *testing.T) {
						checkTiles(t, rng, typ, f, im, n, exact)
					})
				}
			}
		}
	})
}

func checkTiles(t *testing.T, rng interface {
	Uint32() uint32
	IntN(int) int
	NormFloat64() float64
	Float64() float64
}, typ gguf.GGMLType, f *format, im *impl, n int, exact bool) {
	const rows, toks = 13, 4 // 13: a group of eight rows and a remainder
	r := newRand(uint64(n) + uint64(typ)*1000)
	if exact && f.block == 256 && n > 1024 {
		return // keep K-quant sums within float32's exact range
	}
	rs := typ.RowSize(n)
	w := make([]byte, 0, rows*rs)
	for i := 0; i < rows; i++ {
		w = append(w, randomRow(r, typ, n, exact)...)
	}
	ar := actBytes(im.act, n) + 64 // padded stride, as MatMul's
	act := make([]byte, toks*ar)
	for tok := 0; tok < toks; tok++ {
		quantizeAct(f, im.act, act[tok*ar:tok*ar+actBytes(im.act, n)], randomAct(r, n, exact))
	}
	want := make([]float32, toks*rows)
	mags := make([]float64, toks*rows)
	for tok := 0; tok < toks; tok++ {
		av := actValues(im.act, act[tok*ar:], n)
		for row := 0; row < rows; row++ {
			want[tok*rows+row] = im.dot(w[row*rs:(row+1)*rs], act[tok*ar:], n)
			wv := dequantRow(t, typ, w[row*rs:(row+1)*rs], n)
			_, mags[tok*rows+row] = refDot(wv, av)
		}
	}
	for T := 1; T <= toks; T++ {
		got := make([]float32, toks*rows)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		im.tiles[T-1](unsafe.Pointer(&w[0]), uintptr(rs), rows, n,
			unsafe.Pointer(&act[0]), uintptr(ar), unsafe.Pointer(&got[0]), uintptr(4*rows))
		for tok := 0; tok < toks; tok++ {
			for row := 0; row < rows; row++ {
				i := tok*rows + row
				g, wv := got[i], want[i]
				if tok >= T {
					if !math.IsNaN(float64(g)) {
						t.Fatalf("T=%d wrote token %d", T, tok)
					}
					continue
				}
				if exact {
					if g != wv {
						t.Fatalf("T=%d row %d token %d: asm %g, go %g (exact data)", T, row, tok, g, wv)
					}
				} else if d := math.Abs(float64(g - wv)); d > 1e-5*mags[i]+1e-30 {
					t.Fatalf("T=%d row %d token %d: asm %g, go %g (diff %g, mag %g)", T, row, tok, g, wv, d, mags[i])
				}
			}
		}
	}
}

// TestTilesBitExact: the Q8_0 and F16 kernels follow ggml's order exactly
// (ggml_vec_dot_q8_0_q8_0's, tinyBLAS's; the logits goldens rely on it),
// so every tile (the wide prompt tiles, their leftover rows, the decode
// rows) gives the Go twin's bits on any data, not only where the float
// sums are exact.
func TestTilesBitExact(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		l, _ := parseLevel(lvl)
		for _, typ := range []gguf.GGMLType{gguf.TypeQ8_0, gguf.TypeF16} {
			f := formats[typ]
			for _, im := range []*impl{f.implAt(l), f.decodeAt(l)} {
				if im.tiles[0] == nil || typ == gguf.TypeF16 && l == levelAVX2 {
					// (AVX2's F16 prompt tiles sum in eight lanes, not
					// tinyBLAS's sixteen: close to it, not its bits.)
					continue
				}
				for _, n := range []int{64, 96, 2048} {
					n = n / im.chunk * im.chunk // MatMul adds the rest in Go
					const rows, toks = 23, 4
					rng := newRand(uint64(n))
					rs := typ.RowSize(n)
					var w []byte
					for i := 0; i < rows; i++ {
						w = append(w, randomRow(rng, typ, n, false)...)
					}
					ar := actBytes(im.act, n) + 64
					act := make([]byte, toks*ar)
					for tok := 0; tok < toks; tok++ {
						quantizeAct(f, im.act, act[tok*ar:tok*ar+actBytes(im.act, n)], randomAct(rng, n, false))
					}
					for T := 1; T <= toks; T++ {
						got := make([]float32, toks*rows)
						im.tiles[T-1](unsafe.Pointer(&w[0]), uintptr(rs), rows, n,
							unsafe.Pointer(&act[0]), uintptr(ar), unsafe.Pointer(&got[0]), uintptr(4*rows))
						for tok := 0; tok < T; tok++ {
							for r := 0; r < rows; r++ {
								want := im.dot(w[r*rs:(r+1)*rs], act[tok*ar:], n)
								if g := got[tok*rows+r]; math.Float32bits(g) != math.Float32bits(want) {
									t.Fatalf("%s n=%d T=%d row %d token %d: asm %g, go %g", typ, n, T, r, tok, g, want)
								}
							}
						}
					}
				}
			}
		}
	})
}
