/* gen.c: reference data for package libm from the system's glibc.

   Build (Debian 12, glibc 2.36, x86-64 with FMA/AVX2 so that glibc's ifunc
   selects the FMA variants of expf/sinf/cosf, as llama.cpp gets them):

       gcc -O2 -mfma -ffp-contract=off -o /tmp/libmgen engine/libm/testdata/gen.c -lm

   tanhf has no FMA variant: glibc 2.36 builds fdlibm's for baseline x86-64.

   (-ffp-contract=off keeps the model below from being fused where it must
   not be; -mfma only makes its fma() calls fast.)

   Modes:

       /tmp/libmgen golden > engine/libm/testdata/golden.txt
           The committed fixture read by TestGolden: special values and path
           boundaries, inputs where glibc differs from the float rounding of
           the double function (the cases package math gets wrong), every
           input whose result depends on a fused multiply-add (found by
           scanning all inputs with the model below; about a minute), and
           random inputs, all with glibc's results as hex bits. Deterministic
           (fixed PRNG seed). It fails if the all-fused model disagrees with
           glibc on any input.

       /tmp/libmgen stream expf|sinf|cosf|tanhf LO HI
           glibc's results for the float encodings LO <= i < HI (decimal or
           0x hex, HI up to 0x100000000) as little-endian uint32s on stdout.
           TestExhaustive runs this when LIBM_GEN names the binary:

           LIBM_GEN=/tmp/libmgen go test -run Exhaustive -v -timeout 0 ./engine/libm

       /tmp/libmgen sincos
           Counts inputs (all 2^32) where sincosf disagrees with sinf or
           cosf. Compilers may merge sinf(x) and cosf(x) into one sincosf
           call (llama.cpp's RoPE cache computes both of one angle), so
           this checks that the merge cannot change the results.

   The libm functions are called through volatile pointers so that GCC
   neither folds them nor merges sinf/cosf of one argument into sincosf.  */

#define _GNU_SOURCE /* sincosf */
#include <gnu/libc-version.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef float (*ffunc) (float);
static ffunc volatile p_expf = expf;
static ffunc volatile p_sinf = sinf;
static ffunc volatile p_cosf = cosf;
static ffunc volatile p_tanhf = tanhf;
static double (*volatile p_exp) (double) = exp;
static double (*volatile p_sin) (double) = sin;
static double (*volatile p_cos) (double) = cos;
static double (*volatile p_tanh) (double) = tanh;
static void (*volatile p_sincosf) (float, float *, float *) = sincosf;

static float
asfloat (uint32_t i)
{
  float f;
  memcpy (&f, &i, 4);
  return f;
}

static uint32_t
asuint (float f)
{
  uint32_t i;
  memcpy (&i, &f, 4);
  return i;
}

struct fn
{
  const char *name;
  ffunc volatile *f;
  double (*volatile *ref) (double);
};

static const struct fn fns[] = {
  { "expf", &p_expf, &p_exp },
  { "sinf", &p_sinf, &p_sin },
  { "cosf", &p_cosf, &p_cos },
  { "tanhf", &p_tanhf, &p_tanh },
};

static const struct fn *
lookup (const char *name)
{
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    if (strcmp (fns[i].name, name) == 0)
      return &fns[i];
  fprintf (stderr, "unknown function %s\n", name);
  exit (2);
}

/* --- stream ------------------------------------------------------------ */

static int
stream (const char *name, uint64_t lo, uint64_t hi)
{
  ffunc f = *lookup (name)->f;
  static uint32_t buf[1 << 16];
  size_t n = 0;
  for (uint64_t i = lo; i < hi; i++)
    {
      uint32_t r = asuint (f (asfloat ((uint32_t) i)));
      /* Little-endian on x86-64, which is the only target this runs on.  */
      buf[n++] = r;
      if (n == sizeof buf / sizeof buf[0])
	{
	  if (fwrite (buf, 4, n, stdout) != n)
	    return 1;
	  n = 0;
	}
    }
  if (n && fwrite (buf, 4, n, stdout) != n)
    return 1;
  return fflush (stdout) != 0;
}

/* --- sincos ------------------------------------------------------------ */

static int
sincos_check (void)
{
  uint64_t bad_sin = 0, bad_cos = 0;
  for (uint64_t i = 0; i < (1ULL << 32); i++)
    {
      float x = asfloat ((uint32_t) i), s, c;
      p_sincosf (x, &s, &c);
      bad_sin += asuint (s) != asuint (p_sinf (x));
      bad_cos += asuint (c) != asuint (p_cosf (x));
    }
  printf ("sincosf vs sinf: %" PRIu64 " mismatches, vs cosf: %" PRIu64
	  " mismatches (of 2^32)\n", bad_sin, bad_cos);
  return 0;
}

/* --- golden ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng (void)
{
  /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* A random float in [lo, hi]: half the time uniform in value, half the time
   uniform over encodings (which favours small magnitudes).  */
static float
rand_in (float lo, float hi)
{
  for (;;)
    {
      float x;
      if (rng () & 1)
	x = lo + (float) ((double) (rng () >> 11) * 0x1p-53 * ((double) hi - lo));
      else
	x = asfloat ((uint32_t) rng ());
      if (x >= lo && x <= hi)
	return x;
    }
}

static void
emit (const struct fn *fn, float x)
{
  printf ("%s %08" PRIx32 " %08" PRIx32 "\n", fn->name, asuint (x),
	  asuint ((*fn->f) (x)));
}

static int
differs (const struct fn *fn, float x)
{
  return asuint ((*fn->f) (x)) != asuint ((float) (*fn->ref) ((double) x));
}

/* Emit COUNT random inputs in [LO, HI], or with MIRROR in ±[LO, HI], where
   glibc differs from the rounded double function; report the sampled rate
   on stderr.  */
static void
emit_diffs (const struct fn *fn, float lo, float hi, int count, int mirror)
{
  uint64_t tried = 0;
  for (int got = 0; got < count; tried++)
    {
      float x = rand_in (lo, hi);
      if (mirror && (rng () & 1))
	x = -x;
      if (differs (fn, x))
	{
	  emit (fn, x);
	  got++;
	}
    }
  fprintf (stderr, "%s: %s[%g, %g]: %d differing of %" PRIu64
	   " sampled (%.2g)\n", fn->name, mirror ? "±" : "", lo, hi, count, tried,
	   (double) count / tried);
}

static void
emit_neighbours (const struct fn *fn, float x)
{
  emit (fn, nextafterf (x, -INFINITY));
  emit (fn, x);
  emit (fn, nextafterf (x, INFINITY));
}

/* --- model -------------------------------------------------------------- */

/* A C model of glibc's algorithms in which each multiply-add that GCC
   contracted in the FMA build can be fused or not, selected by a bit mask.
   With every site fused it must agree with glibc on every input (checked by
   the golden mode's scan); the inputs where unfusing one site changes the
   result are the ones that pin the Go code's math.FMA calls, so they go
   into the golden file.  Needs -ffp-contract=off so that a*b+c below stays
   separately rounded.  */

enum
{
  /* expf */
  E_KD, /* kd = InvLn2N*x + Shift */
  E_R,	/* r = InvLn2N*x - kd */
  E_Z,	/* z = C0*r + C1 */
  E_Y1, /* y = C2*r + 1 */
  E_Y2, /* y = z*r2 + y */
  /* sinf, cosf */
  T_RED, /* x - n*pi/2 in the fast reduction */
  T_S1,	 /* s1 = x2*s3 + s2 */
  T_S,	 /* s = x3*s1 + x */
  T_SY,	 /* s1*x7 + s */
  T_C2,	 /* c2 = x2*c4 + c3 */
  T_C1,	 /* c1 = x2*c1 + c0 */
  T_C,	 /* c = x4*c2 + c1 */
  T_CY,	 /* c2*x6 + c */
  NSITES
};

static const char *const site_names[NSITES] = {
  "kd", "r", "z", "y1", "y2", "reduce", "s1", "s", "sin", "c2", "c1", "c", "cos",
};

#define ALL_FUSED ((1u << NSITES) - 1)

static unsigned sites_used;

static double
mac (unsigned mask, int site, double a, double b, double c)
{
  sites_used |= 1u << site;
  if (mask & (1u << site))
    return fma (a, b, c);
  return a * b + c;
}

static const uint64_t exp_tab[32] = {
  0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
  0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
  0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
  0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
  0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
  0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
  0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
  0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* expf's main path, taken for -0x1.9d1d9ep6 <= x <= 0x1.62e42ep6.  */
static float
model_expf (float x, unsigned m)
{
  const double inv = 0x1.71547652b82fep+0 * 32, shift = 0x1.8p+52;
  double xd = x;
  double kd = mac (m, E_KD, inv, xd, shift);
  uint64_t ki;
  memcpy (&ki, &kd, 8);
  kd -= shift;
  double r = mac (m, E_R, inv, xd, -kd);
  uint64_t t = exp_tab[ki % 32] + (ki << 47);
  double s;
  memcpy (&s, &t, 8);
  double z = mac (m, E_Z, 0x1.c6af84b912394p-5 / 32 / 32 / 32, r,
		  0x1.ebfce50fac4f3p-3 / 32 / 32);
  double r2 = r * r;
  double y = mac (m, E_Y1, 0x1.62e42ff0c52d6p-1 / 32, r, 1);
  y = mac (m, E_Y2, z, r2, y);
  return (float) (y * s);
}

static const uint32_t inv_pio4[24] = {
  0xa2,	      0xa2f9,	  0xa2f983,   0xa2f9836e, 0xf9836e4e, 0x836e4e44,
  0x6e4e4415, 0x4e441529, 0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
  0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db, 0xddc0db62,
  0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
};

/* sin (IS_COS == 0) or cos (IS_COS == 1) of finite x with |x| >= 2^-12.  */
static float
model_sincosf (float x, int is_cos, unsigned m)
{
  static const double sign[4] = { 1, -1, -1, 1 };
  uint32_t ix = asuint (x);
  uint32_t top = (ix >> 20) & 0x7ff;
  double r, neg = 1;
  int n, q;
  if (top < 0x3f4)
    {
      r = x;
      n = q = 0;
    }
  else if (top < 0x42f)
    {
      double xd = x;
      n = ((int32_t) (xd * 0x1.45f306dc9c883p+23) + 0x800000) >> 24;
      r = mac (m, T_RED, -(double) n, 0x1.921fb54442d18p0, xd);
      q = n;
    }
  else
    {
      const uint32_t *arr = &inv_pio4[(ix >> 26) & 15];
      uint32_t mi = ((ix & 0xffffff) | 0x800000) << ((ix >> 23) & 7);
      uint64_t res0 = (uint32_t) (mi * arr[0]);
      uint64_t res1 = (uint64_t) mi * arr[4], res2 = (uint64_t) mi * arr[8];
      res0 = ((res2 >> 32) | (res0 << 32)) + res1;
      uint64_t nn = (res0 + (1ULL << 61)) >> 62;
      res0 -= nn << 62;
      r = (double) (int64_t) res0 * 0x1.921fb54442d18p-62;
      n = (int) nn;
      q = n + (int) (ix >> 31);
    }
  if (q & 2)
    neg = -1; /* the negated cosine table */
  double xs = r * sign[q & 3], x2 = r * r;
  if (((n ^ is_cos) & 1) == 0)
    {
      double x3 = xs * x2;
      double s1 = mac (m, T_S1, x2, -0x1.994eb3774cf24p-13, 0x1.1107605230bc4p-7);
      double x7 = x3 * x2;
      double s = mac (m, T_S, x3, -0x1.555545995a603p-3, xs);
      return (float) mac (m, T_SY, s1, x7, s);
    }
  double x4 = x2 * x2;
  double c2 = mac (m, T_C2, x2, neg * 0x1.99343027bf8c3p-16,
		   neg * -0x1.6c087e89a359dp-10);
  double c1 = mac (m, T_C1, x2, neg * -0x1.ffffffd0c621cp-2, neg);
  double x6 = x4 * x2;
  double c = mac (m, T_C, x4, neg * 0x1.55553e1068f19p-5, c1);
  return (float) mac (m, T_CY, c2, x6, c);
}

/* Calls the model for function F (0 expf, 1 sinf, 2 cosf); returns 0 if X
   takes a path without multiply-adds.  */
static int
model (int f, float x, unsigned m, float *out)
{
  uint32_t ix = asuint (x), top = (ix >> 20) & 0x7ff;
  if (f == 0)
    {
      if (!(x >= -0x1.9d1d9ep6f && x <= 0x1.62e42ep6f))
	return 0;
      *out = model_expf (x, m);
      return 1;
    }
  if (top < 0x398 || top >= 0x7f8)
    return 0;
  *out = model_sincosf (x, f == 2, m);
  return 1;
}

/* The scan's findings: per function and site, the inputs where unfusing
   that site (or, at index NSITES, every site) changes glibc's result.  */
#define MAXHITS 4096
struct hits
{
  uint64_t count;
  uint32_t x[MAXHITS];
};
static struct hits fma_hits[3][NSITES + 1];

/* Scans every input of function F (for sinf and cosf the non-negative ones:
   both are exactly odd or even) comparing glibc with the model.  Returns
   the number of inputs where the all-fused model disagrees with glibc.
   Single sites are tried only where unfusing every site changes the result:
   in principle one site alone could matter where all together cancel out,
   but a scan of every site on every input (six times slower) found no such
   input for glibc 2.36.  */
static uint64_t
scan (int f, const struct fn *fn)
{
  uint64_t bad = 0, end = f == 0 ? 1ULL << 32 : 0x80000000;
  for (uint64_t i = 0; i < end; i++)
    {
      float x = asfloat ((uint32_t) i), want, got;
      sites_used = 0;
      if (!model (f, x, ALL_FUSED, &got))
	continue;
      want = (*fn->f) (x);
      if (asuint (got) != asuint (want))
	{
	  if (bad++ < 10)
	    fprintf (stderr, "%s model(%08" PRIx32 ") = %08" PRIx32
		     ", glibc %08" PRIx32 "\n", fn->name, (uint32_t) i,
		     asuint (got), asuint (want));
	  continue;
	}
      unsigned used = sites_used;
      float unfused;
      model (f, x, 0, &unfused);
      if (asuint (unfused) == asuint (want))
	continue;
      for (int k = 0; k <= NSITES; k++)
	{
	  if (k < NSITES && !(used & (1u << k)))
	    continue;
	  got = unfused;
	  if (k < NSITES)
	    model (f, x, ALL_FUSED & ~(1u << k), &got);
	  if (asuint (got) != asuint (want))
	    {
	      struct hits *h = &fma_hits[f][k];
	      if (h->count < MAXHITS)
		h->x[h->count] = (uint32_t) i;
	      h->count++;
	    }
	}
    }
  return bad;
}

/* Emits the inputs where unfusing some site changes the result (and, for
   sinf and cosf, their negations), and summarizes on stderr.  */
static void
emit_fma_hits (int f, const struct fn *fn)
{
  for (int k = 0; k <= NSITES; k++)
    {
      struct hits *h = &fma_hits[f][k];
      if (h->count)
	fprintf (stderr, "%s: unfusing %s changes %" PRIu64 " results%s\n",
		 fn->name, k < NSITES ? site_names[k] : "every site",
		 h->count, f ? " (x >= 0)" : "");
      if (k < NSITES)
	continue; /* the same inputs again */
      for (uint64_t j = 0; j < h->count && j < MAXHITS; j++)
	{
	  emit (fn, asfloat (h->x[j]));
	  if (f)
	    emit (fn, -asfloat (h->x[j]));
	}
    }
}

static const uint32_t common_specials[] = {
  0x00000000, 0x80000000,		/* ±0 */
  0x00000001, 0x80000001, 0x007fffff,	/* subnormals */
  0x00800000, 0x80800000,		/* ±2^-126 */
  0x3f800000, 0xbf800000, 0x3f000000,	/* ±1, 0.5 */
  0x3fc90fdb, 0x40490fdb, 0x40c90fdb,	/* pi/2, pi, 2pi */
  0x461c4000, 0x47800000, 0x49742400,	/* 1e4, 65536, 1e6 */
  0x501502f9, 0x60ad78ec, 0x7149f2ca,	/* 1e10, 1e20, 1e30 */
  0x7f7fffff, 0xff7fffff,		/* ±max */
  0x7f800000, 0xff800000,		/* ±inf */
  0x7fc00000, 0xffc00000, 0x7fc12345,	/* quiet NaNs */
  0x7f800001, 0xff800001, 0x7fa00000,	/* signalling NaNs */
  0x7fffffff, 0xffffffff,
};

static int
golden (void)
{
  const struct fn *e = lookup ("expf"), *s = lookup ("sinf"),
		  *c = lookup ("cosf");
  const struct fn *trig[] = { s, c };

  uint64_t model_bad = 0;
  for (int f = 0; f < 3; f++)
    model_bad += scan (f, &fns[f]);
  if (model_bad)
    {
      fprintf (stderr, "the model disagrees with glibc on %" PRIu64
	       " inputs\n", model_bad);
      return 1;
    }

  printf ("# Generated by gen.c (golden mode) from glibc %s's libm with the "
	  "FMA ifunc variants.\n", gnu_get_libc_version ());
  printf ("# function input-bits glibc-result-bits\n");

  /* expf.  */
  for (size_t i = 0; i < sizeof common_specials / 4; i++)
    emit (e, asfloat (common_specials[i]));
  {
    /* Thresholds of the special-case path: |x| >= 88, overflow, underflow,
       subnormal rounding to 2^-149, smallest normal result.  */
    const float t[] = { 88.0f, -88.0f, 0x1.62e42ep6f, -0x1.9fe368p6f,
			-0x1.9d1d9ep6f, -87.33654f, 0x1p-25f, -0x1p-25f };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
      emit_neighbours (e, t[i]);
  }
  emit_diffs (e, -104, 89, 900, 0);
  emit_fma_hits (0, e);
  for (int i = 0; i < 125; i++)
    emit (e, rand_in (-104, 89));
  for (int i = 0; i < 125; i++)
    emit (e, asfloat ((uint32_t) rng ()));

  /* sinf and cosf.  */
  for (int k = 0; k < 2; k++)
    {
      const struct fn *f = trig[k];
      for (size_t i = 0; i < sizeof common_specials / 4; i++)
	emit (f, asfloat (common_specials[i]));
      /* Boundaries between the paths: tiny, |x| < pi/4, |x| < 120, large.  */
      const float t[] = { 0x1p-126f, 0x1p-12f, 0x1.921fb6p-1f, 120.0f,
			  -0x1p-12f, -0x1.921fb6p-1f, -120.0f };
      for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
	emit_neighbours (f, t[i]);
      emit_diffs (f, 0x1p-12f, 0x1.921fb6p-1f, 150, 1);
      emit_diffs (f, 0x1.921fb6p-1f, 120, 400, 1);
      emit_diffs (f, 120, 10000, 200, 1);
      emit_diffs (f, 10000, 0x1p127f, 100, 1);
      emit_fma_hits (k + 1, f);
      for (int i = 0; i < 125; i++)
	emit (f, rand_in (-10000, 10000));
      for (int i = 0; i < 125; i++)
	emit (f, asfloat ((uint32_t) rng ()));
    }

  /* tanhf: fdlibm's, without multiply-adds to fuse.  */
  {
    const struct fn *t = lookup ("tanhf");
    for (size_t i = 0; i < sizeof common_specials / 4; i++)
      emit (t, asfloat (common_specials[i]));
    /* Boundaries of its paths (|x| < 2^-55, < 1, < 22) and of expm1f's
       (|2x| vs ln2/2, 3ln2/2, 27ln2, 2^-25).  */
    const float b[] = { 0x1p-55f, 1.0f, 22.0f, 0x1.62e430p-3f, 0x1.0a2b24p-1f,
			0x1.2b7088p+3f, 0x1p-26f, -1.0f, -22.0f };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
      emit_neighbours (t, b[i]);
    emit_diffs (t, 0x1p-26f, 1, 300, 1);
    emit_diffs (t, 1, 22, 300, 1);
    for (int i = 0; i < 200; i++)
      emit (t, rand_in (-30, 30));
    for (int i = 0; i < 200; i++)
      emit (t, asfloat ((uint32_t) rng ()));
  }
  return fflush (stdout) != 0;
}

static uint64_t
parse (const char *s)
{
  char *end;
  uint64_t v = strtoull (s, &end, 0);
  if (*end)
    {
      fprintf (stderr, "bad number %s\n", s);
      exit (2);
    }
  return v;
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "golden") == 0)
    return golden ();
  if (argc == 2 && strcmp (argv[1], "sincos") == 0)
    return sincos_check ();
  if (argc == 5 && strcmp (argv[1], "stream") == 0)
    return stream (argv[2], parse (argv[3]), parse (argv[4]));
  fprintf (stderr, "usage: %s golden | sincos | stream expf|sinf|cosf|tanhf LO HI\n",
	   argv[0]);
  return 2;
}
