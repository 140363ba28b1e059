package quant

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/llmsql/llmsql/engine/gguf"
)

// ConvertRows converts whole rows of rowLen values from type from (src) to
// type to (dst), through float32, on up to threads goroutines (0 means
// runtime.NumCPU()). The row count is len(src) / from.RowSize(rowLen), and
// dst must hold exactly as many rows of type to. Equal types are copied.
func ConvertRows(dst []byte, to gguf.GGMLType, src []byte, from gguf.GGMLType, rowLen, threads int) error {
	if !Supported(from) || !Supported(to) {
		if !Supported(from) {
			return fmt.Errorf("%w %s", ErrUnsupported, from)
		}
		return fmt.Errorf("%w %s", ErrUnsupported, to)
	}
	if rowLen <= 0 || rowLen%from.BlockSize() != 0 || rowLen%to.BlockSize() != 0 {
		return fmt.Errorf("quant: row length %d does not fit %s (block %d) and %s (block %d)", rowLen, from, from.BlockSize(), to, to.BlockSize())
	}
	srcRow, dstRow := from.RowSize(rowLen), to.RowSize(rowLen)
	if len(src)%srcRow != 0 {
		return fmt.Errorf("quant: %d bytes is not a whole number of %s rows of %d", len(src), from, rowLen)
	}
	nrows := len(src) / srcRow
	if len(dst) != nrows*dstRow {
		return fmt.Errorf("quant: %d rows of %d %s need %d bytes, dst has %d", nrows, rowLen, to, nrows*dstRow, len(dst))
	}
	if from == to || nrows == 0 {
		copy(dst, src)
		return nil
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	// Rows are handed out a few at a time rather than split evenly: the
	// cores are shared, and a thread that gets less CPU should not hold up
	// the rest.
	step := max(1, 16384/rowLen)
	threads = min(threads, (nrows+step-1)/step)
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		buf := make([]float32, rowLen)
		for {
			r0 := int(next.Add(int64(step))) - step
			if r0 >= nrows {
				return
			}
			for r := r0; r < min(r0+step, nrows); r++ {
				// Lengths were checked above, so neither call can fail.
				_ = Dequantize(from, buf, src[r*srcRow:(r+1)*srcRow])
				_ = Quantize(to, dst[r*dstRow:(r+1)*dstRow], buf)
			}
		}
	}
	wg.Add(threads)
	for range threads - 1 {
		go work()
	}
	work()
	wg.Wait()
	return nil
}
