package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"sync"

	"github.com/llmsql/llmsql/engine/gguf"
)

// PoolConfig sets the limits of a Pool.
type PoolConfig struct {
	Threads int // worker threads per loaded model; 0 = all cores
	// MaxSequences caps the sequences one model decodes at once; further
	// requests wait for a slot. 0 = 8.
	MaxSequences int
	// MemoryBudget, in bytes, is what loaded models may use (weights that are
	// resident plus KV caches) before idle ones are unloaded, least recently
	// used first. 0 = no limit.
	MemoryBudget int64
}

// Pool holds the registered models, loads each on first use and shares one
// copy of its weights among all queries.
type Pool struct {
	cfg    PoolConfig
	mu     sync.Mutex
	models map[string]*entry
}

type entry struct {
	info ModelInfo
}

// NewPool returns an empty pool.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.MaxSequences <= 0 {
		cfg.MaxSequences = 8
	}
	return &Pool{cfg: cfg, models: map[string]*entry{}}
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// Register makes the GGUF file at path available under name. The file is
// opened and checked now (so a bad path or a corrupt file is reported at
// once) but its weights are loaded on first use.
func (p *Pool) Register(name, path string) (ModelInfo, error) {
	if !validName.MatchString(name) {
		return ModelInfo{}, fmt.Errorf("invalid model name %q: use letters, digits, '_', '.', '-' (at most 64), starting with a letter or '_'", name)
	}
	info, err := Describe(path)
	if err != nil {
		return ModelInfo{}, err
	}
	info.Name = name
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.models[name]; dup {
		return ModelInfo{}, fmt.Errorf("model '%s' is already registered", name)
	}
	p.models[name] = &entry{info: info}
	return info, nil
}

// Unregister removes a model. Queries already using it finish first.
func (p *Pool) Unregister(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.models[name]; !ok {
		return UnknownModelError(name)
	}
	delete(p.models, name)
	return nil
}

// Models lists the registered models by name.
func (p *Pool) Models() []ModelInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ModelInfo, 0, len(p.models))
	for _, e := range p.models {
		out = append(out, e.info)
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
	f, err := gguf.Open(e.info.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Metadata, nil
}

var errNotYet = errors.New("inference is not available in this build yet")

// Generate runs prompt through the model and returns the completion.
func (p *Pool) Generate(ctx context.Context, model, prompt string, opts GenerateOptions) (string, error) {
	return "", errNotYet
}

// Tokenize returns the ids of text, with BOS as the vocabulary asks and
// without parsing special-token text.
func (p *Pool) Tokenize(ctx context.Context, model, text string) ([]int32, error) {
	return nil, errNotYet
}

// Detokenize returns the text of ids.
func (p *Pool) Detokenize(ctx context.Context, model string, ids []int32) (string, error) {
	return "", errNotYet
}

// Describe reads a GGUF file's header and summarises it.
func Describe(path string) (ModelInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("model file: %w", err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return ModelInfo{}, err
	}
	defer f.Close()
	arch := f.Architecture()
	info := ModelInfo{
		Path:         path,
		Architecture: arch,
		Parameters:   f.ParameterCount(),
		FileBytes:    st.Size(),
	}
	if ft, err := f.Int("general.file_type"); err == nil {
		info.Quantization = gguf.FileType(ft).String()
	}
	if n, err := f.Int(arch + ".context_length"); err == nil {
		info.ContextLength = int(n)
	}
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		info.VocabSize = len(toks)
	}
	return info, nil
}
