package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/hub"
)

// progress reports a long job (a download, a quantization, a model load)
// on stderr. On a terminal it draws a bar with github.com/schollz/progressbar
// (bytes, rate, time left; a spinner with the elapsed time when the total is
// unknown) that is cleared at the end. Elsewhere (a pipe, a log file) it
// prints a plain line every plainEvery, starting only once the job has run
// that long, so quick jobs print nothing and logs get no control characters.
//
// Use: p := newProgress(stderr, "pulling x.gguf", total, unitBytes); p.Set(n)
// as work advances (cheap: drawing is throttled); p.Finish() when done.
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar // on a terminal
	w     io.Writer                // plain lines otherwise; nil: silent
	desc  string
	total int64 // -1: unknown
	unit  progressUnit
	start time.Time
	base  int64 // the count when started (a resumed download), left out of rates
	cur   int64
	next  time.Time // when the next plain line is due
	lines int
}

type progressUnit int

const (
	unitBytes progressUnit = iota // counts are bytes: shown as KiB/MiB/GiB with a rate
	unitNone                      // no count: only the elapsed time (a spinner)
)

// plainEvery is how often plain progress lines are printed.
var plainEvery = 5 * time.Second

// progressNow is the plain report's clock (tests set their own).
var progressNow = time.Now

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts reporting a job of total units (-1: unknown) on w.
func newProgress(w io.Writer, desc string, total int64, unit progressUnit) *progress {
	return newProgressMode(w, isTerminal(w), desc, total, unit)
}

func newProgressMode(w io.Writer, terminal bool, desc string, total int64, unit progressUnit) *progress {
	p := &progress{desc: desc, total: total, unit: unit, start: progressNow()}
	p.next = p.start.Add(plainEvery)
	if !terminal {
		p.w = w
		return p
	}
	max := total
	if unit == unitNone {
		max = -1
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(unit == unitBytes),
		progressbar.OptionShowTotalBytes(unit == unitBytes),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(unit == unitBytes),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionFullWidth(),
	}
	if unit != unitNone {
		opts = append(opts, progressbar.OptionShowCount())
	}
	p.bar = progressbar.NewOptions64(max, opts...)
	return p
}

// Resume says the job starts at n (bytes an earlier download left): the
// count shows it, rates leave it out.
func (p *progress) Resume(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base, p.cur = n, n
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

// Set records how much is done.
func (p *progress) Set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = n
	if p.bar != nil {
		if p.unit != unitNone {
			p.bar.Set64(n)
		}
		return
	}
	if p.w != nil && !progressNow().Before(p.next) {
		p.plainLocked()
	}
}

// SetTotal changes the total (a size learned once the download started).
func (p *progress) SetTotal(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == p.total {
		return
	}
	p.total = n
	if p.bar != nil && p.unit != unitNone {
		p.bar.ChangeMax64(n)
	}
}

// Describe changes what the line says is being done.
func (p *progress) Describe(desc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.desc = desc
	if p.bar != nil {
		p.bar.Describe(desc)
	}
}

// Tick prints a due plain line for a job with no count (the spinner
// animates itself on a terminal).
func (p *progress) Tick() { p.Set(p.cur) }

// Finish ends the report: the bar is cleared; a plain report that printed
// anything gets a last line.
func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Exit()
		return
	}
	if p.w != nil && p.lines > 0 {
		p.plainLocked()
	}
	p.w = nil
}

// plainLocked prints one plain line, e.g.
// "pulling m-Q8_0.gguf: 12.0 MiB of 604.2 MiB (2%), 5.1 MiB/s, 1m55s left".
func (p *progress) plainLocked() {
	elapsed := progressNow().Sub(p.start)
	line := p.desc
	switch {
	case p.unit == unitNone:
		line += fmt.Sprintf(": %s", elapsed.Round(time.Second))
	case p.total > 0:
		line += fmt.Sprintf(": %s of %s (%d%%)", hub.FormatBytes(p.cur), hub.FormatBytes(p.total), p.cur*100/p.total)
	default:
		line += ": " + hub.FormatBytes(p.cur)
	}
	if p.unit == unitBytes && elapsed > 0 {
		rate := float64(p.cur-p.base) / elapsed.Seconds()
		line += fmt.Sprintf(", %s/s", hub.FormatBytes(int64(rate)))
		if p.total > 0 && rate > 0 && p.cur < p.total {
			left := time.Duration(float64(p.total-p.cur) / rate * float64(time.Second))
			line += fmt.Sprintf(", %s left", left.Round(time.Second))
		}
	}
	fmt.Fprintln(p.w, line)
	p.lines++
	p.next = progressNow().Add(plainEvery)
}

// loadModel loads the model at path for a command, with a progress line
// (a spinner and the elapsed time on a terminal; a plain line every few
// seconds otherwise) while it loads.
func loadModel(stderr io.Writer, path string, cfg engine.LoadConfig) (*engine.Model, error) {
	desc := "loading " + filepath.Base(path)
	if st, err := os.Stat(path); err == nil {
		desc += " (" + hub.FormatBytes(st.Size()) + ")"
	}
	p := newProgress(stderr, desc, -1, unitNone)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.Tick()
			}
		}
	}()
	m, err := engine.LoadModel(path, cfg)
	close(done)
	p.Finish()
	return m, err
}

// resolveModel turns a command's model argument into a local file: a path
// is returned as it is; an hf:// reference or URL is pulled first (into the
// default models directory, with a progress bar) unless already there.
func resolveModel(ctx context.Context, arg string, stderr io.Writer) (string, error) {
	if !hub.IsRef(arg) {
		return arg, nil
	}
	ref, err := hub.ParseRef(arg)
	if err != nil {
		return "", err
	}
	opts, err := hubOptions(defaultModelsDir(""))
	if err != nil {
		return "", err
	}
	rep := &pullReporter{w: stderr}
	opts.Progress = rep.update
	res, err := hub.Pull(ctx, ref, opts)
	rep.finish()
	if err != nil {
		return "", err
	}
	return res.Path, nil
}
