// Package hfvocab turns a Hugging Face tokenizer.json (with its
// tokenizer_config.json) into the tokenizer metadata of a vocab-only GGUF,
// as llama.cpp's convert_hf_to_gguf.py writes it, and cuts such a vocabulary
// down to what a set of test strings can reach, so that tests of real
// vocabularies need no multi-megabyte files in the repository.
//
// Three layouts are written: byte-level BPE ("gpt2", get_vocab_base and
// SpecialVocab), SentencePiece ("llama", _create_vocab_sentencepiece, for
// Gemma-style tokenizer.json files that are BPE with byte fallback) and
// SentencePiece-style BPE ("gemma4"). The SentencePiece layout needs
// scores, which tokenizer.json does not have; each token gets minus the
// rank of the first merge that makes it, so that llama.cpp's
// best-score-first merging follows the file's merge order.
package hfvocab

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
)

// Token types (llama.cpp's llama_token_type).
const (
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3
	TypeUserDefined = 4
	TypeUnused      = 5
	TypeByte        = 6
)

// Options say which layout to write.
type Options struct {
	Model string // "gpt2" (default), "llama", "gemma4" or "whitespace"
	Pre   string // tokenizer.ggml.pre for gpt2 and whitespace
	// AddSpacePrefix is written for "llama" (Gemma files say false).
	AddSpacePrefix bool
	Name           string // general.name
}

// Vocab is a converted vocabulary.
type Vocab struct {
	Tokens []string
	Types  []int32
	Scores []float32 // "llama" only
	Merges []string  // "a b", in rank order; not for llama
	Meta   []gguf.KV // every other tokenizer key
	Model  string
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	Normalized bool   `json:"normalized"`
}

type tokenizerJSON struct {
	AddedTokens []addedToken `json:"added_tokens"`
	Model       struct {
		Type   string          `json:"type"`
		Vocab  map[string]int  `json:"vocab"`
		Merges json.RawMessage `json:"merges"`
	} `json:"model"`
	PostProcessor json.RawMessage `json:"post_processor"`
}

// Convert reads tokenizer.json and tokenizer_config.json (config may be
// nil).
func Convert(tokJSON, cfgJSON []byte, o Options) (*Vocab, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(tokJSON, &tj); err != nil {
		return nil, fmt.Errorf("hfvocab: tokenizer.json: %w", err)
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("hfvocab: model type %q, only BPE is supported", tj.Model.Type)
	}
	var cfg map[string]any
	if len(cfgJSON) > 0 {
		if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
			return nil, fmt.Errorf("hfvocab: tokenizer_config.json: %w", err)
		}
	}
	merges, err := parseMerges(tj.Model.Merges)
	if err != nil {
		return nil, err
	}
	// The vocabulary HF's AutoTokenizer reports: the model's plus the
	// added tokens.
	byID := map[int]string{}
	textID := map[string]int{}
	n := 0
	for s, id := range tj.Model.Vocab {
		byID[id] = s
		textID[s] = id
		n = max(n, id+1)
	}
	added := map[int]addedToken{}
	for _, a := range tj.AddedTokens {
		byID[a.ID] = a.Content
		textID[a.Content] = a.ID
		added[a.ID] = a
		n = max(n, a.ID+1)
	}
	if dec, ok := cfg["added_tokens_decoder"].(map[string]any); ok {
		for k, v := range dec {
			var id int
			if _, err := fmt.Sscan(k, &id); err != nil {
				continue
			}
			m, _ := v.(map[string]any)
			content, _ := m["content"].(string)
			special, _ := m["special"].(bool)
			if _, seen := added[id]; !seen && content != "" {
				added[id] = addedToken{ID: id, Content: content, Special: special}
			}
		}
	}
	model := o.Model
	if model == "" {
		model = "gpt2"
	}
	v := &Vocab{Model: model}
	v.Tokens = make([]string, n)
	v.Types = make([]int32, n)
	byteTok := regexp.MustCompile(`^<0x[0-9A-Fa-f]{2}>$`)
	for i := 0; i < n; i++ {
		s, ok := byID[i]
		if !ok {
			v.Tokens[i], v.Types[i] = fmt.Sprintf("[PAD%d]", i), TypeUnused
			continue
		}
		a, isAdded := added[i]
		switch {
		case isAdded && (a.Special || looksSpecial(s)):
			v.Types[i] = TypeControl
		case isAdded:
			s = strings.ReplaceAll(s, "▁", " ") // pre-normalized user-defined spaces
			v.Types[i] = TypeUserDefined
		case model != "gpt2" && byteTok.MatchString(s):
			v.Types[i] = TypeByte
		default:
			v.Types[i] = TypeNormal
		}
		v.Tokens[i] = s
	}
	if model == "llama" {
		// Scores: minus the rank of the first merge that makes the token;
		// tokens no merge makes rank below every merge.
		first := map[string]int{}
		for r, m := range merges {
			sp := strings.IndexByte(m, ' ')
			k := m[:sp] + m[sp+1:]
			if _, ok := first[k]; !ok {
				first[k] = r
			}
		}
		v.Scores = make([]float32, n)
		for i, s := range v.Tokens {
			switch v.Types[i] {
			case TypeControl, TypeUserDefined:
				v.Scores[i] = -1000
			case TypeUnused:
				v.Scores[i] = -10000
			default:
				if r, ok := first[s]; ok {
					v.Scores[i] = -float32(r)
				} else {
					v.Scores[i] = -float32(len(merges) + i)
				}
			}
		}
		if id, ok := textID["<unk>"]; ok && id < n {
			v.Types[id] = TypeUnknown
		}
	} else {
		v.Merges = merges
	}

	meta := []gguf.KV{{Key: "tokenizer.ggml.model", Value: gguf.String(model)}}
	switch {
	case model == "gpt2" || model == "whitespace":
		meta = append(meta, gguf.KV{Key: "tokenizer.ggml.pre", Value: gguf.String(o.Pre)})
	case model == "llama":
		meta = append(meta, gguf.KV{Key: "tokenizer.ggml.pre", Value: gguf.String("default")},
			gguf.KV{Key: "tokenizer.ggml.add_space_prefix", Value: gguf.Bool(o.AddSpacePrefix)})
	}
	// SpecialVocab: the special tokens the config names, and whether to add
	// BOS/EOS.
	for _, k := range []struct{ cfg, key string }{
		{"bos_token", "tokenizer.ggml.bos_token_id"},
		{"eos_token", "tokenizer.ggml.eos_token_id"},
		{"unk_token", "tokenizer.ggml.unknown_token_id"},
		{"sep_token", "tokenizer.ggml.seperator_token_id"},
		{"pad_token", "tokenizer.ggml.padding_token_id"},
	} {
		text := tokenText(cfg[k.cfg])
		if id, ok := textID[text]; ok && text != "" {
			meta = append(meta, gguf.KV{Key: k.key, Value: gguf.Uint32(uint32(id))})
		}
	}
	addBOS, hasBOS := cfg["add_bos_token"].(bool)
	if !hasBOS {
		addBOS, hasBOS = templateAddsBOS(tj.PostProcessor)
	}
	if hasBOS {
		meta = append(meta, gguf.KV{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Bool(addBOS)})
	}
	if addEOS, ok := cfg["add_eos_token"].(bool); ok {
		meta = append(meta, gguf.KV{Key: "tokenizer.ggml.add_eos_token", Value: gguf.Bool(addEOS)})
	}
	v.Meta = meta
	return v, nil
}

// looksSpecial is convert_hf_to_gguf's does_token_look_special.
func looksSpecial(s string) bool {
	switch s {
	case "<pad>", "<mask>", "<2mass>", "[@BOS@]":
		return true
	}
	return (strings.HasPrefix(s, "<|") && strings.HasSuffix(s, "|>")) ||
		(strings.HasPrefix(s, "<｜") && strings.HasSuffix(s, "｜>")) ||
		(strings.HasPrefix(s, "<unused") && strings.HasSuffix(s, ">"))
}

func tokenText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["content"].(string)
		return s
	}
	return ""
}

// templateAddsBOS reads a TemplateProcessing post-processor (alone or in a
// Sequence) whose single-sequence template starts with a special token, as
// SpecialVocab does when the config does not say.
func templateAddsBOS(raw json.RawMessage) (add, known bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, false
	}
	var pp struct {
		Type       string            `json:"type"`
		Processors []json.RawMessage `json:"processors"`
		Single     []map[string]any  `json:"single"`
	}
	if json.Unmarshal(raw, &pp) != nil {
		return false, false
	}
	switch pp.Type {
	case "Sequence":
		for _, p := range pp.Processors {
			if add, known := templateAddsBOS(p); known {
				return add, known
			}
		}
	case "TemplateProcessing":
		if len(pp.Single) > 0 {
			_, special := pp.Single[0]["SpecialToken"]
			return special, true
		}
	}
	return false, false
}

// parseMerges accepts both forms tokenizer.json uses: "a b" strings and
// ["a", "b"] pairs.
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strs, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("hfvocab: merges: %w", err)
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + " " + p[1]
	}
	return out, nil
}

// KVs is the vocabulary as GGUF metadata, with the architecture keys a
// vocab-only file needs for llama.cpp to load it.
func (v *Vocab) KVs(name string) []gguf.KV {
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("llama")},
		{Key: "general.name", Value: gguf.String(name)},
		{Key: "llama.block_count", Value: gguf.Uint32(1)},
		{Key: "llama.context_length", Value: gguf.Uint32(4096)},
		{Key: "llama.embedding_length", Value: gguf.Uint32(64)},
		{Key: "llama.feed_forward_length", Value: gguf.Uint32(128)},
		{Key: "llama.attention.head_count", Value: gguf.Uint32(4)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.Float32(1e-5)},
	}
	kv = append(kv, v.Meta...)
	kv = append(kv, gguf.KV{Key: "tokenizer.ggml.tokens", Value: gguf.ArrayValue(v.Tokens)},
		gguf.KV{Key: "tokenizer.ggml.token_type", Value: gguf.ArrayValue(v.Types)})
	if v.Scores != nil {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.scores", Value: gguf.ArrayValue(v.Scores)})
	}
	if v.Merges != nil {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.merges", Value: gguf.ArrayValue(v.Merges)})
	}
	return kv
}

// SetMeta replaces (or adds) one metadata key.
func (v *Vocab) SetMeta(key string, val gguf.Value) {
	for i := range v.Meta {
		if v.Meta[i].Key == key {
			v.Meta[i].Value = val
			return
		}
	}
	v.Meta = append(v.Meta, gguf.KV{Key: key, Value: val})
}

// Compact is a vocabulary cut down to the tokens and merges a set of texts
// can use: every token and merge whose text occurs in some form of some
// text (as written, in the GPT-2 byte alphabet, with spaces as ▁), and
// every control, unknown and byte token. Tokenizing those texts with it
// gives the same ids as with the whole vocabulary; the other ids are
// unused placeholders.
type Compact struct {
	Source string          `json:"source"`
	Size   int             `json:"n_vocab"`
	Model  string          `json:"model"`
	Meta   json.RawMessage `json:"meta"`   // {"key": value} of the other tokenizer keys
	Tokens [][]any         `json:"tokens"` // [id, text, type] or [id, text, type, score]
	Merges []string        `json:"merges,omitempty"`
}

// Cut makes the compact form of v for texts.
func (v *Vocab) Cut(source string, texts []string) (*Compact, error) {
	maxLen := 0
	for _, s := range v.Tokens {
		maxLen = max(maxLen, len(s))
	}
	for _, m := range v.Merges {
		maxLen = max(maxLen, len(m))
	}
	subs := map[string]bool{}
	for _, t := range texts {
		sp := strings.ReplaceAll(t, " ", "▁")
		for _, form := range []string{t, ByteLevel(t), sp, "▁" + sp} {
			for i := 0; i < len(form); i++ {
				for j := i + 1; j <= len(form) && j-i <= maxLen; j++ {
					subs[form[i:j]] = true
				}
			}
		}
	}
	c := &Compact{Source: source, Size: len(v.Tokens), Model: v.Model}
	for i, s := range v.Tokens {
		typ := v.Types[i]
		keep := subs[s] && typ != TypeUnused
		switch typ {
		case TypeControl, TypeUnknown, TypeByte:
			keep = true
		}
		if !keep {
			continue
		}
		row := []any{i, s, typ}
		if v.Scores != nil {
			row = append(row, v.Scores[i])
		}
		c.Tokens = append(c.Tokens, row)
	}
	for _, m := range v.Merges {
		// llama.cpp splits a merge at its first space after the first byte.
		if len(m) < 2 {
			continue
		}
		sp := strings.IndexByte(m[1:], ' ') + 1
		if sp == 0 {
			continue
		}
		if subs[m[:sp]+m[sp+1:]] {
			c.Merges = append(c.Merges, m)
		}
	}
	meta := map[string]any{}
	for _, kv := range v.Meta {
		meta[kv.Key] = kv.Value.Any()
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	c.Meta = raw
	return c, nil
}

// KVs expands the compact form into GGUF metadata: placeholders for the
// ids it left out, every kept token at its id.
func (c *Compact) KVs() ([]gguf.KV, error) {
	toks := make([]string, c.Size)
	types := make([]int32, c.Size)
	var scores []float32
	if c.Model == "llama" {
		scores = make([]float32, c.Size)
	}
	for i := range toks {
		toks[i] = fmt.Sprintf("[PAD%d]", i)
		types[i] = TypeUnused
		if scores != nil {
			scores[i] = -10000
		}
	}
	for _, row := range c.Tokens {
		if len(row) < 3 {
			return nil, fmt.Errorf("hfvocab: short token row %v", row)
		}
		idf, ok1 := row[0].(float64)
		s, ok2 := row[1].(string)
		typ, ok3 := row[2].(float64)
		if !ok1 || !ok2 || !ok3 || idf < 0 || int(idf) >= c.Size {
			return nil, fmt.Errorf("hfvocab: bad token row %v", row)
		}
		id := int(idf)
		toks[id], types[id] = s, int32(typ)
		if scores != nil && len(row) > 3 {
			sc, _ := row[3].(float64)
			scores[id] = float32(sc)
		}
	}
	var meta map[string]any
	if err := json.Unmarshal(c.Meta, &meta); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := []gguf.KV{{Key: "general.architecture", Value: gguf.String("llama")}}
	for _, k := range keys {
		switch x := meta[k].(type) {
		case string:
			kv = append(kv, gguf.KV{Key: k, Value: gguf.String(x)})
		case bool:
			kv = append(kv, gguf.KV{Key: k, Value: gguf.Bool(x)})
		case float64:
			if x != math.Trunc(x) || x < 0 || x > math.MaxUint32 {
				return nil, fmt.Errorf("hfvocab: %s = %v is not a token id", k, x)
			}
			kv = append(kv, gguf.KV{Key: k, Value: gguf.Uint32(uint32(x))})
		default:
			return nil, fmt.Errorf("hfvocab: %s has a value of type %T", k, x)
		}
	}
	kv = append(kv, gguf.KV{Key: "tokenizer.ggml.tokens", Value: gguf.ArrayValue(toks)},
		gguf.KV{Key: "tokenizer.ggml.token_type", Value: gguf.ArrayValue(types)})
	if scores != nil {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.scores", Value: gguf.ArrayValue(scores)})
	}
	if c.Model != "llama" {
		merges := c.Merges
		if merges == nil {
			merges = []string{}
		}
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.merges", Value: gguf.ArrayValue(merges)})
	}
	return kv, nil
}

// byteRune is GPT-2's byte alphabet (bytes_to_unicode).
var byteRune = func() [256]rune {
	var t [256]rune
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = rune(256 + n)
			n++
		}
	}
	return t
}()

// ByteLevel writes s in GPT-2's byte alphabet.
func ByteLevel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteRune[s[i]])
	}
	return b.String()
}
