package tensor

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
)

// TestMatMulMatchesGGML holds MatMul to ggml's own mul_mat bit for bit,
// through testdata/ggml_oracle.c built against llama.cpp's CPU library
// (its header says how). It runs when LLMSQL_GGML_ORACLE names the built
// oracle; ggml there computes without llama.cpp's weight repacking, so the
// unpacked kernels are the ones compared (the packed ones follow the
// repacked kernels: TestPackedQ4KMatchesGGMLRepack).
func TestMatMulMatchesGGML(t *testing.T) {
	oracle := os.Getenv("LLMSQL_GGML_ORACLE")
	if oracle == "" {
		t.Skip("set LLMSQL_GGML_ORACLE to a built testdata/ggml_oracle.c to compare with ggml")
	}
	lvl := os.Getenv("LLMSQL_ORACLE_LEVEL") // the references come from the AVX-512 build
	restore, err := SetLevel(lvl)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	rng := newRand(21)
	dir := t.TempDir()
	p := NewPool(2)
	defer p.Close()
	const rows, cols = 64, 2048
	for _, typ := range []gguf.GGMLType{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K, gguf.TypeQ2_K, gguf.TypeQ3_K} {
		for _, nTok := range []int{1, 5} {
			w := make([]float32, rows*cols)
			for i := range w {
				w[i] = float32(rng.NormFloat64() * 0.02)
			}
			m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: make([]byte, rows*typ.RowSize(cols))}
			for r := 0; r < rows; r++ {
				if err := quant.Quantize(typ, m.Row(r), w[r*cols:(r+1)*cols]); err != nil {
					t.Fatal(err)
				}
			}
			x := make([]float32, nTok*cols)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			want := runOracle(t, oracle, dir, m, x, nTok)
			got := make([]float32, nTok*rows)
			// ggml computes one token alone as llama.cpp's decode does,
			// and several as a prompt.
			nDecode := 0
			if nTok == 1 {
				nDecode = 1
			}
			p.MatMulMixed(got, m, x, nTok, nDecode)
			bad := 0
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					if bad == 0 {
						t.Errorf("%s, %d tokens: out[%d] = %v, ggml %v", typ, nTok, i, got[i], want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s, %d tokens: %d of %d values differ from ggml", typ, nTok, bad, len(got))
			}
		}
	}
}

// TestPackedMatchesGGMLRepack holds the packed kernels to llama.cpp's
// repacked ones (what it computes Q4_0 and Q4_K weights with on x86 by
// default) bit for bit, through ggml_oracle's mulmat_repack: a single
// token takes ggml's gemv, and a prompt its gemm for each whole group of
// four tokens and gemv for the rest.
func TestPackedMatchesGGMLRepack(t *testing.T) {
	oracle := os.Getenv("LLMSQL_GGML_ORACLE")
	if oracle == "" {
		t.Skip("set LLMSQL_GGML_ORACLE to a built testdata/ggml_oracle.c to compare with ggml")
	}
	rng := newRand(22)
	dir := t.TempDir()
	p := NewPool(2)
	defer p.Close()
	const rows, cols = 64, 2048
	for _, typ := range []gguf.GGMLType{gguf.TypeQ4_0, gguf.TypeQ4_K} {
		for _, nTok := range []int{1, 3, 4, 5, 9} {
			w := make([]float32, rows*cols)
			for i := range w {
				w[i] = float32(rng.NormFloat64() * 0.02)
			}
			m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: make([]byte, rows*typ.RowSize(cols))}
			for r := 0; r < rows; r++ {
				if err := quant.Quantize(typ, m.Row(r), w[r*cols:(r+1)*cols]); err != nil {
					t.Fatal(err)
				}
			}
			x := make([]float32, nTok*cols)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			want := runOracleOp(t, oracle, "mulmat_repack", dir, m, x, nTok)
			nDecode := 0
			if nTok == 1 {
				nDecode = 1
			}
			forLevels(t, func(t *testing.T, lvl string) {
				got := make([]float32, nTok*rows)
				p.MatMulMixed(got, packMatrix(m), x, nTok, nDecode)
				bad := 0
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						if bad == 0 {
							t.Errorf("%s, %d tokens: out[%d] = %v, ggml %v", typ, nTok, i, got[i], want[i])
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%s, %d tokens: %d of %d values differ from ggml", typ, nTok, bad, len(got))
				}
			})
		}
	}
}

// runOracle runs ggml_oracle's mulmat on m and x.
func runOracle(t *testing.T, oracle, dir string, m Matrix, x []float32, nTok int) []float32 {
	return runOracleOp(t, oracle, "mulmat", dir, m, x, nTok)
}

// runOracleOp runs ggml_oracle's op (mulmat or mulmat_repack) on m and x.
func runOracleOp(t *testing.T, oracle, op, dir string, m Matrix, x []float32, nTok int) []float32 {
	t.Helper()
	a, xb, out := filepath.Join(dir, "a.bin"), filepath.Join(dir, "x.bin"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(a, m.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(xb, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(oracle, op, strconv.Itoa(int(m.Type)), a, xb, out, strconv.Itoa(m.Rows), strconv.Itoa(m.Cols), strconv.Itoa(nTok))
	cmd.Env = append(os.Environ(), "TH=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v: %s", err, b)
	}
	res, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, len(res)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(res[4*i:]))
	}
	return vals
}
