package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// randomText draws a string from a mix of ASCII, whitespace, punctuation,
// accented and non-Latin letters, CJK, emoji and combining marks.
func randomText(r *rand.Rand, n int) string {
	pools := []string{
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"0123456789",
		"   \t\n\r",
		"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
		"éèüÄÖßçñøåÆœ",
		"абвгдежзийклмнопрстуфхцчшщъыьэюя",
		"αβγδεζηθΩΣ",
		"中文测试日本語のテキスト한국어",
		"😀👍🏽🇺🇸❤️🤖🦙",
		"\u00a0\u3000\u2028\u0085\u200d\u0301\u0308\ufeff\u0000\u001f\u007f",
	}
	var b strings.Builder
	for b.Len() < n {
		p := []rune(pools[r.IntN(len(pools))])
		k := 1 + r.IntN(6)
		for i := 0; i < k; i++ {
			b.WriteRune(p[r.IntN(len(p))])
		}
		if r.IntN(3) == 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// piecesOf concatenates the pieces of ids, and checks that the stream
// decoder produces the same text when it is valid UTF-8.
func piecesOf(t *testing.T, tok *Tokenizer, ids []int32) string {
	t.Helper()
	var all, streamed strings.Builder
	d := tok.NewStreamDecoder()
	for _, id := range ids {
		all.WriteString(tok.Piece(id))
		s := d.Add(id)
		if !utf8.ValidString(s) {
			t.Fatalf("stream decoder emitted invalid UTF-8 %q", s)
		}
		streamed.WriteString(s)
	}
	streamed.WriteString(d.Flush())
	if utf8.ValidString(all.String()) && streamed.String() != all.String() {
		t.Fatalf("stream decoder gave %q, pieces give %q", streamed.String(), all.String())
	}
	return all.String()
}

// hasCleanupPattern reports text that llama.cpp's clean_spaces pass would
// change on decoding (a space before ?!., or before an apostrophe).
func hasCleanupPattern(s string) bool {
	for _, p := range []string{" ?", " !", " .", " ,", " '"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// TestRoundTrip: decoding the encoding gives the text back, for random
// text and the vocab test strings, on vocabularies that can represent any
// text: SPM with byte fallback (any bytes but ▁, which it reserves for the
// space) and byte-level BPE (any valid UTF-8).
func TestRoundTrip(t *testing.T) {
	shared := sharedDir(t)
	r := rand.New(rand.NewPCG(7, 11))
	var texts []string
	for i := 0; i < 300; i++ {
		texts = append(texts, randomText(r, 1+r.IntN(80)))
	}
	for _, name := range []string{"llama-spm", "llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "falcon"} {
		texts := extraTexts(shared, name, texts)
		t.Run(name, func(t *testing.T) {
			tok := loadVocab(t, name)
			for _, text := range texts {
				if tok.kind == kindSPM && strings.Contains(text, "▁") {
					continue
				}
				for _, special := range []bool{false, true} {
					// Without BOS: llama_detokenize drops the SPM space
					// prefix only from the first token.
					ids := tok.Encode(text, false, special)
					for _, id := range ids {
						if !tok.valid(id) {
							t.Fatalf("%q: id %d out of range", text, id)
						}
					}
					got := piecesOf(t, tok, ids)
					if tok.kind == kindSPM {
						// The first piece carries the space prefix.
						got = strings.TrimPrefix(got, " ")
					}
					if !special && got != text {
						t.Errorf("pieces of %q give %q", text, got)
					}
					dec := tok.Decode(ids)
					if !special && (!tok.cleanSpaces || !hasCleanupPattern(text)) && dec != text {
						t.Errorf("Decode(Encode(%q)) = %q", text, dec)
					}
				}
			}
		})
	}
}

// extraTexts adds the vocabulary's own test strings, if any, to texts.
func extraTexts(shared, name string, texts []string) []string {
	out := append([]string(nil), texts...)
	raw, err := os.ReadFile(filepath.Join(shared, "vocab", "ggml-vocab-"+name+".gguf.inp"))
	if err != nil {
		return out
	}
	return append(out, strings.Split(string(raw), "\n__ggml_vocab_test__\n")...)
}

func TestRoundTripInvalidUTF8SPM(t *testing.T) {
	tok := loadVocab(t, "llama-spm")
	for _, text := range []string{"\xff", "a\xc3", "\xe2\x82", "x\x80y", "\xf0\x9f\x98", "ok \xc3\x28 ok"} {
		ids := tok.Encode(text, false, false)
		if got := tok.Decode(ids); got != text {
			t.Errorf("Decode(Encode(%q)) = %q", text, got)
		}
	}
}

// TestSPMStrayLeadByte pins a llama.cpp quirk: SPM symbols are cut by the
// length a lead byte announces, so 0xFF (announcing 4 bytes) takes the ▁
// standing for the following space with it, and that comes back as ▁.
func TestSPMStrayLeadByte(t *testing.T) {
	tok := loadVocab(t, "llama-spm")
	ids := tok.Encode("A\xff 00", false, false)
	want := []int32{319, 258, 229, 153, 132, 29900, 29900} // ▁A <0xFF> <0xE2> <0x96> <0x81> 0 0
	if !equalIDs(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if got := tok.Decode(ids); got != "A\xff▁00" {
		t.Errorf("decoded %q", got)
	}
}

func TestStreamDecoderSplitsCharacters(t *testing.T) {
	tok := loadVocab(t, "llama-spm")
	// 😀 has no token in Llama 2's vocabulary: four byte tokens.
	ids := tok.Encode("a😀b", false, false)
	d := tok.NewStreamDecoder()
	var outs []string
	for _, id := range ids {
		outs = append(outs, d.Add(id))
	}
	if got := strings.Join(outs, "|"); got != " a||||😀|b" {
		t.Errorf("emitted %q (ids %v)", got, ids)
	}
	if f := d.Flush(); f != "" {
		t.Errorf("flush %q", f)
	}
	// A character cut short comes out as U+FFFD at the end.
	d = tok.NewStreamDecoder()
	var s string
	for _, id := range ids[1:3] {
		s += d.Add(id)
	}
	if s != "" {
		t.Errorf("partial character emitted early: %q", s)
	}
	if f := d.Flush(); f != "\uFFFD" {
		t.Errorf("flush of a partial character: %q", f)
	}
	// A stray continuation byte cannot start a character: it is replaced
	// at once rather than held.
	d = tok.NewStreamDecoder()
	if got := d.Add(tok.spmByte[0x80]); got != "\uFFFD" {
		t.Errorf("stray continuation byte gave %q", got)
	}
}

func TestSpecialTokens(t *testing.T) {
	cases := []struct {
		vocab              string
		bos, eos           int32
		addBOS             bool
		eog, notEOG        []int32
		size               int
		controlPiece, text string
		parsed             []int32
	}{
		{"llama-spm", 1, 2, true, []int32{2}, []int32{0, 1, 13}, 32000, "", "<s>x</s>", []int32{1, 921, 2}},
		{"llama-bpe", 128000, 128001, true, []int32{128001, 128009}, []int32{128000, 128006, 128008, 13}, 128256,
			"", "<|start_header_id|>user<|end_header_id|>", []int32{128006, 882, 128007}},
		{"qwen2", 151643, 151645, false, []int32{151643, 151645, 151662, 151663, 151664}, []int32{151644, 198}, 151936,
			"", "<|im_start|>user\n<|im_end|>", []int32{151644, 872, 198, 151645}},
		// [PAD] reads as a fill-in-the-middle pad token, which ends generation.
		{"bert-bge", 101, -1, true, []int32{0}, []int32{101, 102, 100}, 30522, "", "[CLS] hi [SEP]", []int32{101, 7632, 102}},
		{"gpt-2", 50256, 50256, false, []int32{50256}, []int32{0}, 50257, "", "<|endoftext|>", []int32{50256}},
	}
	for _, c := range cases {
		tok := loadVocab(t, c.vocab)
		if tok.BOS() != c.bos || tok.EOS() != c.eos || tok.AddBOS() != c.addBOS || tok.VocabSize() != c.size {
			t.Errorf("%s: BOS %d EOS %d AddBOS %v size %d, want %d %d %v %d", c.vocab,
				tok.BOS(), tok.EOS(), tok.AddBOS(), tok.VocabSize(), c.bos, c.eos, c.addBOS, c.size)
		}
		for _, id := range c.eog {
			if !tok.IsEOG(id) {
				t.Errorf("%s: %d (%q) is not EOG", c.vocab, id, tok.Token(id))
			}
		}
		for _, id := range c.notEOG {
			if tok.IsEOG(id) {
				t.Errorf("%s: %d (%q) is EOG", c.vocab, id, tok.Token(id))
			}
		}
		if tok.IsEOG(-1) || tok.IsEOG(int32(c.size)) {
			t.Errorf("%s: out-of-range ids are EOG", c.vocab)
		}
		if c.bos >= 0 && tok.Piece(c.bos) != c.controlPiece {
			t.Errorf("%s: piece of BOS is %q", c.vocab, tok.Piece(c.bos))
		}
		if got := tok.Encode(c.text, false, true); !equalIDs(got, c.parsed) {
			t.Errorf("%s: %q parsed as %v, want %v", c.vocab, c.text, got, c.parsed)
		}
		if got := tok.Encode(c.text, false, false); equalIDs(got, c.parsed) {
			t.Errorf("%s: %q gives special tokens without parseSpecial", c.vocab, c.text)
		}
	}
}

func TestPieces(t *testing.T) {
	spm := loadVocab(t, "llama-spm")
	for id, want := range map[int32]string{13: "\n", 15043: " Hello", 0: "", 1: "", 2: "", -1: "", 32000: ""} {
		if got := spm.Piece(id); got != want {
			t.Errorf("llama-spm piece %d = %q, want %q", id, got, want)
		}
	}
	bpe := loadVocab(t, "llama-bpe")
	for id, want := range map[int32]string{9906: "Hello", 1917: " world", 198: "\n", 128000: ""} {
		if got := bpe.Piece(id); got != want {
			t.Errorf("llama-bpe piece %d = %q, want %q", id, got, want)
		}
	}
	// Byte-level pieces can be parts of a character: 'é' alone is bytes.
	ids := bpe.Encode("é", false, false)
	var joined string
	for _, id := range ids {
		joined += bpe.Piece(id)
	}
	if joined != "é" {
		t.Errorf("pieces of é: %q", joined)
	}
	// User-defined tokens render as their text: MPT's runs of spaces.
	mpt := loadVocab(t, "mpt")
	if got := mpt.Piece(50276); got != "  " {
		t.Errorf("mpt piece 50276 = %q", got)
	}
	if got := mpt.Encode("a  b", false, false); !equalIDs(got, []int32{66, 50276, 67}) {
		t.Errorf("mpt double space: %v", got)
	}
}

// TestDecodeLikeLlamaCpp checks Decode against llama_detokenize results
// (node-llama-cpp 3.21.1): the SPM leading space is dropped only on the
// first token, and byte-level BPE vocabularies clean spaces before
// punctuation unless their pre-tokenizer says not to.
func TestDecodeLikeLlamaCpp(t *testing.T) {
	cases := []struct {
		vocab string
		ids   []int32
		want  string
	}{
		{"llama-spm", []int32{15043, 3186}, "Hello world"},
		{"llama-spm", []int32{1, 15043, 3186}, " Hello world"},
		{"llama-spm", []int32{29871, 15043}, " Hello"},
		{"gpt-2", []int32{257, 5633, 65, 5145, 66, 764, 67, 837, 68, 705, 277, 705, 82, 705, 76, 705, 260, 705, 303, 705, 83},
			" a?b!c.d,e'f's'm're've 't"},
		{"gpt-2", []int32{15496, 11, 995, 0, 632, 338, 705, 421, 5191, 6, 837, 2125, 470, 340, 5633},
			"Hello, world! It's 'quoted', isn't it?"},
		{"bert-bge", []int32{7592, 1010, 2088, 999, 2009, 1005, 1055, 1005, 9339, 1005, 1010, 3475, 1005, 1056, 2009, 1029},
			" hello, world! it's'quoted ', isn't it?"},
		{"bert-bge", []int32{1037, 1029, 1038, 999, 1039, 1012, 1040, 1010, 1041, 1005, 1042, 1005, 1055, 1005, 1049, 1005, 2128, 1005, 2310, 1005, 1056},
			" a? b! c. d, e'f's'm're've't"},
		{"qwen2", []int32{264, 937, 65, 753, 66, 659, 67, 1154, 68, 364, 282, 364, 82, 364, 76, 364, 265, 364, 586, 364, 83},
			" a ?b !c .d ,e ' f 's 'm 're 've 't"},
	}
	for _, c := range cases {
		tok := loadVocab(t, c.vocab)
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("%s: Decode(%v) = %q, want %q", c.vocab, c.ids, got, c.want)
		}
	}
}

// TestConcurrentEncode shares one Tokenizer (and its word cache) between
// goroutines; run with -race.
func TestConcurrentEncode(t *testing.T) {
	tok := loadVocab(t, "qwen2")
	r := rand.New(rand.NewPCG(3, 4))
	var texts []string
	for i := 0; i < 64; i++ {
		texts = append(texts, randomText(r, 200))
	}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, false, false)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for k := 0; k < 200; k++ {
				i := (g*31 + k*7) % len(texts)
				if got := tok.Encode(texts[i], false, false); !equalIDs(got, want[i]) {
					done <- fmt.Errorf("goroutine %d: text %d encoded differently", g, i)
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
