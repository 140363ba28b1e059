package tokenizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/llmsql/llmsql/engine/gguf"
)

// BenchmarkLoad times Load alone (the GGUF metadata is already parsed).
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"llama-bpe", "qwen2", "llama-spm", "bert-bge"} {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(sharedDir(b), "vocab", "ggml-vocab-"+name+".gguf")
			f, err := gguf.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Load(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenAndLoad times gguf.Open plus Load, what a model load pays.
func BenchmarkOpenAndLoad(b *testing.B) {
	for _, name := range []string{"llama-bpe", "qwen2"} {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(sharedDir(b), "vocab", "ggml-vocab-"+name+".gguf")
			for b.Loop() {
				f, err := gguf.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Load(f); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// benchText builds about n bytes of English-like text: words drawn from
// the vocab test strings and a list of common words, with punctuation,
// numbers and line breaks. It is written to /tmp/tokbench.txt so the
// llama.cpp comparison (see /tmp/peer) times the same bytes.
func benchText(tb testing.TB, n int) string {
	tb.Helper()
	words := strings.Fields(`the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by hot word but what some we can out other were all there when up use your how said
an each she which do their time if will way about many then them write would like so these her long make
thing see him two has look more day could go come did number sound no most people my over know water than
call first who may down side been now find any new work part take get place made live where after back
little only round man year came show every good me give our under name very through just form sentence
great think say help low line differ turn cause much mean before move right boy old too same tell does set
three want air well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again animal point
mother world near build self earth father head stand own page should country found answer school grow study
still learn plant cover food sun four between state keep eye never last let thought city tree cross farm
hard start might story saw far sea draw left late run don't while press close night real life few north`)
	inp, err := os.ReadFile(filepath.Join(sharedDir(tb), "vocab", "ggml-vocab-llama-bpe.gguf.inp"))
	if err == nil {
		for _, s := range strings.Split(string(inp), "\n__ggml_vocab_test__\n") {
			words = append(words, strings.Fields(s)...)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sentence := 0
	for sb.Len() < n {
		w := words[r.IntN(len(words))]
		if sentence == 0 {
			r, size := utf8.DecodeRuneInString(w)
			w = string(unicode.ToUpper(r)) + w[size:]
		}
		sb.WriteString(w)
		sentence++
		switch {
		case r.IntN(40) == 0:
			sb.WriteString(", ")
			sb.WriteString(string(rune('0' + r.IntN(10))))
			sb.WriteString(" ")
		case sentence > 8 && r.IntN(6) == 0:
			sb.WriteString(". ")
			sentence = 0
			if r.IntN(5) == 0 {
				sb.WriteString("\n\n")
			}
		case r.IntN(12) == 0:
			sb.WriteString(", ")
		default:
			sb.WriteString(" ")
		}
	}
	s := sb.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	_ = os.WriteFile("/tmp/tokbench.txt", []byte(s), 0o644)
	return s
}

// BenchmarkEncode tokenizes 1 MB of English-like text; MB/s is the figure
// to compare with llama.cpp.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b, 1<<20)
	for _, name := range []string{"llama-bpe", "llama-spm", "qwen2", "bert-bge"} {
		b.Run(name, func(b *testing.B) {
			tok := loadVocab(b, name)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, false, false)
			}
		})
		// The same without the word cache: every word is merged.
		b.Run(name+"/nocache", func(b *testing.B) {
			tok := *loadVocab(b, name)
			tok.cache = nil
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, false, false)
			}
		})
	}
}

// BenchmarkEncodeParseSpecial is BenchmarkEncode with special-token parsing,
// which scans the text for each control token.
func BenchmarkEncodeParseSpecial(b *testing.B) {
	text := benchText(b, 1<<20)
	for _, name := range []string{"llama-bpe", "qwen2"} {
		b.Run(name, func(b *testing.B) {
			tok := loadVocab(b, name)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, false, true)
			}
		})
	}
}

// BenchmarkEncodeShort is one chat-sized prompt per call: the fixed cost of
// an Encode.
func BenchmarkEncodeShort(b *testing.B) {
	prompt := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" +
		"Write a haiku about databases that can run language models.<|im_end|>\n<|im_start|>assistant\n"
	for _, name := range []string{"llama-bpe", "qwen2", "llama-spm"} {
		b.Run(name, func(b *testing.B) {
			tok := loadVocab(b, name)
			b.SetBytes(int64(len(prompt)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Encode(prompt, true, true)
			}
		})
	}
}

// BenchmarkDecode renders the tokens of 1 MB of text back to text.
func BenchmarkDecode(b *testing.B) {
	text := benchText(b, 1<<20)
	for _, name := range []string{"llama-bpe", "llama-spm"} {
		b.Run(name, func(b *testing.B) {
			tok := loadVocab(b, name)
			ids := tok.Encode(text, false, false)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Decode(ids)
			}
		})
	}
}

// BenchmarkEncodeAdversarial encodes inputs that a careless splitter
// handles in quadratic time (long digit and whitespace runs); each should
// cost about as much per byte as ordinary text.
func BenchmarkEncodeAdversarial(b *testing.B) {
	inputs := []struct{ name, text string }{
		{"digits", strings.Repeat("7", 100000)},
		{"spaces-then-cjk", strings.Repeat(" ", 100000) + "中"},
		{"space-newline", strings.Repeat(" \n", 50000) + "x"},
	}
	for _, vocab := range []string{"qwen2", "deepseek-llm", "starcoder"} {
		for _, in := range inputs {
			b.Run(vocab+"/"+in.name, func(b *testing.B) {
				tok := loadVocab(b, vocab)
				b.SetBytes(int64(len(in.text)))
				for b.Loop() {
					tok.Encode(in.text, false, false)
				}
			})
		}
	}
}
