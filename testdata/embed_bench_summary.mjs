// Summarizes testdata/embed_bench.sh's JSON lines: per model and engine the
// median texts/s and tokens/s over the rounds, and the speed ratios of
// llmsql's runs to llama.cpp's taken within each round (the runs of a
// round are interleaved, so a ratio compares runs made minutes apart on
// the same loaded machine): the median ratio and its range over rounds.
//
//     node testdata/embed_bench_summary.mjs < bench.jsonl
import {readFileSync} from "node:fs";

const runs = readFileSync(0, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const seen = new Map();
for (const r of runs) {
    const k = r.model + "/" + r.engine;
    r.round = (seen.get(k) ?? 0) + 1;
    seen.set(k, r.round);
    r.texts_per_s = r.texts / r.seconds;
    r.tokens_per_s = r.tokens / r.seconds;
}
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x, d = 2) => x.toFixed(d);
const models = [...new Set(runs.map((r) => r.model))];
const engines = [...new Set(runs.map((r) => r.engine))];
const pairs = [
    ["llmsql-one", "node-llama-cpp"],
    ["llmsql-batched", "node-llama-cpp"],
    ["llmsql-sql", "node-llama-cpp"],
    ["llmsql-batched", "llama-embedding"],
    ["llmsql-sql", "llama-embedding"],
];
for (const m of models) {
    const of = (e) => runs.filter((r) => r.model === m && r.engine === e);
    const any = runs.find((r) => r.model === m);
    console.log(`\n${m}: ${any.texts} texts, ${any.tokens} tokens`);
    for (const e of engines) {
        const rs = of(e);
        if (!rs.length) continue;
        const tp = rs.map((r) => r.texts_per_s);
        console.log(`  ${e.padEnd(16)} ${f(median(tp), 1).padStart(8)} texts/s ${f(median(rs.map((r) => r.tokens_per_s)), 0).padStart(7)} tokens/s` +
            `  (rounds: ${tp.map((x) => f(x, 1)).join(", ")} texts/s)`);
    }
    for (const [a, b] of pairs) {
        const ra = of(a), rb = of(b);
        const ratios = ra.flatMap((x) => rb.filter((y) => y.round === x.round).map((y) => x.texts_per_s / y.texts_per_s));
        if (!ratios.length) continue;
        console.log(`  ${a} / ${b}: ${f(median(ratios))}x (rounds: ${ratios.map((x) => f(x)).join(", ")})`);
    }
}
