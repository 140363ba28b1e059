package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

func init() {
	register(&command{
		name:    "chat",
		summary: "talk to a model in the terminal through its chat template",
		usage: "-m MODEL [--system TEXT] [--messages FILE|-] [--json] [--no-think] [--keep-thinking] [-n N] [--temp T] [--top-k K] [--top-p P] " +
			"[--min-p P] [--repeat-penalty R] [--seed S] [--threads N] [--ctx N]",
		run: runChat,
	})
	register(&command{
		name:    "template",
		summary: "print the prompt a model's chat template makes of a conversation",
		usage:   "-m MODEL --messages FILE|- [--no-generation-prompt] [--var KEY=VALUE]...",
		run:     runTemplate,
	})
}

// stdin is what chat and template read; tests replace it.
var stdin io.Reader = os.Stdin

// notifyInterrupt delivers Ctrl-C (SIGINT) to c until the returned stop is
// called; tests replace it to interrupt deterministically.
var notifyInterrupt = func(c chan<- os.Signal) (stop func()) {
	signal.Notify(c, os.Interrupt)
	return func() { signal.Stop(c) }
}

// interruptContext is signal.NotifyContext through notifyInterrupt.
func interruptContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 1)
	stop := notifyInterrupt(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() { stop(); cancel() }
}

// sampling holds the sampling flags generate and chat share.
type sampling struct {
	n                            *int
	temp, topP, minP, repeat     *float64
	topK                         *int
	seed                         *int64
	ignoreEOS, noThink, keepThnk *bool
}

func addSampling(fs *flag.FlagSet, defaultN int) *sampling {
	return &sampling{
		n:         fs.Int("n", defaultN, "tokens to generate at most"),
		temp:      fs.Float64("temp", 0.8, "temperature (0 = greedy)"),
		topK:      fs.Int("top-k", 40, "top-k (0 = off)"),
		topP:      fs.Float64("top-p", 0.95, "top-p (1 = off)"),
		minP:      fs.Float64("min-p", 0.05, "min-p (0 = off)"),
		repeat:    fs.Float64("repeat-penalty", 1.0, "repetition penalty (1 = off)"),
		seed:      fs.Int64("seed", -1, "random seed (-1 = random)"),
		ignoreEOS: fs.Bool("ignore-eos", false, "keep generating past end-of-generation tokens"),
		noThink:   fs.Bool("no-think", false, "render the chat template with enable_thinking=false"),
		keepThnk:  fs.Bool("keep-thinking", false, "keep the reasoning block (<think>...</think>) of thinking models in the reply"),
	}
}

func (s *sampling) options() (engine.GenerateOptions, error) {
	opts := engine.GenerateOptions{
		Temperature: float32(*s.temp), TopK: *s.topK, TopP: float32(*s.topP), MinP: float32(*s.minP),
		RepeatPenalty: float32(*s.repeat), RepeatLastN: 64, MaxTokens: *s.n, IgnoreEOS: *s.ignoreEOS,
		KeepThinking: *s.keepThnk,
	}
	if *s.seed >= 0 {
		opts.Seed, opts.HasSeed = uint64(*s.seed), true
	}
	if err := opts.Validate(); err != nil {
		return opts, usagef("%v", err)
	}
	return opts, nil
}

func (s *sampling) template() engine.TemplateOptions {
	var t engine.TemplateOptions
	if *s.noThink {
		t.Vars = map[string]any{"enable_thinking": false}
	}
	return t
}

// readMessages reads a conversation from FILE, or stdin for "-".
func readMessages(name string) ([]chattmpl.Message, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	return chattmpl.ParseMessages(data)
}

// withSystem puts a system turn first unless the conversation has one.
func withSystem(msgs []chattmpl.Message, system string) []chattmpl.Message {
	if system == "" || (len(msgs) > 0 && msgs[0].Role == "system") {
		return msgs
	}
	return append([]chattmpl.Message{{Role: "system", Content: system}}, msgs...)
}

type chatJSON struct {
	Text            string `json:"text"`
	PromptTokens    int    `json:"prompt_tokens"`
	GeneratedTokens int    `json:"generated_tokens"`
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runChat(args []string, stdout, stderr io.Writer) error {
	c := commands["chat"]
	fs := newFlagSet(c, stderr)
	modelArg := fs.String("m", "", "GGUF model file, or hf://USER/REPO:QUANT to pull first")
	system := fs.String("system", "", "system prompt")
	messages := fs.String("messages", "", "answer the conversation in `FILE` (a JSON array of {\"role\", \"content\"}; - reads stdin) and exit")
	asJSON := fs.Bool("json", false, "print each reply as one JSON line {\"text\", \"prompt_tokens\", \"generated_tokens\"}")
	threads := fs.Int("threads", 0, "threads (0 = all cores)")
	ctxLen := fs.Int("ctx", 0, "context positions (0 = the model's, at most 4096)")
	smp := addSampling(fs, 1024)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *modelArg == "" {
		return usagef("-m MODEL is required")
	}
	if *threads < 0 || *ctxLen < 0 {
		return usagef("--threads and --ctx must be 0 or more")
	}
	opts, err := smp.options()
	if err != nil {
		return err
	}
	var conv []chattmpl.Message
	if *messages != "" {
		if conv, err = readMessages(*messages); err != nil {
			return err
		}
	}
	path, err := resolveModel(context.Background(), *modelArg, stderr)
	if err != nil {
		return err
	}
	m, err := loadModel(stderr, path, engine.LoadConfig{Threads: *threads, Slots: 1, Context: *ctxLen, NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap})
	if err != nil {
		return err
	}
	defer m.Close()
	s := &chatSession{m: m, opts: opts, tmpl: smp.template(), json: *asJSON, stdout: stdout}
	if m.Chat.Source == engine.TemplateChatML {
		fmt.Fprintln(stderr, "llmsql chat: the model file has no chat template; using ChatML")
	}
	if *messages != "" {
		s.history = withSystem(conv, *system)
		return s.turn()
	}
	s.history = withSystem(nil, *system)
	return s.interactive(stderr)
}

// chatSession is a conversation with a loaded model.
type chatSession struct {
	m       *engine.Model
	opts    engine.GenerateOptions
	tmpl    engine.TemplateOptions
	json    bool
	stdout  io.Writer
	history []chattmpl.Message
}

// turn generates the assistant's reply to the history, streaming it (or
// printing a JSON line), and appends it. Ctrl-C stops the reply and keeps
// what was produced.
func (s *chatSession) turn() error {
	ctx, stop := interruptContext(context.Background())
	defer stop()
	req := engine.Request{Messages: s.history, Template: s.tmpl, Options: s.opts}
	if !s.json {
		req.OnText = func(t string) error { _, err := io.WriteString(s.stdout, t); return err }
	}
	res, err := s.m.Generate(ctx, req)
	if err != nil && (res == nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	s.history = append(s.history, chattmpl.Message{Role: "assistant", Content: res.Text})
	if s.json {
		return printJSON(s.stdout, chatJSON{res.Text, len(res.PromptIDs), len(res.GeneratedIDs)})
	}
	_, err = fmt.Fprintln(s.stdout)
	return err
}

// interactive reads one user message per line until end of input (Ctrl-D).
func (s *chatSession) interactive(stderr io.Writer) error {
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Ctrl-C between replies does not end the program (Ctrl-D does).
	sig := make(chan os.Signal, 1)
	stop := notifyInterrupt(sig)
	defer stop()
	for {
		fmt.Fprint(stderr, "> ")
		var line string
		var ok bool
		for waiting := true; waiting; {
			select {
			case line, ok = <-lines:
				waiting = false
			case <-sig:
				fmt.Fprint(stderr, "\n(Ctrl-D exits)\n> ")
			}
		}
		if !ok {
			fmt.Fprintln(stderr)
			return nil
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		s.history = append(s.history, chattmpl.Message{Role: "user", Content: line})
		err := s.turn()
		select { // the Ctrl-C that stopped the reply was seen here too
		case <-sig:
		default:
		}
		if err != nil {
			var tooLong *engine.PromptTooLongError
			if errors.As(err, &tooLong) {
				return fmt.Errorf("%v: the conversation no longer fits; start a new one or raise --ctx", err)
			}
			// A template refusal (say, roles the template does not
			// allow) is reported and the user turn dropped.
			var te *chattmpl.Error
			if errors.As(err, &te) {
				fmt.Fprintf(stderr, "llmsql chat: %v\n", err)
				s.history = s.history[:len(s.history)-1]
				continue
			}
			return err
		}
	}
}

// varFlag collects --var KEY=VALUE: VALUE is JSON when it parses as JSON
// (true, 3, "x", {...}), else a string.
type varFlag map[string]any

func (v varFlag) String() string { return "" }

func (v varFlag) Set(s string) error {
	key, val, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	if json.Valid([]byte(val)) {
		v[key] = json.RawMessage(val)
	} else {
		v[key] = val
	}
	return nil
}

func runTemplate(args []string, stdout, stderr io.Writer) error {
	c := commands["template"]
	fs := newFlagSet(c, stderr)
	modelArg := fs.String("m", "", "GGUF model file (a vocab-only file will do), or hf://USER/REPO:QUANT")
	messages := fs.String("messages", "", "the conversation: a JSON array of {\"role\", \"content\"} in `FILE` (- reads stdin)")
	noGen := fs.Bool("no-generation-prompt", false, "leave out the opening of the assistant's turn")
	vars := varFlag{}
	fs.Var(vars, "var", "template variable `KEY=VALUE` (VALUE as JSON when it parses, else a string); repeatable")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *modelArg == "" || *messages == "" {
		return usagef("-m MODEL and --messages FILE|- are required")
	}
	conv, err := readMessages(*messages)
	if err != nil {
		return err
	}
	path, err := resolveModel(context.Background(), *modelArg, stderr)
	if err != nil {
		return err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tok, err := tokenizer.Load(f)
	if err != nil {
		return err
	}
	cf := engine.NewChatFormat(f, tok)
	if cf.Source == engine.TemplateChatML {
		fmt.Fprintln(stderr, "llmsql template: the model file has no chat template; using ChatML")
	}
	prompt, err := cf.Render(conv, engine.TemplateOptions{NoGenerationPrompt: *noGen, Vars: vars})
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, prompt)
	return err
}
