package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAttentionLoops holds the batched attention loops to the
// one-position-at-a-time pure-Go operations, bit for bit, at every level.
func TestAttentionLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	half := func() uint16 { return floatToHalf(float32(r.NormFloat64())) }
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{8, 16, 24, 32, 40, 56, 64, 72, 128} {
			const np = 37
			stride := 4*n + 8 // heads of a cache row, with room to spare
			keys, vals := make([]uint16, np*stride), make([]uint16, np*stride)
			for i := range keys {
				keys[i], vals[i] = half(), half()
			}
			q := make([]uint16, n)
			for i := range q {
				q[i] = half()
			}
			got := make([]float32, np)
			ScoresF16(got, keys[n:], stride, q)
			for p := range got {
				if want := dotF16Go(keys[n+p*stride:][:n], q); math.Float32bits(got[p]) != math.Float32bits(want) {
					t.Fatalf("n %d: score %d = %v, want %v", n, p, got[p], want)
				}
			}
			ms, vs := make([]float32, np), make([]float32, np)
			for p := range vs {
				ms[p], vs[p] = 1, float32(r.Float64())
				switch p % 5 {
				case 0:
					ms[p], vs[p] = float32(r.Float64()), 1
				case 3:
					ms[p] = 0 // a first position
				}
			}
			ms[7] = float32(math.NaN())
			acc, want := make([]uint16, n), make([]uint16, n)
			for i := range acc {
				acc[i] = half()
			}
			copy(want, acc)
			MadRowsF16(acc, vals[2*n:], stride, ms, vs)
			for p := range vs {
				if ms[p] != 1 {
					scaleF16Go(want, ms[p])
				}
				madF16Go(want, vals[2*n+p*stride:][:n], vs[p])
			}
			for i := range acc {
				if acc[i] != want[i] && !(halfToFloat(acc[i]) != halfToFloat(acc[i]) && halfToFloat(want[i]) != halfToFloat(want[i])) {
					t.Fatalf("n %d: acc[%d] = %#x, want %#x", n, i, acc[i], want[i])
				}
			}
		}
	})
}

// TestMadRowsHeads4 holds the four-head value sums to four one-head
// MadRowsF16 calls, bit for bit, at every level: heads sharing their value
// rows and heads reading different ones, small heads and large.
func TestMadRowsHeads4(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	half := func() uint16 { return floatToHalf(float32(r.NormFloat64())) }
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{8, 16, 24, 32, 56, 64, 128, 192} {
			for _, np := range []int{1, 2, 37} {
				for _, offs := range [][4]int{{n, n, n, n}, {0, n, 2 * n, 2*n + 8}, {2 * n, 0, 0, n}} {
					stride := 3*n + 8
					vals := make([]uint16, np*stride)
					for i := range vals {
						vals[i] = half()
					}
					ms, vs := make([]float32, 4*np), make([]float32, 4*np)
					for i := range vs {
						ms[i], vs[i] = 1, float32(r.Float64())
						switch r.IntN(5) {
						case 0:
							ms[i], vs[i] = float32(r.Float64()), 1
						case 1:
							ms[i] = 0
						}
					}
					acc := make([]uint16, 4*n)
					for i := range acc {
						acc[i] = half()
					}
					want := append([]uint16(nil), acc...)
					MadRowsF16Heads4(acc, vals, stride, offs, ms, vs)
					for h := 0; h < 4; h++ {
						hm, hv := make([]float32, np), make([]float32, np)
						for p := range hv {
							hm[p], hv[p] = ms[4*p+h], vs[4*p+h]
						}
						vecAt[levelGo].madRowsF16(want[h*n:(h+1)*n], vals[offs[h]:], stride, hm, hv)
					}
					for i := range acc {
						if acc[i] != want[i] {
							heads, apart := HeadsTogether(n)
							t.Fatalf("n %d np %d offsets %v: head %d acc[%d] = %#x, want %#x (HeadsTogether %d, %v)", n, np, offs, i/n, i%n, acc[i], want[i], heads, apart)
						}
					}
				}
			}
		}
	})
}
