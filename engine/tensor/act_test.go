package tensor

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/quant"
)

func TestHalfConversions(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := halfToFloat(uint16(h)), quant.FP16ToFP32(uint16(h))
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("half %#04x: got %g, want NaN", h, got)
			}
			continue
		}
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("half %#04x: got %g, want %g", h, got, want)
		}
		// Every half converts back to itself.
		if back := floatToHalf(got); back != uint16(h) {
			t.Fatalf("half %#04x round trip gave %#04x", h, back)
		}
	}
	rng := newRand(4)
	specials := []float32{0, -0, 65504, 65519.99, 65520, -65520, 1e-8, 2.98e-8, 2.99e-8, 5.96e-8, 6.1e-5, 6.0e-5,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, 1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 1 + 3*0x1p-11}
	for i := 0; i < 200000; i++ {
		var f float32
		if i < len(specials) {
			f = specials[i]
		} else {
			f = math.Float32frombits(rng.Uint32())
			if math.IsNaN(float64(f)) {
				continue
			}
		}
		if got, want := floatToHalf(f), quant.FP32ToFP16(f); got != want {
			t.Fatalf("floatToHalf(%g = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
		if got, want := floatToBF16(f), quant.FP32ToBF16(f); got != want {
			t.Fatalf("floatToBF16(%g) = %#04x, want %#04x", f, got, want)
		}
	}
}

// TestQ8KMatchesReference: ggml-cpu on x86 quantizes Q8_K activations with
// the reference code, so ours must match quant's bit for bit.
func TestQ8KMatchesReference(t *testing.T) {
	rng := newRand(5)
	for _, n := range []int{256, 512, 4096} {
		x := randomAct(rng, n, false)
		x[7] = 0 // and a block of zeros below
		if n >= 512 {
			clear(x[256:512])
		}
		got := make([]byte, n/256*292)
		want := make([]byte, n/256*292)
		QuantizeQ8_K(got, x)
		if err := quant.Quantize(gguf.TypeQ8_K, want, x); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: Q8_K differs from the reference", n)
		}
	}
}

// TestQ8_0And1NearReference: the x86 activation quantizers multiply by
// 127/amax and round ties to even where the reference multiplies by 1/d
// and rounds half away from zero; the scale must agree exactly and a quant
// may differ by one, rarely.
func TestQ8_0And1NearReference(t *testing.T) {
	rng := newRand(6)
	const n = 32 * 4096
	x := randomAct(rng, n, false)
	for _, tc := range []struct {
		typ   gguf.GGMLType
		bs    int
		qOff  int
		quant func(dst []byte, x []float32)
	}{{gguf.TypeQ8_0, 34, 2, QuantizeQ8_0}, {gguf.TypeQ8_1, 36, 4, QuantizeQ8_1}} {
		got := make([]byte, n/32*tc.bs)
		want := make([]byte, n/32*tc.bs)
		tc.quant(got, x)
		if err := quant.Quantize(tc.typ, want, x); err != nil {
			t.Fatal(err)
		}
		diffs := 0
		for b := 0; b < n/32; b++ {
			g, w := got[b*tc.bs:(b+1)*tc.bs], want[b*tc.bs:(b+1)*tc.bs]
			if g[0] != w[0] || g[1] != w[1] {
				t.Fatalf("%s block %d: d %#04x, reference %#04x", tc.typ, b, binary.LittleEndian.Uint16(g), binary.LittleEndian.Uint16(w))
			}
			blockDiffs := 0
			for i := tc.qOff; i < tc.bs; i++ {
				if d := int(int8(g[i])) - int(int8(w[i])); d != 0 {
					if d < -1 || d > 1 {
						t.Fatalf("%s block %d: quant %d is %d, reference %d", tc.typ, b, i-tc.qOff, int8(g[i]), int8(w[i]))
					}
					blockDiffs++
				}
			}
			diffs += blockDiffs
			if tc.typ == gguf.TypeQ8_1 && blockDiffs == 0 && (g[2] != w[2] || g[3] != w[3]) {
				t.Fatalf("Q8_1 block %d: same quants but s differs", b)
			}
		}
		if diffs > n/1000 {
			t.Errorf("%s: %d of %d quants differ from the reference", tc.typ, diffs, n)
		}
	}
	// A real tie: amax 127 makes the multiplier exactly 1.
	tie := make([]float32, 32)
	tie[0], tie[1], tie[2], tie[3] = 127, 2.5, -2.5, 3.5
	var blk [34]byte
	QuantizeQ8_0(blk[:], tie)
	if q := [3]int8{int8(blk[3]), int8(blk[4]), int8(blk[5])}; q != [3]int8{2, -2, 4} {
		t.Errorf("ties rounded to %v, want [2 -2 4] (nearest even)", q)
	}
}

func TestActLayoutsMatchBlocks(t *testing.T) {
	rng := newRand(7)
	x := randomAct(rng, 512, false)
	f := formats[gguf.TypeQ4_0]
	a := make([]byte, actBytes(actQ8_0, 512))
	quantizeAct(f, actQ8_0, a, x)
	ref := make([]byte, 16*34)
	QuantizeQ8_0(ref, x)
	for b := 0; b < 16; b++ {
		blk := a[b*q8BlockBytes:]
		if !bytes.Equal(blk[:32], ref[b*34+2:b*34+34]) {
			t.Fatalf("block %d quants differ", b)
		}
		if getF32(blk[32:]) != getHalf(ref[b*34:]) {
			t.Fatalf("block %d scale differs", b)
		}
		var sum int32
		for _, q := range blk[:32] {
			sum += int32(int8(q))
		}
		if c := int32(binary.LittleEndian.Uint32(blk[36:])); c != -f.corr*sum {
			t.Fatalf("block %d corr %d, want %d", b, c, -f.corr*sum)
		}
	}
	k := make([]byte, actBytes(actQ8_K, 512))
	quantizeAct(formats[gguf.TypeQ4_K], actQ8_K, k, x)
	refK := make([]byte, 2*292)
	QuantizeQ8_K(refK, x)
	for b := 0; b < 2; b++ {
		blk, r := k[b*q8KBlockBytes:], refK[b*292:]
		if !bytes.Equal(blk[:256], r[4:260]) || !bytes.Equal(blk[q8KBsums16:q8KBsums16+32], r[260:292]) || getF32(blk[q8KD:]) != getF32(r) {
			t.Fatalf("Q8_K block %d differs from the ggml layout", b)
		}
		for j := 0; j < 8; j++ {
			if q8kBsum32(blk, j) != q8kBsum16(blk, 2*j)+q8kBsum16(blk, 2*j+1) {
				t.Fatalf("Q8_K block %d: bsums32[%d] wrong", b, j)
			}
		}
	}
}

// TestActQuantizersMatchGo holds each level's activation conversions to
// the Go loops byte for byte, on data with zeros, ties and extremes.
func TestActQuantizersMatchGo(t *testing.T) {
	rng := newRand(17)
	const n = 32 * 200
	x := randomAct(rng, n, false)
	clear(x[64:96]) // an all-zero block
	for i := 96; i < 128; i++ {
		x[i] = float32(i%7) - 3 + 0.5 // ties after scaling by 127/3.5
	}
	clear(x[512:768])        // an all-zero Q8_K block
	x[1030], x[1100] = -9, 9 // max magnitude twice: the first one's sign counts
	x[130] = 1e30
	x[170] = -3e-39  // subnormal
	x[200] = 65519.9 // F16 rounding to Inf
	for _, lvl := range Levels() {
		restore, _ := SetLevel(lvl)
		for _, typ := range []gguf.GGMLType{gguf.TypeQ4_0, gguf.TypeQ8_0, gguf.TypeQ4_1, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ4_K} {
			f := formats[typ]
			im := f.implAt(levelGo)
			for _, m := range []int{n, n - 32, 32} {
				if f.block > m || m%f.actBlock() != 0 {
					continue
				}
				got := make([]byte, actBytes(im.act, m))
				want := make([]byte, actBytes(im.act, m))
				quantizeAct(f, im.act, got, x[:m])
				r2, _ := SetLevel("go")
				quantizeAct(f, im.act, want, x[:m])
				r2()
				if !bytes.Equal(got, want) {
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s %s n=%d: byte %d is %#x, Go gives %#x", lvl, typ, m, i, got[i], want[i])
						}
					}
				}
			}
		}
		restore()
	}
}

// TestFloatsToHalves: the vector conversion gives floatToHalf's bits at
// every level, NaN payloads, the round-to-even boundaries, subnormals and
// the tails of lengths not a multiple of the vector included.
func TestFloatsToHalves(t *testing.T) {
	rng := newRand(6)
	src := []float32{0, float32(math.Copysign(0, -1)), 65504, 65519.99, 65520, -65520, 2.98e-8, 2.99e-8, 5.96e-8,
		6.1e-5, 6.0e-5, 1 + 0x1p-11, 1 + 3*0x1p-11, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xff812345), math.Float32frombits(0x7f801000)}
	for len(src) < 4096 {
		src = append(src, math.Float32frombits(rng.Uint32()))
	}
	forLevels(t, func(t *testing.T, lvl string) {
		for _, n := range []int{0, 1, 7, 8, 9, 17, 40, len(src)} {
			dst := make([]uint16, n+1)
			dst[n] = 0xbeef
			FloatsToHalves(dst, src[:n])
			for i, f := range src[:n] {
				if want := floatToHalf(f); dst[i] != want {
					t.Fatalf("n=%d: %#08x -> %#04x, want %#04x", n, math.Float32bits(f), dst[i], want)
				}
			}
			if dst[n] != 0xbeef {
				t.Fatalf("n=%d: wrote past the end", n)
			}
		}
	})
}
