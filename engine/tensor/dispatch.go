package tensor

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/libm"
)

// level is a kernel implementation level; higher levels need more CPU
// features and fall back to lower ones for formats they do not cover.
type level int32

const (
	levelGo level = iota
	levelAVX2
	levelAVX512
	numLevels
)

var levelNames = [numLevels]string{"go", "avx2", "avx512"}

// cpuLevel is the best level this CPU runs (set by the arch file's init).
var cpuLevel = levelGo

var curLevel atomic.Int32

// tileFn computes dot products of nRows weight rows (wStride bytes apart)
// with T activation rows (aStride bytes apart), T fixed by the function,
// over the first n elements, storing row r, token t at
// out + t*oStride + 4*r. Assembly kernels have this signature.
type tileFn func(w unsafe.Pointer, wStride uintptr, nRows, n int, a unsafe.Pointer, aStride uintptr, out unsafe.Pointer, oStride uintptr)

// impl is one implementation of a weight format's dot product.
type impl struct {
	act   actKind
	tiles [4]tileFn // by token count - 1; all nil for pure Go
	// wide, where set, replaces tiles for a part of at least wideFrom
	// tokens: kernels that compute the same but are faster when
	// arithmetic, not the weights' memory stream, is the bound.
	wide     [4]tileFn
	wideFrom int
	// chunk: the assembly covers n rounded down to a multiple of chunk
	// elements, dot the rest.
	chunk int
	// dot is the pure-Go kernel on this impl's activation layout: the
	// whole row at levelGo, the tail otherwise.
	dot func(w, a []byte, n int) float32
}

type format struct {
	block      int                // elements per weight block
	blockBytes int                // bytes per weight block
	round      rounding           // how actF32 activations are rounded
	corr       int32              // actQ8_0: corr = -corr*sum(qs), corr the offset the kernels add to make weight quants unsigned
	group      func(cols int) int // packed formats: bytes per group of groupRows rows
	// groupRows is the rows per group of a packed format (0: eight);
	// padded formats also take a last partial group, zero-filled.
	groupRows int
	padded    bool
	impls     [numLevels]*impl
	// decode, where set, is a level's implementation for decode steps
	// (MatMulMixed); otherwise impls serves both.
	decode [numLevels]*impl
}

var formats = map[gguf.GGMLType]*format{
	gguf.TypeF32:  {block: 1, blockBytes: 4, impls: goImpl(actF32, dotF32), decode: everyLevel(actF32, dotF32Decode)},
	gguf.TypeF16:  {block: 1, blockBytes: 2, round: roundF16, impls: goImpl(actF32, dotF16), decode: everyLevel(actF16, dotF16Decode)},
	gguf.TypeBF16: {block: 1, blockBytes: 2, round: roundBF16, impls: goImpl(actF32, dotBF16)},
	gguf.TypeQ4_0: {block: 32, blockBytes: 18, corr: 8, impls: goImpl(actQ8_0, dotQ4_0)},
	gguf.TypeQ4_1: {block: 32, blockBytes: 20, impls: goImpl(actQ8_1, dotQ4_1)},
	gguf.TypeQ5_0: {block: 32, blockBytes: 22, corr: 16, impls: goImpl(actQ8_0, dotQ5_0)},
	gguf.TypeQ5_1: {block: 32, blockBytes: 24, impls: goImpl(actQ8_1, dotQ5_1)},
	gguf.TypeQ8_0: {block: 32, blockBytes: 34, corr: 128, impls: goImpl(actQ8_0, dotQ8_0)},
	gguf.TypeQ2_K: {block: 256, blockBytes: 84, impls: goImpl(actQ8_K, dotQ2_K)},
	gguf.TypeQ3_K: {block: 256, blockBytes: 110, impls: goImpl(actQ8_K, dotQ3_K)},
	gguf.TypeQ4_K: {block: 256, blockBytes: 144, impls: goImpl(actQ8_K, dotQ4_K)},
	gguf.TypeQ5_K: {block: 256, blockBytes: 176, impls: goImpl(actQ8_K, dotQ5_K)},
	gguf.TypeQ6_K: {block: 256, blockBytes: 210, impls: goImpl(actQ8_K, dotQ6_K)},
}

func goImpl(k actKind, dot func(w, a []byte, n int) float32) [numLevels]*impl {
	return [numLevels]*impl{levelGo: {act: k, chunk: 1, dot: dot}}
}

// everyLevel is one implementation for every level: the decode kernels of
// float weights, which follow ggml_vec_dot's order (see ggmlorder.go).
func everyLevel(k actKind, dot func(w, a []byte, n int) float32) [numLevels]*impl {
	im := &impl{act: k, chunk: 1, dot: dot}
	return [numLevels]*impl{im, im, im}
}

// register installs an assembly implementation (called from arch init).
func register(t gguf.GGMLType, l level, im *impl) {
	formats[t].impls[l] = im
}

// registerDecode installs an assembly implementation for decode steps.
func registerDecode(t gguf.GGMLType, l level, im *impl) {
	formats[t].decode[l] = im
}

// decodeAt is the implementation decode steps use at level l: the best
// decode or general one not above l.
func (f *format) decodeAt(l level) *impl {
	for ; l > levelGo; l-- {
		if im := f.decode[l]; im != nil {
			return im
		}
		if im := f.impls[l]; im != nil {
			return im
		}
	}
	if im := f.decode[levelGo]; im != nil {
		return im
	}
	return f.impls[levelGo]
}

// implAt is the implementation used at level l: the best one not above l.
func (f *format) implAt(l level) *impl {
	for ; l > levelGo; l-- {
		if im := f.impls[l]; im != nil {
			return im
		}
	}
	return f.impls[levelGo]
}

func currentLevel() level { return level(curLevel.Load()) }

// The package's one initialiser: the architecture's file registers its
// kernels (which sets cpuLevel) and vector helpers, in that order, and the
// kernels start at the CPU's best level. Nothing here reads the
// environment: a program that lets its user choose (cmd/llmsql reads
// LLMSQL_KERNELS) calls SetLevel.
func init() {
	registerArch()
	curLevel.Store(int32(cpuLevel))
}

func parseLevel(s string) (level, bool) {
	for l, n := range levelNames {
		if n == s {
			return level(l), true
		}
	}
	return 0, false
}

// KernelLevel names the kernel level in use: "go", "avx2" or "avx512".
// It is the best the CPU supports unless SetLevel chose another.
func KernelLevel() string { return levelNames[currentLevel()] }

// Levels lists the kernel levels this CPU can run, lowest first.
func Levels() []string {
	ls := make([]string, 0, numLevels)
	for l := levelGo; l <= cpuLevel; l++ {
		ls = append(ls, levelNames[l])
	}
	return ls
}

// SetLevel switches every kernel to the named level ("" is the CPU's
// best); restore puts the previous level back. It fails for an unknown
// name or a level this CPU cannot run. The level is process-wide: a
// program sets it once at start (cmd/llmsql from LLMSQL_KERNELS), tests
// and benchmarks around the code they run. It must not race with running
// kernels that should see one level throughout, nor with loading models
// (Pack follows the level).
func SetLevel(name string) (restore func(), err error) {
	if name == "" {
		name = levelNames[cpuLevel]
	}
	l, ok := parseLevel(name)
	if !ok {
		return nil, fmt.Errorf("tensor: unknown kernel level %q (want go, avx2 or avx512)", name)
	}
	if l > cpuLevel {
		return nil, fmt.Errorf("tensor: this CPU cannot run kernel level %s (best is %s)", name, levelNames[cpuLevel])
	}
	prev := curLevel.Swap(int32(l))
	return func() { curLevel.Store(prev) }, nil
}

// fma32 is x*y+z rounded once, as the assembly's FMA instructions do.
func fma32(x, y, z float32) float32 { return libm.Fmaf(x, y, z) }
