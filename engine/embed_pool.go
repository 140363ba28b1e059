package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/model"
)

// Embed returns the embedding of text with the named model (see
// Model.Embed). Embeddings are deterministic (a text's vector does not
// depend on what shares its forward pass), so repeated texts are answered
// from the result cache, and concurrent calls share forward passes.
func (p *Pool) Embed(ctx context.Context, model, text string, opts EmbedOptions) ([]float32, error) {
	kind := "embed"
	if opts.Truncate {
		kind = "embed-truncate"
	}
	v, err := p.embedCall(ctx, model, kind, text, func(m *Model) ([]float32, int, error) {
		ids, err := m.EmbedTokens(text, opts.Truncate)
		if err != nil {
			return nil, 0, err
		}
		v, err := m.EmbedIDs(ctx, ids)
		return v, len(ids), err
	}, func(r RemoteModel) ([]float32, int, error) {
		return r.Embed(ctx, text)
	})
	if err != nil {
		return nil, err
	}
	if opts.Normalize {
		Normalize(v)
	}
	return v, nil
}

// Rerank returns a reranker's relevance score of document for query with
// the named model (see Model.Rerank), cached as Embed is.
func (p *Pool) Rerank(ctx context.Context, model, query, document string, truncate bool) (float32, error) {
	kind := "rerank"
	if truncate {
		kind = "rerank-truncate"
	}
	v, err := p.embedCall(ctx, model, kind, query+"\x00"+document, func(m *Model) ([]float32, int, error) {
		if err := m.checkReranker(); err != nil {
			return nil, 0, err
		}
		ids, err := m.RerankTokens(query, document, truncate)
		if err != nil {
			return nil, 0, err
		}
		v, err := m.EmbedIDs(ctx, ids)
		return v, len(ids), err
	}, func(r RemoteModel) ([]float32, int, error) {
		s, n, err := r.Rerank(ctx, query, document)
		return []float32{s}, n, err
	})
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// embedCall runs run on the loaded model (or remote on a remote model)
// through the result cache, keyed on the model file, kind and text, and
// accounts for it in Usage.
func (p *Pool) embedCall(ctx context.Context, model, kind, text string, run func(*Model) ([]float32, int, error),
	remote func(RemoteModel) ([]float32, int, error)) ([]float32, error) {
	p.mu.Lock()
	e, ok := p.models[model]
	p.mu.Unlock()
	if !ok {
		return nil, UnknownModelError(model)
	}
	if err := p.refresh(e); err != nil {
		return nil, err
	}
	p.mu.Lock()
	cache, useCache, fileID, ident := p.cache, p.cacheOn, e.fileID, e.ident
	p.mu.Unlock()
	ran := false
	compute := func() (string, error) {
		ran = true
		if e.remote != nil {
			v, n, err := remote(e.remote)
			if err != nil {
				return "", err
			}
			p.account(model, func(u *Usage) { u.PromptTokens += int64(n) })
			return string(EncodeVector(v)), nil
		}
		m, release, err := p.Acquire(ctx, model)
		if err != nil {
			return "", err
		}
		defer release()
		v, n, err := run(m)
		if err != nil {
			if ctx.Err() == nil && p.changedSince(e, ident) {
				err = fmt.Errorf("model '%s': its file %s changed on disk while in use, so this call failed; the next call loads the file again", model, e.info.Path)
			}
			return "", err
		}
		p.account(model, func(u *Usage) { u.PromptTokens += int64(n) })
		return string(EncodeVector(v)), nil
	}
	var enc string
	var err error
	if useCache {
		var cr cachedResult
		cr, err = cache.do(ctx, embedKey(fileID, kind, text), func() (cachedResult, error) {
			enc, err := compute()
			return cachedResult{text: enc}, err
		})
		enc = cr.text
	} else {
		enc, err = compute()
	}
	if err != nil {
		return nil, err
	}
	p.account(model, func(u *Usage) {
		u.Calls++
		if !ran {
			u.CacheHits++
		}
	})
	return DecodeVector([]byte(enc)), nil
}

// embedKey identifies an embedding or a rerank score in the result cache.
// It starts with a zero byte, which no generation key does (those start
// with the length of a non-empty file identity), so the two never meet.
func embedKey(fileID, kind, text string) cacheKey {
	b := []byte{0}
	for _, s := range []string{fileID, kind, text} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	h := fnv.New64a()
	h.Write(b)
	return cacheKey{hash: h.Sum64(), full: string(b)}
}

// checkReranker fails unless the model scores pairs.
func (m *Model) checkReranker() error {
	if m.Net.Pooling != model.PoolRank {
		return &NotRerankerError{Pooling: m.Net.Pooling}
	}
	return nil
}

// EmbedDim is the length of the named model's embeddings (a reranker's
// number of scores), from its file's metadata: the model need not be
// loaded.
func (p *Pool) EmbedDim(model string) (int, error) {
	p.mu.Lock()
	e, ok := p.models[model]
	p.mu.Unlock()
	if !ok {
		return 0, UnknownModelError(model)
	}
	if e.info.EmbedDim <= 0 {
		return 0, fmt.Errorf("model '%s': its file gives no embedding length", model)
	}
	return e.info.EmbedDim, nil
}

// embedShape reads a file's embedding length and pooling as the model
// package would: {arch}.embedding_length, or for rank pooling the
// classification head's outputs (its labels, else cls.output's rows, else
// cls's).
func embedShape(f *gguf.File) (int, string) {
	arch := f.Architecture()
	pt, err := f.IntOr(arch+".pooling_type", 0)
	if err != nil || pt < 0 || pt > int64(model.PoolRank) {
		return 0, ""
	}
	pooling := model.Pooling(pt)
	if pooling == model.PoolRank {
		if labels, err := f.Strings(arch + ".classifier.output_labels"); err == nil && len(labels) > 0 {
			return len(labels), pooling.String()
		}
		for _, name := range []string{"cls.output.weight", "cls.weight"} {
			if t := f.Tensor(name); t != nil && len(t.Dims) == 2 {
				return int(t.Dims[1]), pooling.String()
			}
		}
		return 0, pooling.String()
	}
	n, err := f.Int(arch + ".embedding_length")
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, pooling.String()
	}
	return int(n), pooling.String()
}
