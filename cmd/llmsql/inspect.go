package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/llmsql/llmsql/engine/gguf"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "describe a GGUF file: model shape, tensors, metadata",
		usage:   "FILE [--json]",
		run:     runInspect,
	})
}

// modelSummary is the part of inspect's output that describes the model as
// a whole; keys absent from the file are left zero and omitted in JSON.
type modelSummary struct {
	Architecture   string `json:"architecture"`
	Name           string `json:"name,omitempty"`
	Parameters     uint64 `json:"parameters"`
	FileType       string `json:"file_type,omitempty"`
	ContextLength  int64  `json:"context_length,omitempty"`
	Layers         int64  `json:"block_count,omitempty"`
	Embedding      int64  `json:"embedding_length,omitempty"`
	FeedForward    int64  `json:"feed_forward_length,omitempty"`
	Heads          int64  `json:"head_count,omitempty"`
	KVHeads        int64  `json:"head_count_kv,omitempty"`
	TokenizerModel string `json:"tokenizer_model,omitempty"`
	VocabSize      int    `json:"vocab_size,omitempty"`
}

func summarize(f *gguf.File) modelSummary {
	arch := f.Architecture()
	s := modelSummary{Architecture: arch, Parameters: f.ParameterCount()}
	s.Name, _ = f.String("general.name")
	if ft, err := f.Int("general.file_type"); err == nil {
		s.FileType = gguf.FileType(ft).String()
	}
	s.ContextLength, _ = f.Int(arch + ".context_length")
	s.Layers, _ = f.Int(arch + ".block_count")
	s.Embedding, _ = f.Int(arch + ".embedding_length")
	s.FeedForward, _ = f.Int(arch + ".feed_forward_length")
	s.Heads, _ = f.Int(arch + ".attention.head_count")
	s.KVHeads, _ = f.Int(arch + ".attention.head_count_kv")
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads // llama.cpp's default when the key is absent
	}
	s.TokenizerModel, _ = f.String("tokenizer.ggml.model")
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		s.VocabSize = len(toks)
	}
	return s
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	c := commands["inspect"]
	fs := newFlagSet(c, stderr)
	asJSON := fs.Bool("json", false, "print everything (all metadata, all tensors) as one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("expected one GGUF file, got %d arguments", len(pos))
	}
	f, err := gguf.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if *asJSON {
		return inspectJSON(f, stdout)
	}
	return inspectText(f, stdout)
}

func inspectJSON(f *gguf.File, w io.Writer) error {
	type tensorJSON struct {
		Name   string   `json:"name"`
		Type   string   `json:"type"`
		Shape  []uint64 `json:"shape"`
		Offset uint64   `json:"offset"`
		Bytes  uint64   `json:"bytes"`
	}
	type kvJSON struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
	out := struct {
		modelSummary
		Version   uint32       `json:"gguf_version"`
		Alignment uint64       `json:"alignment"`
		FileBytes int64        `json:"file_bytes"`
		Metadata  []kvJSON     `json:"metadata"`
		Tensors   []tensorJSON `json:"tensors"`
	}{modelSummary: summarize(f), Version: f.Version, Alignment: f.Alignment, FileBytes: f.Size}
	out.Metadata = make([]kvJSON, 0, len(f.Metadata))
	for _, kv := range f.Metadata {
		out.Metadata = append(out.Metadata, kvJSON{kv.Key, typeName(kv.Value), kv.Value.JSON()})
	}
	out.Tensors = make([]tensorJSON, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		out.Tensors = append(out.Tensors, tensorJSON{t.Name, t.Type.String(), t.Dims, t.Offset, t.Bytes()})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func typeName(v gguf.Value) string {
	if a := v.Array(); a != nil {
		return "array[" + a.Elem.String() + "]"
	}
	return v.Type.String()
}

func inspectText(f *gguf.File, w io.Writer) error {
	s := summarize(f)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("architecture", s.Architecture)
	if s.Name != "" {
		row("name", s.Name)
	}
	row("parameters", fmt.Sprintf("%d (%s)", s.Parameters, humanCount(s.Parameters)))
	if s.FileType != "" {
		row("file type", s.FileType)
	}
	row("context length", s.ContextLength)
	row("layers", s.Layers)
	row("embedding", s.Embedding)
	row("feed forward", s.FeedForward)
	row("heads", s.Heads)
	row("kv heads", s.KVHeads)
	row("tokenizer", s.TokenizerModel)
	row("vocab size", s.VocabSize)
	row("gguf version", f.Version)
	row("file size", fmt.Sprintf("%d bytes (%s)", f.Size, humanBytes(uint64(f.Size))))
	tw.Flush()

	fmt.Fprintf(w, "\ntensors (%d):\n", len(f.Tensors))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\ttype\tshape\tbytes")
	for _, t := range f.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(tw, "  %s\t%s\t[%s]\t%d\n", t.Name, t.Type, strings.Join(dims, ", "), t.Bytes())
	}
	tw.Flush()

	fmt.Fprintf(w, "\nmetadata (%d):\n", len(f.Metadata))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range f.Metadata {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", kv.Key, typeName(kv.Value), kv.Value.Format(16))
	}
	return tw.Flush()
}

func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
