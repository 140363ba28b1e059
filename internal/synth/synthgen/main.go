// Command synthgen writes a synthetic model (see package synth), for
// recording golden outputs with llama.cpp: testdata/golden.mjs and, for
// the models of synth.Goldens, testdata/arch_golden.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/synth"
)

func main() {
	var s synth.Spec
	out := flag.String("o", "", "output GGUF path")
	flag.StringVar(&s.Arch, "arch", "qwen2", "architecture: a key of synth.Archs (llama, qwen2, qwen3, bert, nomic-bert, ...)")
	flag.StringVar(&s.Vocab, "vocab", "", "GGUF file to copy the tokenizer from (empty: the built-in vocabulary)")
	flag.IntVar(&s.VocabSize, "nvocab", 512, "built-in vocabulary size, without -vocab")
	flag.IntVar(&s.Embd, "embd", 64, "embedding width")
	flag.IntVar(&s.Layers, "layers", 2, "layers")
	flag.IntVar(&s.Heads, "heads", 4, "attention heads")
	flag.IntVar(&s.KVHeads, "kvheads", 2, "key/value heads")
	flag.IntVar(&s.HeadDim, "headdim", 0, "query/key width per head (0 = embd/heads)")
	flag.IntVar(&s.FF, "ff", 128, "feed-forward width")
	flag.IntVar(&s.Context, "ctx", 512, "context length")
	flag.Uint64Var(&s.Seed, "seed", 1, "random seed")
	flag.BoolVar(&s.Tied, "tied", true, "tie the output to the embedding")
	flag.StringVar(&s.Pooling, "pooling", "", "{arch}.pooling_type to write: none, mean, cls, last, rank (empty: no key)")
	typ := flag.String("type", "F16", "type of the weight matrices (F32, F16, Q8_0, Q4_0, Q4_K, ...)")
	types := flag.String("types", "", "per-tensor types, SUFFIX=TYPE,... (e.g. ffn_down.weight=Q6_K,output.weight=Q6_K)")
	named := flag.String("model", "", "write a named model instead (a key of synth.EmbeddingModels, e.g. bert-mean-f16, or bert-base-f16/bert-base-q8_0); the shape flags are ignored")
	golden := flag.String("golden", "", "write the golden model NAME (a key of synth.Goldens, e.g. gemma2-f16) instead, and print its prompt ids and greedy count; the other flags but -o are ignored")
	list := flag.Bool("list-goldens", false, "print the names of synth.Goldens, one a line")
	shape := flag.String("shape", "", "write the full-size model NAME (a key of synth.Shapes, e.g. gemma3-270m) with weights of -type instead; the other flags but -o and -type are ignored")
	flag.Parse()
	if *shape != "" && *out != "" {
		spec, ok := synth.Shapes[*shape]
		t, tok := gguf.ParseGGMLType(*typ)
		if !ok || !tok {
			fmt.Fprintf(os.Stderr, "synthgen: no shape %q or type %q\n", *shape, *typ)
			os.Exit(2)
		}
		spec.Type = t
		if err := synth.Write(*out, spec); err != nil {
			fmt.Fprintln(os.Stderr, "synthgen:", err)
			os.Exit(1)
		}
		return
	}
	if *list {
		names := make([]string, 0, len(synth.Goldens))
		for n := range synth.Goldens {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
		return
	}
	if *golden != "" && *out != "" {
		g, ok := synth.Goldens[*golden]
		if !ok {
			fmt.Fprintf(os.Stderr, "synthgen: no golden model %q\n", *golden)
			os.Exit(2)
		}
		if err := synth.Write(*out, g.Spec); err != nil {
			fmt.Fprintln(os.Stderr, "synthgen:", err)
			os.Exit(1)
		}
		ids, _ := json.Marshal(g.Prompt)
		fmt.Printf("%s %d\n", ids, g.Greedy)
		return
	}
	if *named != "" && *out != "" {
		spec, ok := synth.EmbeddingModels()[*named]
		switch *named {
		case "bert-base-f16":
			spec, ok = synth.BertBase(gguf.TypeF16), true
		case "bert-base-q8_0":
			spec, ok = synth.BertBase(gguf.TypeQ8_0), true
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "synthgen: no model named %q\n", *named)
			os.Exit(2)
		}
		if err := synth.Write(*out, spec); err != nil {
			fmt.Fprintln(os.Stderr, "synthgen:", err)
			os.Exit(1)
		}
		return
	}
	t, ok := gguf.ParseGGMLType(*typ)
	if *types != "" {
		s.Types = map[string]gguf.GGMLType{}
		for _, kv := range strings.Split(*types, ",") {
			name, tn, found := strings.Cut(kv, "=")
			tt, good := gguf.ParseGGMLType(tn)
			if !found || !good {
				fmt.Fprintf(os.Stderr, "synthgen: bad -types entry %q\n", kv)
				os.Exit(2)
			}
			s.Types[name] = tt
		}
	}
	if *out == "" || !ok {
		fmt.Fprintln(os.Stderr, "usage: synthgen -o OUT.gguf [-vocab VOCAB.gguf] [-arch qwen2] [-type F16] [flags]")
		os.Exit(2)
	}
	s.Type = t
	if err := synth.Write(*out, s); err != nil {
		fmt.Fprintln(os.Stderr, "synthgen:", err)
		os.Exit(1)
	}
}
