package tokenizer

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
// the other 68 bytes map to U+0100 upwards in byte order. Byte-level BPE
// vocabularies are written in this alphabet.
var (
	byteToRune [256]rune
	byteToUTF8 [256]string
	runeToByte [324]int16 // -1 for code points outside the alphabet
	byteEnc    [256]struct {
		b [2]byte
		n int
	}
)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
	}
	for i := range runeToByte {
		runeToByte[i] = -1
	}
	for b, r := range byteToRune {
		byteToUTF8[b] = string(r)
		byteEnc[b].n = copy(byteEnc[b].b[:], byteToUTF8[b])
		runeToByte[r] = int16(b)
	}
}

// appendByteEncoded appends s written in the byte alphabet.
func appendByteEncoded(dst []byte, s []byte) []byte {
	for _, b := range s {
		enc := &byteEnc[b]
		dst = append(dst, enc.b[:enc.n]...)
	}
	return dst
}
