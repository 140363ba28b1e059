package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/model"
)

func init() {
	register(&command{
		name:    "embed",
		summary: "print the embedding of each text (one vector per line), or reranker scores",
		usage: "-m MODEL [--json] [--no-normalize] [--truncate] [--rerank QUERY] [-f FILE] [--sequential] " +
			"[--threads N] [-b TOKENS] [--] TEXT...",
		run: runEmbed,
	})
}

// runEmbed embeds each TEXT (and each line of -f FILE) with the model's
// pooling and prints one vector per line: its values separated by spaces,
// each the shortest decimal that reads back as the same float32. With
// --rerank QUERY the model must be a reranker and each text is a document:
// one score per line. All texts go to the engine at once and share forward
// passes, unless --sequential (one text at a time). Timing goes to stderr.
func runEmbed(args []string, stdout, stderr io.Writer) error {
	c := commands["embed"]
	fs := newFlagSet(c, stderr)
	modelPath := fs.String("m", "", "GGUF model file, or hf://USER/REPO:QUANT to pull first")
	asJSON := fs.Bool("json", false, "print one JSON object: the vectors with their token counts, and the timing")
	noNormalize := fs.Bool("no-normalize", false, "print llama.cpp's raw pooled vectors instead of unit-length ones")
	truncate := fs.Bool("truncate", false, "cut texts longer than the model takes instead of failing")
	query := fs.String("rerank", "", "score each text as a document for this `QUERY` (the model must be a reranker)")
	file := fs.String("f", "", "also embed each line of `FILE` (- for stdin)")
	sequential := fs.Bool("sequential", false, "embed one text at a time instead of all together")
	threads := fs.Int("threads", 0, "threads (0 = all cores)")
	batch := fs.Int("b", 0, "most tokens in one forward pass (0 = 512; a longer text still runs whole)")
	texts, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("-m MODEL is required")
	}
	if *threads < 0 || *batch < 0 {
		return usagef("--threads and -b must be 0 or more")
	}
	if *file != "" {
		lines, err := readLines(*file)
		if err != nil {
			return err
		}
		texts = append(texts, lines...)
	}
	if len(texts) == 0 {
		return usagef("give at least one TEXT (or -f FILE)")
	}
	rerank := false
	fs.Visit(func(f *flag.Flag) { rerank = rerank || f.Name == "rerank" })
	ctx, stop := interruptContext(context.Background())
	defer stop()
	path, err := resolveModel(ctx, *modelPath, stderr)
	if err != nil {
		return err
	}
	m, err := loadModel(stderr, path, engine.LoadConfig{Threads: *threads, Slots: 1, BatchSize: *batch, NoPack: engineOpts.NoPack, Mmap: engineOpts.Mmap})
	if err != nil {
		return err
	}
	defer m.Close()

	type result struct {
		vec    []float32
		tokens int
		err    error
	}
	results := make([]result, len(texts))
	one := func(i int) {
		r := &results[i]
		var ids []int32
		if rerank {
			ids, r.err = m.RerankTokens(*query, texts[i], *truncate)
		} else {
			ids, r.err = m.EmbedTokens(texts[i], *truncate)
		}
		if r.err != nil {
			return
		}
		r.tokens = len(ids)
		r.vec, r.err = m.EmbedIDs(ctx, ids)
		if r.err == nil && !rerank && !*noNormalize {
			engine.Normalize(r.vec)
		}
	}
	if rerank && m.Net.Pooling != model.PoolRank {
		return &engine.NotRerankerError{Pooling: m.Net.Pooling}
	}
	start := time.Now()
	if *sequential {
		for i := range texts {
			if one(i); results[i].err != nil {
				break
			}
		}
	} else {
		var wg sync.WaitGroup
		for i := range texts {
			wg.Go(func() { one(i) })
		}
		wg.Wait()
	}
	elapsed := time.Since(start).Seconds()
	tokens := 0
	for i, r := range results {
		if r.err != nil {
			return fmt.Errorf("text %d: %w", i+1, r.err)
		}
		tokens += r.tokens
	}
	if *asJSON {
		type item struct {
			Tokens    int       `json:"tokens"`
			Embedding []float32 `json:"embedding,omitempty"`
			Score     *float32  `json:"score,omitempty"`
		}
		out := struct {
			Model      string  `json:"model"`
			Pooling    string  `json:"pooling"`
			Dim        int     `json:"dim"`
			Normalized bool    `json:"normalized"`
			Items      []item  `json:"data"`
			Seconds    float64 `json:"seconds"`
			TextsPerS  float64 `json:"texts_per_s"`
			TokensPerS float64 `json:"tokens_per_s"`
		}{Model: path, Pooling: m.Net.Pooling.String(), Dim: m.EmbedDim(), Normalized: !rerank && !*noNormalize,
			Seconds: elapsed, TextsPerS: rate(len(texts), elapsed), TokensPerS: rate(tokens, elapsed)}
		for _, r := range results {
			it := item{Tokens: r.tokens}
			if rerank {
				s := r.vec[0]
				it.Score = &s
			} else {
				it.Embedding = r.vec
			}
			out.Items = append(out.Items, it)
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(out)
	}
	w := bufio.NewWriter(stdout)
	var buf []byte
	for _, r := range results {
		buf = buf[:0]
		vals := r.vec
		if rerank {
			vals = vals[:1]
		}
		for j, v := range vals {
			if j > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d texts, %d tokens in %.3f s: %.1f texts/s, %.1f tokens/s\n",
		len(texts), tokens, elapsed, rate(len(texts), elapsed), rate(tokens, elapsed))
	return nil
}

// readLines returns the lines of path ("-" for stdin), without their line
// ends; empty lines are kept (an empty text still has its special tokens).
func readLines(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
