// ggml_oracle runs one ggml op on ggml-cpu itself, to check our kernels
// and ops against llama.cpp bit for bit. It links the prebuilt CPU
// libraries that the npm package node-llama-cpp@3.21.1 ships (no
// llama.cpp source is built), declaring the few ggml functions it calls.
//
//   B=/path/to/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   gcc -O1 -o ggml_oracle testdata/ggml_oracle.c -L$B -l:libggml-base.so \
//       -l:libggml-cpu-zen4.so -Wl,-rpath,$B     # or another CPU variant
//   ./ggml_oracle mulmat TYPE A.bin X.bin OUT.bin ROWS K NTOK   (TYPE: ggml's number: 0 F32, 1 F16, 8 Q8_0, 12 Q4_K...)
//   ./ggml_oracle mulmat_repack TYPE A.bin X.bin OUT.bin ROWS K NTOK
//   ./ggml_oracle swiglu GATE.bin UP.bin OUT.bin N ROWS
//   ./ggml_oracle rmsnorm IN.bin OUT.bin N ROWS
//
// Inputs and outputs are raw little-endian arrays: A in the weight type's
// row format, the rest float32. TH=n sets the threads. mulmat_repack puts
// A in ggml-cpu's repack buffer, as llama.cpp does with model weights by
// default (Q4_0 and Q4_K on x86), so the repacked kernels compute it. What this found is
// in the commit history: ggml's single-token matmul path, the Q8_0 lane
// order, GCC's fused multiply-adds in RoPE and flash attention, glibc's
// expf/sinf/cosf.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
struct ggml_context; struct ggml_tensor; struct ggml_cgraph;
struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };
struct ggml_context *ggml_init(struct ggml_init_params);
struct ggml_tensor *ggml_new_tensor_2d(struct ggml_context*, int type, int64_t ne0, int64_t ne1);
void *ggml_get_data(const struct ggml_tensor*);
struct ggml_tensor *ggml_swiglu_split(struct ggml_context*, struct ggml_tensor*, struct ggml_tensor*);
struct ggml_tensor *ggml_mul_mat(struct ggml_context*, struct ggml_tensor*, struct ggml_tensor*);
struct ggml_tensor *ggml_rms_norm(struct ggml_context*, struct ggml_tensor*, float eps);
struct ggml_cgraph *ggml_new_graph(struct ggml_context*);
void ggml_build_forward_expand(struct ggml_cgraph*, struct ggml_tensor*);
int ggml_graph_compute_with_ctx(struct ggml_context*, struct ggml_cgraph*, int);
void ggml_cpu_init(void);
size_t ggml_row_size(int type, int64_t ne);
// ggml_backend_cpu_repack_buffer_type() is C++ (its symbol is mangled).
void *_Z35ggml_backend_cpu_repack_buffer_typev(void);
void *ggml_backend_alloc_ctx_tensors_from_buft(struct ggml_context*, void *buft);
void ggml_backend_tensor_set(struct ggml_tensor*, const void *data, size_t offset, size_t size);

static void *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb"); if (!f) { perror(p); exit(1); }
  fseek(f, 0, SEEK_END); *n = ftell(f); fseek(f, 0, SEEK_SET);
  void *b = malloc(*n); if (fread(b, 1, *n, f) != *n) exit(2); fclose(f); return b;
}
static void spit(const char *p, const void *b, size_t n) {
  FILE *f = fopen(p, "wb"); fwrite(b, 1, n, f); fclose(f);
}
int main(int argc, char **argv) {
  ggml_cpu_init();
  struct ggml_init_params ip = { (size_t)1 << 31, NULL, false };
  struct ggml_context *ctx = ggml_init(ip);
  const char *op = argv[1];
  struct ggml_tensor *out = NULL;
  int th = getenv("TH") ? atoi(getenv("TH")) : 1;
  if (!strcmp(op, "swiglu")) { // gate up out n rows
    int64_t n = atoll(argv[5]), rows = atoll(argv[6]); size_t sz;
    struct ggml_tensor *g = ggml_new_tensor_2d(ctx, 0, n, rows), *u = ggml_new_tensor_2d(ctx, 0, n, rows);
    void *b = slurp(argv[2], &sz); memcpy(ggml_get_data(g), b, sz);
    b = slurp(argv[3], &sz); memcpy(ggml_get_data(u), b, sz);
    out = ggml_swiglu_split(ctx, g, u);
  } else if (!strcmp(op, "mulmat") || !strcmp(op, "mulmat_repack")) { // type A B out rows k ntok
    int type = atoi(argv[2]); int64_t rows = atoll(argv[6]), k = atoll(argv[7]), nt = atoll(argv[8]); size_t sz;
    struct ggml_tensor *a, *x = ggml_new_tensor_2d(ctx, 0, k, nt);
    void *b = slurp(argv[3], &sz);
    if (!strcmp(op, "mulmat_repack")) {
      struct ggml_init_params wp = { (size_t)1 << 20, NULL, true };
      struct ggml_context *wctx = ggml_init(wp);
      a = ggml_new_tensor_2d(wctx, type, k, rows);
      if (!ggml_backend_alloc_ctx_tensors_from_buft(wctx, _Z35ggml_backend_cpu_repack_buffer_typev())) { fprintf(stderr, "no repack buffer\n"); return 1; }
      ggml_backend_tensor_set(a, b, 0, sz);
    } else {
      a = ggml_new_tensor_2d(ctx, type, k, rows);
      memcpy(ggml_get_data(a), b, sz);
    }
    b = slurp(argv[4], &sz); memcpy(ggml_get_data(x), b, sz);
    out = ggml_mul_mat(ctx, a, x);
    argv[3] = argv[5];
  } else if (!strcmp(op, "rmsnorm")) { // in out n rows
    int64_t n = atoll(argv[4]), rows = atoll(argv[5]); size_t sz;
    struct ggml_tensor *x = ggml_new_tensor_2d(ctx, 0, n, rows);
    void *b = slurp(argv[2], &sz); memcpy(ggml_get_data(x), b, sz);
    out = ggml_rms_norm(ctx, x, 1e-5f);
    argv[4] = argv[3];
  } else { fprintf(stderr, "op?\n"); return 1; }
  struct ggml_cgraph *gf = ggml_new_graph(ctx);
  ggml_build_forward_expand(gf, out);
  ggml_graph_compute_with_ctx(ctx, gf, th);
  size_t nb = 0;
  if (!strcmp(op, "swiglu")) { nb = 4 * atoll(argv[5]) * atoll(argv[6]); spit(argv[4], ggml_get_data(out), nb); }
  else if (!strncmp(op, "mulmat", 6)) { nb = 4 * atoll(argv[6]) * atoll(argv[8]); spit(argv[5], ggml_get_data(out), nb); }
  else { nb = 4 * atoll(argv[4]) * atoll(argv[5]); spit(argv[3], ggml_get_data(out), nb); }
  return 0;
}
