package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
)

func init() {
	register(&command{
		name:    "generate",
		summary: "generate text from a prompt, streaming it to stdout",
		usage: "-m MODEL -p PROMPT [--system TEXT] [--raw] [--parse-special] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] " +
			"[--repeat-penalty R] [--seed S] [--threads N] [--ignore-eos] [--no-think] [--keep-thinking] [--json] [--logits-out FILE]",
		run: runGenerate,
	})
	register(&command{
		name:    "bench",
		summary: "measure prompt and generation speed, like llama-bench (--sequences: like llama-batched-bench)",
		usage:   "-m MODEL [-p 512] [-n 64] [-t THREADS] [-r REPS] [--sequences N[,N...]] [--json]",
		run:     runBench,
	})
}

func runGenerate(args []string, stdout, stderr io.Writer) error {
	c := commands["generate"]
	fs := newFlagSet(c, stderr)
	modelPath := fs.String("m", "", "GGUF model file, or hf://USER/REPO:QUANT to pull first")
	prompt := fs.String("p", "", "prompt")
	system := fs.String("system", "", "system prompt (the prompt becomes the user's turn of the model's chat template)")
	raw := fs.Bool("raw", false, "send the prompt as it is, without the model's chat template")
	parseSpecial := fs.Bool("parse-special", false, "with a raw prompt, turn special-token text such as <|im_start|> into its token")
	smp := addSampling(fs, 128)
	threads := fs.Int("threads", 0, "threads (0 = all cores)")
	asJSON := fs.Bool("json", false, "print one JSON line instead of streaming text")
	logitsOut := fs.String("logits-out", "", "write the logits at the last prompt position to FILE as a JSON array")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *modelPath == "" {
		return usagef("-m MODEL is required")
	}
	if *raw && *system != "" {
		return usagef("--system needs the chat template; it cannot go with --raw")
	}
	opts, err := smp.options()
	if err != nil {
		return err
	}
	if *threads < 0 {
		return usagef("--threads must be 0 or more")
	}
	ctx, stop := interruptContext(context.Background())
	defer stop()
	path, err := resolveModel(ctx, *modelPath, stderr)
	if err != nil {
		return err
	}
	m, err := loadModel(stderr, path, engine.LoadConfig{Threads: *threads, Slots: 1, NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap})
	if err != nil {
		return err
	}
	defer m.Close()
	// A model with a chat template gets the prompt as the user's turn,
	// as SQL generate() does; --raw (or a model without one) sends it as
	// it is.
	req := engine.Request{Prompt: *prompt, ParseSpecial: *parseSpecial, Options: opts, WantLogits: *logitsOut != ""}
	if !*raw && m.Chat.Source == engine.TemplateGGUF {
		req.Messages = withSystem([]chattmpl.Message{{Role: "user", Content: *prompt}}, *system)
		req.Template = smp.template()
	} else if *system != "" {
		return fmt.Errorf("the model file has no chat template, so --system has nowhere to go; write the whole prompt with --raw --parse-special")
	}
	if !*asJSON {
		req.OnText = func(s string) error { _, err := io.WriteString(stdout, s); return err }
	}
	// Ctrl-C ends generation; what was generated and the stats are still
	// printed (stop_reason "cancelled").
	res, err := m.Generate(ctx, req)
	if err != nil && (res == nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	if *logitsOut != "" {
		if err := writeJSONFile(*logitsOut, finiteFloats(res.Logits)); err != nil {
			return err
		}
	}
	if !*asJSON {
		fmt.Fprintln(stdout)
		fmt.Fprintf(stderr, "prompt: %d tokens, %.1f t/s; generated: %d tokens, %.1f t/s (%s)\n",
			len(res.PromptIDs), rate(len(res.PromptIDs), res.PromptTime.Seconds()),
			len(res.GeneratedIDs), rate(len(res.GeneratedIDs), res.GenTime.Seconds()), res.StopReason)
		return nil
	}
	out := struct {
		PromptIDs    []int32 `json:"prompt_ids"`
		GeneratedIDs []int32 `json:"generated_ids"`
		Text         string  `json:"text"`
		PromptTPS    float64 `json:"prompt_tokens_per_s"`
		GenTPS       float64 `json:"gen_tokens_per_s"`
		StopReason   string  `json:"stop_reason"`
	}{res.PromptIDs, res.GeneratedIDs, res.Text,
		rate(len(res.PromptIDs), res.PromptTime.Seconds()), rate(len(res.GeneratedIDs), res.GenTime.Seconds()), res.StopReason}
	if out.GeneratedIDs == nil {
		out.GeneratedIDs = []int32{}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func rate(n int, secs float64) float64 {
	if secs <= 0 || n == 0 {
		return 0
	}
	return math.Round(float64(n)/secs*100) / 100
}

// finiteFloats converts to float64 so JSON prints the shortest decimal that
// reads back as the same float32; NaN and infinities cannot be JSON numbers
// and are clamped, which only a broken model produces.
func finiteFloats(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		f := float64(x)
		switch {
		case math.IsNaN(f):
			f = 0
		case math.IsInf(f, 1):
			f = math.MaxFloat32
		case math.IsInf(f, -1):
			f = -math.MaxFloat32
		}
		out[i] = f
	}
	return out
}

func writeJSONFile(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func runBench(args []string, stdout, stderr io.Writer) error {
	c := commands["bench"]
	fs := newFlagSet(c, stderr)
	modelPath := fs.String("m", "", "GGUF model file")
	p := fs.Int("p", 512, "prompt tokens to process")
	n := fs.Int("n", 64, "tokens to generate")
	threads := fs.Int("t", 0, "threads (0 = all cores)")
	reps := fs.Int("r", 1, "repetitions (the best is reported)")
	asJSON := fs.Bool("json", false, "print one JSON line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the runs to FILE (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a profile of every allocation during the runs to FILE (go tool pprof -sample_index=alloc_objects)")
	sequences := fs.String("sequences", "", "decode N sequences together, as llama-batched-bench -npl N does: N prompts of -p tokens, then -n steps of N tokens; a list (1,4,8,16) gives a line each")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *modelPath == "" {
		return usagef("-m MODEL is required")
	}
	if *p < 0 || *n < 0 || *threads < 0 || *reps < 1 || *p+*n == 0 {
		return usagef("-p and -n must be 0 or more (not both 0), -t 0 or more, -r at least 1")
	}
	if *sequences != "" {
		var seqs []int
		for _, f := range strings.Split(*sequences, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 || v > 1024 {
				return usagef("--sequences wants numbers from 1 to 1024, not %q", f)
			}
			seqs = append(seqs, v)
		}
		if *p < 1 || *n < 1 {
			return usagef("--sequences needs -p and -n of at least 1")
		}
		stop, err := startProfiles(*cpuProfile, *memProfile)
		if err != nil {
			return err
		}
		defer stop()
		return benchSequences(stdout, *modelPath, *threads, *reps, *p, *n, seqs, *asJSON)
	}
	m, err := engine.LoadModel(*modelPath, engine.LoadConfig{Threads: *threads, Slots: 1, Context: max(*p+1, *n+2, 16), NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap})
	if err != nil {
		return err
	}
	defer m.Close()
	stop, err := startProfiles(*cpuProfile, *memProfile)
	if err != nil {
		return err
	}
	defer stop()
	var best engine.BenchResult
	for i := 0; i < *reps; i++ {
		r, err := m.Bench(context.Background(), *p, *n)
		if err != nil {
			return err
		}
		if r.PromptTPS > best.PromptTPS {
			best.PromptTPS = r.PromptTPS
		}
		if r.GenTPS > best.GenTPS {
			best.GenTPS, best.AllocsPerToken = r.GenTPS, r.AllocsPerToken
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]float64{
			"prompt_tokens_per_s": math.Round(best.PromptTPS*100) / 100,
			"gen_tokens_per_s":    math.Round(best.GenTPS*100) / 100,
			"allocs_per_token":    best.AllocsPerToken,
			"threads":             float64(m.Threads()),
		})
	}
	fmt.Fprintf(stdout, "model: %s (%s, %d threads)\n", *modelPath, m.Net.Arch, m.Threads())
	if *p > 0 {
		fmt.Fprintf(stdout, "pp%d: %.2f tokens/s\n", *p, best.PromptTPS)
	}
	if *n > 0 {
		fmt.Fprintf(stdout, "tg%d: %.2f tokens/s (%.1f allocations per token)\n", *n, best.GenTPS, best.AllocsPerToken)
	}
	return nil
}

// benchSequences is bench --sequences: each count of sequences in turn on
// one loaded model, the best of reps runs of each.
func benchSequences(stdout io.Writer, path string, threads, reps, p, n int, seqs []int, asJSON bool) error {
	m, err := engine.LoadModel(path, engine.LoadConfig{Threads: threads, Slots: slices.Max(seqs), Context: p + n + 2, NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap})
	if err != nil {
		return err
	}
	defer m.Close()
	if !asJSON {
		fmt.Fprintf(stdout, "model: %s (%s, %d threads), prompts of %d tokens, %d generated each\n", path, m.Net.Arch, m.Threads(), p, n)
	}
	for _, s := range seqs {
		var best engine.BatchedBenchResult
		for i := 0; i < reps; i++ {
			r, err := m.BenchSequences(context.Background(), s, p, n)
			if err != nil {
				return err
			}
			best.PromptTPS = max(best.PromptTPS, r.PromptTPS)
			if r.GenTPS > best.GenTPS {
				best.GenTPS, best.AllocsPerToken = r.GenTPS, r.AllocsPerToken
			}
		}
		if asJSON {
			if err := json.NewEncoder(stdout).Encode(map[string]float64{
				"sequences":           float64(s),
				"prompt_tokens_per_s": math.Round(best.PromptTPS*100) / 100,
				"gen_tokens_per_s":    math.Round(best.GenTPS*100) / 100,
				"allocs_per_token":    best.AllocsPerToken,
				"threads":             float64(m.Threads()),
			}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%d sequences: prompts %.2f tokens/s, generation %.2f tokens/s (all sequences; %.2f allocations per token)\n",
			s, best.PromptTPS, best.GenTPS, best.AllocsPerToken)
	}
	return nil
}

// startProfiles starts bench's CPU profile and allocation profile (either
// name may be empty); stop writes them.
func startProfiles(cpu, mem string) (stop func(), err error) {
	var f *os.File
	if cpu != "" {
		if f, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	if mem != "" {
		runtime.MemProfileRate = 1
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if mem != "" {
			runtime.GC() // the profile holds what the last collection saw
			if mf, err := os.Create(mem); err == nil {
				pprof.Lookup("allocs").WriteTo(mf, 0)
				mf.Close()
			}
		}
	}, nil
}
