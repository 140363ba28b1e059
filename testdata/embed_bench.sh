#!/bin/sh
# The embedding benchmark (issue 14): N texts of 20-200 tokens (default
# 1,000) embedded, interleaved, ROUNDS times, on the BERT-base-shaped
# synthetic model (110M parameters, F16 and Q8_0, made by synthgen) and on
# ../shared's stories260K, by
#
#   llmsql-sql      UPDATE docs SET v = embed(...) over N rows, through
#                   `llmsql serve` and the mysql client (result cache off)
#   llmsql-batched  `llmsql embed -f texts` (all texts together)
#   node-llama-cpp  createEmbeddingContext().getEmbeddingFor(), one text
#                   at a time (llama.cpp's prebuilt CPU library)
#   llmsql-one      `llmsql embed --sequential` (one text at a time)
#   llama-embedding a natively built llama.cpp, all texts packed into
#                   batches of 2,048 tokens (its prompt-eval time)
#
# each timed from the first text to the last (model load excluded; the
# server's statement includes reading the rows and writing the vectors).
# Prints one JSON line per run; testdata/embed_bench_summary.mjs turns
# them into per-round ratios. Needs node-llama-cpp@3.21.1 in $PEER
# (default /tmp/peer), llama.cpp built in $NATIVE (default
# /tmp/native/llama.cpp/build/bin), a mysql client and ../shared (or
# $SHARED). From the
# repository's root:
#
#     sh testdata/embed_bench.sh [ROUNDS=3] [THREADS=2] [N=1000] [MODELS] > bench.jsonl
#     node testdata/embed_bench_summary.mjs < bench.jsonl
#
# MODELS is a space-separated subset of "bert-base-f16 bert-base-q8_0
# stories260K" (default all three).
set -e
ROUNDS=${1:-3}
THREADS=${2:-2}
N=${3:-1000}
MODELS=${4:-"bert-base-f16 bert-base-q8_0 stories260K"}
PEER=${PEER:-/tmp/peer}
NATIVE=${NATIVE:-/tmp/native/llama.cpp/build/bin}
PORT=${PORT:-3417}
dir=${BENCH_DIR:-/tmp/llmsql-embed-bench}
mkdir -p "$dir"
go build -tags gms_pure_go -o "$dir/llmsql" ./cmd/llmsql
path() { # NAME: the model's file
    case "$1" in
    stories260K) echo "$(cd "${SHARED:-../shared}/models" && pwd)/stories260K.gguf" ;;
    *)
        [ -s "$dir/$1.gguf" ] || go run ./internal/synth/synthgen -model "$1" -o "$dir/$1.gguf"
        echo "$dir/$1.gguf"
        ;;
    esac
}
cp testdata/embed_bench.mjs "$PEER/embed_bench.mjs"
(cd "$PEER" && node embed_bench.mjs texts "$N" 18 198 7) > "$dir/texts.txt"
(cd "$PEER" && node embed_bench.mjs sql "$dir/texts.txt") > "$dir/load.sql"

line() { # ENGINE MODEL TEXTS TOKENS SECONDS
    echo "{\"engine\":\"$1\",\"model\":\"$2\",\"texts\":$3,\"tokens\":$4,\"seconds\":$5}"
}
ours() { # ENGINE NAME [--sequential]
    "$dir/llmsql" embed -m "$(path "$2")" -f "$dir/texts.txt" --json --no-normalize --threads "$THREADS" $3 >"$dir/ours.json"
    node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
        console.log(j.data.length, j.data.reduce((n,x)=>n+x.tokens,0), j.seconds)' "$dir/ours.json" >"$dir/ours.txt"
    read -r texts tokens secs <"$dir/ours.txt"
    line "$1" "$2" "$texts" "$tokens" "$secs"
}
sql() { # NAME: UPDATE ... SET v = embed() through the server
    "$dir/llmsql" serve --memory --addr "127.0.0.1:$PORT" --threads "$THREADS" --model "m=$(path "$1")" \
        >"$dir/serve.log" 2>&1 &
    pid=$!
    my="mysql -h 127.0.0.1 -P $PORT -u root -N -B"
    i=0
    until $my -e 'SELECT 1' >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 600 ] || { kill $pid; echo "server did not start" >&2; exit 1; }
        sleep 0.1
    done
    $my -e "SET GLOBAL llm_result_cache = OFF; SELECT embed_dim FROM llm.models WHERE name = 'm'" >"$dir/dim.txt"
    dim=$(cat "$dir/dim.txt")
    $my -e "CREATE DATABASE b; CREATE TABLE b.docs (id INT PRIMARY KEY, body TEXT, v VECTOR($dim));"
    $my b <"$dir/load.sql"
    $my -e "SELECT embed('m', 'warm up')" >/dev/null # loads the model
    t0=$(date +%s.%N)
    $my b -e "UPDATE docs SET v = embed('m', body, '{\"normalize\": false}')"
    t1=$(date +%s.%N)
    $my b -e "SELECT COUNT(*) FROM docs WHERE v IS NOT NULL" >"$dir/count.txt"
    kill $pid
    wait $pid || true
    tokens=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
        console.log(j.data.reduce((n,x)=>n+x.tokens,0))' "$dir/ours.json")
    [ "$(cat "$dir/count.txt")" = "$N" ] || echo "sql: $(cat "$dir/count.txt") of $N rows embedded" >&2
    line llmsql-sql "$1" "$(cat "$dir/count.txt")" "$tokens" "$(echo "$t1 - $t0" | bc -l)"
}
node_peer() { # NAME
    p=$(path "$1")
    (cd "$PEER" && node embed_bench.mjs time "$p" "$dir/texts.txt" "$THREADS") >"$dir/node.txt"
    read -r texts tokens secs <"$dir/node.txt"
    line node-llama-cpp "$1" "$texts" "$tokens" "$secs"
}
native() { # NAME: from llama-embedding's first batch to its exit
    # Its end-of-run timings are written by a logging thread that has
    # been seen to lose them at exit; its log's timestamps (minutes,
    # seconds, ms, us since start) and the process's wall time do not.
    extra=""
    [ "$1" = stories260K ] && extra="--pooling last" # no pooling type: one vector per text, as node's
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$NATIVE/llama-embedding" -m "$(path "$1")" -t "$THREADS" -f "$dir/texts.txt" --embd-normalize -1 \
        --embd-output-format raw -b 2048 -ub 2048 --log-timestamps $extra >/dev/null 2>"$dir/native.log"
    t1=$(date +%s.%N)
    first=$(grep -m1 "batch_decode: n_tokens" "$dir/native.log" | awk '{split($1, a, "."); print a[1]*60 + a[2] + a[3]/1e3 + a[4]/1e6}')
    tokens=$(grep "batch_decode: n_tokens" "$dir/native.log" | sed -E 's/.*n_tokens = ([0-9]+),.*/\1/' | awk '{n += $1} END {print n}')
    line llama-embedding "$1" "$N" "$tokens" "$(echo "$t1 - $t0 - $first" | bc -l)"
}
for r in $(seq "$ROUNDS"); do
    for m in $MODELS; do
        ours llmsql-batched "$m"
        node_peer "$m"
        sql "$m"
        native "$m"
        ours llmsql-one "$m" --sequential
    done
done
