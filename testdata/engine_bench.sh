#!/bin/bash
# The engine benchmark (issue 19): `llmsql bench` against a natively built
# llama.cpp's llama-bench on the same files and threads, interleaved
# (ours, then native, per model and round), ROUNDS times:
#
#   pp  512-token prompt: ours `-p 512 -n 1 -r 3`, the best of 3
#   tg  64 tokens generated from an empty context, as llama-bench's tg64:
#       ours `-p 0 -n 64 -r 3`, the best of 3
#
# against llama-bench `-p 512 -n 64 -r 3` (after its warm-up run), the best
# of its 3 samples. Prints one line per model and round with both ratios.
#
#   testdata/engine_bench.sh LLMSQL ROUNDS THREADS MODEL...
#
# With PAIRS=N it also times generation alone N times per model, ours then
# native back to back (ours `-p 0 -n 64 -r 2`, native `llama-bench -p 0
# -n 64 -r 2`, the best of each), one line per pair: memory-bound
# generation follows the host's phases, which a pair shares more closely
# than the rounds above do.
#
# llama.cpp built as ../shared/README.md says, in $NATIVE (default
# /tmp/native/llama.cpp/build/bin). Needs python3 for the JSON.
set -eu
B=$1 R=$2 T=$3
shift 3
NB=${NATIVE:-/tmp/native/llama.cpp/build/bin}
export LD_LIBRARY_PATH=$NB
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
for r in $(seq "$R"); do
	for m in "$@"; do
		pp=$("$B" bench -m "$m" -t "$T" -p 512 -n 1 -r 3 --json 2>/dev/null | field prompt_tokens_per_s)
		tg=$("$B" bench -m "$m" -t "$T" -p 0 -n 64 -r 3 --json 2>/dev/null | field gen_tokens_per_s)
		n=$("$NB/llama-bench" -m "$m" -t "$T" -p 512 -n 64 -r 3 -o json 2>/dev/null |
			python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%.1f" % max(x["samples_ts"]) for x in d))')
		npp=${n% *} ntg=${n#* }
		python3 -c "print('round $r $(basename "$m") threads $T load $(cut -d' ' -f1 /proc/loadavg): pp ours/native $pp/$npp = %.2fx, tg ours/native $tg/$ntg = %.2fx' % ($pp/$npp, $tg/$ntg))"
	done
done
for m in "$@"; do
	for p in $(seq "${PAIRS:-0}"); do
		tg=$("$B" bench -m "$m" -t "$T" -p 0 -n 64 -r 2 --json 2>/dev/null | field gen_tokens_per_s)
		ntg=$("$NB/llama-bench" -m "$m" -t "$T" -p 0 -n 64 -r 2 -o json 2>/dev/null |
			python3 -c 'import json,sys; print("%.2f" % max(json.load(sys.stdin)[0]["samples_ts"]))')
		python3 -c "print('pair $p $(basename "$m") threads $T: tg ours/native $tg/$ntg = %.3fx' % ($tg/$ntg))"
	done
done
