// Records llama.cpp's constrained greedy decoding (node-llama-cpp's
// LlamaGrammar, i.e. llama.cpp's grammar sampler) for the engine's grammar
// goldens: for each grammar and prompt, the tokens generated after
// [BOS (if the vocabulary has one), ...prompt] at temperature 0, up to the first end-of-generation
// token or N tokens.
//
//   npm i -E node-llama-cpp@3.21.1   (in a folder outside the repository)
//   node grammar_golden.mjs MODEL.gguf CASES.json N > OUT.json
//
// CASES.json: {"grammars": {"name": "GBNF", ...}, "prompts": ["...", ...]}.
import fs from "node:fs";
import {getLlama, LlamaGrammar, LlamaGrammarEvaluationState} from "node-llama-cpp";

const [modelPath, casesPath, n = "48"] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const ctx = await model.createContext({threads: 2, contextSize: 512, batchSize: 512});
const seq = ctx.getSequence();
const out = [];
for (const [name, gbnf] of Object.entries(cases.grammars)) {
    const grammar = new LlamaGrammar(llama, {grammar: gbnf});
    for (const prompt of cases.prompts) {
        await seq.clearHistory();
        const state = new LlamaGrammarEvaluationState({model, grammar});
        const ids = model.tokens.bos == null ? model.tokenize(prompt) : [model.tokens.bos, ...model.tokenize(prompt)];
        const gen = [];
        let eog = false;
        for await (const tok of seq.evaluate(ids, {temperature: 0, grammarEvaluationState: state})) {
            if (model.isEogToken(tok)) {
                eog = true;
                break;
            }
            gen.push(tok);
            if (gen.length >= +n) break;
        }
        out.push({grammar: name, prompt, prompt_ids: ids, generated_ids: gen, eog, text: model.detokenize(gen)});
    }
}
console.log(JSON.stringify({model: modelPath.split("/").pop(), n: +n, grammars: cases.grammars, cases: out}));
process.exit(0);
