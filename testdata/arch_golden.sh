#!/usr/bin/env bash
# Records llama.cpp's outputs on the small synthetic model of each
# architecture (internal/synth's Goldens) into testdata/arch/NAME.json with
# testdata/arch_golden.c (its header says which builds and why).
#
#   testdata/arch_golden.sh PEER_DIR LLAMA_SRC [NAME...]
#
# PEER_DIR is a folder outside the repository where node-llama-cpp@3.21.1
# is installed (npm i -E node-llama-cpp@3.21.1); LLAMA_SRC is the llama.cpp
# source it ships, built natively as ../shared/README.md says (git clone
# PEER_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle LLAMA_SRC;
# cmake -B build -DGGML_NATIVE=ON ...). Without NAMEs it records every
# golden; with them, those (e.g. gemma2-f16).
set -euo pipefail
cd "$(dirname "$0")/.."
peer=${1:?usage: testdata/arch_golden.sh PEER_DIR LLAMA_SRC [NAME...]}
src=${2:?usage: testdata/arch_golden.sh PEER_DIR LLAMA_SRC [NAME...]}
shift 2
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(go run ./internal/synth/synthgen -list-goldens)
fi
bins="$peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
native="$src/build/bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=(-I"$src/include" -I"$src/ggml/include")
gcc -O1 -o "$tmp/golden_prebuilt" testdata/arch_golden.c "${inc[@]}" \
  -L"$bins" -l:libllama.v0.4.0.so -l:libggml.v0.4.0.so -l:libggml-base.so -Wl,-rpath,"$bins"
gcc -O1 -o "$tmp/golden_native" testdata/arch_golden.c "${inc[@]}" \
  -L"$native" -l:libllama.so -l:libggml.so -l:libggml-base.so -Wl,-rpath,"$native"
go build -o "$tmp/synthgen" ./internal/synth/synthgen
mkdir -p testdata/arch
for name in "${names[@]}"; do
  read -r ids greedy < <("$tmp/synthgen" -golden "$name" -o "$tmp/$name.gguf")
  ids=${ids#[}; ids=${ids%]}
  avx512=$("$tmp/golden_native" - "$tmp/$name.gguf" "$ids" "$greedy")
  avx2=$("$tmp/golden_prebuilt" "$bins/libggml-cpu-haswell.so" "$tmp/$name.gguf" "$ids" "$greedy")
  printf '{"recorded_with":"llama.cpp of node-llama-cpp 3.21.1: avx512 built natively (GGML_NATIVE, Zen 4), avx2 the package prebuilt haswell CPU library; 2 threads, flash attention, F16 KV cache","model":"%s","avx512":%s,"avx2":%s}\n' \
    "$name" "$avx512" "$avx2" > "testdata/arch/$name.json"
  echo "recorded testdata/arch/$name.json"
done
