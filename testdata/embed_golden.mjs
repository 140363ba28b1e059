// Records llama.cpp's embeddings on the small embedding models of
// internal/synth (synth.EmbeddingModels) and any other GGUF file, for the
// engine's tests to compare against. testdata/embed_golden.sh runs it.
//
//   node embed_golden.mjs LLAMA_EMBEDDING_BINARY NAME=MODEL.gguf... > embed_golden.json
//
// For each model and each text (each query/document pair for a reranker)
// it records the token ids, the raw (unnormalized) vector node-llama-cpp
// 3.21.1 returns from createEmbeddingContext().getEmbeddingFor(tokens) —
// llama.cpp's prebuilt CPU library, flash attention off — and the vectors
// of a natively built llama-embedding, which runs all the texts of a model
// as sequences of one batch, with flash attention on and off. Token ids
// are llama.cpp's tokenization with the special tokens its embedding tools
// add: [CLS] ... [SEP] for WordPiece, BOS first for SentencePiece (and EOS
// last where the vocabulary asks); for a reranker [CLS] query [SEP]
// document [SEP], or the file's rerank prompt around the pair
// (tokenizer.chat_template.rerank, Qwen3-Reranker's).
import {getLlama, LlamaVocabularyType} from "node-llama-cpp";
import {execFileSync} from "node:child_process";
import {mkdtempSync, openSync, closeSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const [native, ...specs] = process.argv.slice(2);
const texts = [
    "hello world",
    "once upon a time there was a little dog and the little cat was with the dog on the day",
    "The Refund Policy: search the database for the query, 42 documents!",
    "naïve café — 日本 text",
    Array.from({length: 60}, (_, i) => ["the", "little", "dog", "was", "in", "a", "world", "of", "text", "vectors"][(i * 7) % 10]).join(" "),
];
const pairs = [
    ["refund policy", "the refund policy is in the database"],
    ["hello world", "once upon a time there was a little dog"],
    ["what is a vector database", "a vector database is searched with the query vector"],
];

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const round = (v) => +v.toPrecision(8);
const out = {recorded_with: "node-llama-cpp 3.21.1 (llama.cpp CPU, 2 threads) and llama-embedding built natively from the same llama.cpp", texts, pairs, models: {}};

for (const spec of specs) {
    const [name, path] = spec.split("=");
    const model = await llama.loadModel({modelPath: path});
    const ctx = await model.createEmbeddingContext({threads: 2, contextSize: Math.min(model.trainContextSize, 512)});
    const pooling = model.fileInfo.metadata[model.fileInfo.metadata.general.architecture]?.pooling_type;
    const rank = pooling === 4;
    const wpm = model.tokens.bos != null && model.vocabularyType === LlamaVocabularyType.wpm;
    const ids = (text) => {
        const t = model.tokenize(text);
        if (wpm) return [model.tokens.bos, ...t, model.tokens.sep];
        const r = model.tokens.bos != null ? [model.tokens.bos, ...t] : t;
        if (model.tokens.shouldAppendEosToken) r.push(model.tokens.eos);
        return r;
    };
    // A reranker with a rerank prompt (Qwen3-Reranker) reads the pair in
    // it, special tokens parsed, as llama-embedding does.
    const tm = model.fileInfo.metadata.tokenizer ?? {};
    const rerankPrompt = tm["chat_template.rerank"] ?? (typeof tm.chat_template === "object" ? tm.chat_template.rerank : undefined);
    const prompted = (q, d) => {
        const p = rerankPrompt.replaceAll("{query}", q).replaceAll("{document}", d);
        const r = model.tokens.bos != null && model.tokens.shouldPrependBosToken ? [model.tokens.bos] : [];
        r.push(...model.tokenize(p, true));
        if (model.tokens.shouldAppendEosToken) r.push(model.tokens.eos);
        return r;
    };
    const inputs = rank
        ? pairs.map(([q, d]) => ({text: q + "\t" + d, tokens: rerankPrompt != null ? prompted(q, d)
            : [model.tokens.bos, ...model.tokenize(q), model.tokens.sep, ...model.tokenize(d), model.tokens.sep]}))
        : texts.map((text) => ({text, tokens: ids(text)}));
    const cases = [];
    for (const {text, tokens} of inputs) {
        const e = await ctx.getEmbeddingFor(tokens);
        cases.push({text, tokens, node: e.vector.map(round)});
    }
    // llama-embedding: every input in one run, one line each. For a model
    // without pooling it would print every token's state; --pooling last
    // prints the last token's, the same state, as one line.
    // Its output is written by a logging thread, which has been seen to
    // lose the end of its output when the process exits: write to a file
    // and check every line is there and whole.
    const extra = pooling === undefined || pooling === 0 ? ["--pooling", "last"] : [];
    for (const fa of ["on", "off"]) {
        let lines;
        for (let attempt = 0; ; attempt++) {
            const file = join(mkdtempSync(join(tmpdir(), "embd-")), "out.txt");
            const fd = openSync(file, "w");
            execFileSync(native, ["-m", path, "-t", "2", "-fa", fa, "--embd-normalize", "-1", ...extra,
                "--embd-output-format", "raw", "-p", inputs.map((x) => x.text).join("\n")],
                {stdio: ["ignore", fd, "ignore"]});
            closeSync(fd);
            lines = readFileSync(file, "utf8").trim().split("\n").map((l) => l.trim().split(" ").map(Number));
            if (lines.length === cases.length && lines.every((l) => l.length === cases[0].node.length && l.every(Number.isFinite))) break;
            if (attempt === 20) throw new Error(`${name}: llama-embedding gave ${lines.length} lines, want ${cases.length}`);
        }
        cases.forEach((c, i) => { c["native_fa_" + fa] = lines[i].map(round); });
    }
    out.models[name] = {file: path.split("/").pop(), pooling: pooling ?? null, cases};
    await ctx.dispose();
    await model.dispose();
}
console.log(JSON.stringify(out, null, 0));
process.exit(0);
