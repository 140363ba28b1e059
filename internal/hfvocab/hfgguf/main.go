// Command hfgguf writes a vocab-only GGUF from a Hugging Face
// tokenizer.json (see package hfvocab), for recording llama.cpp's
// tokenization of real vocabularies. With -cut it writes the compact form
// the tokenizer tests read instead.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/internal/hfvocab"
)

func main() {
	tok := flag.String("tokenizer", "", "tokenizer.json")
	cfg := flag.String("config", "", "tokenizer_config.json (optional)")
	var o hfvocab.Options
	flag.StringVar(&o.Model, "model", "gpt2", "tokenizer.ggml.model: gpt2, llama (SentencePiece) or gemma4")
	flag.StringVar(&o.Pre, "pre", "", "tokenizer.ggml.pre (gpt2)")
	flag.BoolVar(&o.AddSpacePrefix, "space-prefix", false, "tokenizer.ggml.add_space_prefix (llama)")
	name := flag.String("name", "vocab", "general.name")
	out := flag.String("o", "", "output GGUF path")
	cut := flag.String("cut", "", "write the compact form for the strings of this JSON file (an array) to -o, gzipped")
	source := flag.String("source", "", "where the tokenizer came from, recorded with -cut")
	flag.Parse()
	if *tok == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: hfgguf -tokenizer tokenizer.json [-config tokenizer_config.json] [-model gpt2|llama|gemma4] [-pre NAME] -o OUT [-cut strings.json]")
		os.Exit(2)
	}
	if err := run(*tok, *cfg, o, *name, *out, *cut, *source); err != nil {
		fmt.Fprintln(os.Stderr, "hfgguf:", err)
		os.Exit(1)
	}
}

func run(tokPath, cfgPath string, o hfvocab.Options, name, out, cutPath, source string) error {
	tj, err := os.ReadFile(tokPath)
	if err != nil {
		return err
	}
	var cj []byte
	if cfgPath != "" {
		if cj, err = os.ReadFile(cfgPath); err != nil {
			return err
		}
	}
	v, err := hfvocab.Convert(tj, cj, o)
	if err != nil {
		return err
	}
	if cutPath == "" {
		w := gguf.NewWriter()
		for _, kv := range v.KVs(name) {
			w.Set(kv.Key, kv.Value)
		}
		return w.WriteFile(out)
	}
	raw, err := os.ReadFile(cutPath)
	if err != nil {
		return err
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return fmt.Errorf("%s: %w", cutPath, err)
	}
	c, err := v.Cut(source, texts)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(c); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
