package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkServeSelectBatched is the engine issue's "200-row SELECT"
// figure: generate() over 200 rows of stories260K, 24 tokens each, result
// cache off, once with @@llm_batch_size = 0 (one row at a time) and once
// with 64, alternating in every iteration so both see the same machine.
// It reports both wall times and their ratio (speedup).
//
//	go test -tags gms_pure_go ./cmd/llmsql -run '^$' -bench ServeSelectBatched -benchtime 5x
func BenchmarkServeSelectBatched(b *testing.B) {
	const rows = 200
	_, db := storyServer(b, false, rows)
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT id, generate('stories', prompt, 0, 24) FROM p"
	// Wall time, and the process's CPU time (client and server share it),
	// which a busy machine disturbs less.
	run := func(size string) (wall, cpu time.Duration) {
		mustExec(b, conn, "SET @@llm_batch_size = "+size)
		start, cpu0 := time.Now(), processCPU(b)
		expectRowCount(b, conn, q, rows)
		return time.Since(start), processCPU(b) - cpu0
	}
	var batched, unbatched, batchedCPU, unbatchedCPU time.Duration
	b.ResetTimer()
	for range b.N {
		w, c := run("0")
		unbatched, unbatchedCPU = unbatched+w, unbatchedCPU+c
		w, c = run("64")
		batched, batchedCPU = batched+w, batchedCPU+c
	}
	perOp := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(perOp(unbatched), "unbatched-ms/op")
	b.ReportMetric(perOp(batched), "batched-ms/op")
	b.ReportMetric(float64(unbatched)/float64(batched), "speedup")
	b.ReportMetric(perOp(unbatchedCPU), "unbatched-cpu-ms/op")
	b.ReportMetric(perOp(batchedCPU), "batched-cpu-ms/op")
	b.ReportMetric(float64(unbatchedCPU)/float64(batchedCPU), "cpu-speedup")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
