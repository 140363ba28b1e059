// Records llama.cpp's outputs on a synthetic model made by
// internal/synth/synthgen, for the engine's tests to compare against:
// the top log-probabilities after the prompt and a greedy continuation.
//
//   npm i -E node-llama-cpp@3.21.1   (in a folder outside the repository)
//   node golden.mjs MODEL.gguf "PROMPT" N_GREEDY > OUT.json
//
// Log-probabilities rather than logits, because node-llama-cpp exposes
// probabilities; they differ from logits by one constant per position.
import {getLlama} from "node-llama-cpp";

const [modelPath, prompt, nGreedy = "16"] = process.argv.slice(2);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const ctx = await model.createContext({threads: 2, contextSize: 256, batchSize: 256});
const seq = ctx.getSequence();
const ids = model.tokenize(prompt);
const input = ids.map((t, i) => i === ids.length - 1
    ? [t, {generateNext: {probabilities: true, options: {temperature: 1, topK: 0, topP: 1, minP: 0}}}]
    : t);
const res = await seq.controlledEvaluate(input);
const probs = res[ids.length - 1].next.probabilities;
const top = [...probs.entries()].slice(0, 64).map(([id, p]) => [id, Math.log(p)]);

// Greedy continuation in a fresh sequence.
await seq.clearHistory();
const greedy = [];
for await (const tok of seq.evaluate(ids, {temperature: 0})) {
    greedy.push(tok);
    if (greedy.length >= +nGreedy) break;
}
console.log(JSON.stringify({model: modelPath.split("/").pop(), prompt, prompt_ids: ids, n_entries: probs.size, top_logprobs: top, greedy_ids: greedy}));
process.exit(0);
