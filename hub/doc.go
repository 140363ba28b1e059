// Package hub downloads GGUF models from Hugging Face (or any https://
// URL) into a models directory: hf://USER/REPO/FILE.gguf names a file,
// hf://USER/REPO:QUANT chooses the repository's file of that quantization
// as llama.cpp's -hf does (and refuses a choice that is not unique, listing
// the candidates), and every part of a split model is fetched.
//
// A download goes to a temporary name beside its destination and is
// renamed only when complete and, when Hugging Face publishes the file's
// sha256 (the LFS object id), verified. An interrupted download resumes
// with an HTTP range request, within the same call when the connection
// drops and at the next call otherwise. Files land at
// DIR/USER/REPO/FILE, so a reference that names its file is found again
// without the network.
//
// How Hugging Face answers (what the tests' fake hub imitates):
//
//   - GET /api/models/USER/REPO?blobs=true (or .../revision/REV?blobs=true)
//     returns {"id", "sha" (the commit), "siblings": [{"rfilename",
//     "size", "blobId", "lfs": {"sha256", "size", "pointerSize"}}]}.
//   - GET /USER/REPO/resolve/REV/FILE answers a file stored in LFS with a
//     302 to a CDN on another host, carrying X-Repo-Commit, X-Linked-Size
//     and X-Linked-Etag (the quoted sha256); the CDN honours Range. The
//     token is sent to the hub only: Go drops Authorization on a redirect
//     to another host.
//   - Errors carry X-Error-Code (RepoNotFound, EntryNotFound,
//     RevisionNotFound, GatedRepo) and X-Error-Message. An anonymous
//     request for a missing, private or gated repository gets 401.
//
// Configuration (the token, the endpoint) comes in through Options; the
// package reads no environment variables.
package hub
