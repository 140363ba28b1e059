package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"syscall"

	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/sched"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

// PoolConfig sets the limits of a Pool.
type PoolConfig struct {
	Threads int // worker threads per loaded model; 0 = all cores
	// MaxSequences caps the sequences one model decodes at once; further
	// requests wait for a slot. 0 = DefaultSlots.
	MaxSequences int
	// MemoryBudget, in bytes, is what loaded models may use (weights that are
	// resident plus KV caches) before idle ones are unloaded, least recently
	// used first. 0 = no limit.
	MemoryBudget int64
	// Context caps each sequence's positions (and so the KV cache, which
	// holds MaxSequences of them). 0 = min(the model's training context, 4096).
	Context int
	// ResultCacheBytes bounds the cache of deterministic generations
	// (temperature 0 or a fixed seed). 0 = 64 MiB; negative = no cache.
	ResultCacheBytes int64
	// NoPack keeps Q4_0/Q4_K weights in the file's layout (LoadConfig).
	NoPack bool
	// Mmap maps model files instead of reading them into memory
	// (LoadConfig).
	Mmap bool
}

// Usage is what one model has done since the pool started.
type Usage struct {
	Model           string
	Calls           int64
	CacheHits       int64
	PromptTokens    int64
	GeneratedTokens int64
}

// Pool holds the registered models, loads each on first use and shares one
// copy of its weights among all queries. When loaded models exceed the
// memory budget, idle ones are unloaded, least recently used first.
type Pool struct {
	cfg     PoolConfig
	mu      sync.Mutex
	models  map[string]*entry
	clock   int64 // advances on every use, for LRU order
	cache   *resultCache
	cacheOn bool
	usage   map[string]*Usage
}

type entry struct {
	info    ModelInfo
	need    *MemoryNeed   // nil when the file cannot be sized
	fileID  string        // path, size and modification time: what the result cache keys on
	ident   fileIdent     // the file as registered or last reloaded
	loading chan struct{} // closed when a load in progress ends
	cur     *loaded       // nil: not loaded
	loadErr error
	lastUse int64       // clock at the last use
	gone    bool        // unregistered
	chat    *ChatFormat // read from the file on first use (Pool.ChatFormat)
	remote  RemoteModel // set for a remote model, which has no file (remote.go)
}

// loaded is one load of a model file. When the file changes, or the model
// is unregistered or evicted, the entry lets go of it (retires it) and it
// is closed once its last user leaves.
type loaded struct {
	m       *Model
	users   int // calls using m now
	retired bool
}

// retireLocked detaches e's loaded model and returns it if no call uses it
// (the caller closes it after unlocking); otherwise its last user closes it.
func (p *Pool) retireLocked(e *entry) *Model {
	l := e.cur
	if l == nil {
		return nil
	}
	e.cur = nil
	l.retired = true
	if l.users == 0 {
		return l.m
	}
	return nil
}

// NewPool returns an empty pool.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.MaxSequences <= 0 {
		cfg.MaxSequences = DefaultSlots
	}
	if cfg.ResultCacheBytes == 0 {
		cfg.ResultCacheBytes = 64 << 20
	}
	p := &Pool{cfg: cfg, models: map[string]*entry{}, usage: map[string]*Usage{}}
	if cfg.ResultCacheBytes > 0 {
		p.cache, p.cacheOn = newResultCache(cfg.ResultCacheBytes), true
	}
	return p
}

// SetResultCache turns the result cache on or off (it cannot be turned on
// when the pool was made without one). Turning it off drops its entries.
func (p *Pool) SetResultCache(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		return
	}
	p.cacheOn = on
	if !on {
		p.cache.clear()
	}
}

// CacheStats returns the result cache's counters.
func (p *Pool) CacheStats() CacheStats {
	p.mu.Lock()
	c, on := p.cache, p.cacheOn
	p.mu.Unlock()
	if c == nil {
		return CacheStats{}
	}
	st := c.stats()
	st.Enabled = on
	return st
}

// Usage returns per-model totals since the pool started, by model name.
func (p *Pool) Usage() []Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Usage, 0, len(p.usage))
	for _, u := range p.usage {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}

func (p *Pool) account(model string, f func(u *Usage)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.usage[model]
	if u == nil {
		u = &Usage{Model: model}
		p.usage[model] = u
	}
	f(u)
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// Register makes the GGUF file at path available under name. The file is
// opened and checked now (so a bad path or a corrupt file is reported at
// once) but its weights are loaded on first use.
func (p *Pool) Register(name, path string) (ModelInfo, error) {
	if !validName.MatchString(name) {
		return ModelInfo{}, fmt.Errorf("invalid model name %q: use letters, digits, '_', '.', '-' (at most 64), starting with a letter or '_'", name)
	}
	info, st, need, err := describe(path, p.loadConfig())
	if err != nil {
		return ModelInfo{}, err
	}
	info.Name = name
	if err := p.fits(name, need); err != nil {
		return ModelInfo{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.models[name]; dup {
		return ModelInfo{}, DuplicateModelError(name)
	}
	p.models[name] = &entry{info: info, need: need, fileID: fileIDOf(path, st), ident: identOf(st)}
	return info, nil
}

// loadConfig is how the pool loads models.
func (p *Pool) loadConfig() LoadConfig {
	return LoadConfig{Threads: p.cfg.Threads, Slots: p.cfg.MaxSequences, Context: p.cfg.Context, NoPack: p.cfg.NoPack, Mmap: p.cfg.Mmap}
}

// fits refuses a model that could never be loaded: more than the memory
// budget, or allocations beyond the machine's memory.
func (p *Pool) fits(name string, need *MemoryNeed) error {
	if need == nil {
		return nil
	}
	if b := p.cfg.MemoryBudget; b > 0 && need.Total() > b {
		return &MemoryError{Model: name, Need: *need, Limit: b, Budget: true}
	}
	if total := TotalMemory(); total > 0 && need.allocated() > total {
		return &MemoryError{Model: name, Need: *need, Limit: total, Machine: true}
	}
	return nil
}

// makeRoomLocked makes the budget hold e's model besides the loaded ones,
// unloading idle models least recently used first; it fails when the
// models in use leave too little. It returns the models to close.
func (p *Pool) makeRoomLocked(e *entry) ([]*Model, error) {
	b := p.cfg.MemoryBudget
	if b <= 0 || e.need == nil {
		return nil, nil
	}
	var idle []*entry
	var total, inUse int64
	for _, o := range p.models {
		if o.cur == nil || o == e {
			continue
		}
		mb := o.cur.m.MemoryBytes()
		total += mb
		if o.cur.users > 0 {
			inUse += mb
		} else {
			idle = append(idle, o)
		}
	}
	if inUse+e.need.Total() > b {
		return nil, &MemoryError{Model: e.info.Name, Need: *e.need, Limit: b, Budget: true, InUse: inUse}
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].lastUse < idle[j].lastUse })
	var out []*Model
	for _, o := range idle {
		if total+e.need.Total() <= b {
			break
		}
		total -= o.cur.m.MemoryBytes()
		out = append(out, p.retireLocked(o))
	}
	return out, nil
}

// fileIDOf is what the result cache keys a file's answers on.
func fileIDOf(path string, st os.FileInfo) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano())
}

// fileIdent tells a file's versions apart: a file rewritten in place
// changes size or modification time, one replaced by a rename changes
// inode.
type fileIdent struct {
	size, mtime int64
	dev, ino    uint64
}

func identOf(st os.FileInfo) fileIdent {
	id := fileIdent{size: st.Size(), mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(sys.Dev), uint64(sys.Ino)
	}
	return id
}

// refresh checks e's file before a use. A file that changed since it was
// registered or last loaded (rewritten in place, replaced, removed) is read
// again: e's description follows the new file and its loaded model is
// retired, so the next use loads the new weights. A file that cannot be
// used now is an error for this use; the registration stays and recovers
// when the file does.
func (p *Pool) refresh(e *entry) error {
	if e.remote != nil {
		return nil
	}
	p.mu.Lock()
	path, name, old := e.info.Path, e.info.Name, e.ident
	p.mu.Unlock()
	st, err := os.Stat(path)
	if err == nil && identOf(st) == old {
		return nil
	}
	var info ModelInfo
	var need *MemoryNeed
	if err == nil {
		info, st, need, err = describe(path, p.loadConfig())
	}
	p.mu.Lock()
	if e.ident != old {
		// Another call has dealt with the change meanwhile.
		p.mu.Unlock()
		return nil
	}
	closeNow := p.retireLocked(e)
	if err == nil {
		info.Name = name
		e.info, e.need, e.ident, e.fileID = info, need, identOf(st), fileIDOf(path, st)
		e.chat, e.loadErr = nil, nil
	}
	p.mu.Unlock()
	if closeNow != nil {
		closeNow.Close()
	}
	if err != nil {
		return fmt.Errorf("model '%s': its file %s changed and cannot be used now: %w", name, path, err)
	}
	return nil
}

// changedSince reports whether e's file is no longer the one described by
// ident (a call that failed may have read a file changing under it).
func (p *Pool) changedSince(e *entry, ident fileIdent) bool {
	st, err := os.Stat(e.info.Path)
	return err != nil || identOf(st) != ident
}

// Unregister removes a model. Calls already using it finish first.
func (p *Pool) Unregister(name string) error {
	p.mu.Lock()
	e, ok := p.models[name]
	if !ok {
		p.mu.Unlock()
		return UnknownModelError(name)
	}
	delete(p.models, name)
	e.gone = true
	closeNow := p.retireLocked(e)
	p.mu.Unlock()
	if closeNow != nil {
		closeNow.Close()
	}
	if e.remote != nil {
		e.remote.Close()
	}
	return nil
}

// Models lists the registered models by name, as their files are now.
func (p *Pool) Models() []ModelInfo {
	p.mu.Lock()
	entries := make([]*entry, 0, len(p.models))
	for _, e := range p.models {
		entries = append(entries, e)
	}
	p.mu.Unlock()
	for _, e := range entries {
		_ = p.refresh(e) // a file that cannot be read keeps its last description
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ModelInfo, 0, len(entries))
	for _, e := range entries {
		info := e.info
		info.Loaded = e.cur != nil || e.remote != nil
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Metadata returns a registered model's GGUF metadata in file order.
func (p *Pool) Metadata(name string) ([]gguf.KV, error) {
	p.mu.Lock()
	e, ok := p.models[name]
	p.mu.Unlock()
	if !ok {
		return nil, UnknownModelError(name)
	}
	if e.remote != nil {
		return nil, nil // no file: an empty metadata table
	}
	f, err := gguf.Open(e.info.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Metadata, nil
}

// Acquire returns the loaded model called name, loading it if needed, and
// a release function the caller must call when done with it.
func (p *Pool) Acquire(ctx context.Context, name string) (*Model, func(), error) {
	p.mu.Lock()
	e, ok := p.models[name]
	p.mu.Unlock()
	if !ok {
		return nil, nil, UnknownModelError(name)
	}
	if e.remote != nil {
		return nil, nil, remoteOnly(e, "this")
	}
	if err := p.refresh(e); err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	if e.gone {
		p.mu.Unlock()
		return nil, nil, UnknownModelError(name)
	}
	for e.cur == nil {
		if e.loading != nil {
			wait := e.loading
			p.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			p.mu.Lock()
			if e.cur == nil && e.loadErr != nil {
				err := e.loadErr
				p.mu.Unlock()
				return nil, nil, err
			}
			continue
		}
		toClose, err := p.makeRoomLocked(e)
		if err != nil {
			p.mu.Unlock()
			return nil, nil, err
		}
		// Load outside the lock: other models stay usable meanwhile.
		e.loading = make(chan struct{})
		e.loadErr = nil
		path := e.info.Path
		p.mu.Unlock()
		for _, old := range toClose {
			old.Close()
		}
		m, err := LoadModel(path, p.loadConfig())
		p.mu.Lock()
		close(e.loading)
		e.loading = nil
		if err != nil {
			e.loadErr = fmt.Errorf("loading model '%s': %w", name, err)
			p.mu.Unlock()
			return nil, nil, e.loadErr
		}
		if e.gone {
			p.mu.Unlock()
			m.Close()
			return nil, nil, UnknownModelError(name)
		}
		e.cur = &loaded{m: m}
	}
	l := e.cur
	l.users++
	p.clock++
	e.lastUse = p.clock
	toClose := p.evictLocked(e)
	p.mu.Unlock()
	for _, old := range toClose {
		old.Close()
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			p.mu.Lock()
			l.users--
			closeNow := l.users == 0 && l.retired
			p.mu.Unlock()
			if closeNow {
				l.m.Close()
			}
		})
	}
	return l.m, release, nil
}

// evictLocked unloads idle models, least recently used first, until the
// loaded ones fit the memory budget. keep is never unloaded.
func (p *Pool) evictLocked(keep *entry) []*Model {
	if p.cfg.MemoryBudget <= 0 {
		return nil
	}
	var inMemory []*entry
	var total int64
	for _, e := range p.models {
		if e.cur != nil {
			inMemory = append(inMemory, e)
			total += e.cur.m.MemoryBytes()
		}
	}
	sort.Slice(inMemory, func(i, j int) bool { return inMemory[i].lastUse < inMemory[j].lastUse })
	var out []*Model
	for _, e := range inMemory {
		if total <= p.cfg.MemoryBudget {
			break
		}
		if e == keep || e.cur.users > 0 {
			continue
		}
		total -= e.cur.m.MemoryBytes()
		out = append(out, p.retireLocked(e))
	}
	return out
}

// Generate runs prompt through the model and returns the completion. A
// deterministic call (temperature 0, or a fixed seed) is answered from the
// result cache when the same model file, prompt and options ran before.
func (p *Pool) Generate(ctx context.Context, model, prompt string, opts GenerateOptions) (string, error) {
	r, err := p.GenerateResult(ctx, model, prompt, opts)
	return r.Text, err
}

// GenResult is a completion with its accounting.
type GenResult struct {
	Text            string
	PromptTokens    int  // 0 when answered from the cache
	GeneratedTokens int  // 0 when answered from the cache
	Cached          bool // answered from the result cache (or by an identical call running at the same time)
	// Incomplete: the options gave a grammar and the reply ended before it
	// was complete (see Result.Incomplete).
	Incomplete bool
	// FinishReason says why the generation ended: FinishStop (an
	// end-of-generation token), FinishLength (max_tokens), FinishContext
	// (the sequence filled the context) or FinishStopString.
	FinishReason string
	// Tokens of the prompt and of the reply, also when answered from the
	// cache (what the answer is made of, not work done now).
	AnswerPromptTokens, AnswerGeneratedTokens int
	// Truncated is how many prompt tokens Options.Truncate dropped.
	Truncated int
}

// Values of GenResult.FinishReason.
const (
	FinishStop       = "stop"
	FinishLength     = "length"
	FinishContext    = "context"
	FinishStopString = "stop_string"
)

// finishReason maps Result.StopReason to GenResult.FinishReason.
func finishReason(stop string) string {
	switch stop {
	case "eos":
		return FinishStop
	case "stop":
		return FinishStopString
	}
	return stop
}

// GenerateResult is Generate with token counts, for progress reports.
func (p *Pool) GenerateResult(ctx context.Context, model, prompt string, opts GenerateOptions) (GenResult, error) {
	return p.Run(ctx, model, Request{Prompt: prompt, Options: opts})
}

// Run runs one request on the named model (see Request). A conversation
// is rendered first, from the file's chat template without loading the
// weights, so a deterministic call (temperature 0, or a fixed seed) is
// answered from the result cache when the same model file, prompt and
// options ran before. Requests with PromptIDs or OnText bypass the cache.
func (p *Pool) Run(ctx context.Context, model string, req Request) (GenResult, error) {
	opts := req.Options
	if err := opts.Validate(); err != nil {
		return GenResult{}, err
	}
	if req.Messages != nil && req.PromptIDs == nil && !p.isRemote(model) {
		prompt, err := p.ApplyChatTemplate(model, req.Messages, req.Template)
		if err != nil {
			return GenResult{}, err
		}
		req.Prompt, req.Rendered, req.Messages = prompt, true, nil
	}
	p.mu.Lock()
	e, ok := p.models[model]
	p.mu.Unlock()
	if !ok {
		return GenResult{}, UnknownModelError(model)
	}
	// Key the cache on the file as it is now.
	if err := p.refresh(e); err != nil {
		return GenResult{}, err
	}
	p.mu.Lock()
	useCache := p.cacheOn && deterministic(opts) && req.PromptIDs == nil && req.OnText == nil
	cache, fileID, ident := p.cache, e.fileID, e.ident
	p.mu.Unlock()
	ran := false
	var out GenResult
	gen := func() (cachedResult, error) {
		ran = true
		if e.remote != nil {
			return p.runRemote(ctx, e, req, &out)
		}
		m, release, err := p.Acquire(ctx, model)
		if err != nil {
			return cachedResult{}, err
		}
		defer release()
		res, err := m.Generate(ctx, req)
		if err != nil {
			if ctx.Err() == nil && p.changedSince(e, ident) {
				err = fmt.Errorf("model '%s': its file %s changed on disk while in use, so this call failed; the next call loads the file again", model, e.info.Path)
			}
			return cachedResult{}, err
		}
		p.account(model, func(u *Usage) {
			u.PromptTokens += int64(len(res.PromptIDs))
			u.GeneratedTokens += int64(len(res.GeneratedIDs))
		})
		out.PromptTokens, out.GeneratedTokens = len(res.PromptIDs), len(res.GeneratedIDs)
		return cachedResult{text: res.Text, finishReason: finishReason(res.StopReason), incomplete: res.Incomplete,
			promptTokens: len(res.PromptIDs), generatedTokens: len(res.GeneratedIDs), truncated: res.Truncated}, nil
	}
	var cr cachedResult
	var err error
	if useCache {
		key := promptKey(req)
		if e.remote != nil {
			key = remoteKey(req)
		}
		cr, err = cache.do(ctx, makeKey(fileID, key, opts), gen)
	} else {
		cr, err = gen()
	}
	if err != nil {
		return GenResult{}, err
	}
	p.account(model, func(u *Usage) {
		u.Calls++
		if !ran {
			u.CacheHits++
		}
	})
	out.Text, out.Cached, out.FinishReason, out.Truncated = cr.text, !ran, cr.finishReason, cr.truncated
	out.Incomplete = cr.incomplete
	out.AnswerPromptTokens, out.AnswerGeneratedTokens = cr.promptTokens, cr.generatedTokens
	return out, nil
}

// promptKey is the prompt text with how it is tokenized.
func promptKey(req Request) string {
	switch {
	case req.Rendered:
		return "chat\x00" + req.Prompt
	case req.ParseSpecial:
		return "special\x00" + req.Prompt
	}
	return req.Prompt
}

// ChatFormat returns how the named model renders conversations, read from
// its file (without loading its weights) on first use.
func (p *Pool) ChatFormat(name string) (*ChatFormat, error) {
	p.mu.Lock()
	e, ok := p.models[name]
	p.mu.Unlock()
	if ok {
		if e.remote != nil {
			return nil, remoteOnly(e, "rendering its chat template")
		}
		if err := p.refresh(e); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	var c *ChatFormat
	if ok {
		c = e.chat
		if c == nil && e.cur != nil {
			c = e.cur.m.Chat
		}
	}
	p.mu.Unlock()
	if !ok {
		return nil, UnknownModelError(name)
	}
	if c != nil {
		return c, nil
	}
	f, err := gguf.Open(e.info.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tok, err := tokenizer.Load(f)
	if err != nil {
		return nil, err
	}
	c = NewChatFormat(f, tok)
	p.mu.Lock()
	if e.chat == nil {
		e.chat = c
	}
	c = e.chat
	p.mu.Unlock()
	return c, nil
}

// ChatTemplate says what the named model renders conversations with:
// TemplateGGUF (its file's template) or TemplateChatML (it has none).
func (p *Pool) ChatTemplate(name string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.models[name]
	if !ok {
		return "", UnknownModelError(name)
	}
	return e.info.ChatTemplate, nil
}

// ApplyChatTemplate renders a conversation with the named model's chat
// template.
func (p *Pool) ApplyChatTemplate(model string, msgs []chattmpl.Message, opts TemplateOptions) (string, error) {
	c, err := p.ChatFormat(model)
	if err != nil {
		return "", err
	}
	return c.Render(msgs, opts)
}

// SchedStats returns the scheduler totals of a loaded model (forward
// passes, tokens); ok is false when the model is not loaded.
func (p *Pool) SchedStats(name string) (st sched.Stats, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, found := p.models[name]
	if !found || e.cur == nil {
		return sched.Stats{}, false
	}
	return e.cur.m.SchedStats(), true
}

// PassLimit holds a loaded model's scheduler before forward pass n+1 (n <
// 0 lifts the limit), so that a test can have sequences meet in the same
// passes whatever the machine's load; see sched.Scheduler.PassLimit. It
// reports false when the model is not loaded.
func (p *Pool) PassLimit(name string, n int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, found := p.models[name]
	if !found || e.cur == nil {
		return false
	}
	e.cur.m.PassLimit(n)
	return true
}

// Tokenize returns the ids of text, with BOS as the vocabulary asks and
// without parsing special-token text.
func (p *Pool) Tokenize(ctx context.Context, model, text string) ([]int32, error) {
	m, release, err := p.Acquire(ctx, model)
	if err != nil {
		return nil, err
	}
	defer release()
	return m.Tok.Encode(text, true, false), nil
}

// Detokenize returns the text of ids. Ids outside the vocabulary are an
// error rather than silently dropped.
func (p *Pool) Detokenize(ctx context.Context, model string, ids []int32) (string, error) {
	m, release, err := p.Acquire(ctx, model)
	if err != nil {
		return "", err
	}
	defer release()
	for _, id := range ids {
		if id < 0 || int(id) >= m.Tok.VocabSize() {
			return "", fmt.Errorf("token id %d is outside the vocabulary of %d", id, m.Tok.VocabSize())
		}
	}
	// The BOS that Tokenize puts first is its own, not text: decode what
	// follows as llama.cpp decodes a text's tokens, so that
	// Detokenize(Tokenize(x)) is x wherever llama.cpp's round trip is.
	if len(ids) > 0 && m.Tok.AddBOS() && ids[0] == m.Tok.BOS() {
		ids = ids[1:]
	}
	return m.Tok.Decode(ids), nil
}

// Close unloads every model. Calls must have finished.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.models {
		if e.cur != nil {
			e.cur.m.Close()
			e.cur = nil
		}
		if e.remote != nil {
			e.remote.Close()
		}
	}
}

// Describe reads a GGUF file's header and summarises it.
func Describe(path string) (ModelInfo, error) {
	info, _, _, err := describe(path, LoadConfig{})
	return info, err
}

// describe is Describe plus the file's stat, which Register keys the
// result cache on, and what the model needs loaded under cfg (nil when the
// engine cannot size it).
func describe(path string, cfg LoadConfig) (ModelInfo, os.FileInfo, *MemoryNeed, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ModelInfo{}, nil, nil, fmt.Errorf("model file: %w", err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return ModelInfo{}, nil, nil, err
	}
	defer f.Close()
	arch := f.Architecture()
	info := ModelInfo{
		Path:         path,
		Architecture: arch,
		Parameters:   f.ParameterCount(),
		FileBytes:    st.Size(),
	}
	if ft, _, err := f.FileType(); err == nil {
		info.Quantization = ft.String()
	}
	if n, err := f.Int(arch + ".context_length"); err == nil {
		info.ContextLength = int(n)
	}
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		info.VocabSize = len(toks)
	}
	info.ChatTemplate = TemplateChatML
	if src, err := f.String("tokenizer.chat_template"); err == nil && src != "" {
		info.ChatTemplate = TemplateGGUF
	}
	info.EmbedDim, info.Pooling = embedShape(f)
	var need *MemoryNeed
	if n, err := PlanMemory(f, cfg); err == nil {
		need = &n
		info.Context, info.MemoryBytes = n.Context, n.Total()
	}
	return info, st, need, nil
}
