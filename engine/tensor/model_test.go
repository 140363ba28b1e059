package tensor

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/testutil"
)

// sharedDir finds ../shared beside the module root, or skips.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testutil.Shared(t, "")
}

// TestModelMatrices runs every 2-D weight of the stories260K files (as
// llama-quantize wrote them) through MatMul at every level and compares
// with float64 sums over the dequantized weights.
func TestModelMatrices(t *testing.T) {
	shared := sharedDir(t)
	for _, name := range []string{"stories260K.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf"} {
		path := filepath.Join(shared, "models", name)
		f, err := gguf.Open(path)
		if err != nil {
			t.Skipf("%s: %v", name, err)
		}
		defer f.Close()
		t.Run(name, func(t *testing.T) {
			forLevels(t, func(t *testing.T, lvl string) {
				p := NewPool(2)
				defer p.Close()
				rng := newRand(18)
				n := 0
				for _, tt := range f.Tensors {
					if len(tt.Dims) != 2 || !Supported(tt.Type) {
						continue
					}
					m := Matrix{Type: tt.Type, Rows: int(tt.Dims[1]), Cols: int(tt.Dims[0]), Data: tt.Data}
					if err := m.Check(); err != nil {
						t.Fatalf("%s %s: %v", name, tt.Name, err)
					}
					const nTok = 3
					x := randomAct(rng, nTok*m.Cols, false)
					out := make([]float32, nTok*m.Rows)
					p.MatMul(out, m, x, nTok)
					for tok := 0; tok < nTok; tok++ {
						v, _ := NewVec(m.Type, x[tok*m.Cols:(tok+1)*m.Cols])
						av := actValues(v.im.act, v.buf, m.Cols)
						for r := 0; r < m.Rows; r++ {
							want, mag := refDot(dequantRow(t, m.Type, m.Row(r), m.Cols), av)
							tol := 1e-5*mag + q8_1Slack(m.Type, m.Row(r), v.buf, m.Cols) + 1e-30
							if got := float64(out[tok*m.Rows+r]); math.Abs(got-want) > tol {
								t.Fatalf("%s %s (%s): out[%d][%d] = %g, want %g", name, tt.Name, m.Type, tok, r, got, want)
							}
						}
					}
					n++
				}
				if n == 0 {
					t.Fatalf("%s: no matrices", name)
				}
			})
		})
	}
}
