// Package tensor holds the engine's compute kernels: dot products of every
// supported weight format with llama.cpp's activation format for it, a
// threaded matrix multiplication built on them, and the small vector
// helpers attention needs.
//
// Every kernel has a pure-Go version, which is the reference the tests hold
// the assembly to and what runs on CPUs without AVX2. On amd64 the kernels
// come in two assembly levels chosen at run time: "avx2" (AVX2, FMA, F16C)
// and "avx512" (adds AVX-512 BW/VL and VNNI). SetLevel forces a level
// (cmd/llmsql does it from LLMSQL_KERNELS; this package reads no
// environment).
//
// As in ggml-cpu, a matrix multiplication first converts the activations to
// the weight type's partner format (Q8_0 for Q4_0, Q5_0 and Q8_0; Q8_1 for
// Q4_1 and Q5_1; Q8_K for the K-quants; F16, BF16 and F32 for themselves),
// then sums integer products within each block and accumulates the block
// scales in float32.
//
// The assembly kernels compute a tile of weight rows against up to four
// tokens per call, so each weight block is decoded once for several
// tokens. For Q4_0 and Q4_K the AVX-512 prompt kernels (Q4_0 also AVX2)
// transpose eight rows into vector lanes on the fly, which applies the
// block scales to eight rows at once; Q4_0 and Q4_K matrices repacked at
// load (Pack) get that without the transposition. Every tile shape
// performs the same float operations for a given row and token, so a
// token's result does not depend on the batch it was computed in or on
// the thread count: within a level, MatMul is deterministic. The one
// exception is llama.cpp's own: packed Q4_K prompt tokens in a whole group
// of four (from the start of a run, MatMulRuns) take ggml's gemm order,
// single tokens its gemv order.
//
// Q8_0, Q6_K, Q2_K, F16 and F32 products follow llama.cpp's own order of
// operations exactly (ggmlorder.go, dot_kquant.go), and packed Q4_0 and
// Q4_K follow its repacked kernels (pack.go), which is what llama.cpp
// computes those types with on x86 by default; so models in those formats
// (Q4_K_M's mix included) reproduce its logits bit for bit. The unpacked
// Q4_0, Q4_K, Q5_K and Q3_K kernels do not follow ggml's vec_dot order yet
// (TestMatMulMatchesGGML says where they differ).
package tensor

import (
	"fmt"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Matrix is a weight matrix stored row-major in a ggml type: Rows rows of
// Cols elements, each row Type.RowSize(Cols) bytes. A Packed matrix (see
// Pack) holds the same bytes interleaved in groups of eight rows.
type Matrix struct {
	Type       gguf.GGMLType
	Rows, Cols int
	Data       []byte
	Packed     bool
}

// Supported reports whether t can be used as a weight type.
func Supported(t gguf.GGMLType) bool {
	_, ok := formats[t]
	return ok
}

// Check reports whether m is well formed: a supported type, Cols a multiple
// of its block size and Data long enough.
func (m Matrix) Check() error {
	f, ok := formats[m.Type]
	if !ok {
		return fmt.Errorf("tensor: unsupported weight type %s", m.Type)
	}
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("tensor: negative matrix shape %dx%d", m.Rows, m.Cols)
	}
	if m.Packed && (packedFormats[m.Type] == nil || !packedFormats[m.Type].takesRows(m.Rows)) {
		return fmt.Errorf("tensor: no packed %s layout for %d rows", m.Type, m.Rows)
	}
	if m.Cols%f.block != 0 {
		return fmt.Errorf("tensor: %s row of %d elements is not a whole number of %d-element blocks", m.Type, m.Cols, f.block)
	}
	need := m.Rows * m.RowSize()
	if m.Packed {
		need = packedFormats[m.Type].packedBytes(m.Rows, m.Cols)
	}
	if len(m.Data) < need {
		return fmt.Errorf("tensor: %s matrix %dx%d needs %d bytes, has %d", m.Type, m.Rows, m.Cols, need, len(m.Data))
	}
	return nil
}

// RowSize is the number of bytes of one row.
func (m Matrix) RowSize() int { return m.Type.RowSize(m.Cols) }

// Row returns the bytes of row r of an unpacked matrix.
func (m Matrix) Row(r int) []byte {
	if m.Packed {
		panic("tensor: Row of a packed matrix")
	}
	rs := m.RowSize()
	return m.Data[r*rs : (r+1)*rs]
}
