package gguf

import (
	"fmt"
	"strings"
)

// Split models: llama.cpp's gguf-split (and Hugging Face repositories of
// large models) store one model in N files, NAME-00001-of-0000N.gguf to
// NAME-0000N-of-0000N.gguf. The first holds the metadata and split.count;
// every part holds split.no (0-based) and some of the tensors.

// SplitPath is the file name of part idx (1-based) of n for prefix, as
// llama.cpp's llama_split_path writes it.
func SplitPath(prefix string, idx, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.gguf", prefix, idx, n)
}

// openParts opens parts 2..n of the split model whose first part f was
// opened from path, adding their tensors to f (each read into memory when
// resident is set, as Load does); Close closes them too.
func (f *File) openParts(path string, n int, resident bool) error {
	if no, err := f.Uint("split.no"); err == nil && no != 0 {
		return fmt.Errorf("gguf: %s is part %d of a split model of %d: open the first part", path, no+1, n)
	}
	prefix, ok := strings.CutSuffix(path, fmt.Sprintf("-%05d-of-%05d.gguf", 1, n))
	if !ok {
		return fmt.Errorf("gguf: %s is the first of %d parts but is not named NAME-%05d-of-%05d.gguf, so the others cannot be found", path, n, 1, n)
	}
	for idx := 2; idx <= n; idx++ {
		p := SplitPath(prefix, idx, n)
		part, err := openOne(p, resident)
		if err != nil {
			return fmt.Errorf("gguf: part %d of %d of %s: %w", idx, n, path, err)
		}
		f.parts = append(f.parts, part)
		if no, err := part.Uint("split.no"); err != nil || no != uint64(idx-1) {
			return fmt.Errorf("gguf: %s: split.no is not %d", p, idx-1)
		}
		for _, t := range part.Tensors {
			if _, dup := f.tensorIndex[t.Name]; dup {
				return fmt.Errorf("gguf: %s: tensor %q is also in an earlier part", p, t.Name)
			}
			f.tensorIndex[t.Name] = len(f.Tensors)
			f.Tensors = append(f.Tensors, t)
		}
	}
	return nil
}
