// Package engine is llmsql's inference engine seen from outside: a pool of
// registered GGUF models that are loaded on first use, and generation,
// tokenization and detokenization over them. The parts it is built from live
// in its subpackages: gguf (file format), quant and tensor (weight formats and
// kernels), tokenizer, model (forward pass), kvcache, sample.
package engine

import (
	"errors"
	"fmt"
)

// GenerateOptions are the sampling and stopping parameters of one
// generation. The zero value is not the default: use DefaultGenerateOptions.
type GenerateOptions struct {
	Temperature      float32 // 0 = greedy
	TopK             int     // 0 = off
	TopP             float32 // 1 = off
	MinP             float32 // 0 = off
	RepeatPenalty    float32 // 1 = off
	RepeatLastN      int     // tokens the penalties look back over (64)
	FrequencyPenalty float32 // 0 = off
	PresencePenalty  float32 // 0 = off
	MaxTokens        int     // new tokens at most
	Seed             uint64
	HasSeed          bool     // without a seed, sampling draws a random one
	Stop             []string // generation ends before the first stop string
	IgnoreEOS        bool     // keep going past end-of-generation tokens
	// KeepThinking keeps a chat reply's reasoning block (<think>...</think>),
	// which is removed by default.
	KeepThinking bool
	// Grammar is a GBNF grammar (llama.cpp's syntax, root rule "root") the
	// reply must follow: tokens it refuses are never sampled, and the reply
	// ends when it is complete. "" = none. jsonschema.ToGrammar writes one
	// for a JSON Schema.
	Grammar string
	// Truncate fits a prompt longer than the context instead of refusing
	// it: TruncateStart drops tokens from its start (after BOS),
	// TruncateEnd from its end. Either way the prompt keeps room for
	// MaxTokens, or at least half the context.
	Truncate string
}

// Values of GenerateOptions.Truncate.
const (
	TruncateStart = "start"
	TruncateEnd   = "end"
)

// DefaultGenerateOptions are the defaults of the SQL generate() function.
func DefaultGenerateOptions() GenerateOptions {
	return GenerateOptions{
		Temperature:   0.8,
		TopK:          40,
		TopP:          0.95,
		MinP:          0.05,
		RepeatPenalty: 1,
		RepeatLastN:   64,
		MaxTokens:     256,
	}
}

// Validate checks every option's range and names the first bad one.
func (o *GenerateOptions) Validate() error {
	switch {
	case o.Temperature < 0 || o.Temperature > 100 || o.Temperature != o.Temperature:
		return &OptionError{"temperature", "0 to 100"}
	case o.TopK < 0:
		return &OptionError{"top_k", "0 (off) or more"}
	case !(o.TopP > 0 && o.TopP <= 1):
		return &OptionError{"top_p", "greater than 0, at most 1"}
	case !(o.MinP >= 0 && o.MinP <= 1):
		return &OptionError{"min_p", "0 to 1"}
	case !(o.RepeatPenalty > 0 && o.RepeatPenalty <= 10):
		return &OptionError{"repeat_penalty", "greater than 0, at most 10"}
	case o.RepeatLastN < 0:
		return &OptionError{"repeat_last_n", "0 or more"}
	case !(o.FrequencyPenalty >= -2 && o.FrequencyPenalty <= 2):
		return &OptionError{"frequency_penalty", "-2 to 2"}
	case !(o.PresencePenalty >= -2 && o.PresencePenalty <= 2):
		return &OptionError{"presence_penalty", "-2 to 2"}
	case o.MaxTokens < 0 || o.MaxTokens > 1<<20:
		return &OptionError{"max_tokens", "0 to 1048576"}
	}
	for _, s := range o.Stop {
		if s == "" {
			return &OptionError{"stop", "non-empty strings"}
		}
	}
	switch o.Truncate {
	case "", TruncateStart, TruncateEnd:
	default:
		return &OptionError{"truncate", `"start" or "end"`}
	}
	return nil
}

// OptionError is a generation option outside its allowed range.
type OptionError struct {
	Name    string
	Allowed string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("option %s out of range: allowed %s", e.Name, e.Allowed)
}

// ModelInfo describes a registered model, loaded or not.
type ModelInfo struct {
	Name          string
	Path          string
	Architecture  string
	Parameters    uint64
	Quantization  string // general.file_type's name, e.g. "MOSTLY_Q4_0" (guessed as llama.cpp does where the file lacks it)
	ContextLength int
	VocabSize     int
	FileBytes     int64
	Loaded        bool
	// Context is the positions a sequence may use when the model runs in
	// the pool (PoolConfig.Context, or the default from ContextLength);
	// MemoryBytes what it holds loaded (weights and KV cache). Both 0 when
	// the file cannot be sized (not a model the engine runs).
	Context     int
	MemoryBytes int64
	// ChatTemplate is what chat() renders conversations with: TemplateGGUF
	// (the file's template) or TemplateChatML (the file has none); for a
	// remote model TemplateServer or TemplateNone.
	ChatTemplate string
	// EmbedDim is the length of the vectors embed() returns (a
	// reranker's number of scores), and Pooling how they are pooled
	// ("none", "mean", "cls", "last", "rank"), from the file's metadata.
	EmbedDim int
	Pooling  string
	// Remote is set for a model served by other machines (no file: Path
	// and the file's columns are empty).
	Remote *RemoteSpec
}

// ErrDuplicateModel is wrapped by errors about registering a name that is
// taken.
var ErrDuplicateModel = errors.New("duplicate model name")

// DuplicateModelError says name is taken.
func DuplicateModelError(name string) error { return duplicateModelError(name) }

type duplicateModelError string

func (e duplicateModelError) Error() string {
	return fmt.Sprintf("model '%s' is already registered", string(e))
}

func (e duplicateModelError) Is(target error) bool { return target == ErrDuplicateModel }

// ErrUnknownModel is wrapped by errors about a name no model is registered under.
var ErrUnknownModel = errors.New("unknown model")

// UnknownModelError names the missing model and says how to list the others.
func UnknownModelError(name string) error { return unknownModelError(name) }

type unknownModelError string

func (e unknownModelError) Error() string {
	return fmt.Sprintf("model '%s' is not registered; see SELECT name FROM llm.models", string(e))
}

func (e unknownModelError) Is(target error) bool { return target == ErrUnknownModel }

// PromptTooLongError reports a prompt that does not fit the context.
type PromptTooLongError struct {
	Tokens  int
	Context int
}

func (e *PromptTooLongError) Error() string {
	return fmt.Sprintf("prompt is %d tokens, longer than the model's context of %d tokens", e.Tokens, e.Context)
}
