// node pretok_llama.mjs STRINGS.json OUT.json MODEL.gguf...
// For each model: llama.cpp's ids for each string (no BOS, no special-token parsing).
import {getLlama} from "node-llama-cpp";
import fs from "node:fs";
const [strPath, outPath, ...models] = process.argv.slice(2);
const strings = JSON.parse(fs.readFileSync(strPath, "utf8"));
const llama = await getLlama({gpu: false, logLevel: "error"});
const out = {};
for (const m of models) {
  try {
    const model = await llama.loadModel({modelPath: m, vocabOnly: true});
    out[m] = {ids: strings.map(s => Array.from(model.tokenize(s, false), Number)),
              bos: model.tokens.bos, eos: model.tokens.eos};
    await model.dispose();
  } catch (e) {
    out[m] = {error: String(e)};
  }
}
fs.writeFileSync(outPath, JSON.stringify(out));
