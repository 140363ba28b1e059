package remote

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
)

// Embed returns text's embedding from /v1/embeddings and the tokens the
// server counted. It implements engine.RemoteModel.
func (m *Model) Embed(ctx context.Context, text string) ([]float32, int, error) {
	var vec []float32
	var tokens int
	err := m.do(ctx, len(text)/4+1, func(ctx context.Context, ep *endpoint) (int, bool, error) {
		r, err := ep.client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: m.cfg.Model,
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String(text)}})
		if err != nil {
			return 0, false, err
		}
		if len(r.Data) != 1 || len(r.Data[0].Embedding) == 0 {
			return 0, false, fmt.Errorf("the server's answer has %d embeddings for one text", len(r.Data))
		}
		vec = make([]float32, len(r.Data[0].Embedding))
		for i, x := range r.Data[0].Embedding {
			vec[i] = float32(x)
		}
		tokens = int(r.Usage.PromptTokens)
		return tokens, false, nil
	})
	return vec, tokens, err
}

// rerankResponse is the answer of /v1/rerank as llama.cpp's server and
// vLLM give it (Jina's and Cohere's shape).
type rerankResponse struct {
	Results []struct {
		Index          int      `json:"index"`
		RelevanceScore *float64 `json:"relevance_score"`
	} `json:"results"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// Rerank scores document for query with /v1/rerank, which OpenAI's API
// lacks and llama.cpp's server (--reranking) and vLLM serve.
func (m *Model) Rerank(ctx context.Context, query, document string) (float32, int, error) {
	var score float32
	var tokens int
	body := map[string]any{"model": m.cfg.Model, "query": query, "documents": []string{document}}
	err := m.do(ctx, (len(query)+len(document))/4+1, func(ctx context.Context, ep *endpoint) (int, bool, error) {
		var r rerankResponse
		if err := ep.client.Post(ctx, "rerank", body, &r); err != nil {
			return 0, false, err
		}
		if len(r.Results) != 1 || r.Results[0].Index != 0 || r.Results[0].RelevanceScore == nil {
			return 0, false, fmt.Errorf("the server's rerank answer has no score for the document")
		}
		score = float32(*r.Results[0].RelevanceScore)
		tokens = max(r.Usage.TotalTokens, r.Usage.PromptTokens)
		return tokens, false, nil
	})
	return score, tokens, err
}
