package tensor

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"
)

// benchLevels runs f per kernel level the CPU supports.
func benchLevels(b *testing.B, f func(b *testing.B)) {
	for _, l := range Levels() {
		b.Run(l, func(b *testing.B) {
			restore, err := SetLevel(l)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			f(b)
		})
	}
}

// BenchmarkDot4096 times 4096-element row dot products the way MatMul runs
// them for one token (16 rows per kernel call); ns/dot is per row.
func BenchmarkDot4096(b *testing.B) {
	const n, rows = 4096, 16
	benchLevels(b, func(b *testing.B) {
		for _, typ := range allTypes {
			b.Run(typ.String(), func(b *testing.B) {
				rng := newRand(11)
				m := randomMatrix(rng, typ, rows, n)
				v, _ := NewVec(typ, randomAct(rng, n, false))
				out := make([]float32, rows)
				rs := m.RowSize()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				c0, cpuOK := threadCPU()
				for b.Loop() {
					if v.im.tiles[0] == nil {
						for r := range out {
							out[r] = v.im.dot(m.Data[r*rs:], v.buf, n)
						}
						continue
					}
					v.im.tiles[0](unsafe.Pointer(&m.Data[0]), uintptr(rs), rows, n/v.im.chunk*v.im.chunk,
						unsafe.Pointer(&v.buf[0]), 0, unsafe.Pointer(&out[0]), 0)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/dot")
				if c1, _ := threadCPU(); cpuOK && c1 > c0 {
					b.ReportMetric(float64((c1-c0).Nanoseconds())/float64(b.N*rows), "cpu-ns/dot")
				}
			})
		}
	})
}

// BenchmarkMatVec: decode, one token through a 5632x2048 matrix; MB/s is
// weight bytes read. The matrix fits in this machine's L3.
func BenchmarkMatVec(b *testing.B) { benchMatMul(b, 5632, 2048, 1, 1) }

// BenchmarkMatVecCold is BenchmarkMatVec cycling through copies of the
// matrix that together exceed the caches, as decoding a model does.
func BenchmarkMatVecCold(b *testing.B) { benchMatMul(b, 5632, 2048, 1, 192<<20) }

// BenchmarkMatMul512: a 512-token prompt through a 2048x2048 matrix;
// GFLOP/s counts 2 flops per weight per token.
func BenchmarkMatMul512(b *testing.B) { benchMatMul(b, 2048, 2048, 512, 1) }

func benchMatMul(b *testing.B, rows, cols, nTok, minBytes int) {
	benchLevels(b, func(b *testing.B) {
		for _, typ := range allTypes {
			m := randomMatrix(newRand(12), typ, rows, cols)
			ms := []Matrix{m}
			for len(ms)*len(m.Data) < minBytes {
				c := m
				c.Data = append([]byte(nil), m.Data...)
				ms = append(ms, c)
			}
			x := randomAct(newRand(13), nTok*cols, false)
			out := make([]float32, nTok*rows)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/t%d", typ, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(int64(len(m.Data)))
					// One thread: also report rates over the thread's CPU
					// time, which a busy host does not distort.
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					c0, cpuOK := threadCPU()
					i := 0
					for b.Loop() {
						p.MatMul(out, ms[i%len(ms)], x, nTok)
						i++
					}
					c1, _ := threadCPU()
					flops := 2 * float64(rows) * float64(cols) * float64(nTok)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if threads == 1 && cpuOK && c1 > c0 {
						cpu := (c1 - c0).Seconds()
						b.ReportMetric(flops*float64(b.N)/cpu/1e9, "cpuGFLOP/s")
						b.ReportMetric(float64(len(m.Data))*float64(b.N)/cpu/1e9, "cpuGB/s")
					}
				})
			}
		}
	})
}

// BenchmarkParallelDispatch: the cost of one op that wakes the workers
// for almost no work.
func BenchmarkParallelDispatch(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			var sink [2]int
			for b.Loop() {
				p.Parallel(2, 1, func(lo, hi int) { sink[lo]++ })
			}
		})
	}
}
