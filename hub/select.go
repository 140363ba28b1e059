package hub

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// RepoFile is one file of a repository listing.
type RepoFile struct {
	Path   string // path in the repository
	Size   int64  // bytes; -1 when the listing does not say
	SHA256 string // the LFS object id (the content's sha256); empty for files not in LFS
}

// split describes a file name in llama.cpp's split convention,
// NAME-00001-of-00003.gguf.
type split struct {
	prefix       string // the path without the split suffix and ".gguf"
	index, count int    // 1-based; 1 of 1 for an unsplit file
	tag          string // the quantization the name ends with, upper case ("Q4_K_M"), or ""
}

var (
	splitRe = regexp.MustCompile(`(?i)^(.+)-([0-9]{5})-of-([0-9]{5})$`)
	tagRe   = regexp.MustCompile(`(?i)[-.]([A-Z0-9_]+)$`)
)

// splitInfo parses a GGUF file name the way llama.cpp's downloader does.
func splitInfo(p string) split {
	prefix, ok := strings.CutSuffix(p, ".gguf")
	if !ok {
		return split{}
	}
	s := split{prefix: prefix, index: 1, count: 1}
	if m := splitRe.FindStringSubmatch(prefix); m != nil {
		s.prefix = m[1]
		s.index, _ = strconv.Atoi(m[2])
		s.count, _ = strconv.Atoi(m[3])
	}
	if m := tagRe.FindStringSubmatch(s.prefix); m != nil {
		s.tag = strings.ToUpper(m[1])
	}
	return s
}

// isModelFile reports whether p is a GGUF model rather than one of the
// side files repositories ship beside them (projectors, importance
// matrices, draft heads), as llama.cpp's -hf tells them apart.
func isModelFile(p string) bool {
	if !strings.HasSuffix(p, ".gguf") {
		return false
	}
	base := path.Base(p)
	for _, side := range []string{"mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"} {
		if strings.Contains(base, side) {
			return false
		}
	}
	return true
}

// defaultQuants are tried in order when a reference names no quantization,
// as llama.cpp's -hf does.
var defaultQuants = []string{"Q4_K_M", "Q8_0"}

// AmbiguousError is a quantization that more than one model in the
// repository carries; the user must name the file.
type AmbiguousError struct {
	Ref        Ref
	Candidates []RepoFile // the first file of each candidate model
}

func (e *AmbiguousError) Error() string {
	what := "quantization " + e.Ref.Quant
	if e.Ref.Quant == "" {
		what = "no quantization"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s matches %d models in %s; name the file instead:", e.Ref, what, len(e.Candidates), e.Ref.Repo)
	for _, f := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s%s/%s%s", Scheme, e.Ref.Repo, f.Path, sizeNote(f.Size))
	}
	return b.String()
}

// NoMatchError is a quantization no model in the repository carries.
type NoMatchError struct {
	Ref    Ref
	Models []RepoFile // the repository's models (first files of splits)
}

func (e *NoMatchError) Error() string {
	if len(e.Models) == 0 {
		return fmt.Sprintf("%s: the repository %s has no GGUF model files", e.Ref, e.Ref.Repo)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: no GGUF file in %s has the quantization %s; it has:", e.Ref, e.Ref.Repo, e.Ref.Quant)
	for _, f := range e.Models {
		tag := splitInfo(f.Path).tag
		if tag == "" {
			tag = "?"
		}
		fmt.Fprintf(&b, "\n  %-8s %s%s/%s%s", tag, Scheme, e.Ref.Repo, f.Path, sizeNote(f.Size))
	}
	return b.String()
}

func sizeNote(n int64) string {
	if n < 0 {
		return ""
	}
	return " (" + FormatBytes(n) + ")"
}

// choose picks the model file for a reference that names a quantization
// (or none), following llama.cpp's -hf: a model file whose path carries
// the tag followed by '.' or '-' (case-insensitive), counting a split
// model once by its first part. Where llama.cpp takes the first match in
// listing order, choose refuses more than one, listing them. The tag must
// also start the name or follow a character that is not a letter or digit,
// so that Q4_0 never picks IQ4_0.
func choose(ref Ref, files []RepoFile) (RepoFile, error) {
	var models []RepoFile
	for _, f := range files {
		if s := splitInfo(f.Path); isModelFile(f.Path) && s.index == 1 {
			models = append(models, f)
		}
	}
	sort.Slice(models, func(i, j int) bool { return models[i].Path < models[j].Path })
	match := func(tag string) []RepoFile {
		re := regexp.MustCompile(`(?i)(^|[^A-Za-z0-9])` + regexp.QuoteMeta(tag) + `[.-]`)
		var out []RepoFile
		for _, f := range models {
			if re.MatchString(f.Path) {
				out = append(out, f)
			}
		}
		return out
	}
	tags := defaultQuants
	if ref.Quant != "" {
		tags = []string{ref.Quant}
	}
	for _, t := range tags {
		switch m := match(t); len(m) {
		case 0:
			continue
		case 1:
			return m[0], nil
		default:
			r := ref
			r.Quant = t
			return RepoFile{}, &AmbiguousError{Ref: r, Candidates: m}
		}
	}
	if ref.Quant == "" {
		switch len(models) {
		case 1:
			return models[0], nil
		case 0:
		default:
			return RepoFile{}, &AmbiguousError{Ref: ref, Candidates: models}
		}
	}
	return RepoFile{}, &NoMatchError{Ref: ref, Models: models}
}

// parts returns every part of the split model f belongs to, in order, or
// f alone when it is not split. A listing that lacks a part is an error:
// the model could not be loaded.
func parts(f RepoFile, files []RepoFile) ([]RepoFile, error) {
	s := splitInfo(f.Path)
	if s.count <= 1 {
		return []RepoFile{f}, nil
	}
	byIndex := map[int]RepoFile{}
	for _, g := range files {
		if t := splitInfo(g.Path); t.count == s.count && t.prefix == s.prefix {
			byIndex[t.index] = g
		}
	}
	out := make([]RepoFile, 0, s.count)
	for i := 1; i <= s.count; i++ {
		g, ok := byIndex[i]
		if !ok {
			return nil, fmt.Errorf("%s is split in %d parts but part %d (%s-%05d-of-%05d.gguf) is not in the repository", f.Path, s.count, i, s.prefix, i, s.count)
		}
		out = append(out, g)
	}
	return out, nil
}

// FormatBytes prints n in binary units (KiB, MiB, GiB), as the progress
// output does.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
