package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// buildPieces renders every token the way llama.cpp's token_to_piece does
// with special=true, once, into one buffer.
func (t *Tokenizer) buildPieces() {
	t.pieceOff = make([]uint32, len(t.tokens)+1)
	buf := make([]byte, 0, len(t.tokens)*6)
	for id, text := range t.tokens {
		buf = t.appendPiece(buf, int32(id), text)
		t.pieceOff[id+1] = uint32(len(buf))
	}
	t.pieceBuf = buf
}

func (t *Tokenizer) appendPiece(buf []byte, id int32, text string) []byte {
	a := t.attrs[id]
	switch {
	case a&(attrUnknown|attrControl|attrUserDefined) != 0:
		return append(buf, text...)
	case a&attrNormal != 0:
		if t.kind == kindBPE && !t.pre.escapeSpaces {
			return appendByteDecoded(buf, text)
		}
		return appendUnescaped(buf, text)
	case a&attrByte != 0:
		return append(buf, tokenByte(text))
	}
	return buf
}

// appendUnescaped turns SentencePiece's ▁ back into spaces.
func appendUnescaped(buf []byte, s string) []byte {
	for {
		i := strings.Index(s, "▁")
		if i < 0 {
			return append(buf, s...)
		}
		buf = append(append(buf, s[:i]...), ' ')
		s = s[i+len("▁"):]
	}
}

// appendByteDecoded is llama_decode_text: each code point of a byte-level
// token stands for one byte. Code points outside the alphabet come out as
// llama.cpp writes them, "[UNK_BYTE_0x<hex>" followed by the whole token
// text and "]".
func appendByteDecoded(buf []byte, s string) []byte {
	n := len(buf)
	for _, r := range s {
		if r >= rune(len(runeToByte)) || runeToByte[r] < 0 {
			return appendByteDecodedSlow(buf[:n], s)
		}
		buf = append(buf, byte(runeToByte[r]))
	}
	return buf
}

// appendByteDecodedSlow handles tokens with code points outside the
// alphabet, decoding the text as llama.cpp does.
func appendByteDecodedSlow(buf []byte, s string) []byte {
	var cps [64]rune
	for _, r := range decodeCodepoints(s, cps[:0]) {
		if r >= 0 && int(r) < len(runeToByte) && runeToByte[r] >= 0 {
			buf = append(buf, byte(runeToByte[r]))
			continue
		}
		buf = append(buf, "[UNK_BYTE_0x"...)
		for _, b := range appendCodepoint(nil, r) {
			buf = fmt.Appendf(buf, "%02x", b)
		}
		buf = append(append(buf, s...), ']')
	}
	return buf
}

// tokenByte is token_to_byte: strtol(text.substr(3, 2), 16) for "<0xXX>".
func tokenByte(text string) byte {
	v := 0
	for i := 3; i < len(text) && i < 5; i++ {
		c := text[i]
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		default:
			return byte(v)
		}
		v = v*16 + d
	}
	return byte(v)
}

// Piece is llama_token_to_piece(id, special=false): the text the token
// stands for, with control and unknown tokens rendered empty. Byte tokens
// give their single (possibly partial UTF-8) byte. Ids outside the
// vocabulary give "".
func (t *Tokenizer) Piece(id int32) string {
	if !t.valid(id) || t.attrs[id]&(attrUnknown|attrControl) != 0 {
		return ""
	}
	return string(t.pieceBuf[t.pieceOff[id]:t.pieceOff[id+1]])
}

// PieceSpecial is llama_token_to_piece(id, special=true): like Piece, but
// control and unknown tokens give their text (e.g. "<|im_end|>"). It is the
// text llama.cpp's grammar sampler matches each token against.
func (t *Tokenizer) PieceSpecial(id int32) string {
	if !t.valid(id) {
		return ""
	}
	return string(t.pieceBuf[t.pieceOff[id]:t.pieceOff[id+1]])
}

func (t *Tokenizer) pieceBytes(id int32) []byte {
	if !t.valid(id) || t.attrs[id]&(attrUnknown|attrControl) != 0 {
		return nil
	}
	return t.pieceBuf[t.pieceOff[id]:t.pieceOff[id+1]]
}

// Decode is llama_detokenize(ids, remove_special=false,
// unparse_special=false): the pieces of ids concatenated, without the space
// the first piece carries when the vocabulary adds a space prefix, and with
// llama.cpp's clean-up of spaces before punctuation for vocabularies that
// ask for it (clean_spaces: most byte-level BPE and WordPiece ones). Ids
// outside the vocabulary are skipped. The result is the raw bytes, which
// need not be valid UTF-8 if ids end inside a character.
func (t *Tokenizer) Decode(ids []int32) string {
	var buf []byte
	removeSpace := t.addSpacePrefix
	for _, id := range ids {
		if !t.valid(id) {
			continue
		}
		p := t.pieceBytes(id)
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		buf = append(buf, p...)
	}
	if t.cleanSpaces {
		buf = cleanSpaces(buf)
	}
	return string(buf)
}

// cleanSpaces is the clean_spaces pass of llama_vocab::impl::detokenize,
// kept as llama.cpp writes it: three in-place compactions that read
// neighbours from the partly rewritten buffer.
func cleanSpaces(text []byte) []byte {
	total := len(text)
	if total == 0 {
		return text
	}
	// " ?", " !", " .", " ," lose their space.
	total1 := total
	total = 1
	for i := 1; i < total1; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	// " ' " becomes "'".
	total2 := total
	total = 1
	for i := 1; i < total2; i++ {
		x := text[i]
		if x == '\'' && i+1 < total2 && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			i++
			text[i] = 0
		}
		text[total] = x
		total++
	}
	// " 's", " 'm", " 're", " 've" lose their space.
	total3 := total
	total = 1
	for i := 1; i < total3; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < total3 {
			x1 := text[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				total--
			case i+2 < total3:
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					total--
				}
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}

// StreamDecoder turns generated tokens into text as they come, holding
// back the bytes of a character split across tokens until it is complete.
// Its output is always valid UTF-8 (bytes that can never form a character
// come out as U+FFFD) and, for valid text, is the concatenation of the
// tokens' pieces. A StreamDecoder belongs to one stream: it is not safe
// for concurrent use (the Tokenizer it came from is).
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
}

// NewStreamDecoder starts a decoder.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Add appends id's piece and returns the text that is now complete.
func (d *StreamDecoder) Add(id int32) string {
	d.pending = append(d.pending, d.t.pieceBytes(id)...)
	cut := completePrefix(d.pending)
	if cut == 0 {
		return ""
	}
	out := validUTF8(d.pending[:cut])
	d.pending = append(d.pending[:0], d.pending[cut:]...)
	return out
}

// Flush returns whatever is held back; call it when the stream ends.
func (d *StreamDecoder) Flush() string {
	out := validUTF8(d.pending)
	d.pending = d.pending[:0]
	return out
}

// completePrefix is the length of p without a trailing, still incomplete
// UTF-8 sequence.
func completePrefix(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if p[i]&0xC0 != 0x80 {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}

func validUTF8(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	return strings.ToValidUTF8(string(p), "\uFFFD")
}
