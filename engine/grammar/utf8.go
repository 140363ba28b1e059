package grammar

// partial is a UTF-8 sequence a token ended in the middle of: the bits
// decoded so far and how many continuation bytes are still to come
// (llama_partial_utf8). n < 0 marks an invalid sequence.
type partial struct {
	value uint32
	n     int8
}

// decodePiece decodes a token's text as llama.cpp's grammar does
// (decode_utf8 with a partial start): it finishes the sequence an earlier
// token left open, then decodes the rest, possibly ending in an open
// sequence of its own. The text ends at its first NUL byte (llama.cpp reads
// a C string). ok is false for an invalid sequence, which llama.cpp turns
// into a token no grammar state accepts.
//
// llama.cpp checks only the first byte of each sequence: the bytes after a
// lead byte are taken as continuation bytes whatever they are, and a
// sequence continued from an earlier token must go on with continuation
// bytes. decodePiece does the same.
func decodePiece(dst []uint32, piece []byte, start partial) (cps []uint32, end partial, ok bool) {
	lookup := [16]int8{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4}
	cps = dst[:0]
	i := 0
	value, n := start.value, start.n
	for i < len(piece) && piece[i] != 0 && n > 0 {
		b := piece[i]
		if b>>6 != 2 {
			return cps[:0], partial{0, -1}, false
		}
		value = value<<6 + uint32(b&0x3F)
		i++
		n--
	}
	if start.n > 0 && n == 0 {
		cps = append(cps, value)
	}
	for i < len(piece) && piece[i] != 0 {
		first := piece[i]
		n = lookup[first>>4] - 1
		if n < 0 {
			return cps[:0], partial{0, n}, false
		}
		value = uint32(first) & (1<<(7-n) - 1)
		i++
		for i < len(piece) && piece[i] != 0 && n > 0 {
			value = value<<6 + uint32(piece[i]&0x3F)
			i++
			n--
		}
		if n == 0 {
			cps = append(cps, value)
		}
	}
	return cps, partial{value, n}, true
}

// cstring is piece up to its first NUL byte.
func cstring(piece []byte) []byte {
	for i, b := range piece {
		if b == 0 {
			return piece[:i]
		}
	}
	return piece
}
