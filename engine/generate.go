package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/model"
	"github.com/llmsql/llmsql/engine/sample"
	"github.com/llmsql/llmsql/engine/sched"
	"github.com/llmsql/llmsql/engine/tensor"
	"github.com/llmsql/llmsql/engine/textout"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

// DefaultSlots is how many sequences a model decodes at once when
// LoadConfig.Slots and PoolConfig.MaxSequences are 0.
const DefaultSlots = 8

// LoadConfig sizes a loaded model's runtime. Settings a user chooses
// (flags, LLMSQL_PACK) are read by the program (cmd/llmsql) and passed in
// here; the engine reads no environment.
type LoadConfig struct {
	Threads int // 0 = all cores
	Slots   int // sequences decoded at once; 0 = DefaultSlots
	// Context caps positions per sequence below the model's training
	// context, to bound KV memory; 0 = min(training context, 4096).
	Context int
	// KVF32 keeps the KV cache in F32 instead of F16 (llama.cpp's
	// default, which the bit-exact logits follow): twice the memory.
	KVF32 bool
	// BatchSize caps the tokens of one forward pass (decode steps plus
	// prompt chunks); 0 = 512. Results do not depend on it.
	BatchSize int
	// NoPack keeps Q4_0/Q4_K weights in the file's layout (model.Options).
	NoPack bool
	// Mmap maps the weights from the file (gguf.Open) instead of reading
	// them into huge-page memory (gguf.Load, the default): less of the
	// process's own memory, slower generation.
	Mmap bool
}

// Model is a loaded model ready to generate: weights mapped from the GGUF
// file, its tokenizer, a KV cache with a slot per concurrent sequence, and
// the worker threads. Generate may be called from many goroutines: each
// call holds a slot, and forward passes take turns.
type Model struct {
	Path string
	File *gguf.File
	Net  *model.Model
	Tok  *tokenizer.Tokenizer
	// Chat renders conversations into prompts (the file's chat template,
	// or ChatML when it has none).
	Chat *ChatFormat

	cfg   LoadConfig
	pool  *tensor.Pool
	kv    *kvcache.Cache
	sched *sched.Scheduler

	grammars grammarCache

	packedBytes int64 // repacked copies of weights (planMemory's Packed)
}

// LoadModel opens path and prepares it for generation.
func LoadModel(path string, cfg LoadConfig) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	if !cfg.Mmap {
		// The weights are about to become the process's own memory:
		// check that they fit, beside what the load allocates after
		// them, before reading them.
		err := guardFaults(func() error { return checkResident(f, cfg) })
		f.Close()
		if err != nil {
			return nil, err
		}
		if f, err = gguf.Load(path); err != nil {
			return nil, err
		}
	}
	var m *Model
	err = guardFaults(func() error {
		m, err = loadFrom(f, cfg)
		return err
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	m.Path = path
	return m, nil
}

// checkResident refuses to read f's weights into memory when they and
// what the load allocates after them exceed the memory available now.
func checkResident(f *gguf.File, cfg LoadConfig) error {
	mc, err := model.ReadConfig(f)
	if err != nil {
		return err
	}
	need, err := planMemory(f, mc, cfg.resolve(mc))
	if err != nil {
		return err
	}
	need.Resident = true
	return checkAvailable(need)
}

func loadFrom(f *gguf.File, cfg LoadConfig) (*Model, error) {
	// Size what the load allocates before allocating it: a KV cache that
	// does not fit would kill the process.
	mc, err := model.ReadConfig(f)
	if err != nil {
		return nil, err
	}
	cfg = cfg.resolve(mc)
	need, err := planMemory(f, mc, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkAvailable(need); err != nil {
		return nil, err
	}
	net, err := model.Load(f, model.Options{NoPack: cfg.NoPack})
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(f)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() != net.Vocab {
		return nil, fmt.Errorf("model: tokenizer has %d tokens but the embedding has %d rows", tok.VocabSize(), net.Vocab)
	}
	kv, err := kvcache.New(kvcache.Config{
		Layers: net.Layers, Slots: cfg.Slots, Context: cfg.Context,
		KVDim: net.KVHeads * net.HeadDim, F32: cfg.KVF32,
	})
	if err != nil {
		return nil, err
	}
	pool := tensor.NewPool(cfg.Threads)
	m := &Model{File: f, Net: net, Tok: tok, Chat: NewChatFormat(f, tok), cfg: cfg, pool: pool, kv: kv, packedBytes: need.Packed}
	m.sched = sched.New(model.NewState(net, pool), kv, net.Vocab, sched.Config{BatchTokens: cfg.BatchSize})
	return m, nil
}

// Close stops the scheduler (ending running generations with an error),
// releases the threads and unmaps the file.
func (m *Model) Close() error {
	m.sched.Close()
	m.pool.Close()
	return m.File.Close()
}

// SchedStats returns the scheduler's running totals: forward passes and
// tokens computed, reused and generated.
func (m *Model) SchedStats() sched.Stats { return m.sched.Stats() }

// PassLimit holds the model's scheduler before forward pass n+1 (n < 0:
// no limit); see sched.Scheduler.PassLimit. For tests.
func (m *Model) PassLimit(n int64) { m.sched.PassLimit(n) }

// MemoryBytes estimates what the model holds in memory: its weights (mapped,
// resident once touched), the repacked copies of some, and its KV cache:
// the figure planMemory gave before the load.
func (m *Model) MemoryBytes() int64 {
	if m.Net.Encoder {
		return m.Net.WeightBytes + m.packedBytes // its cache is never written
	}
	return m.Net.WeightBytes + m.packedBytes + m.kv.Bytes()
}

// Context is the number of positions a sequence may use.
func (m *Model) Context() int { return m.cfg.Context }

// Threads is the number of worker threads.
func (m *Model) Threads() int { return m.pool.Threads() }

// Result is a finished generation.
type Result struct {
	PromptIDs    []int32
	GeneratedIDs []int32
	// Prompt is the prompt text: the rendered chat template for a
	// conversation, else Request.Prompt.
	Prompt string
	// Text is the reply: without stop strings and, for chat prompts,
	// without the reasoning block unless Options.KeepThinking.
	Text string
	// Reasoning is the reasoning block removed from Text.
	Reasoning string
	// Truncated is how many prompt tokens Options.Truncate dropped.
	Truncated int
	// StopReason is "eos", "stop" (a stop string), "length" (max tokens),
	// "context" (the sequence filled the context) or "cancelled".
	StopReason string
	PromptTime time.Duration
	GenTime    time.Duration
	// Logits are the logits at the last prompt position, when asked for.
	Logits []float32
	// Incomplete is set when the options gave a grammar and the reply
	// ended before the grammar was complete: it is not a sentence of it
	// (half a JSON document, say).
	Incomplete bool
}

// Request is one generation. The prompt is, by precedence: PromptIDs;
// Messages rendered with the model's chat template; or Prompt.
type Request struct {
	Prompt    string
	PromptIDs []int32
	// Messages is a conversation to answer: it is rendered with the
	// model's chat template (Template shapes it) and the reply is an
	// assistant turn.
	Messages []chattmpl.Message
	Template TemplateOptions
	// Rendered says Prompt is already a rendered chat prompt (as
	// ChatFormat.Render returns): it is tokenized as one and its reply
	// handled as a chat reply.
	Rendered bool
	// ParseSpecial tokenizes a raw Prompt with special-token text (such
	// as "<|im_start|>") parsed into those tokens.
	ParseSpecial bool
	Options      GenerateOptions
	// OnText receives the reply as it is produced, in pieces that are
	// whole UTF-8 and never include text of a stop string or a removed
	// reasoning block; an error from it ends the generation with that
	// error.
	OnText func(string) error
	// WantLogits copies the last prompt position's logits into the result.
	WantLogits bool
	// OnToken, if set, is called as each token is generated, on the
	// scheduler's goroutine: it must be cheap (a progress counter). It
	// does not keep a request from the result cache.
	OnToken func()
}

// tokens resolves the request's prompt: its ids, its text and how to treat
// thinking in the reply.
func (m *Model) tokens(req Request) ([]int32, string, textout.Thinking, error) {
	switch {
	case req.PromptIDs != nil:
		return req.PromptIDs, req.Prompt, textout.KeepThinking, nil
	case req.Messages != nil:
		ids, prompt, err := m.ChatPrompt(req.Messages, req.Template)
		return ids, prompt, thinkingMode(prompt, req.Options.KeepThinking), err
	case req.Rendered:
		return m.Chat.Tokenize(m.Tok, req.Prompt), req.Prompt, thinkingMode(req.Prompt, req.Options.KeepThinking), nil
	default:
		return m.Tok.Encode(req.Prompt, true, req.ParseSpecial), req.Prompt, textout.KeepThinking, nil
	}
}

// Generate runs one request. It honours ctx between forward passes, so a
// cancelled query stops within one step; it then returns ctx's error and
// also the result so far (StopReason "cancelled").
func (m *Model) Generate(ctx context.Context, req Request) (*Result, error) {
	opts := req.Options
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if !m.Net.CanGenerate() {
		return nil, fmt.Errorf("model is a %s embedding model without an output head: it cannot generate text; use embed()", m.Net.Arch)
	}
	ids, prompt, thinking, err := m.tokens(req)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("prompt is empty and the vocabulary adds no BOS token")
	}
	truncated := 0
	if len(ids) >= m.cfg.Context {
		if opts.Truncate == "" {
			return nil, &PromptTooLongError{Tokens: len(ids), Context: m.cfg.Context}
		}
		kept := truncate(ids, m.cfg.Context, opts.MaxTokens, opts.Truncate, m.Tok.BOS())
		truncated, ids = len(ids)-len(kept), kept
	}
	res := &Result{PromptIDs: ids, Prompt: prompt, Truncated: truncated}
	seed := opts.Seed
	if !opts.HasSeed {
		seed = uint64(time.Now().UnixNano())
	}
	smp := sample.New(sample.Params{
		Temperature: opts.Temperature, TopK: opts.TopK, TopP: opts.TopP, MinP: opts.MinP,
		RepeatPenalty: opts.RepeatPenalty, RepeatLastN: opts.RepeatLastN,
		FrequencyPenalty: opts.FrequencyPenalty, PresencePenalty: opts.PresencePenalty, Seed: seed,
	})
	for _, id := range ids {
		smp.Accept(id)
	}
	if opts.Grammar != "" {
		g, err := m.Grammar(opts.Grammar)
		if err != nil {
			return nil, err
		}
		smp.Constrain(g.NewMatcher())
	}

	// The scheduler calls onToken on its own goroutine, so that must stay
	// cheap: it decodes and checks stop strings, and hands finished text to
	// this goroutine, which calls the (possibly slow) OnText.
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := textout.New(opts.Stop, thinking)
	if opts.Grammar != "" {
		out.GrammarUTF8() // the text has the characters the grammar matched
	}
	var mu sync.Mutex
	var ready []string
	notify := make(chan struct{}, 1)
	var firstToken time.Time
	start := time.Now()
	r := sched.Request{
		Prompt:     ids,
		MaxTokens:  opts.MaxTokens,
		Sampler:    smp,
		WantLogits: req.WantLogits,
		OnToken: func(tok int32) (bool, error) {
			if firstToken.IsZero() {
				firstToken = time.Now()
			}
			if req.OnToken != nil {
				req.OnToken()
			}
			mu.Lock()
			res.GeneratedIDs = append(res.GeneratedIDs, tok)
			piece, stopped := out.Add(m.Tok.Piece(tok))
			// Only a streaming caller is woken for each piece: a batched
			// statement's rows would otherwise wake a goroutine per
			// token, each competing with the forward pass's threads.
			stream := piece != "" && req.OnText != nil
			if stream {
				ready = append(ready, piece)
			}
			mu.Unlock()
			if stream {
				select {
				case notify <- struct{}{}:
				default:
				}
			}
			return stopped, nil
		},
	}
	if !opts.IgnoreEOS {
		r.Stop = m.Tok.IsEOG
	}
	done := make(chan sched.Result, 1)
	go func() { done <- m.sched.Run(ctx, r) }()

	var cbErr error
	deliver := func() {
		mu.Lock()
		pieces := ready
		ready = nil
		mu.Unlock()
		for _, p := range pieces {
			if cbErr == nil && req.OnText != nil {
				if cbErr = req.OnText(p); cbErr != nil {
					cancel()
				}
			}
		}
	}
	var sr sched.Result
wait:
	for {
		select {
		case <-notify:
			deliver()
		case sr = <-done:
			break wait
		}
	}
	deliver()
	if cbErr != nil {
		return nil, cbErr
	}
	// A caller that cancels (Ctrl-C, KILL QUERY) gets what was generated
	// so far along with the error.
	cancelled := sr.Err != nil && parent.Err() != nil
	if sr.Err != nil && !cancelled {
		return nil, sr.Err
	}
	end := time.Now()
	if firstToken.IsZero() {
		firstToken = end
	}
	res.PromptTime = firstToken.Sub(start)
	res.GenTime = end.Sub(firstToken)
	res.Logits = sr.PromptLogits
	switch {
	case cancelled:
		res.StopReason = "cancelled"
	case sr.Reason == "done":
		res.StopReason = "stop"
	default:
		res.StopReason = sr.Reason
	}
	tail := out.Finish()
	if tail != "" && req.OnText != nil {
		if err := req.OnText(tail); err != nil && !cancelled {
			return nil, err
		}
	}
	res.Text = out.Text()
	res.Reasoning = out.Reasoning()
	// With a grammar, a reply that ended before the grammar was complete
	// (max tokens, the context, a stop string) is not a sentence of it.
	res.Incomplete = opts.Grammar != "" && (!smp.Complete() || res.StopReason == "stop")
	if cancelled {
		return res, sr.Err
	}
	return res, nil
}

// BenchResult is what Bench measured.
type BenchResult struct {
	PromptTPS      float64
	GenTPS         float64
	AllocsPerToken float64
}

// Bench times a p-token prompt (in BatchSize chunks) and then n decode
// steps of one token, as llama-bench's pp and tg tests do, through the
// same scheduler generation uses. Token ids are arbitrary: speed does not
// depend on them.
func (m *Model) Bench(ctx context.Context, p, n int) (BenchResult, error) {
	// The prompt run holds p positions (the scheduler wants one spare);
	// the generation run 1 + n + 1.
	if !m.Net.CanGenerate() {
		return BenchResult{}, fmt.Errorf("bench: a %s model embeds text and cannot generate; time it with llmsql embed", m.Net.Arch)
	}
	if p >= m.cfg.Context || n+2 > m.cfg.Context {
		return BenchResult{}, fmt.Errorf("bench: %d prompt or %d generated tokens exceed the context of %d", p, n, m.cfg.Context)
	}
	tok := func(i int) int32 { return int32((i*7919 + 1) % m.Net.Vocab) }
	greedy := sample.New(sample.Params{})
	var r BenchResult
	if p > 0 {
		ids := make([]int32, p)
		for i := range ids {
			ids[i] = tok(i)
		}
		// A distinct first token keeps the prefix cache from reusing an
		// earlier run's positions.
		ids[0] = int32(time.Now().UnixNano() % int64(m.Net.Vocab))
		start := time.Now()
		res := m.sched.Run(ctx, sched.Request{Prompt: ids, MaxTokens: 0, Sampler: greedy})
		if res.Err != nil {
			return r, res.Err
		}
		r.PromptTPS = float64(p) / time.Since(start).Seconds()
	}
	if n > 0 {
		var before, after runtime.MemStats
		var start time.Time
		count := 0
		res := m.sched.Run(ctx, sched.Request{
			Prompt: []int32{int32(time.Now().UnixNano() % int64(m.Net.Vocab))}, MaxTokens: n + 1, Sampler: greedy,
			OnToken: func(int32) (bool, error) {
				// The first token comes from the prompt pass; time the
				// decode steps after it.
				if count++; count == 1 {
					runtime.ReadMemStats(&before)
					start = time.Now()
				}
				return false, nil
			},
		})
		if res.Err != nil {
			return r, res.Err
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		r.GenTPS = float64(n) / elapsed.Seconds()
		r.AllocsPerToken = float64(after.Mallocs-before.Mallocs) / float64(n)
	}
	return r, nil
}

// truncate cuts a prompt that does not fit the context (options
// "truncate"): it keeps context-1-maxTokens tokens, so the reply has room,
// but never fewer than half the context, dropping tokens from the start
// (a leading BOS stays) or from the end.
func truncate(ids []int32, context, maxTokens int, where string, bos int32) []int32 {
	keep := max(context-1-maxTokens, context/2, 1)
	if keep >= len(ids) {
		return ids
	}
	if where == TruncateEnd {
		return ids[:keep:keep]
	}
	if bos >= 0 && ids[0] == bos && keep >= 2 {
		out := make([]int32, 0, keep)
		out = append(out, bos)
		return append(out, ids[len(ids)-(keep-1):]...)
	}
	return ids[len(ids)-keep:]
}
