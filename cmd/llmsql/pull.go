package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/llmsql/llmsql/hub"
)

func init() {
	register(&command{
		name:    "pull",
		summary: "download a model from Hugging Face (hf://USER/REPO:QUANT) or a URL into the models directory",
		usage:   "REF [--models-dir DIR] [--json]   (REF: hf://USER/REPO/FILE.gguf, hf://USER/REPO:QUANT or https://...)",
		run:     runPull,
	})
}

// defaultModelsDir is where pulled models go: a models/ folder beside the
// data directory (./llmsql-data by default, so ./models).
func defaultModelsDir(dataDir string) string {
	if dataDir == "" {
		return "models"
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		return filepath.Join(filepath.Dir(abs), "models")
	}
	return "models"
}

// hubOptions is the download configuration: the environment is read here,
// at the edge, and passed down. HF_TOKEN authenticates (gated and private
// models); HF_ENDPOINT names a mirror.
func hubOptions(modelsDir string) (hub.Options, error) {
	dir, err := filepath.Abs(modelsDir)
	if err != nil {
		return hub.Options{}, err
	}
	return hub.Options{
		Dir:      dir,
		Token:    os.Getenv("HF_TOKEN"),
		Endpoint: os.Getenv("HF_ENDPOINT"),
	}, nil
}

func runPull(args []string, stdout, stderr io.Writer) error {
	c := commands["pull"]
	fs := newFlagSet(c, stderr)
	modelsDir := fs.String("models-dir", defaultModelsDir(""), "`directory` to download into (files land in DIR/USER/REPO/FILE)")
	asJSON := fs.Bool("json", false, "print one JSON line describing the result")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one REF, got %d arguments", len(pos))
	}
	ref, err := hub.ParseRef(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	opts, err := hubOptions(*modelsDir)
	if err != nil {
		return err
	}
	rep := &pullReporter{w: stderr}
	opts.Progress = rep.update

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := hub.Pull(ctx, ref, opts)
	rep.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: the partial download in %s is kept; run the same pull again to resume", opts.Dir)
		}
		return err
	}
	if *asJSON {
		return writePullJSON(stdout, res, time.Since(start))
	}
	var size int64
	verified := len(res.Files) > 0
	for _, f := range res.Files {
		size += f.Size
		verified = verified && (f.Verified || f.Present)
	}
	parts := ""
	if len(res.Files) > 1 {
		parts = fmt.Sprintf(", %d parts", len(res.Files))
	}
	switch {
	case res.Offline:
		fmt.Fprintf(stdout, "%s: the hub could not be reached; using %s (%s%s), pulled before\n", ref, res.Path, hub.FormatBytes(size), parts)
	case res.Downloaded == 0:
		fmt.Fprintf(stdout, "%s is already in %s (%s%s)\n", ref, res.Path, hub.FormatBytes(size), parts)
	default:
		check := "no sha256 published to check"
		if verified {
			check = "sha256 verified"
		}
		fmt.Fprintf(stdout, "pulled %s to %s (%s%s in %s, %s)\n", ref, res.Path, hub.FormatBytes(size), parts,
			time.Since(start).Round(100*time.Millisecond), check)
	}
	return nil
}

func writePullJSON(w io.Writer, res hub.Result, took time.Duration) error {
	type file struct {
		Name     string `json:"name"`
		Path     string `json:"path"`
		Bytes    int64  `json:"bytes"`
		SHA256   string `json:"sha256"`
		Verified bool   `json:"verified"`
		Present  bool   `json:"present"`
	}
	out := struct {
		Ref        string  `json:"ref"`
		Path       string  `json:"path"`
		Files      []file  `json:"files"`
		Bytes      int64   `json:"bytes"`
		Downloaded int64   `json:"downloaded_bytes"`
		Commit     string  `json:"commit"`
		Offline    bool    `json:"offline"`
		Seconds    float64 `json:"seconds"`
	}{Ref: res.Ref.String(), Path: res.Path, Downloaded: res.Downloaded, Commit: res.Commit, Offline: res.Offline,
		Seconds: float64(took.Round(time.Millisecond)) / float64(time.Second), Files: []file{}}
	for _, f := range res.Files {
		out.Files = append(out.Files, file{f.Name, f.Path, f.Size, f.SHA256, f.Verified, f.Present})
		out.Bytes += f.Size
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// pullReporter turns a pull's progress into a progress report on stderr:
// one bar over all the files of the pull.
type pullReporter struct {
	w     io.Writer
	p     *progress
	index int
}

func (r *pullReporter) update(pr hub.Progress) {
	desc := "pulling " + filepath.Base(pr.File)
	if pr.Files > 1 {
		desc = fmt.Sprintf("pulling [%d/%d] %s", pr.Index, pr.Files, filepath.Base(pr.File))
	}
	if r.p == nil {
		r.p = newProgress(r.w, desc, pr.Total, unitBytes)
		if pr.Resumed > 0 {
			r.p.Resume(pr.Done)
		}
		r.index = pr.Index
	}
	if pr.Index != r.index {
		r.index = pr.Index
		r.p.Describe(desc)
	}
	r.p.SetTotal(pr.Total)
	r.p.Set(pr.Done)
}

func (r *pullReporter) finish() {
	if r.p != nil {
		r.p.Finish()
	}
}
