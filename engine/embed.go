package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/llmsql/llmsql/engine/model"
	"github.com/llmsql/llmsql/engine/sched"
)

// EmbedOptions shape an embedding.
type EmbedOptions struct {
	// Normalize scales the vector to unit length (L2), as SQL's embed()
	// does by default; without it the vector is llama.cpp's raw pooled
	// one (what node-llama-cpp's getEmbeddingFor returns).
	Normalize bool
	// Truncate cuts a text longer than the model takes to fit (keeping its
	// start and the special tokens around it) instead of failing.
	Truncate bool
}

// TextTooLongError reports a text with more tokens than a model embeds.
type TextTooLongError struct {
	Tokens int
	Limit  int
}

func (e *TextTooLongError) Error() string {
	return fmt.Sprintf("text is %d tokens, longer than the %d tokens the model embeds at once (option \"truncate\": true cuts it to fit)", e.Tokens, e.Limit)
}

// NotRerankerError is rerank() on a model without a classification head.
type NotRerankerError struct{ Pooling model.Pooling }

func (e *NotRerankerError) Error() string {
	return fmt.Sprintf("model is not a reranker: its pooling type is %s, not rank (rerankers such as bge-reranker have a classification head)", e.Pooling)
}

// EmbedLimit is the most tokens one text may have: the model's positions
// (an encoder's position table, a decoder's configured context).
func (m *Model) EmbedLimit() int { return min(m.cfg.Context, m.Net.ContextLen) }

// EmbedDim is the length of the model's embeddings (a reranker's number of
// scores).
func (m *Model) EmbedDim() int { return m.Net.EmbedDim() }

// EmbedTokens tokenizes text for embedding as llama.cpp's embedding tools
// do: with the special tokens the vocabulary puts around a text ([CLS] and
// [SEP] for WordPiece, BOS, and EOS where the file asks for it), special
// token text not parsed. A text longer than EmbedLimit is an error, or,
// with truncate, cut to fit with its special tokens kept.
func (m *Model) EmbedTokens(text string, truncate bool) ([]int32, error) {
	pre, suf := m.Tok.Affixes()
	body := m.Tok.Encode(text, false, false)
	limit := m.EmbedLimit()
	if n := len(pre) + len(body) + len(suf); n > limit {
		if !truncate || len(pre)+len(suf) >= limit {
			return nil, &TextTooLongError{Tokens: n, Limit: limit}
		}
		body = body[:limit-len(pre)-len(suf)]
	}
	ids := make([]int32, 0, len(pre)+len(body)+len(suf))
	ids = append(append(append(ids, pre...), body...), suf...)
	if len(ids) == 0 {
		return nil, fmt.Errorf("text is empty and the vocabulary adds no special tokens to embed")
	}
	return ids, nil
}

// RerankTokens joins a query and a document as llama.cpp's rerankers read
// them: [CLS] query [SEP] document [SEP] for WordPiece (the vocabulary's
// affixes around, its pair separator between), or, where the file has a
// rerank prompt (Qwen3-Reranker), that prompt around them. With truncate,
// a pair too long is cut at the end of the document.
func (m *Model) RerankTokens(query, document string, truncate bool) ([]int32, error) {
	if tmpl, err := m.File.String("tokenizer.chat_template.rerank"); err == nil && tmpl != "" {
		return m.rerankTemplateTokens(tmpl, query, document, truncate)
	}
	pre, suf := m.Tok.Affixes()
	sep := m.Tok.PairSeparator()
	q := m.Tok.Encode(query, false, false)
	d := m.Tok.Encode(document, false, false)
	limit := m.EmbedLimit()
	fixed := len(pre) + len(q) + len(sep) + len(suf)
	if n := fixed + len(d); n > limit {
		if !truncate || fixed >= limit {
			return nil, &TextTooLongError{Tokens: n, Limit: limit}
		}
		d = d[:limit-fixed]
	}
	ids := make([]int32, 0, fixed+len(d))
	for _, part := range [][]int32{pre, q, sep, d, suf} {
		ids = append(ids, part...)
	}
	return ids, nil
}

// rerankTemplateTokens is RerankTokens for a file with a rerank prompt
// (tokenizer.chat_template.rerank, as Qwen3-Reranker's): {query} and
// {document} replaced by the texts, tokenized with the vocabulary's
// special tokens added and special-token text parsed, as llama.cpp's
// embedding tool does. With truncate, a prompt too long keeps its start
// and the tokens of what follows {document}, so the document's end is
// what is cut.
func (m *Model) rerankTemplateTokens(tmpl, query, document string, truncate bool) ([]int32, error) {
	prompt := strings.ReplaceAll(strings.ReplaceAll(tmpl, "{query}", query), "{document}", document)
	ids := m.Tok.Encode(prompt, true, true)
	limit := m.EmbedLimit()
	if len(ids) <= limit {
		return ids, nil
	}
	var tail []int32
	if _, after, ok := strings.Cut(tmpl, "{document}"); ok {
		after = strings.ReplaceAll(after, "{query}", query)
		_, suf := m.Tok.Affixes()
		tail = append(m.Tok.Encode(after, false, true), suf...)
	}
	if !truncate || len(tail) >= limit || !hasSuffix(ids, tail) {
		return nil, &TextTooLongError{Tokens: len(ids), Limit: limit}
	}
	return append(ids[:limit-len(tail):limit-len(tail)], tail...), nil
}

func hasSuffix(ids, tail []int32) bool {
	if len(tail) > len(ids) {
		return false
	}
	for i, t := range tail {
		if ids[len(ids)-len(tail)+i] != t {
			return false
		}
	}
	return true
}

// EmbedIDs returns the pooled vector of ids (the special tokens included),
// raw. Many calls at once share forward passes.
func (m *Model) EmbedIDs(ctx context.Context, ids []int32) ([]float32, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("nothing to embed")
	}
	if len(ids) > m.EmbedLimit() {
		return nil, &TextTooLongError{Tokens: len(ids), Limit: m.EmbedLimit()}
	}
	if m.Net.Pooling == model.PoolRank && m.Net.ClsOutDim() == 0 {
		return nil, fmt.Errorf("model: pooling type rank needs a classification head")
	}
	res := m.sched.Run(ctx, sched.Request{Prompt: ids, Embed: true})
	if res.Err != nil {
		return nil, res.Err
	}
	return res.Embedding, nil
}

// Embed returns text's embedding (EmbedTokens, then EmbedIDs), normalized
// if asked. A reranker's "embedding" is its score for text alone.
func (m *Model) Embed(ctx context.Context, text string, opts EmbedOptions) ([]float32, error) {
	ids, err := m.EmbedTokens(text, opts.Truncate)
	if err != nil {
		return nil, err
	}
	v, err := m.EmbedIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	if opts.Normalize {
		Normalize(v)
	}
	return v, nil
}

// Rerank returns a reranker's relevance score of document for query (its
// classification head's first output, before any sigmoid, as llama.cpp
// gives it).
func (m *Model) Rerank(ctx context.Context, query, document string, truncate bool) (float32, error) {
	if err := m.checkReranker(); err != nil {
		return 0, err
	}
	ids, err := m.RerankTokens(query, document, truncate)
	if err != nil {
		return 0, err
	}
	v, err := m.EmbedIDs(ctx, ids)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// Normalize scales v to unit Euclidean length in place, as llama.cpp's
// common_embd_normalize does (float32 squares summed in float64); a zero
// vector stays zero.
func Normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x * x)
	}
	if sum == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}

// Cosine is the cosine similarity of two vectors of the same length (0 if
// either is zero).
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// EncodeVector is a vector as go-mysql-server's VECTOR values hold it:
// little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector is EncodeVector's inverse.
func DecodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
