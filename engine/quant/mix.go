package quant

import (
	"fmt"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Mix is a llama-quantize file type: a default tensor type plus the rules
// (llama-quant.cpp's llama_tensor_get_type) that give some tensors more
// bits.
type Mix struct {
	Name     string        // as llama-quantize spells it, e.g. "Q4_K_M"
	FileType gguf.FileType // general.file_type written to the output
	Default  gguf.GGMLType
}

// Mixes lists the supported mixes in llama_ftype order.
var Mixes = []Mix{
	{"F32", 0, gguf.TypeF32},
	{"F16", 1, gguf.TypeF16},
	{"Q4_0", 2, gguf.TypeQ4_0},
	{"Q4_1", 3, gguf.TypeQ4_1},
	{"Q8_0", 7, gguf.TypeQ8_0},
	{"Q5_0", 8, gguf.TypeQ5_0},
	{"Q5_1", 9, gguf.TypeQ5_1},
	{"Q2_K", 10, gguf.TypeQ2_K},
	{"Q3_K_S", 11, gguf.TypeQ3_K},
	{"Q3_K_M", 12, gguf.TypeQ3_K},
	{"Q3_K_L", 13, gguf.TypeQ3_K},
	{"Q4_K_S", 14, gguf.TypeQ4_K},
	{"Q4_K_M", 15, gguf.TypeQ4_K},
	{"Q5_K_S", 16, gguf.TypeQ5_K},
	{"Q5_K_M", 17, gguf.TypeQ5_K},
	{"Q6_K", 18, gguf.TypeQ6_K},
	{"BF16", 32, gguf.TypeBF16},
}

// mixAliases are llama-quantize's short names.
var mixAliases = map[string]string{"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"}

// ParseMix finds a mix by name, case-insensitively.
func ParseMix(name string) (Mix, error) {
	n := strings.ToUpper(name)
	if a, ok := mixAliases[n]; ok {
		n = a
	}
	for _, m := range Mixes {
		if m.Name == n {
			return m, nil
		}
	}
	names := make([]string, len(Mixes))
	for i, m := range Mixes {
		names[i] = m.Name
	}
	return Mix{}, fmt.Errorf("unknown quantization type %q (want one of %s)", name, strings.Join(names, ", "))
}

const (
	ftQ2_K   gguf.FileType = 10
	ftQ3_K_S gguf.FileType = 11
	ftQ3_K_M gguf.FileType = 12
	ftQ3_K_L gguf.FileType = 13
	ftQ4_K_S gguf.FileType = 14
	ftQ4_K_M gguf.FileType = 15
	ftQ5_K_M gguf.FileType = 17
)
