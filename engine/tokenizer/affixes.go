package tokenizer

// Affixes returns the special tokens Encode with addSpecial puts around a
// text: BOS (or WordPiece's [CLS]) before it, EOS (or [SEP]) after it, as
// the vocabulary asks. Encode(text, true, p) is prefix + Encode(text,
// false, p) + suffix.
func (t *Tokenizer) Affixes() (prefix, suffix []int32) {
	switch t.kind {
	case kindWPM:
		if t.sp.bos >= 0 {
			prefix = []int32{t.sp.bos}
		}
		if t.sp.sep >= 0 {
			suffix = []int32{t.sp.sep}
		}
	default:
		if t.addBOS {
			prefix = []int32{t.sp.bos}
		}
		if t.addEOS {
			suffix = []int32{t.sp.eos}
		}
	}
	return prefix, suffix
}

// PairSeparator returns the tokens between the two texts of a pair (a
// reranker's query and document), as llama.cpp's embedding tools join
// them: EOS when the vocabulary adds EOS, then the separator when it adds
// one. For WordPiece that is [SEP]: [CLS] query [SEP] document [SEP].
func (t *Tokenizer) PairSeparator() []int32 {
	var sep []int32
	if t.addEOS && t.sp.eos >= 0 {
		sep = append(sep, t.sp.eos)
	}
	if t.addSep && t.sp.sep >= 0 {
		sep = append(sep, t.sp.sep)
	}
	return sep
}
