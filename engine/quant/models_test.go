package quant

import (
	"bytes"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/testutil"
)

// TestRequantizeStories re-quantizes every F32 tensor of stories260K.gguf
// that llama-quantize stored quantized in the shared q8_0 and q4_0 files,
// and requires the same bytes.
func TestRequantizeStories(t *testing.T) {
	src, err := gguf.Open(testutil.Shared(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, name := range []string{"models/stories260K-q8_0.gguf", "models/stories260K-q4_0.gguf"} {
		ref, err := gguf.Open(testutil.Shared(t, name))
		if err != nil {
			t.Fatal(err)
		}
		compared := map[gguf.GGMLType]int{}
		for _, rt := range ref.Tensors {
			if rt.Type == gguf.TypeF32 {
				continue
			}
			st := src.Tensor(rt.Name)
			if st == nil || st.Type != gguf.TypeF32 {
				t.Fatalf("%s: source tensor %s missing or not F32", name, rt.Name)
			}
			x := make([]float32, len(st.Data)/4)
			if err := Dequantize(gguf.TypeF32, x, st.Data); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, rt.Type.RowSize(len(x)))
			if err := Quantize(rt.Type, got, x); err != nil {
				t.Fatalf("%s %s: %v", name, rt.Name, err)
			}
			if !bytes.Equal(got, rt.Data) {
				t.Errorf("%s: tensor %s (%s) differs from llama-quantize's", name, rt.Name, rt.Type)
			}
			compared[rt.Type]++
		}
		t.Logf("%s: compared %v", name, compared)
		if len(compared) == 0 {
			t.Errorf("%s: no quantized tensors compared", name)
		}
		ref.Close()
	}
}
