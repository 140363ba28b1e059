package libm

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestExhaustive compares every float32 input against glibc itself, through
// the stream mode of a binary built from testdata/gen.c (see its header):
//
//	gcc -O2 -mfma -ffp-contract=off -o /tmp/libmgen engine/libm/testdata/gen.c -lm
//	LIBM_GEN=/tmp/libmgen go test -run Exhaustive -v -timeout 0 ./engine/libm
//
// LIBM_FUNCS (e.g. "sinf,cosf") and LIBM_RANGE ("lo:hi", encodings,
// hi exclusive) narrow the run. It needs the glibc of the machine the data
// should match, so it skips unless LIBM_GEN is set.
func TestExhaustive(t *testing.T) {
	gen := os.Getenv("LIBM_GEN")
	if gen == "" {
		t.Skip("LIBM_GEN (a binary built from testdata/gen.c) not set")
	}
	names := []string{"expf", "sinf", "cosf", "tanhf"}
	if s := os.Getenv("LIBM_FUNCS"); s != "" {
		names = strings.Split(s, ",")
	}
	lo, hi := uint64(0), uint64(1)<<32
	if s := os.Getenv("LIBM_RANGE"); s != "" {
		a, b, ok := strings.Cut(s, ":")
		var err1, err2 error
		lo, err1 = strconv.ParseUint(a, 0, 64)
		hi, err2 = strconv.ParseUint(b, 0, 64)
		if !ok || err1 != nil || err2 != nil || lo > hi || hi > 1<<32 {
			t.Fatalf("bad LIBM_RANGE %q", s)
		}
	}
	for _, name := range names {
		fn, ok := funcs[name]
		if !ok {
			t.Fatalf("unknown function %q", name)
		}
		// The range llama.cpp's inputs fall in, counted separately.
		inDomain := func(x float32) bool { return x >= -104 && x <= 89 }
		if name != "expf" {
			inDomain = func(x float32) bool { return x >= -10000 && x <= 10000 }
		}
		r := compareRange(t, gen, name, fn, inDomain, lo, hi)
		t.Logf("%s: %d inputs [%#x, %#x) compared, %d mismatches (%d of %d in domain)",
			name, r.total, lo, hi, r.bad, r.badDomain, r.domain)
		if r.bad > 0 {
			t.Errorf("%s: %d mismatches", name, r.bad)
		}
	}
}

type compareResult struct {
	total, bad, domain, badDomain uint64
}

// compareRange splits [lo, hi) into chunks, streams glibc's results for each
// from a gen process and compares, on GOMAXPROCS workers.
func compareRange(t *testing.T, gen, name string, fn func(float32) float32,
	inDomain func(float32) bool, lo, hi uint64) compareResult {
	const chunk = 1 << 26
	next := make(chan uint64)
	go func() {
		for c := lo; c < hi; c += chunk {
			next <- c
		}
		close(next)
	}()

	var mu sync.Mutex
	var res compareResult
	reported := 0
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				end := min(start+chunk, hi)
				var r compareResult
				err := streamGlibc(gen, name, start, end, func(i uint64, want uint32) {
					x := math.Float32frombits(uint32(i))
					got := math.Float32bits(fn(x))
					dom := inDomain(x)
					r.total++
					if dom {
						r.domain++
					}
					if got != want {
						r.bad++
						if dom {
							r.badDomain++
						}
						mu.Lock()
						if reported++; reported <= 20 {
							t.Errorf("%s(%g [%08x]) = %08x, glibc %08x", name, x, uint32(i), got, want)
						}
						mu.Unlock()
					}
				})
				mu.Lock()
				if err != nil {
					t.Errorf("%s [%#x, %#x): %v", name, start, end, err)
				}
				res.total += r.total
				res.bad += r.bad
				res.domain += r.domain
				res.badDomain += r.badDomain
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if res.total != hi-lo {
		t.Errorf("%s: compared %d inputs, want %d", name, res.total, hi-lo)
	}
	return res
}

// streamGlibc runs "gen stream name lo hi" and calls f for each result.
func streamGlibc(gen, name string, lo, hi uint64, f func(i uint64, glibc uint32)) error {
	cmd := exec.Command(gen, "stream", name, strconv.FormatUint(lo, 10), strconv.FormatUint(hi, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	br := bufio.NewReaderSize(out, 1<<20)
	buf := make([]byte, 1<<16)
	i := lo
	for i < hi {
		n := min(uint64(len(buf)), 4*(hi-i))
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return err
		}
		for k := uint64(0); k < n; k += 4 {
			f(i, binary.LittleEndian.Uint32(buf[k:]))
			i++
		}
	}
	return cmd.Wait()
}
