#!/bin/sh
# Re-records testdata/embed_golden.json: llama.cpp's embeddings on the
# small embedding models of internal/synth (synth.EmbeddingModels) and on
# ../shared's stories260K. Needs node-llama-cpp@3.21.1 installed in $PEER
# (default /tmp/peer) and a native llama.cpp build's llama-embedding in
# $NATIVE (default /tmp/native/llama.cpp/build/bin). Run from the
# repository's root:
#
#     sh testdata/embed_golden.sh              # every model
#     sh testdata/embed_golden.sh qwen3-rank   # these models (F32, F16, Q8_0), the others kept
set -e
PEER=${PEER:-/tmp/peer}
NATIVE=${NATIVE:-/tmp/native/llama.cpp/build/bin}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bases=${*:-"bert-mean bert-cls bert-rank nomic-bert qwen3-last qwen3-rank llama-nopool"}
args=""
for base in $bases; do
    for t in f32 f16 q8_0; do
        go run ./internal/synth/synthgen -model "$base-$t" -o "$dir/$base-$t.gguf"
        args="$args $base-$t=$dir/$base-$t.gguf"
    done
done
[ $# -gt 0 ] || args="$args stories260K=$(cd "${SHARED:-../shared}/models" && pwd)/stories260K.gguf"
cp testdata/embed_golden.mjs "$PEER/embed_golden.mjs"
# shellcheck disable=SC2086
(cd "$PEER" && node embed_golden.mjs "$NATIVE/llama-embedding" $args) > "$dir/new.json"
if [ $# -eq 0 ]; then
    cp "$dir/new.json" testdata/embed_golden.json
else # merge: the new models replace or join the file's
    node -e 'const fs = require("fs");
        const old = JSON.parse(fs.readFileSync(process.argv[1], "utf8")), add = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
        Object.assign(old.models, add.models);
        fs.writeFileSync(process.argv[1], JSON.stringify(old) + "\n");' testdata/embed_golden.json "$dir/new.json"
fi
