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
		for c, n := range []int{8, 16, 24, 32, 40, 56, 64, 72, 128, 8, 16} {
			np := []int{37, 8, 3, 64}[c%4]
			stride := 4*n + 8 // heads of a cache row, with room to spare
			keys, vals := make([]uint16, np*stride), make([]uint16, np*stride)
			for i := range keys {
				keys[i], vals[i] = half(), half()
				if c%2 == 1 {
					// Magnitudes far apart, so that the float64 sums
					// round and their order shows.
					keys[i] = floatToHalf(float32(r.NormFloat64() * math.Ldexp(1, r.IntN(30)-14)))
				}
			}
			q := make([]uint16, n)
			for i := range q {
				q[i] = half()
				if c%2 == 1 {
					q[i] = floatToHalf(float32(r.NormFloat64() * math.Ldexp(1, r.IntN(30)-14)))
				}
			}
			got := make([]float32, np)
			ScoresF16(got, keys[n:], stride, q)
			for p := range got {
				if want := dotF16Go(keys[n+p*stride:][:n], q); math.Float32bits(got[p]) != math.Float32bits(want) {
					t.Fatalf("n %d np %d: score %d = %v, want %v", n, np, p, got[p], want)
				}
			}
			// Again with the keys running on past the positions, as a KV
			// cache's do (rows of NaNs and infinities here), where a last
			// partial eight goes whole through the kernel: the same
			// scores, and nothing written past them.
			roomy := make([]uint16, (np+8)*stride)
			copy(roomy, keys)
			for i := np * stride; i < len(roomy); i++ {
				roomy[i] = []uint16{0x7e01, 0x7c00, 0xfc00, half()}[i%4]
			}
			got2 := make([]float32, np+8)
			for i := range got2 {
				got2[i] = -12345
			}
			ScoresF16(got2[:np], roomy[n:np*stride], stride, q)
			for p := range got2 {
				want := float32(-12345)
				if p < np {
					want = got[p]
				}
				if math.Float32bits(got2[p]) != math.Float32bits(want) {
					t.Fatalf("n %d np %d, keys with room: score %d = %v, want %v", n, np, p, got2[p], want)
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
			ms[7%np] = float32(math.NaN())
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

// TestMadRowsHeads8 holds the eight-head value sums to eight one-head
// pure-Go MadRowsF16 calls, bit for bit, at every level: heads sharing
// value rows in twos, in fours and all apart, sizes the assembly takes
// and sizes it leaves to MadRowsF16Heads4, factors that scale some heads
// and not others (and NaN).
func TestMadRowsHeads8(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	half := func() uint16 { return floatToHalf(float32(r.NormFloat64())) }
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{8, 16, 24, 48, 56, 64, 128} {
			for _, np := range []int{1, 2, 9, 37} {
				for _, offs := range [][8]int{
					{0, 0, n, n, 2 * n, 2 * n, 3 * n, 3 * n},
					{n, n, n, n, 0, 0, 0, 0},
					{3 * n, 0, 2 * n, n, 8, 2*n + 8, 0, 3*n - 8},
				} {
					stride := 4*n + 8
					vals := make([]uint16, np*stride)
					for i := range vals {
						vals[i] = half()
					}
					ms, vs := make([]float32, 8*np), make([]float32, 8*np)
					for i := range vs {
						ms[i], vs[i] = 1, float32(r.Float64())
						switch r.IntN(6) {
						case 0:
							ms[i], vs[i] = float32(r.Float64()), 1
						case 1:
							ms[i] = 0
						case 2:
							if r.IntN(8) == 0 {
								ms[i] = float32(math.NaN())
							}
						}
					}
					acc := make([]uint16, 8*n)
					for i := range acc {
						acc[i] = half()
					}
					want := append([]uint16(nil), acc...)
					MadRowsF16Heads8(acc, vals, stride, offs, ms, vs)
					for h := 0; h < 8; h++ {
						base := h / 4 * 4 * np
						hm, hv := make([]float32, np), make([]float32, np)
						for p := range hv {
							hm[p], hv[p] = ms[base+4*p+h%4], vs[base+4*p+h%4]
						}
						vecAt[levelGo].madRowsF16(want[h*n:(h+1)*n], vals[offs[h]:], stride, hm, hv)
					}
					for i := range acc {
						if acc[i] != want[i] && !(halfToFloat(acc[i]) != halfToFloat(acc[i]) && halfToFloat(want[i]) != halfToFloat(want[i])) {
							t.Fatalf("n %d np %d offsets %v: head %d acc[%d] = %#x, want %#x (Heads8 %v)", n, np, offs, i/n, i%n, acc[i], want[i], Heads8(n))
						}
					}
				}
			}
		}
	})
}

// TestScoresF16Heads8 holds the eight-head scores to ggml's dot product
// one head and position at a time (dotF16Go), bit for bit, at every
// level: heads sharing KV heads in twos, fours and eights and all apart,
// sizes the kernel takes and sizes it leaves to ScoresF16, positions in
// whole eights and not, with the keys running on past the positions (rows
// of NaNs and infinities) and without.
func TestScoresF16Heads8(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	half := func(wide bool) uint16 {
		if wide {
			return floatToHalf(float32(r.NormFloat64() * math.Ldexp(1, r.IntN(30)-14)))
		}
		return floatToHalf(float32(r.NormFloat64()))
	}
	forLevels(t, func(t *testing.T, lvl string) {
		for c, n := range []int{8, 16, 24, 48, 56, 64, 72} {
			for _, np := range []int{1, 7, 8, 9, 37} {
				for oi, offs := range [][8]int{
					{0, 0, n, n, 2 * n, 2 * n, 3 * n, 3 * n},
					{n, n, n, n, 0, 0, 0, 0},
					{2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n},
					{3 * n, 0, 2 * n, n, 8, 2*n + 8, 0, 3*n - 8},
				} {
					for _, room := range []bool{false, true} {
						stride := 4*n + 8
						rows := np
						if room {
							rows += 8
						}
						keys := make([]uint16, rows*stride)
						for i := range keys {
							keys[i] = half((c+oi)%2 == 1)
							if i >= np*stride {
								keys[i] = []uint16{0x7e01, 0x7c00, 0xfc00, keys[i]}[i%4]
							}
						}
						q := make([]uint16, 8*n)
						for i := range q {
							q[i] = half((c+oi)%2 == 1)
						}
						out := make([]float32, 8*np+8)
						for i := range out {
							out[i] = -12345
						}
						ScoresF16Heads8(out[:8*np], keys[:np*stride], stride, offs, q)
						for i, got := range out {
							want := float32(-12345)
							if h, p := i/np, i%np; i < 8*np {
								want = dotF16Go(keys[offs[h]+p*stride:][:n], q[h*n:(h+1)*n])
							}
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("n %d np %d offsets %v room %v: out[%d] = %v, want %v", n, np, offs, room, i, got, want)
							}
						}
					}
				}
			}
		}
	})
}

// TestScoresF16Order: ggml adds a short row's products in order into a
// float64 sum, and rows are built here where any other order gives a
// different score: a product of 2^30, one of 2^-48 (lost against it) and
// then -2^30 sum to 0 in order, to 2^-48 with the last two swapped.
// Random rows rarely show the order, since exact products seldom round.
func TestScoresF16Order(t *testing.T) {
	const big, tiny = 0x7800, 0x0001 // F16 2^15 and 2^-24
	neg := func(h uint16) uint16 { return h | 0x8000 }
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{8, 16, 24} {
			q := make([]uint16, n)
			for i := range q {
				q[i] = big
				if i%3 == 1 {
					q[i] = tiny
				}
			}
			const np = 21
			keys := make([]uint16, np*n)
			for p := 0; p < np; p++ {
				row := keys[p*n : (p+1)*n]
				// A big product, the tiny one after it, and the big one
				// negated after that, at an offset varying by row.
				at := 3 * (p % (n / 3))
				row[at], row[at+1], row[at+2] = big, tiny, neg(big)
				if p%2 == 1 {
					row[at], row[at+2] = neg(big), big
				}
			}
			got := make([]float32, np)
			ScoresF16(got, keys, n, q)
			for p := range got {
				if want := dotF16Go(keys[p*n:][:n], q); math.Float32bits(got[p]) != math.Float32bits(want) || want != 0 {
					t.Fatalf("n %d: score %d = %g, want %g (and 0 in ggml's order)", n, p, got[p], want)
				}
			}
		}
	})
}
