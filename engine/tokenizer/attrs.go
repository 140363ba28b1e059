package tokenizer

import (
	"sort"
	"strings"
)

// Token attributes (llama_token_attr bits).
const (
	attrUnknown     uint16 = 1 << 0
	attrUnused      uint16 = 1 << 1
	attrNormal      uint16 = 1 << 2
	attrControl     uint16 = 1 << 3
	attrUserDefined uint16 = 1 << 4
	attrByte        uint16 = 1 << 5
	attrLStrip      uint16 = 1 << 7
	attrRStrip      uint16 = 1 << 8
)

// attrOfType maps tokenizer.ggml.token_type values (llama_token_type) to
// attributes; unknown values are "undefined" (0).
func attrOfType(t int32) uint16 {
	switch t {
	case 1:
		return attrNormal
	case 2:
		return attrUnknown
	case 3:
		return attrControl
	case 4:
		return attrUserDefined
	case 5:
		return attrUnused
	case 6:
		return attrByte
	}
	return 0
}

// Texts llama.cpp recognises as special tokens when the metadata does not
// name them (llama_vocab::impl::load).
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eomTexts    = []string{"<|eom_id|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
		"▁<PRE>", "<|code_prefix|>", "<|prefix|>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
		"▁<SUF>", "<|code_suffix|>", "<|suffix|>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
		"▁<MID>", "<|code_middle|>", "<|middle|>"}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}
	fimSepTexts = []string{"<|file_sep|>"}
	eogTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
		"<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
		"[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
		"<｜end▁of▁sentence｜>", "[e~["}
)

// specialIDs are the ids llama.cpp keeps for special roles; -1 is "none".
type specialIDs struct {
	bos, eos, eot, eom, unk, sep, pad, mask        int32
	fimPre, fimSuf, fimMid, fimPad, fimRep, fimSep int32
}

// detectSpecials finds the roles the metadata left unset by token text and
// marks the tokens involved as control tokens, then builds the set of
// end-of-generation tokens, all as llama.cpp does after loading the
// vocabulary. llama.cpp walks a hash map, so when several candidate texts
// exist the one it picks is unspecified; here the lowest id wins.
func (t *Tokenizer) detectSpecials(sp *specialIDs) {
	forceControl := func(id int32) { t.attrs[id] |= attrControl }
	find := func(role *int32, texts []string) {
		if *role != -1 {
			return
		}
		best := int32(-1)
		for _, s := range texts {
			if id, ok := t.vocab.find(s); ok && (best == -1 || id < best) {
				best = id
			}
		}
		if best != -1 {
			*role = best
			forceControl(best)
		}
	}
	find(&sp.eot, eotTexts)
	find(&sp.eom, eomTexts)
	find(&sp.fimPre, fimPreTexts)
	find(&sp.fimSuf, fimSufTexts)
	find(&sp.fimMid, fimMidTexts)
	find(&sp.fimPad, fimPadTexts)
	find(&sp.fimRep, fimRepTexts)
	find(&sp.fimSep, fimSepTexts)

	// Control tokens named "...unused..." are unused ones.
	for id, s := range t.tokens {
		if t.attrs[id]&attrControl != 0 && strings.Contains(s, "unused") {
			t.attrs[id] |= attrUnused
		}
	}

	eog := map[int32]bool{}
	for _, id := range []int32{sp.fimPad, sp.fimRep, sp.fimSep} {
		if id != -1 {
			eog[id] = true
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.vocab.find(s); ok {
			eog[id] = true
			forceControl(id)
		}
	}
	// gpt-oss renders these even though they are control tokens.
	for _, s := range []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"} {
		if id, ok := t.vocab.find(s); ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int32{sp.eos, sp.eot, sp.eom} {
		if id != -1 {
			eog[id] = true
		}
	}
	// o200k_harmony and solar-open: <|end|> ends a message, not generation.
	has := func(s string) (int32, bool) {
		id, ok := t.vocab.find(s)
		return id, ok && eog[id]
	}
	_, ret := has("<|return|>")
	_, call := has("<|call|>")
	_, calls := has("<|calls|>")
	_, flush := has("<|flush|>")
	if endID, end := has("<|end|>"); end && ((ret && (call || calls)) || ((call || calls) && flush)) {
		delete(eog, endID)
		t.attrs[endID] = attrUserDefined
	}
	// gemma4 and paddleocr: </s> is not an end-of-generation token there.
	if _, tr := has("<|tool_response>"); tr {
		if sID, s := has("</s>"); s {
			delete(eog, sID)
			t.attrs[sID] = attrNormal
		}
	}
	t.eog = eog
}

// buildSpecialCache lists the tokens tokenizer_st_partition looks for:
// control, user-defined and unknown ones, longest text first.
func (t *Tokenizer) buildSpecialCache() {
	var ids []int32
	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			ids = append(ids, int32(id))
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return len(t.tokens[ids[i]]) > len(t.tokens[ids[j]]) })
	t.special = ids
}

// applyModelAttrs sets the lstrip/rstrip attributes llama.cpp assigns by
// model, tokenizer or architecture name, since GGUF does not carry them.
func (t *Tokenizer) applyModelAttrs(modelName, pre, arch string) {
	set := func(text string, a uint16, on bool) {
		id, ok := t.vocab.find(text)
		if !ok {
			return
		}
		if on {
			t.attrs[id] |= a
		} else {
			t.attrs[id] &^= a
		}
	}
	name := strings.ToLower(modelName)
	containsAny := func(s string, subs ...string) bool {
		for _, x := range subs {
			if strings.Contains(s, x) {
				return true
			}
		}
		return false
	}
	switch {
	case containsAny(pre, "jina-v2-de", "jina-v2-es", "jina-v2-code") || containsAny(arch, "nomic-bert-moe", "jina-bert-v3"):
		set("<mask>", attrLStrip, true)
	case containsAny(name, "phi-3", "phi3"):
		for _, id := range t.special {
			t.attrs[id] |= attrRStrip
		}
		set("</s>", attrRStrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			set(s, attrRStrip, false)
		}
	case containsAny(name, "modern-bert"):
		set("[MASK]", attrLStrip, true)
	}
}
