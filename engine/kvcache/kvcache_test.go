package kvcache

import "testing"

func TestSlotsAreSeparateAndPrefixCopies(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		c, err := New(Config{Layers: 2, Slots: 3, Context: 8, KVDim: 4, F32: f32})
		if err != nil {
			t.Fatal(err)
		}
		// Fill slot 0 with a pattern in both layers.
		for l := 0; l < 2; l++ {
			if f32 {
				k, v := c.K32(l, 0, 5), c.V32(l, 0, 5)
				for i := range k {
					k[i], v[i] = float32(100*l+i), float32(-100*l-i)
				}
			} else {
				k, v := c.K16(l, 0, 5), c.V16(l, 0, 5)
				for i := range k {
					k[i], v[i] = uint16(100*l+i), uint16(1000+100*l+i)
				}
			}
		}
		c.SetLen(0, 5)
		if err := c.CopyPrefix(2, 0, 3); err != nil {
			t.Fatal(err)
		}
		if c.Len(2) != 3 || c.Len(1) != 0 {
			t.Fatalf("lens %d %d", c.Len(2), c.Len(1))
		}
		for l := 0; l < 2; l++ {
			for i := 0; i < 3*4; i++ {
				if f32 {
					if c.K32(l, 2, 3)[i] != float32(100*l+i) || c.V32(l, 2, 3)[i] != float32(-100*l-i) {
						t.Fatalf("f32 layer %d elem %d not copied", l, i)
					}
					if c.K32(l, 1, 3)[i] != 0 {
						t.Fatal("slot 1 touched")
					}
				} else {
					if c.K16(l, 2, 3)[i] != uint16(100*l+i) || c.V16(l, 2, 3)[i] != uint16(1000+100*l+i) {
						t.Fatalf("f16 layer %d elem %d not copied", l, i)
					}
					if c.K16(l, 1, 3)[i] != 0 {
						t.Fatal("slot 1 touched")
					}
				}
			}
		}
		if err := c.CopyPrefix(1, 0, 6); err == nil {
			t.Fatal("copied more positions than the slot holds")
		}
		c.Clear(0)
		if c.Len(0) != 0 {
			t.Fatal("clear kept positions")
		}
		per := int64(2)
		if f32 {
			per = 4
		}
		if c.BytesPerToken() != 2*2*4*per || c.Bytes() != c.BytesPerToken()*8*3 {
			t.Fatalf("sizes %d %d", c.BytesPerToken(), c.Bytes())
		}
	}
}

func TestRefusesBadSizes(t *testing.T) {
	for _, cfg := range []Config{{}, {Layers: 1, Slots: 1, Context: 1, KVDim: -1}, {Layers: 1 << 20, Slots: 1 << 20, Context: 1 << 20, KVDim: 1 << 20}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
