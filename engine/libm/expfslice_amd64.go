package libm

import "golang.org/x/sys/cpu"

// useVector selects expf8AVX512 in ExpfSlice; tests turn it off to check
// the scalar path.
var useVector = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// expf8AVX512 computes Expf of n inputs (n a positive multiple of 8), eight
// lanes of float64 at a time with Expf's operations: the fused
// multiply-adds as VFMADD/VFMSUB, the table read by a gather. Inputs with
// |x| >= 88, Inf or NaN get a wrong value; special reports whether there
// were any.
//
//go:noescape
func expf8AVX512(dst, src *float32, n int, tab *[expN]uint64, consts *[6]float64) (special bool)
