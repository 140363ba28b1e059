package tokenizer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Metadata keys (llama-arch.cpp's LLM_KV_TOKENIZER_*).
const (
	keyModel          = "tokenizer.ggml.model"
	keyPre            = "tokenizer.ggml.pre"
	keyTokens         = "tokenizer.ggml.tokens"
	keyScores         = "tokenizer.ggml.scores"
	keyTokenType      = "tokenizer.ggml.token_type"
	keyMerges         = "tokenizer.ggml.merges"
	keyAddBOS         = "tokenizer.ggml.add_bos_token"
	keyAddEOS         = "tokenizer.ggml.add_eos_token"
	keyAddSep         = "tokenizer.ggml.add_sep_token"
	keyAddPrefix      = "tokenizer.ggml.add_space_prefix"
	keyRemoveExtraWS  = "tokenizer.ggml.remove_extra_whitespaces"
	keyLowercase      = "tokenizer.ggml.normalizer.lowercase"
	keyStripAccents   = "tokenizer.ggml.normalizer.strip_accents"
	keyCLS            = "tokenizer.ggml.cls_token_id"
	keyGeneralName    = "general.name"
	keyGeneralArch    = "general.architecture"
	maxSupportedVocab = 1 << 30
)

// Load reads the tokenizer stored in a GGUF file's metadata. It fails with a
// clear error for a tokenizer model or pre-tokenizer it does not implement
// and for malformed metadata.
func Load(f *gguf.File) (*Tokenizer, error) {
	if f == nil {
		return nil, errors.New("tokenizer: no GGUF file")
	}
	flagTableOnce.Do(buildFlagTable)
	t := &Tokenizer{}
	if err := t.load(f); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}

func (t *Tokenizer) load(f *gguf.File) error {
	model, err := f.String(keyModel)
	if err != nil {
		return err
	}
	pre, err := f.StringOr(keyPre, "")
	if err != nil {
		return err
	}
	// Defaults for each model, as in llama_vocab::impl::load.
	sp := specialIDs{bos: -1, eos: -1, eot: -1, eom: -1, unk: -1, sep: -1, pad: -1, mask: -1,
		fimPre: -1, fimSuf: -1, fimMid: -1, fimPad: -1, fimRep: -1, fimSep: -1}
	switch model {
	case "llama":
		t.kind = kindSPM
		sp.bos, sp.eos, sp.unk = 1, 2, 0
		t.addSpacePrefix, t.addBOS = true, true
	case "bert":
		t.kind = kindWPM
		sp.bos, sp.unk, sp.sep, sp.pad, sp.mask = 101, 100, 102, 0, 103
		t.addBOS, t.addSep, t.cleanSpaces = true, true, true
	case "gpt2", "whitespace", "gemma4":
		t.kind = kindBPE
		sp.bos, sp.eos = 11, 11
		name := pre
		switch {
		case model == "gemma4":
			// Gemma 4's own tokenizer model: SentencePiece-style BPE whose
			// special tokens all come from the file.
			sp.bos, sp.eos = -1, -1
			name = "gemma4"
		case model == "whitespace":
			t.wsModel = true
		}
		if name == "" {
			name = "default" // llama.cpp warns and uses the default splitter
		}
		p, ok := preTokenizers[name]
		if !ok {
			return fmt.Errorf("unsupported pre-tokenizer %q (%s)", pre, keyPre)
		}
		t.pre = p
		t.cleanSpaces = !p.keepSpaces
		t.addBOS = p.addBOS
		t.addSep = p.addSep
		if p.noBOS {
			sp.bos = -1
		}
	case "":
		return fmt.Errorf("%s is empty", keyModel)
	default:
		return fmt.Errorf("unsupported tokenizer model %q (supported: llama, gpt2, gemma4, whitespace, bert)", model)
	}
	if t.addSpacePrefix, err = f.BoolOr(keyAddPrefix, t.addSpacePrefix); err != nil {
		return err
	}
	// remove_extra_whitespaces only affects llama.cpp's Unigram (t5)
	// tokenizer; it is checked for type here and otherwise unused.
	if _, err = f.BoolOr(keyRemoveExtraWS, false); err != nil {
		return err
	}

	if err := t.loadTokens(f); err != nil {
		return err
	}
	if t.kind == kindBPE {
		if err := t.loadMerges(f, t.pre.mergesOpt); err != nil {
			return err
		}
	}
	if err := t.loadSpecialIDs(f, &sp); err != nil {
		return err
	}
	if t.addBOS, err = f.BoolOr(keyAddBOS, t.addBOS); err != nil {
		return err
	}
	if t.pre.forceBOS {
		t.addBOS = true // llama.cpp overrides add_bos_token for Gemma 4
	}
	if t.addEOS, err = f.BoolOr(keyAddEOS, t.addEOS); err != nil {
		return err
	}
	if t.addSep, err = f.BoolOr(keyAddSep, t.addSep); err != nil {
		return err
	}
	for _, c := range []struct {
		add  bool
		id   int32
		what string
	}{{t.addBOS, sp.bos, "add_bos_token is true but there is no BOS token"},
		{t.addEOS, sp.eos, "add_eos_token is true but there is no EOS token"},
		{t.addSep, sp.sep, "add_sep_token is true but there is no separator token"}} {
		if c.add && c.id == -1 {
			return errors.New(c.what)
		}
	}
	if t.lowercase, err = f.BoolOr(keyLowercase, !t.pre.keepCase); err != nil {
		return err
	}
	if t.stripAccents, err = f.BoolOr(keyStripAccents, t.lowercase); err != nil {
		return err
	}

	t.detectSpecials(&sp)
	t.sp = sp
	t.buildSpecialCache()
	t.buildPieces()
	name, _ := f.StringOr(keyGeneralName, "")
	arch, _ := f.StringOr(keyGeneralArch, "")
	t.applyModelAttrs(name, pre, arch)
	t.buildByteTokens()
	t.spmSplit = t.kind == kindSPM && !hasInnerSpaceMark(t.tokens)
	t.cache = newWordCache()
	return nil
}

// hasInnerSpaceMark reports whether a token holds a ▁ after something other
// than ▁.
func hasInnerSpaceMark(tokens []string) bool {
	const mark = "▁"
	for _, s := range tokens {
		for p := 1; p < len(s); {
			i := strings.Index(s[p:], mark)
			if i < 0 {
				break
			}
			at := p + i
			if at < len(mark) || s[at-len(mark):at] != mark {
				return true
			}
			p = at + len(mark)
		}
	}
	return false
}

func (t *Tokenizer) loadTokens(f *gguf.File) error {
	toks, err := f.Strings(keyTokens)
	if err != nil {
		return err
	}
	n := len(toks)
	if n == 0 {
		return fmt.Errorf("%s is empty", keyTokens)
	}
	if n > maxSupportedVocab {
		return fmt.Errorf("%s has %d tokens, too many", keyTokens, n)
	}
	t.tokens = toks
	for i, s := range toks {
		if s == "" {
			// llama.cpp renames empty tokens; copy before writing, the
			// slice belongs to the gguf.File.
			if &t.tokens[0] == &toks[0] {
				t.tokens = append([]string(nil), toks...)
			}
			t.tokens[i] = fmt.Sprintf("[EMPTY_%d]", i)
		}
	}

	t.scores = make([]float32, n)
	if v, ok := f.Lookup(keyScores); ok {
		a := v.Array()
		if a == nil {
			return fmt.Errorf("%s is not an array", keyScores)
		}
		switch d := a.Data().(type) {
		case []float32:
			if len(d) < n {
				return fmt.Errorf("%s has %d entries for %d tokens", keyScores, len(d), n)
			}
			copy(t.scores, d)
		case []int32:
			if len(d) < n {
				return fmt.Errorf("%s has %d entries for %d tokens", keyScores, len(d), n)
			}
			for i := range t.scores {
				t.scores[i] = float32(d[i])
			}
		default:
			return fmt.Errorf("%s is an array of %s, want f32 or i32", keyScores, a.Elem)
		}
	}

	t.attrs = make([]uint16, n)
	if f.Has(keyTokenType) {
		types, err := f.Int32s(keyTokenType)
		if err != nil {
			return err
		}
		if len(types) < n {
			return fmt.Errorf("%s has %d entries for %d tokens", keyTokenType, len(types), n)
		}
		for i := range t.attrs {
			t.attrs[i] = attrOfType(types[i])
		}
	} else {
		for i := range t.attrs {
			t.attrs[i] = attrNormal
		}
	}

	vocab, err := newStrIndex(t.tokens, nil, func(first, again int) error {
		return fmt.Errorf("duplicate token %q in vocabulary: ids %d and %d", t.tokens[first], first, again)
	})
	if err != nil {
		return err
	}
	t.vocab = vocab
	for _, s := range t.tokens {
		t.maxTokenLen = max(t.maxTokenLen, len(s))
	}
	return nil
}

// loadMerges indexes tokenizer.ggml.merges by their text; a merge's rank is
// its index. llama.cpp splits each entry at its first space after the first
// byte and looks pairs up as "left right"; since neither half of a
// looked-up pair holds a space, the entry's own text is the key, and the
// first entry of a repeated pair keeps its rank.
func (t *Tokenizer) loadMerges(f *gguf.File, optional bool) error {
	merges, err := f.Strings(keyMerges)
	if err != nil {
		if errors.Is(err, gguf.ErrKeyNotFound) {
			if optional {
				// Kimi-K2's files may have no merges: every word is then
				// spelled with single-code-point and single-byte tokens.
				t.merges, _ = newStrIndex(nil, nil, nil)
				return nil
			}
			return fmt.Errorf("byte-level BPE vocabulary without %s", keyMerges)
		}
		return err
	}
	// Entries without a space after their first byte split into an empty
	// pair in llama.cpp, which no lookup can match.
	t.merges, err = newStrIndex(merges, func(i int) bool {
		m := merges[i]
		return len(m) > 1 && strings.IndexByte(m[1:], ' ') >= 0
	}, nil)
	return nil
}

// loadSpecialIDs applies the *_token_id keys over the defaults. As in
// llama.cpp, a default outside the vocabulary is dropped and a key outside
// it is ignored.
func (t *Tokenizer) loadSpecialIDs(f *gguf.File, sp *specialIDs) error {
	n := int64(len(t.tokens))
	keys := []struct {
		key string
		id  *int32
	}{
		{"tokenizer.ggml.bos_token_id", &sp.bos},
		{"tokenizer.ggml.eos_token_id", &sp.eos},
		{"tokenizer.ggml.eot_token_id", &sp.eot},
		{"tokenizer.ggml.eom_token_id", &sp.eom},
		{"tokenizer.ggml.unknown_token_id", &sp.unk},
		{"tokenizer.ggml.seperator_token_id", &sp.sep},
		{"tokenizer.ggml.padding_token_id", &sp.pad},
		{"tokenizer.ggml.mask_token_id", &sp.mask},
		{"tokenizer.ggml.fim_pre_token_id", &sp.fimPre},
		{"tokenizer.ggml.fim_suf_token_id", &sp.fimSuf},
		{"tokenizer.ggml.fim_mid_token_id", &sp.fimMid},
		{"tokenizer.ggml.fim_pad_token_id", &sp.fimPad},
		{"tokenizer.ggml.fim_rep_token_id", &sp.fimRep},
		{"tokenizer.ggml.fim_sep_token_id", &sp.fimSep},
		{"tokenizer.ggml.prefix_token_id", &sp.fimPre},
		{"tokenizer.ggml.suffix_token_id", &sp.fimSuf},
		{"tokenizer.ggml.middle_token_id", &sp.fimMid},
	}
	for _, k := range keys {
		if int64(*k.id) >= n {
			*k.id = -1
		}
		if !f.Has(k.key) {
			continue
		}
		v, err := f.Int(k.key)
		if err != nil {
			return err
		}
		if v >= 0 && v < n {
			*k.id = int32(v)
		}
	}
	// Older converters wrote BERT's [CLS] only as cls_token_id; llama.cpp
	// now uses BOS for it (default 101).
	if t.kind == kindWPM && !f.Has("tokenizer.ggml.bos_token_id") && f.Has(keyCLS) {
		if v, err := f.Int(keyCLS); err == nil && v >= 0 && v < n {
			sp.bos = int32(v)
		}
	}
	return nil
}

// buildByteTokens finds the byte fallback tokens of an SPM vocabulary
// (llama_vocab::byte_to_token): "<0xXX>", else the byte itself. A raw-UTF-8
// BPE vocabulary (Gemma 4) falls back to "<0xXX>" only.
func (t *Tokenizer) buildByteTokens() {
	const hex = "0123456789ABCDEF"
	for b := 0; b < 256; b++ {
		t.spmByte[b] = -1
		if id, ok := t.vocab.findBytes([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'}); ok {
			t.spmByte[b] = id
		} else if id, ok := t.vocab.findBytes([]byte{byte(b)}); ok && t.kind == kindSPM {
			t.spmByte[b] = id
		}
	}
}
