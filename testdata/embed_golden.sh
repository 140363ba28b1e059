#!/bin/sh
# Re-records testdata/embed_golden.json: llama.cpp's embeddings on the
# small embedding models of internal/synth (synth.EmbeddingModels) and on
# ../shared's stories260K. Needs node-llama-cpp@3.21.1 installed in $PEER
# (default /tmp/peer) and a native llama.cpp build's llama-embedding in
# $NATIVE (default /tmp/native/llama.cpp/build/bin). Run from the
# repository's root:
#
#     sh testdata/embed_golden.sh
set -e
PEER=${PEER:-/tmp/peer}
NATIVE=${NATIVE:-/tmp/native/llama.cpp/build/bin}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args=""
for base in bert-mean bert-cls bert-rank nomic-bert qwen3-last llama-nopool; do
    for t in f32 f16 q8_0; do
        go run ./internal/synth/synthgen -model "$base-$t" -o "$dir/$base-$t.gguf"
        args="$args $base-$t=$dir/$base-$t.gguf"
    done
done
args="$args stories260K=$(cd ../shared/models && pwd)/stories260K.gguf"
cp testdata/embed_golden.mjs "$PEER/embed_golden.mjs"
# shellcheck disable=SC2086
(cd "$PEER" && node embed_golden.mjs "$NATIVE/llama-embedding" $args) > testdata/embed_golden.json
