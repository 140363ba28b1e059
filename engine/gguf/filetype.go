package gguf

import (
	"fmt"
	"sort"
)

// FileType returns general.file_type, or, in a file without it (files
// converted from llama2.c and other early F32 files), llama.cpp's guess:
// the mix named after the most common tensor type, counted over the
// tensors in llama.cpp's order (by layer, then name; the first type to
// take the lead keeps a tie), Q3_K/Q4_K/Q5_K read as their _M mixes and
// an unknown type as ALL_F32 (llama_model_loader). guessed says which.
func (f *File) FileType() (ft FileType, guessed bool, err error) {
	if f.Has("general.file_type") {
		n, err := f.Int("general.file_type")
		if err != nil {
			return 0, false, err
		}
		if n < 0 || n > 0xFFFFFFFF {
			return 0, false, fmt.Errorf("general.file_type %d out of range", n)
		}
		return FileType(n), false, nil
	}
	type named struct {
		layer int
		name  string
		typ   GGMLType
	}
	ts := make([]named, len(f.Tensors))
	for i, t := range f.Tensors {
		ts[i] = named{layerOf(t.Name), t.Name, t.Type}
	}
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].layer != ts[j].layer {
			return ts[i].layer < ts[j].layer
		}
		return ts[i].name < ts[j].name
	})
	count := map[GGMLType]int{}
	best, most := TypeF32, 0
	for _, t := range ts {
		count[t.typ]++
		if count[t.typ] > most {
			best, most = t.typ, count[t.typ]
		}
	}
	ft, ok := guessedFileTypes[best]
	if !ok {
		ft = 0
	}
	return ft, true, nil
}

// guessedFileTypes maps a file's most common tensor type to the mix
// llama.cpp guesses (llama_model_loader's switch).
var guessedFileTypes = map[GGMLType]FileType{
	TypeF32: 0, TypeF16: 1, TypeBF16: 32, TypeQ4_0: 2, TypeQ4_1: 3, TypeQ5_0: 8, TypeQ5_1: 9,
	TypeQ8_0: 7, TypeQ2_K: 10, TypeQ3_K: 12, TypeQ4_K: 15, TypeQ5_K: 17, TypeQ6_K: 18,
	TypeTQ1_0: 36, TypeTQ2_0: 37, TypeIQ2_XXS: 19, TypeIQ2_XS: 20, TypeIQ2_S: 28,
	TypeIQ3_XXS: 23, TypeIQ1_S: 24, TypeIQ1_M: 31, TypeIQ4_NL: 25, TypeIQ4_XS: 30,
	TypeIQ3_S: 26, TypeNVFP4: 39, TypeQ1_0: 40, TypeQ2_0: 41,
}

// layerOf is the block number in a "blk.N." tensor name, -1 for others,
// as llama.cpp's sscanf("blk.%d.") leaves it.
func layerOf(name string) int {
	const p = "blk."
	if len(name) <= len(p) || name[:len(p)] != p {
		return -1
	}
	var n int
	if _, err := fmt.Sscanf(name[len(p):], "%d", &n); err != nil {
		return -1
	}
	return n
}
