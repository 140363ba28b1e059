// Times llama.cpp's embeddings through node-llama-cpp 3.21.1, for the
// embedding benchmark (testdata/embed_bench.sh), one text at a time as
// createEmbeddingContext().getEmbeddingFor() computes them.
//
//   node embed_bench.mjs texts N MIN_WORDS MAX_WORDS SEED > texts.txt   # the benchmark's texts
//   node embed_bench.mjs sql texts.txt > load.sql                       # INSERTs of them into docs
//   node embed_bench.mjs time MODEL.gguf texts.txt [threads=2]          # "texts tokens seconds"
import {getLlama} from "node-llama-cpp";
import {readFileSync} from "node:fs";

const [mode, ...rest] = process.argv.slice(2);
if (mode === "texts") {
    // Words that are single tokens in the built-in WordPiece vocabulary
    // of internal/synth and common in stories260K's: a deterministic mix.
    const words = ["the", "a", "once", "upon", "time", "there", "was", "little", "dog", "cat", "and", "to", "in",
        "of", "he", "she", "it", "is", "on", "with", "hello", "world", "day"];
    const [n, minW, maxW, seed] = rest.map(Number);
    let x = seed >>> 0;
    const rnd = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const lines = [];
    for (let i = 0; i < n; i++) {
        const k = minW + Math.floor(rnd() * (maxW - minW + 1));
        lines.push(Array.from({length: k}, () => words[Math.floor(rnd() * words.length)]).join(" "));
    }
    console.log(lines.join("\n"));
    process.exit(0);
}
if (mode === "sql") {
    // The texts are plain words: no quoting needed. 100 rows a statement.
    const texts = readFileSync(rest[0], "utf8").split("\n").filter((l) => l.length > 0);
    for (let i = 0; i < texts.length; i += 100) {
        const rows = texts.slice(i, i + 100).map((t, j) => `(${i + j + 1}, '${t}')`);
        console.log(`INSERT INTO docs (id, body) VALUES ${rows.join(", ")};`);
    }
    process.exit(0);
}
const [modelPath, textsPath, threads = "2"] = rest;
const texts = readFileSync(textsPath, "utf8").split("\n").filter((l) => l.length > 0);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const ctx = await model.createEmbeddingContext({threads: +threads, contextSize: Math.min(model.trainContextSize, 512)});
await ctx.getEmbeddingFor(texts[0]); // warm up
const tokens = texts.reduce((n, t) => n + ctx.calculateInputLength(t), 0);
const t0 = performance.now();
for (const t of texts) await ctx.getEmbeddingFor(t);
const s = (performance.now() - t0) / 1000;
console.log(texts.length, tokens, s);
process.exit(0);
