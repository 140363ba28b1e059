package tensor

import (
	"encoding/binary"
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Packed matrices hold their rows interleaved in groups of eight, the
// layout of the packed kernels (see internal/asmgen/packed.go): one load
// brings four quants of each of eight rows, so the kernel scales and
// accumulates eight rows with each float instruction and needs no
// transposition at run time. That is what lets Q4_0 decoding stream
// weights at memory speed. llama.cpp repacks Q4_0 the same way for the
// same reason.
//
// Q4_0 x8: per group of eight rows and per block, 144 bytes: the eight
// rows' F16 scales, then, for g = 0..3, bytes 4g..4g+3 of each row's
// quants.
//
// Q4_K x8: per group and per 256-value block, 1248 bytes: the eight d
// (F16), the eight dmin (F16), the 6-bit scales as bytes [sub-block][row]
// (64), the mins as int16 pairs [pair p][row](min 2p, min 2p+1) (128, for
// VPDPWSSD against the activations' sums), then for q = 0..31 bytes
// 4q..4q+3 of each row's quants (1024). Low nibbles of bytes 32i..32i+31 belong to
// sub-block 2i, high nibbles to 2i+1.
//
// The kernels take the group stride (bytes per eight rows) as wStride.

const q4KGroupBlock = 1248

// packedFormats are the formats of packed matrices, by weight type; group
// is the bytes of a group of eight rows of cols values.
var packedFormats = map[gguf.GGMLType]*format{
	gguf.TypeQ4_0: {block: 32, blockBytes: 18, corr: 8, group: func(cols int) int { return cols / 32 * 144 },
		impls: [numLevels]*impl{
			levelGo: {act: actQ8_0, chunk: 1, tiles: [4]tileFn{q4_0x8Go(1), q4_0x8Go(2), q4_0x8Go(3), q4_0x8Go(4)}},
		}},
	gguf.TypeF32: {block: 1, blockBytes: 4, groupRows: 16, padded: true, group: func(cols int) int { return cols * 64 },
		impls: [numLevels]*impl{
			levelGo: {act: actF32, chunk: 1, tiles: [4]tileFn{f32x16TinyGo(1), f32x16TinyGo(2), f32x16TinyGo(3), f32x16TinyGo(4)}},
		},
		decode: [numLevels]*impl{
			levelGo: {act: actF32, chunk: 1, tiles: [4]tileFn{f32x16VecGo(1), f32x16VecGo(2), f32x16VecGo(3), f32x16VecGo(4)}},
		}},
	gguf.TypeQ4_K: {block: 256, blockBytes: 144, group: func(cols int) int { return cols / 256 * q4KGroupBlock },
		impls: [numLevels]*impl{
			levelGo: {act: actQ8_K, chunk: 1, tiles: q4KPromptTiles(q4KPackedGo(1, false), q4KPackedGo(4, true))},
		},
		decode: [numLevels]*impl{
			levelGo: {act: actQ8_K, chunk: 1, tiles: q4KDecodeTiles(q4KPackedGo(1, false))},
		}},
}

// f32PackMaxCols is the longest F32 row Pack transposes. The transposed
// kernels win where each dot product is short, so that its reduction
// (a tree of adds per row in ggml's order) costs as much as its
// multiplies: small models, which are F32 more often than large ones. A
// group of sixteen such rows (64 bytes a column) also stays in L1 while
// the prompt kernel walks it once per token. Longer rows keep the
// row-major kernels, which share each weight load among four tokens.
const f32PackMaxCols = 512

// packOK says whether Pack packs a matrix of type t and rows x cols here:
// where the current kernel level has a packed kernel, and at level go,
// whose packed kernels are the twins the others follow (at avx2, Q4_0
// has no packed kernel, and its unpacked assembly is faster than the
// packed Go), for shapes the layout takes.
func packOK(t gguf.GGMLType, rows, cols int) bool {
	if !Packs(t) {
		return false
	}
	f := packedFormats[t]
	if rows <= 0 || !f.takesRows(rows) || cols%f.block != 0 {
		return false
	}
	return t != gguf.TypeF32 || cols <= f32PackMaxCols
}

// Packs reports whether Pack repacks matrices of type t at the current
// kernel level (those of a shape the layout takes; see PackedBytes).
func Packs(t gguf.GGMLType) bool {
	f, ok := packedFormats[t]
	l := currentLevel()
	return ok && (l == levelGo || f.impls[l] != nil)
}

// PackedBytes is the memory Pack allocates for a matrix of type t and
// rows x cols at the current kernel level: 0 when it leaves such a
// matrix as it is. Loaders size their memory with it before packing.
func PackedBytes(t gguf.GGMLType, rows, cols int) int64 {
	if !packOK(t, rows, cols) {
		return 0
	}
	return int64(packedFormats[t].packedBytes(rows, cols))
}

// Pack returns m repacked for the packed kernels when this CPU has them
// for m's type and shape (for most formats, rows in whole groups of
// eight), and m itself otherwise. The packed copy is allocated; m's data
// is not kept.
func Pack(m Matrix) Matrix {
	if !packOK(m.Type, m.Rows, m.Cols) {
		return m
	}
	return packMatrix(m)
}

// rowsPerGroup is the rows of one group of packed format f.
func (f *format) rowsPerGroup() int {
	if f.groupRows == 0 {
		return 8
	}
	return f.groupRows
}

// takesRows says whether f packs a matrix of n rows: whole groups, or
// any number for a padded format.
func (f *format) takesRows(n int) bool { return f.padded || n%f.rowsPerGroup() == 0 }

// packedBytes is the size of a packed matrix of rows x cols, a padded
// format's last group included whole.
func (f *format) packedBytes(rows, cols int) int {
	g := f.rowsPerGroup()
	return (rows + g - 1) / g * f.group(cols)
}

// packMatrix packs m whatever the CPU (tests use it everywhere).
func packMatrix(m Matrix) Matrix {
	f := packedFormats[m.Type]
	if m.Packed || m.Rows == 0 || f == nil || !f.takesRows(m.Rows) || m.Check() != nil {
		return m
	}
	p := m
	p.Data = make([]byte, f.packedBytes(m.Rows, m.Cols))
	p.Packed = true
	switch m.Type {
	case gguf.TypeQ4_0:
		packQ4_0(p.Data, m.Data, m.Rows, m.Cols)
	case gguf.TypeQ4_K:
		packQ4_K(p.Data, m.Data, m.Rows, m.Cols)
	case gguf.TypeF32:
		packF32x16(p.Data, m.Data, m.Rows, m.Cols)
	}
	return p
}

func packQ4_0(dst, src []byte, rows, cols int) {
	nb := cols / 32
	rs := nb * 18
	for g := 0; g < rows/8; g++ {
		for b := 0; b < nb; b++ {
			o := dst[(g*nb+b)*144:][:144]
			for r := 0; r < 8; r++ {
				blk := src[(8*g+r)*rs+b*18:][:18]
				copy(o[2*r:], blk[:2])
				for q := 0; q < 4; q++ {
					copy(o[16+32*q+4*r:][:4], blk[2+4*q:])
				}
			}
		}
	}
}

func packQ4_K(dst, src []byte, rows, cols int) {
	nb := cols / 256
	rs := nb * 144
	for g := 0; g < rows/8; g++ {
		for b := 0; b < nb; b++ {
			o := dst[(g*nb+b)*q4KGroupBlock:][:q4KGroupBlock]
			for r := 0; r < 8; r++ {
				blk := src[(8*g+r)*rs+b*144:][:144]
				copy(o[2*r:], blk[0:2])
				copy(o[16+2*r:], blk[2:4])
				sc, mn := k4Scales(blk[4:16])
				for j := 0; j < 8; j++ {
					o[32+8*j+r] = byte(sc[j])
					binary.LittleEndian.PutUint16(o[96+32*(j/2)+4*r+2*(j%2):], uint16(mn[j]))
				}
				for q := 0; q < 32; q++ {
					copy(o[224+32*q+4*r:][:4], blk[16+4*q:])
				}
			}
		}
	}
}

// packedGo is the pure-Go shape of a packed kernel for T tokens: for each
// group of eight rows and each token, block adds one weight block (wb
// bytes) against one activation block (ab bytes) to the eight rows'
// sums, which are then stored as the group's results.
func packedGo(T, block, wb, ab int, blockFn func(acc *[8]float32, w, a []byte)) tileFn {
	return func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
		nb := n / block
		gs := int(wStride)
		ws := unsafe.Slice((*byte)(w), nRows/8*gs)
		for g := 0; g < nRows/8; g++ {
			for t := 0; t < T; t++ {
				act := unsafe.Slice((*byte)(unsafe.Add(a, uintptr(t)*aStride)), nb*ab)
				var acc [8]float32
				for b := 0; b < nb; b++ {
					blockFn(&acc, ws[g*gs+b*wb:][:wb], act[b*ab:][:ab])
				}
				o := unsafe.Slice((*float32)(unsafe.Add(out, uintptr(t)*oStride+uintptr(32*g))), 8)
				copy(o, acc[:])
			}
		}
	}
}

// The packed Q4_K kernels compute as llama.cpp's repacked ones do (it
// repacks Q4_K weights on x86 by default; ggml_gemv_q4_K_8x8_q8_K and
// ggml_gemm_q4_K_8x8_q8_K): each row keeps two float sums, one of the
// scaled quant dots and one of the mins times the activations' sums, and
// the result is their difference. The gemv form (one token: decode steps,
// and the tokens of a prompt past its last whole group of four) adds the
// block's integer totals once per block; the gemm form (a prompt's groups
// of four tokens) adds each pair of sub-blocks (64 values) as it goes.
// The integers are exact either way; only the float sums' order differs,
// and it follows ggml's.

// q4KBlockInts returns, for row r of a packed Q4_K block against an
// activation block, the scaled dot and the mins term of sub-block pair p
// (sub-blocks 2p and 2p+1).
func q4KPairInts(blk, ab []byte, r, p int) (dot, mins int32) {
	for j := 2 * p; j < 2*p+2; j++ {
		var s int32
		for q := 8 * p; q < 8*p+8; q++ {
			for i := 0; i < 4; i++ {
				v := blk[224+32*q+4*r+i]
				if j%2 == 1 {
					v >>= 4
				}
				s += int32(v&15) * int32(int8(ab[64*p+32*(j%2)+4*(q%8)+i]))
			}
		}
		dot += int32(blk[32+8*j+r]) * s
		mins += int32(binary.LittleEndian.Uint16(blk[96+32*p+4*r+2*(j%2):])) * q8kBsum32(ab, j)
	}
	return dot, mins
}

// q4KPackedGo is a packed Q4_K kernel in Go for T tokens: gemm (per
// sub-block pair) when gemm is set, otherwise gemv (per block).
func q4KPackedGo(T int, gemm bool) tileFn {
	return func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
		nb := n / 256
		gs := int(wStride)
		ws := unsafe.Slice((*byte)(w), nRows/8*gs)
		for g := 0; g < nRows/8; g++ {
			for t := 0; t < T; t++ {
				act := unsafe.Slice((*byte)(unsafe.Add(a, uintptr(t)*aStride)), nb*q8KBlockBytes)
				var acc, accMin [8]float32
				for b := 0; b < nb; b++ {
					blk, ab := ws[g*gs+b*q4KGroupBlock:][:q4KGroupBlock], act[b*q8KBlockBytes:][:q8KBlockBytes]
					dy := getF32(ab[q8KD:])
					for r := 0; r < 8; r++ {
						dd := halfToFloat(binary.LittleEndian.Uint16(blk[2*r:])) * dy
						dm := halfToFloat(binary.LittleEndian.Uint16(blk[16+2*r:])) * dy
						var dot, mins int32
						for p := 0; p < 4; p++ {
							pd, pm := q4KPairInts(blk, ab, r, p)
							if gemm {
								acc[r] = fma32(float32(pd), dd, acc[r])
								accMin[r] = fma32(float32(pm), dm, accMin[r])
							}
							dot, mins = dot+pd, mins+pm
						}
						if !gemm {
							acc[r] = fma32(float32(dot), dd, acc[r])
							accMin[r] = fma32(float32(mins), dm, accMin[r])
						}
					}
				}
				o := unsafe.Slice((*float32)(unsafe.Add(out, uintptr(t)*oStride+uintptr(32*g))), 8)
				for r := range o {
					o[r] = acc[r] - accMin[r]
				}
			}
		}
	}
}

// q4KPromptTiles are the packed Q4_K tiles of prompt tokens: gemm for a
// whole group of four, gemv for fewer (llama.cpp's split of a batch);
// q4KDecodeTiles are gemv for any number of decode tokens.
func q4KPromptTiles(gemv1, gemm4 tileFn) [4]tileFn {
	ts := q4KDecodeTiles(gemv1)
	ts[3] = gemm4
	return ts
}

// q4KDecodeTilesPair is q4KDecodeTiles with a kernel that runs the gemv
// for two tokens at once (the same operations per token): pairs of
// tokens through gemv2, an odd last one through gemv1.
func q4KDecodeTilesPair(gemv1, gemv2 tileFn) [4]tileFn {
	ts := [4]tileFn{gemv1, gemv2}
	for T := 3; T <= 4; T++ {
		ts[T-1] = func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
			gemv2(w, wStride, nRows, n, a, aStride, out, oStride)
			a, out = unsafe.Add(a, 2*aStride), unsafe.Add(out, 2*oStride)
			ts[T-3](w, wStride, nRows, n, a, aStride, out, oStride)
		}
	}
	return ts
}

func q4KDecodeTiles(gemv1 tileFn) [4]tileFn {
	var ts [4]tileFn
	ts[0] = gemv1
	for T := 2; T <= 4; T++ {
		ts[T-1] = func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr) {
			for t := 0; t < T; t++ {
				gemv1(w, wStride, nRows, n, unsafe.Add(a, uintptr(t)*aStride), aStride, unsafe.Add(out, uintptr(t)*oStride), oStride)
			}
		}
	}
	return ts
}

// q4_0x8Go is the packed Q4_0 kernel in Go, for T tokens: per row, the
// block's integer dot product (offset removed by the activations'
// correction), then acc = fma(float(dot), d_row*d_token, acc), as the
// assembly's lanes compute it.
func q4_0x8Go(T int) tileFn {
	return packedGo(T, 32, 144, q8BlockBytes, func(acc *[8]float32, blk, ab []byte) {
		da := getF32(ab[32:])
		corr := int32(binary.LittleEndian.Uint32(ab[36:]))
		for r := 0; r < 8; r++ {
			s := corr
			for q := 0; q < 4; q++ {
				for i := 0; i < 4; i++ {
					v := blk[16+32*q+4*r+i]
					s += int32(v&15)*int32(int8(ab[4*q+i])) + int32(v>>4)*int32(int8(ab[16+4*q+i]))
				}
			}
			dw := halfToFloat(binary.LittleEndian.Uint16(blk[2*r:]))
			acc[r] = fma32(float32(s), dw*da, acc[r])
		}
	})
}
