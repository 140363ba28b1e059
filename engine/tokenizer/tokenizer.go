// Package tokenizer turns text into token ids and back exactly as llama.cpp
// does (src/llama-vocab.cpp, src/unicode.cpp) for the vocabularies GGUF
// files carry: SentencePiece-style BPE ("llama"), byte-level BPE ("gpt2",
// with the pre-tokenizer named by tokenizer.ggml.pre) and WordPiece
// ("bert").
//
// A Tokenizer is immutable after Load and safe for concurrent use.
package tokenizer

import "strings"

type vocabKind int

const (
	kindSPM vocabKind = iota
	kindBPE
	kindWPM
)

// Tokenizer is a loaded vocabulary.
type Tokenizer struct {
	kind   vocabKind
	tokens []string
	attrs  []uint16
	scores []float32
	vocab  *strIndex // token text -> id

	merges      *strIndex // "left right" -> rank
	pre         preTokenizer
	maxTokenLen int

	sp  specialIDs
	eog map[int32]bool

	addBOS, addEOS, addSep bool
	addSpacePrefix         bool
	cleanSpaces            bool
	wsModel                bool // the "whitespace" tokenizer model: BPE on each whitespace-separated word
	lowercase              bool // WordPiece normalizer
	stripAccents           bool

	special []int32 // tokens tokenizer_st_partition matches, longest first

	// pieces holds each token rendered as text with special tokens shown
	// (llama.cpp's cache_token_to_piece).
	pieceBuf []byte
	pieceOff []uint32

	spmByte [256]int32 // SPM byte fallback tokens, -1 when missing
	// spmSplit is set when no token holds a ▁ that follows anything but
	// another ▁: then no merge can cross the start of a space-led word,
	// and SPM text is merged word by word.
	spmSplit bool

	cache *wordCache
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token, or -1.
func (t *Tokenizer) BOS() int32 { return t.sp.bos }

// EOS is the end-of-sequence token, or -1.
func (t *Tokenizer) EOS() int32 { return t.sp.eos }

// AddBOS reports whether Encode with addSpecial puts BOS first.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// IsEOG reports whether id ends generation: EOS, EOT, EOM and the other
// tokens llama.cpp puts in special_eog_ids.
func (t *Tokenizer) IsEOG(id int32) bool { return id >= 0 && t.eog[id] }

// Token returns the vocabulary text of id ("" when out of range).
func (t *Tokenizer) Token(id int32) string {
	if !t.valid(id) {
		return ""
	}
	return t.tokens[id]
}

func (t *Tokenizer) valid(id int32) bool { return id >= 0 && int(id) < len(t.tokens) }

// Encode is llama_tokenize(text, add_special, parse_special): addSpecial
// adds BOS and EOS as the vocabulary asks; parseSpecial lets the text of
// control tokens (like "<|im_start|>") stand for those tokens. User-defined
// tokens are matched either way, as in llama.cpp.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	// Text averages three to five bytes per token; reserving for four saves
	// most regrowth on long inputs.
	out := make([]int32, 0, len(text)/4+2)
	frags := t.partition(text, parseSpecial)
	e := newEncoder(t)
	defer e.release()
	switch t.kind {
	case kindSPM:
		if addSpecial && t.addBOS {
			out = append(out, t.sp.bos)
		}
		prevSpecial := true // the first fragment gets the space prefix too
		for _, f := range frags {
			if f.token >= 0 {
				out = append(out, f.token)
				prevSpecial = true
				continue
			}
			out = e.spm(text[f.start:f.end], t.addSpacePrefix && prevSpecial, out)
			prevSpecial = false
		}
		if addSpecial && t.addEOS {
			out = append(out, t.sp.eos)
		}
	case kindBPE:
		if addSpecial && t.addBOS {
			out = append(out, t.sp.bos)
		}
		for _, f := range frags {
			if f.token >= 0 {
				out = append(out, f.token)
				continue
			}
			frag := text[f.start:f.end]
			switch {
			case t.wsModel:
				out = e.bpeWhitespace(frag, out)
			case t.pre.escapeSpaces:
				out = e.bpe(strings.ReplaceAll(frag, " ", "▁"), out)
			default:
				out = e.bpe(frag, out)
			}
		}
		if addSpecial && t.addEOS {
			out = append(out, t.sp.eos)
		}
	case kindWPM:
		// llama.cpp's WordPiece path adds [CLS] and [SEP] whenever special
		// tokens are requested.
		if addSpecial && t.sp.bos >= 0 {
			out = append(out, t.sp.bos)
		}
		for _, f := range frags {
			if f.token >= 0 {
				out = append(out, f.token)
				continue
			}
			out = e.wpm(text[f.start:f.end], out)
		}
		if addSpecial && t.sp.sep >= 0 {
			out = append(out, t.sp.sep)
		}
	}
	return out
}
