package hub

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// HTTPError is a refusal from the server, with what the user can do
// about it in its message.
type HTTPError struct {
	Status   int
	URL      string
	Code     string // Hugging Face's X-Error-Code: RepoNotFound, EntryNotFound, RevisionNotFound, GatedRepo
	Message  string // Hugging Face's X-Error-Message
	Ref      Ref
	Endpoint string
	Token    bool     // a token was sent
	Files    []string // for a missing file: the repository's GGUF files, when the listing was available
}

func (e *HTTPError) Error() string {
	page := strings.TrimSuffix(e.Endpoint, "/") + "/" + e.Ref.Repo
	tokens := strings.TrimSuffix(e.Endpoint, "/") + "/settings/tokens"
	what := e.Ref.String()
	switch {
	case e.Code == "GatedRepo" && e.Token:
		return fmt.Sprintf("%s is a gated model and the account of HF_TOKEN has not been granted access (HTTP %d): request access at %s, wait for approval, then pull again", what, e.Status, page)
	case e.Code == "GatedRepo":
		return fmt.Sprintf("%s is a gated model (HTTP %d): accept its conditions at %s, then set HF_TOKEN to an access token of that account (%s) and pull again", what, e.Status, page, tokens)
	case e.Status == 401 && e.Token && strings.Contains(strings.ToLower(e.Message), "invalid credentials"):
		return fmt.Sprintf("%s: HF_TOKEN was refused as invalid (HTTP 401): create a new token at %s", what, tokens)
	case e.Status == 401 && e.Ref.Repo != "":
		hint := "if it is private or gated, set HF_TOKEN to an access token that can read it (" + tokens + ")"
		if e.Token {
			hint = "if it is private or gated, the account of HF_TOKEN has no access to it (request it at " + page + ")"
		}
		return fmt.Sprintf("%s: the repository %s was not found or needs authentication (HTTP 401): check its name; %s", what, e.Ref.Repo, hint)
	case e.Status == 401 || e.Status == 403:
		hint := "set HF_TOKEN to an access token that can read it"
		if e.Token {
			hint = "the token in HF_TOKEN has no access to it"
		}
		return fmt.Sprintf("%s: access refused (HTTP %d) by %s: %s", what, e.Status, e.URL, hint)
	case e.Code == "RepoNotFound" || (e.Status == 404 && e.Ref.Repo != "" && e.Ref.File == ""):
		return fmt.Sprintf("%s: the repository %s was not found on %s (HTTP %d): check its name (for example hf://Qwen/Qwen3-0.6B-GGUF:Q8_0)", what, e.Ref.Repo, e.Endpoint, e.Status)
	case e.Code == "RevisionNotFound":
		return fmt.Sprintf("%s: the revision %s was not found in %s (HTTP %d)", what, e.Ref.Revision, e.Ref.Repo, e.Status)
	case e.Status == 404 && e.Ref.Repo != "":
		msg := fmt.Sprintf("%s: the file %s is not in %s (HTTP 404)", what, e.Ref.File, e.Ref.Repo)
		if len(e.Files) == 0 {
			return msg
		}
		return msg + "; its GGUF files are:\n  " + strings.Join(e.Files, "\n  ")
	case e.Status == 404:
		return fmt.Sprintf("%s: not found (HTTP 404)", what)
	case e.Status == 429:
		return fmt.Sprintf("%s: the server is rate-limiting requests (HTTP 429): wait a minute and pull again (a partial download resumes)", what)
	case e.Status >= 500:
		return fmt.Sprintf("%s: the server failed (HTTP %d at %s): try again later (a partial download resumes)", what, e.Status, e.URL)
	}
	return fmt.Sprintf("%s: HTTP %d from %s", what, e.Status, e.URL)
}

// NetworkError is a server that could not be reached at all.
type NetworkError struct {
	Host string
	Err  error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot reach %s (%v): check the network connection or proxy settings (HTTPS_PROXY), or set HF_ENDPOINT to a reachable mirror (a model pulled before is found in the models directory without the network)", e.Host, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ChecksumError is downloaded content whose sha256 is not the one the
// server published. The partial file is removed: resuming it would only
// repeat the error.
type ChecksumError struct {
	File      string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: the downloaded file's sha256 is %s but the server published %s; the download was discarded: pull again, and if it repeats the file on the server or a proxy in between is corrupt", e.File, e.Got, e.Want)
}

// DiskFullError is a download that does not fit on the disk. The partial
// file is kept, so the pull resumes once space is freed.
type DiskFullError struct {
	File      string // the file being downloaded
	Partial   string // the partial file kept for resuming
	Need      int64  // bytes still to write
	Available int64  // bytes free when checked; -1 when the write itself failed
	Err       error
}

func (e *DiskFullError) Error() string {
	free := ""
	if e.Available >= 0 {
		free = fmt.Sprintf(", %s free", FormatBytes(e.Available))
	}
	return fmt.Sprintf("%s: the disk is full: %s more are needed%s; the partial download %s is kept: free space (or use another --models-dir) and pull again to resume", e.File, FormatBytes(e.Need), free, e.Partial)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// unreachable reports whether err means the server could not be reached
// at all (DNS, refused or timed-out connection), as opposed to a transfer
// that broke.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
