// llama_logits prints llama.cpp's logits at the last position of a prompt
// (tokenized with BOS, special-token text not parsed) and then ngen greedy
// ids, as one JSON object: how testdata/q4km_synth_golden.json was
// recorded. It links a llama.cpp build made from ../shared/README.md's
// recipe (2 threads, flash attention on, F16 KV cache, weights repacked
// as llama.cpp does by default; NOREPACK=1 turns repacking off).
//
//   L=/tmp/native/llama.cpp
//   gcc -O1 -o llama_logits testdata/llama_logits.c -I$L/include -I$L/ggml/include \
//       -L$L/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$L/build/bin
//   ./llama_logits MODEL.gguf "PROMPT" [NGEN] > out.json
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
int main(int argc, char **argv) {
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  if (getenv("NOREPACK")) mp.use_extra_bufts = false;
  struct llama_model *m = llama_model_load_from_file(argv[1], mp);
  if (!m) return 1;
  const struct llama_vocab *v = llama_model_get_vocab(m);
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 512; cp.n_batch = 512; cp.n_ubatch = 512;
  cp.n_threads = 2; cp.n_threads_batch = 2;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  struct llama_context *ctx = llama_init_from_model(m, cp);
  llama_token toks[512];
  int n = llama_tokenize(v, argv[2], strlen(argv[2]), toks, 512, true, false);
  int ngen = argc > 3 ? atoi(argv[3]) : 0;
  if (llama_decode(ctx, llama_batch_get_one(toks, n))) return 2;
  int nv = llama_vocab_n_tokens(v);
  float *l = llama_get_logits_ith(ctx, -1);
  printf("{\"prompt_ids\":[");
  for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", toks[i]);
  printf("],\"logits\":[");
  for (int i = 0; i < nv; i++) printf("%s%.9g", i ? "," : "", l[i]);
  printf("],\"greedy_ids\":[");
  for (int g = 0; g < ngen; g++) {
    int best = 0; for (int i = 1; i < nv; i++) if (l[i] > l[best]) best = i;
    printf("%s%d", g ? "," : "", best);
    llama_token t = best;
    if (llama_decode(ctx, llama_batch_get_one(&t, 1))) return 3;
    l = llama_get_logits_ith(ctx, -1);
  }
  printf("]}\n");
  return 0;
}
