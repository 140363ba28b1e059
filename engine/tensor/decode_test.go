package tensor

import (
	"math"
	"testing"
)

// TestMatMulMixedDecode checks the decode kernels against float64 sums
// (as TestMatMul does for the prompt kernels), and that a decode token's
// result does not depend on how many other decode tokens share the call:
// the scheduler relies on that to give a sequence the same tokens alone
// or batched.
func TestMatMulMixedDecode(t *testing.T) {
	forLevels(t, func(t *testing.T, lvl string) {
		rng := newRand(11)
		p := NewPool(2)
		defer p.Close()
		for _, typ := range allTypes {
			cols := 512
			if formats[typ].block == 1 {
				cols = 256
			}
			const rows = 37
			m := randomMatrix(rng, typ, rows, cols)
			w := make([][]float64, rows)
			for r := range w {
				w[r] = dequantRow(t, typ, m.Row(r), cols)
			}
			const nTok = 6
			x := randomAct(rng, nTok*cols, false)
			mixed := make([]float32, nTok*rows)
			p.MatMulMixed(mixed, m, x, nTok, 4) // four decode tokens, two prompt tokens
			for tok := 0; tok < nTok; tok++ {
				alone := make([]float32, rows)
				p.MatMulMixed(alone, m, x[tok*cols:(tok+1)*cols], 1, btoi(tok < 4))
				for r := 0; r < rows; r++ {
					if math.Float32bits(alone[r]) != math.Float32bits(mixed[tok*rows+r]) {
						t.Fatalf("%s token %d row %d: %v alone, %v batched", typ, tok, r, alone[r], mixed[tok*rows+r])
					}
				}
				v, _ := NewVec(typ, x[tok*cols:(tok+1)*cols])
				av := actValues(v.im.act, v.buf, cols)
				for r := 0; r < rows; r++ {
					want, mag := refDot(w[r], av)
					tol := 1e-5*mag + q8_1Slack(typ, m.Row(r), v.buf, cols) + 1e-30
					if got := float64(mixed[tok*rows+r]); math.Abs(got-want) > tol {
						t.Fatalf("%s token %d row %d: %g, want %g (tol %g)", typ, tok, r, got, want, tol)
					}
				}
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
