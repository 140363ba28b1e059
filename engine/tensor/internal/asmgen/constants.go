package main

import "fmt"

// emitConstants writes the read-only tables the kernels load from memory.
func emitConstants(g *gen) {
	splat := func(name string, b byte) {
		var v [32]byte
		for i := range v {
			v[i] = b
		}
		table(g, name, v[:])
	}
	splat("c0f", 0x0f)
	splat("c03", 0x03)
	splat("c04", 0x04)
	splat("c10", 0x10)
	splat("c30", 0x30)
	splat("c80", 0x80)
	splat("cff", 0xff)
	table(g, "ones16", words(16, func(int) uint16 { return 1 }))
	table(g, "c32w", words(16, func(int) uint16 { return 32 }))

	// bytes_from_bits: byte i takes source byte i/8, then keeps bit i%8.
	var shuf, mask [32]byte
	for i := range shuf {
		shuf[i] = byte(i % 16 / 8)
		if i >= 16 {
			shuf[i] += 2
		}
		mask[i] = ^byte(1 << (i % 8))
	}
	table(g, "bitsShuf", shuf[:])
	table(g, "bitsMask", mask[:])

	// Q4_K/Q5_K scale decoding on the 32-bit lanes [u0,u2,u1,u2] and
	// [u0,u0,u1,u1] of the 12 scale bytes.
	table(g, "k4shift", dwords(0, 0, 0, 4))
	table(g, "k4mask", dwords(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f))
	table(g, "k4hmask", dwords(0, 0x03030303, 0, 0x03030303))
	// k4shuf[j] broadcasts int16 scale j to every lane.
	var k4 []byte
	for j := 0; j < 8; j++ {
		for i := 0; i < 16; i++ {
			k4 = append(k4, byte(2*j), byte(2*j+1))
		}
	}
	table(g, "k4shuf", k4)
	// q6shuf[k] puts int16 scale 2k in the low 128-bit lane and 2k+1 in the
	// high one: the scales of the two 16-element groups of 32 quants.
	var q6 []byte
	for k := 0; k < 4; k++ {
		for i := 0; i < 8; i++ {
			q6 = append(q6, byte(4*k), byte(4*k+1))
		}
		for i := 0; i < 8; i++ {
			q6 = append(q6, byte(4*k+2), byte(4*k+3))
		}
	}
	table(g, "q6shuf", q6)
	// Q3_K scale decoding: lanes [a0,a1,a0,a1] and [a2,a2,a2,a2].
	table(g, "q3shiftL", dwords(0, 0, 4, 4))
	table(g, "q3shiftH", dwords(0, 2, 4, 6))
}

func words(n int, f func(int) uint16) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		v := f(i)
		b = append(b, byte(v), byte(v>>8))
	}
	return b
}

func dwords(v ...uint32) []byte {
	var b []byte
	for _, d := range v {
		b = append(b, byte(d), byte(d>>8), byte(d>>16), byte(d>>24))
	}
	return b
}

func table(g *gen, name string, b []byte) {
	g.raw("\n")
	for off := 0; off < len(b); off += 8 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(b[off+i])
		}
		g.raw(fmt.Sprintf("DATA %s<>+%d(SB)/8, $0x%016x\n", name, off, v))
	}
	g.raw(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $%d\n", name, len(b)))
}
