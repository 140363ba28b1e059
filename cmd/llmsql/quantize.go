package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
)

func init() {
	register(&command{
		name:    "quantize",
		summary: "convert a GGUF model's weights to another type, like llama-quantize",
		usage:   "IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize]",
		run:     runQuantize,
	})
}

// quantChunkBytes bounds the output bytes converted per step: a tensor is
// read, converted and written in row chunks of about this size, so a
// 2 GB model never sits in memory as float32.
const quantChunkBytes = 8 << 20

func runQuantize(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(commands["quantize"], stderr)
	threads := fs.Int("threads", runtime.NumCPU(), "goroutines converting rows")
	allowRequant := fs.Bool("allow-requantize", false, "convert tensors that are already quantized (dequantizes first, so precision is lost twice)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usagef("want IN.gguf OUT.gguf TYPE, got %d arguments", len(pos))
	}
	in, out := pos[0], pos[1]
	mix, err := quant.ParseMix(pos[2])
	if err != nil {
		return usagef("%v", err)
	}
	if *threads < 1 {
		return usagef("--threads must be at least 1")
	}

	start := time.Now()
	f, err := gguf.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	plans, err := quant.Plan(f, mix)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := checkConvertible(plans, *allowRequant); err != nil {
		return err
	}

	w := gguf.NewWriter()
	if f.Alignment != 0 {
		w.Alignment = f.Alignment
	}
	w.CopyMetadata(f)
	// llama-quantize drops split bookkeeping and appends these two keys
	// last (gguf_set_val removes an existing key before adding it).
	for _, k := range []string{"split.no", "split.count", "split.tensors.count",
		"general.quantization_version", "general.file_type"} {
		w.Delete(k)
	}
	w.Set("general.quantization_version", gguf.Uint32(2))
	w.Set("general.file_type", gguf.Uint32(uint32(mix.FileType)))

	var buf []byte // reused: the writer fills one tensor at a time
	var inBytes, outBytes int64
	fallbacks := 0
	for _, p := range plans {
		inBytes += int64(len(p.Tensor.Data))
	}
	// Progress counts the input bytes converted, over all tensors.
	prog := newProgress(stderr, "quantizing "+filepath.Base(in), inBytes, unitBytes)
	var before int64 // input bytes of the tensors already written
	for i, p := range plans {
		if p.Fallback {
			fallbacks++
		}
		outBytes += int64(p.Type.RowSize(int(p.Tensor.Dims[0])) * p.Tensor.Rows())
		if err := w.AddTensorFunc(p.Tensor.Name, p.Type, p.Tensor.Dims, func(dst io.Writer) error {
			prog.Describe(quantStep(i, len(plans), p))
			n := int64(len(p.Tensor.Data))
			err := writeTensor(dst, p, &buf, *threads, func(frac float64) { prog.Set(before + int64(frac*float64(n))) })
			before += n
			return err
		}); err != nil {
			return err
		}
	}
	err = writeAtomically(out, w)
	prog.Finish()
	if err != nil {
		return err
	}
	note := ""
	if fallbacks > 0 {
		note = fmt.Sprintf(" (%d with rows that did not fit their type)", fallbacks)
	}
	fmt.Fprintf(stdout, "quantized %s (%.1f MiB) to %s as %s: %.1f MiB, %d tensors%s, %.1fs\n",
		in, float64(inBytes)/(1<<20), out, mix.Name, float64(outBytes)/(1<<20), len(plans), note, time.Since(start).Seconds())
	return nil
}

// checkConvertible refuses, before anything is written, tensors whose
// source type cannot be turned into their planned type.
func checkConvertible(plans []quant.TensorPlan, allowRequant bool) error {
	for _, p := range plans {
		from := p.Tensor.Type
		if p.Type == from {
			continue
		}
		ti, _ := from.Info()
		switch {
		case !quant.Supported(from):
			return fmt.Errorf("tensor %s has type %s, which cannot be converted (inputs may be F32, F16, BF16, or with --allow-requantize a quantized type this build decodes)", p.Tensor.Name, from)
		case ti.Quantized && !allowRequant:
			return fmt.Errorf("tensor %s is already quantized (%s); requantizing is disabled without --allow-requantize", p.Tensor.Name, from)
		}
	}
	return nil
}

// writeTensor writes one tensor's bytes in its planned type, checking the
// input (as llama.cpp's loader does) and the output for Inf and NaN. buf is
// scratch kept between calls.
func writeTensor(dst io.Writer, p quant.TensorPlan, buf *[]byte, threads int, progress func(float64)) error {
	t := p.Tensor
	from, to := t.Type, p.Type
	if from == to {
		if quant.Supported(from) {
			if err := quant.Validate(from, t.Data); err != nil {
				return fmt.Errorf("invalid data: %w", err)
			}
		}
		_, err := dst.Write(t.Data)
		progress(1)
		return err
	}
	rowLen, rows := int(t.Dims[0]), t.Rows()
	if rowLen == 0 || rows == 0 {
		progress(1)
		return nil
	}
	srcRow, dstRow := from.RowSize(rowLen), to.RowSize(rowLen)
	step := max(1, quantChunkBytes/max(srcRow, dstRow))
	if need := min(step, rows) * dstRow; cap(*buf) < need {
		*buf = make([]byte, need)
	}
	for r := 0; r < rows; r += step {
		n := min(step, rows-r)
		src, out := t.Data[r*srcRow:(r+n)*srcRow], (*buf)[:n*dstRow]
		if err := quant.Validate(from, src); err != nil {
			return fmt.Errorf("invalid data in rows %d..%d: %w", r, r+n-1, err)
		}
		if err := quant.ConvertRows(out, to, src, from, rowLen, threads); err != nil {
			return err
		}
		if err := quant.Validate(to, out); err != nil {
			return fmt.Errorf("%s result failed validation in rows %d..%d: %w", to, r, r+n-1, err)
		}
		if _, err := dst.Write(out); err != nil {
			return err
		}
		progress(float64(r+n) / float64(rows))
	}
	return nil
}

// writeAtomically writes the file under a temporary name beside path and
// renames it into place, so a failure never leaves a truncated model (and
// OUT may even be IN, which stays mapped until the end). The file gets the
// permissions a newly created file gets (0666 less the umask, as
// llama-quantize's), or those of the file it replaces.
func writeAtomically(path string, w *gguf.Writer) error {
	tmp, err := createBeside(path)
	if err != nil {
		return err
	}
	_, err = w.WriteTo(tmp)
	if st, serr := os.Stat(path); err == nil && serr == nil && st.Mode().IsRegular() {
		err = tmp.Chmod(st.Mode().Perm())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// createBeside creates a new file with an unused temporary name in path's
// directory, mode 0666 less the umask (os.CreateTemp's are 0600).
func createBeside(path string) (*os.File, error) {
	for {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%x.tmp", filepath.Base(path), b))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// quantStep describes tensor i of n for the progress line, e.g.
// "[12/201] blk.3.attn_q.weight F16 -> Q4_K".
func quantStep(i, n int, tp quant.TensorPlan) string {
	name := tp.Tensor.Name
	if len(name) > 32 {
		name = "…" + name[len(name)-31:]
	}
	conv := tp.Type.String()
	if tp.Type != tp.Tensor.Type {
		conv = tp.Tensor.Type.String() + " -> " + conv
	}
	return fmt.Sprintf("[%*d/%d] %s %s", len(fmt.Sprint(n)), i+1, n, name, conv)
}
