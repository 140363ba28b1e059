// arch_golden records llama.cpp's outputs on a synthetic model for the
// engine's tests (engine/model/arch_test.go): the raw logits after a
// prompt and a greedy continuation. testdata/arch_golden.sh builds it
// twice from the llama.cpp that node-llama-cpp@3.21.1 ships, and runs it
// on every golden model:
//
//   - linked with that llama.cpp built natively on an AVX-512 machine
//     (GGML_NATIVE, as ../shared/README.md builds the speed anchor), for
//     the go and avx512 kernel levels, whose arithmetic is that build's;
//   - linked with the package's own prebuilt libraries, loading their
//     AVX2 CPU build (libggml-cpu-haswell.so), for the avx2 level.
//
// The two builds differ in more than the vector width: the prebuilt
// AVX-512 build (libggml-cpu-zen4.so) rounds flash attention's running sum
// S*ms + vs before adding, where the native build fuses it (as the engine
// does), a last-bit difference that Gemma's F16 GELU table can turn into
// 2e-4 of a logit. So the go and avx512 levels are held to the native
// build.
//
//   arch_golden CPU_BACKEND.so|- MODEL.gguf ID,ID,... N_GREEDY
//
// The first argument is the ggml CPU backend library to load, or - for the
// backends the library was built with. The context is the one
// node-llama-cpp gives the tests' models: 256 positions, 2 threads, flash
// attention on, F16 KV cache. The prompt ids are evaluated as given (no
// BOS is added). It prints one JSON object: the logits after the last
// prompt token, and for N greedy steps the chosen id and the gap between
// the two largest logits (a test stops comparing ids at the first
// near-tie).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
#include "ggml-backend.h"

static void silent(enum ggml_log_level level, const char *text, void *ud) {
  (void) ud;
  if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static bool quiet_progress(float progress, void *ud) {
  (void) progress; (void) ud;
  return true;
}

static int argmax(const float *l, int n, float *margin) {
  int best = 0;
  for (int i = 1; i < n; i++) if (l[i] > l[best]) best = i;
  float second = -1e30f;
  for (int i = 0; i < n; i++) if (i != best && l[i] > second) second = l[i];
  *margin = l[best] - second;
  return best;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: arch_golden CPU_BACKEND.so MODEL.gguf ID,ID,... N_GREEDY\n");
    return 2;
  }
  llama_log_set(silent, NULL);
  if (strcmp(argv[1], "-") == 0) ggml_backend_load_all();
  else if (!ggml_backend_load(argv[1])) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.progress_callback = quiet_progress;
  struct llama_model *model = llama_model_load_from_file(argv[2], mp);
  if (!model) { fprintf(stderr, "cannot load %s\n", argv[2]); return 1; }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256; cp.n_batch = 256; cp.n_ubatch = 256;
  cp.n_threads = 2; cp.n_threads_batch = 2;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "cannot make a context\n"); return 1; }
  int nv = llama_vocab_n_tokens(llama_model_get_vocab(model));

  llama_token toks[256]; int n = 0;
  for (char *p = strtok(argv[3], ","); p && n < 200; p = strtok(NULL, ",")) toks[n++] = atoi(p);
  int ng = atoi(argv[4]);
  if (llama_decode(ctx, llama_batch_get_one(toks, n))) { fprintf(stderr, "decode failed\n"); return 1; }

  printf("{\"prompt_ids\":[");
  for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", toks[i]);
  printf("],\"logits\":[");
  const float *l = llama_get_logits_ith(ctx, -1);
  for (int i = 0; i < nv; i++) printf("%s%.9g", i ? "," : "", l[i]);
  printf("],\"steps\":[");
  for (int s = 0; s < ng; s++) {
    float margin;
    llama_token t = argmax(llama_get_logits_ith(ctx, -1), nv, &margin);
    printf("%s{\"id\":%d,\"margin\":%.9g}", s ? "," : "", t, margin);
    if (s + 1 < ng && llama_decode(ctx, llama_batch_get_one(&t, 1))) { fprintf(stderr, "decode failed\n"); return 1; }
  }
  printf("]}\n");
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
