package fakehub

import (
	"bytes"
	"fmt"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Split cuts a GGUF model into n parts as llama.cpp's gguf-split does: the
// first part holds the metadata, every part split.no, split.count and
// split.tensors.count, and the tensors are shared out in order. It returns
// the parts' bytes, for serving as NAME-0000i-of-0000n.gguf.
func Split(f *gguf.File, n int) ([][]byte, error) {
	if n < 2 || n > len(f.Tensors) {
		return nil, fmt.Errorf("cannot split %d tensors in %d parts", len(f.Tensors), n)
	}
	per := (len(f.Tensors) + n - 1) / n
	out := make([][]byte, n)
	for i := 0; i < n; i++ {
		w := gguf.NewWriter()
		if f.Alignment != 0 {
			w.Alignment = f.Alignment
		}
		if i == 0 {
			w.CopyMetadata(f)
		}
		w.Set("split.no", gguf.Uint16(uint16(i)))
		w.Set("split.count", gguf.Uint16(uint16(n)))
		w.Set("split.tensors.count", gguf.Int32(int32(len(f.Tensors))))
		for _, t := range f.Tensors[min(i*per, len(f.Tensors)):min((i+1)*per, len(f.Tensors))] {
			if err := w.AddTensor(t.Name, t.Type, t.Dims, t.Data); err != nil {
				return nil, err
			}
		}
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			return nil, err
		}
		out[i] = b.Bytes()
	}
	return out, nil
}
