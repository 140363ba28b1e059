// node hf.mjs STRINGS.json OUT.json TOKENIZER.json [CONFIG.json]
// Hugging Face's ids (transformers.js port) for each string, without special tokens.
import {TokenizerLoader} from "@lenml/tokenizers";
import fs from "node:fs";
const [strPath, outPath, tokPath, cfgPath] = process.argv.slice(2);
const strings = JSON.parse(fs.readFileSync(strPath, "utf8"));
const tj = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const cfg = cfgPath ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
const tok = TokenizerLoader.fromPreTrained({tokenizerJSON: tj, tokenizerConfig: cfg});
const ids = strings.map(s => Array.from(tok.encode(s, {add_special_tokens: false})));
fs.writeFileSync(outPath, JSON.stringify(ids));
