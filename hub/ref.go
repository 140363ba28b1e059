package hub

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Ref names a model to fetch: a file in a Hugging Face repository, a
// quantization of one (the file is chosen from the repository's listing),
// or any https:// URL.
type Ref struct {
	Repo     string // "USER/REPO"; empty for a plain URL
	File     string // path of the file in the repository; empty: chosen by Quant
	Quant    string // quantization tag such as "Q4_K_M" (upper case); empty with File empty: llama.cpp's default
	Revision string // branch, tag or commit of the repository ("main" unless a resolve URL named another)
	URL      string // a plain https:// (or http://) URL; empty for a repository ref
}

// Scheme is the prefix of Hugging Face references.
const Scheme = "hf://"

// IsRef reports whether s names something to download (hf://, https://,
// http://) rather than a local path.
func IsRef(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, Scheme) || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

var (
	repoPart  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	quantPart = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// ParseRef parses hf://USER/REPO/FILE.gguf, hf://USER/REPO:QUANT,
// hf://USER/REPO (llama.cpp's default choice: Q4_K_M, then Q8_0, then the
// repository's only model file) and https:// URLs.
func ParseRef(s string) (Ref, error) {
	if len(s) >= len(Scheme) && strings.EqualFold(s[:len(Scheme)], Scheme) {
		return parseHF(s[len(Scheme):], s)
	}
	if !IsRef(s) {
		return Ref{}, fmt.Errorf("%q is not a model reference: use hf://USER/REPO/FILE.gguf, hf://USER/REPO:QUANT or an https:// URL", s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Ref{}, fmt.Errorf("%q is not a valid URL", s)
	}
	if path.Base(u.Path) == "/" || path.Base(u.Path) == "." || strings.HasSuffix(u.Path, "/") {
		return Ref{}, fmt.Errorf("%q names no file", s)
	}
	return Ref{URL: s}, nil
}

func parseHF(rest, orig string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("%q: %s (want hf://USER/REPO/FILE.gguf or hf://USER/REPO:QUANT)", orig, why)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return bad("no repository")
	}
	user, repo := parts[0], parts[1]
	var r Ref
	if len(parts) == 2 {
		if name, q, ok := strings.Cut(repo, ":"); ok {
			if !quantPart.MatchString(q) {
				return bad(fmt.Sprintf("%q is not a quantization tag", q))
			}
			repo, r.Quant = name, strings.ToUpper(q)
		}
	}
	if !repoPart.MatchString(user) || !repoPart.MatchString(repo) || strings.Contains(user+repo, "..") {
		return bad("invalid repository name")
	}
	r.Repo = user + "/" + repo
	r.Revision = "main"
	if len(parts) > 2 {
		file := strings.Join(parts[2:], "/")
		if err := checkRepoPath(file); err != nil {
			return bad(err.Error())
		}
		r.File = file
	}
	return r, nil
}

// checkRepoPath refuses a path in a repository that could step outside the
// directory it is saved under.
func checkRepoPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return fmt.Errorf("invalid file path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid file path %q", p)
		}
	}
	return nil
}

// String returns the reference in the form ParseRef reads.
func (r Ref) String() string {
	switch {
	case r.URL != "":
		return r.URL
	case r.File != "":
		return Scheme + r.Repo + "/" + r.File
	case r.Quant != "":
		return Scheme + r.Repo + ":" + r.Quant
	}
	return Scheme + r.Repo
}

// fromResolveURL recognises a Hugging Face download URL on the endpoint
// (https://huggingface.co/USER/REPO/resolve/REV/FILE), so that it is
// fetched, verified and stored like the hf:// reference it names.
func fromResolveURL(raw, endpoint string) (Ref, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return Ref{}, false
	}
	e, err := url.Parse(endpoint)
	if err != nil {
		return Ref{}, false
	}
	host := strings.ToLower(u.Host)
	if host != strings.ToLower(e.Host) && host != "huggingface.co" && host != "hf.co" {
		return Ref{}, false
	}
	p := strings.TrimPrefix(u.Path, strings.TrimSuffix(e.Path, "/"))
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) < 5 || parts[2] != "resolve" {
		return Ref{}, false
	}
	r := Ref{Repo: parts[0] + "/" + parts[1], Revision: parts[3], File: strings.Join(parts[4:], "/")}
	if !repoPart.MatchString(parts[0]) || !repoPart.MatchString(parts[1]) || checkRepoPath(r.File) != nil || r.Revision == "" {
		return Ref{}, false
	}
	return r, true
}
