package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseSize reads a byte count: a number with an optional unit, binary
// (K, M, G, T are 1024^n, as are KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g.
// 4096, 512M, 1.5GiB.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	upper := strings.ToUpper(t)
	mult := 1.0
	for i, u := range []string{"K", "M", "G", "T"} {
		scale := math.Pow(1024, float64(i+1))
		for _, suffix := range []string{u + "IB", u + "B", u} {
			if strings.HasSuffix(upper, suffix) {
				t, mult = strings.TrimSpace(t[:len(t)-len(suffix)]), scale
				goto parsed
			}
		}
	}
	if strings.HasSuffix(upper, "B") {
		t = strings.TrimSpace(t[:len(t)-1])
	}
parsed:
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a size (such as 4096, 512M or 8G)", s)
	}
	b := f * mult
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}

// sizeFlag is a flag.Value holding a size, with named special values
// (such as "auto" or "none").
type sizeFlag struct {
	text  string
	named map[string]bool
}

func (f *sizeFlag) String() string { return f.text }

func (f *sizeFlag) Set(v string) error {
	if f.named[strings.ToLower(strings.TrimSpace(v))] {
		f.text = strings.ToLower(strings.TrimSpace(v))
		return nil
	}
	if _, err := parseSize(v); err != nil {
		return err
	}
	f.text = v
	return nil
}

// value returns the size, or the special name.
func (f *sizeFlag) value() (int64, string) {
	if f.named[f.text] {
		return 0, f.text
	}
	n, _ := parseSize(f.text)
	return n, ""
}
