package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/llmsql/llmsql/engine/chattmpl"
)

// ScoreRequest asks how likely each of several replies is as the
// assistant's answer to a conversation: classify() in SQL scores its
// labels this way.
type ScoreRequest struct {
	// Messages is the conversation, rendered with the model's chat
	// template (ChatML when its file has none); Template shapes it.
	Messages []chattmpl.Message
	Template TemplateOptions
	// Replies are the candidate replies, each the whole of the
	// assistant's turn.
	Replies []string
}

// ScoreResult is the answer to a ScoreRequest.
type ScoreResult struct {
	// LogProbs holds, for each reply in order, the natural log of the
	// probability that the assistant's turn is exactly that reply (see
	// Model.ReplyTokens for the tokens this covers).
	LogProbs []float64
	// PromptTokens are the conversation's tokens; ReplyTokens the
	// replies' tokens, all together. Both are what the answer is made of,
	// also when it came from the cache.
	PromptTokens, ReplyTokens int
	// Cached says the answer came from the result cache.
	Cached bool
}

// replySlot stands for the reply when a conversation is rendered with one,
// to find where the template puts it: text no template changes (private-use
// characters, no spaces to trim, no markup).
const replySlot = "\uE000reply\uE001"

// ReplyTokens returns the tokens of the conversation's prompt (rendered
// with the generation prompt, the opening of the assistant's turn) and,
// for each reply, the tokens the model would produce for the assistant's
// turn to be exactly that reply, as Score wants them:
//
//   - The reply is written as the chat template writes an assistant's
//     turn: the conversation is rendered with the reply as a last
//     assistant message, and the text after the generation prompt is
//     taken. So a template that puts a space before the reply (Llama 2's
//     "[/INST] reply </s>") gives the reply its leading space, one that
//     opens the turn with an empty thinking block (Qwen3's) gives that,
//     and a reply is never given a space the template does not write.
//   - The turn ends with the template's end-of-turn token (the first
//     end-of-generation token after the reply: <|im_end|>, <|eot_id|>,
//     </s>), which is part of what is scored. Without it, a reply that is
//     the start of another ("bug" and "bug report") would always score at
//     least as high as the longer one; with it each score is that of a
//     complete answer. A template without such a token gives its text up
//     to the end of the turn.
//   - The reply is tokenized as it follows the prompt (the prompt and
//     the reply are tokenized together and the prompt's tokens taken
//     off), so its first token is the one the model would write there,
//     merges across the boundary included. Where the two tokenizations
//     part inside the prompt, the reply is tokenized alone.
//
// A template that renders the conversation differently once a reply
// follows (so the prompt is not a prefix of the rendering with the reply)
// gives each reply as it is, followed by the template's end-of-sequence
// text.
func (m *Model) ReplyTokens(msgs []chattmpl.Message, opts TemplateOptions, replies []string) ([]int32, [][]int32, error) {
	prompt, before, after, err := replyFrame(m.Chat, msgs, opts)
	if err != nil {
		return nil, nil, err
	}
	p := m.Chat.Tokenize(m.Tok, prompt)
	out := make([][]int32, len(replies))
	for i, r := range replies {
		if r == "" {
			return nil, nil, fmt.Errorf("reply %d is empty", i+1)
		}
		turn := before + r + after
		full := m.Chat.Tokenize(m.Tok, prompt+turn)
		var ids []int32
		reply := 0 // tokens of ids that are the reply's own, at least
		if len(full) > len(p) && equalPrefix(full, p) {
			ids = full[len(p):]
			upTo := m.Chat.Tokenize(m.Tok, prompt+before+r)
			reply = max(commonLen(full, upTo)-len(p), 0)
		} else {
			ids = m.Tok.Encode(turn, false, true)
			reply = commonLen(ids, m.Tok.Encode(before+r, false, true))
		}
		for k := reply; k < len(ids); k++ {
			if m.Tok.IsEOG(ids[k]) {
				ids = ids[:k+1]
				break
			}
		}
		if len(ids) == 0 {
			return nil, nil, fmt.Errorf("reply %q has no tokens", r)
		}
		out[i] = ids
	}
	return p, out, nil
}

// replyFrame renders the conversation with the generation prompt
// (prompt), and finds the text the template writes before and after an
// assistant's reply.
func replyFrame(c *ChatFormat, msgs []chattmpl.Message, opts TemplateOptions) (prompt, before, after string, err error) {
	prompt, err = c.Render(msgs, opts)
	if err != nil {
		return "", "", "", err
	}
	withReply := append(slices.Clip(msgs), chattmpl.Message{Role: "assistant", Content: replySlot})
	closed := opts
	closed.NoGenerationPrompt = true
	if full, err := c.Render(withReply, closed); err == nil {
		if rest, ok := strings.CutPrefix(full, prompt); ok {
			if b, a, ok := strings.Cut(rest, replySlot); ok {
				return prompt, b, a, nil
			}
		}
	}
	return prompt, "", c.EOS, nil
}

func commonLen(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// ScoreReplies scores each reply as the assistant's answer to the
// conversation (see ReplyTokens and Score): one pass over the prompt, then
// every reply in the same forward passes.
func (m *Model) ScoreReplies(ctx context.Context, req ScoreRequest) (ScoreResult, error) {
	if len(req.Replies) == 0 {
		return ScoreResult{}, errors.New("score: no replies to score")
	}
	p, cands, err := m.ReplyTokens(req.Messages, req.Template, req.Replies)
	if err != nil {
		return ScoreResult{}, err
	}
	lps, err := m.Score(ctx, p, cands)
	if err != nil {
		return ScoreResult{}, err
	}
	res := ScoreResult{LogProbs: lps, PromptTokens: len(p)}
	for _, c := range cands {
		res.ReplyTokens += len(c)
	}
	return res, nil
}

// Score scores each reply as the assistant's answer to a conversation
// with the named model (see Model.ScoreReplies). Scores are deterministic,
// so a repeated request (the same model file, conversation and replies)
// is answered from the result cache, and identical requests running at
// the same time run once.
func (p *Pool) Score(ctx context.Context, model string, req ScoreRequest) (ScoreResult, error) {
	if len(req.Replies) == 0 {
		return ScoreResult{}, errors.New("score: no replies to score")
	}
	if p.isRemote(model) {
		return p.scoreRemote(ctx, model, req)
	}
	c, err := p.ChatFormat(model)
	if err != nil {
		return ScoreResult{}, err
	}
	// The cache key: the rendered prompt, where the template puts a
	// reply, and the replies.
	prompt, before, after, err := replyFrame(c, req.Messages, req.Template)
	if err != nil {
		return ScoreResult{}, err
	}
	p.mu.Lock()
	e, ok := p.models[model]
	p.mu.Unlock()
	if !ok {
		return ScoreResult{}, UnknownModelError(model)
	}
	p.mu.Lock()
	cache, useCache, fileID, ident := p.cache, p.cacheOn, e.fileID, e.ident
	p.mu.Unlock()
	ran := false
	compute := func() (cachedResult, error) {
		ran = true
		m, release, err := p.Acquire(ctx, model)
		if err != nil {
			return cachedResult{}, err
		}
		defer release()
		res, err := m.ScoreReplies(ctx, req)
		if err != nil {
			if ctx.Err() == nil && p.changedSince(e, ident) {
				err = fmt.Errorf("model '%s': its file %s changed on disk while in use, so this call failed; the next call loads the file again", model, e.info.Path)
			}
			return cachedResult{}, err
		}
		p.account(model, func(u *Usage) { u.PromptTokens += int64(res.PromptTokens + res.ReplyTokens) })
		return cachedResult{text: string(encodeFloats(res.LogProbs)), promptTokens: res.PromptTokens, generatedTokens: res.ReplyTokens}, nil
	}
	var cr cachedResult
	if useCache {
		cr, err = cache.do(ctx, scoreKey(fileID, prompt, before, after, req.Replies), compute)
	} else {
		cr, err = compute()
	}
	if err != nil {
		return ScoreResult{}, err
	}
	p.account(model, func(u *Usage) {
		u.Calls++
		if !ran {
			u.CacheHits++
		}
	})
	return ScoreResult{LogProbs: decodeFloats([]byte(cr.text)), PromptTokens: cr.promptTokens,
		ReplyTokens: cr.generatedTokens, Cached: !ran}, nil
}

// scoreKey identifies a ScoreRequest's answer in the result cache. Like
// embedKey it starts with a zero byte, which no generation key does, and
// then a kind no embedding key has.
func scoreKey(fileID, prompt, before, after string, replies []string) cacheKey {
	b := []byte{0}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(fileID)
	str("score")
	str(prompt)
	str(before)
	str(after)
	b = binary.AppendUvarint(b, uint64(len(replies)))
	for _, r := range replies {
		str(r)
	}
	h := fnv.New64a()
	h.Write(b)
	return cacheKey{hash: h.Sum64(), full: string(b)}
}

func encodeFloats(v []float64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func decodeFloats(b []byte) []float64 {
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
