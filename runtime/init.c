/*===- init.c - seeded parameter initialisation -----------------*- C -*-===*
 *
 * PyTorch's nn.Linear defaults (SPEC section 4) with a generator of our own:
 * runs are reproducible for a seed, not bit-identical to PyTorch's (compare
 * with PyTorch by loading the same --init checkpoint instead).
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *const initNames[MPCRT_INIT_COUNT] = {
    [MPCRT_INIT_KAIMING_UNIFORM] = "kaiming_uniform",
    [MPCRT_INIT_UNIFORM_FAN_IN] = "uniform_fan_in",
    [MPCRT_INIT_NORMAL] = "normal",
    [MPCRT_INIT_ZEROS] = "zeros",
    [MPCRT_INIT_ONES] = "ones",
};

bool mpcrtInitFromName(const char *name, MpcrtInit *out) {
  for (int i = 0; i < MPCRT_INIT_COUNT; ++i)
    if (!strcmp(initNames[i], name)) {
      *out = (MpcrtInit)i;
      return true;
    }
  return false;
}

const char *mpcrtInitName(MpcrtInit init) { return initNames[init]; }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void mpcrtRngSeed(MpcrtRng *rng, uint64_t seed) {
  for (int i = 0; i < 4; ++i)
    rng->s[i] = splitmix64(&seed);
}

void mpcrtRngSeedFor(MpcrtRng *rng, uint64_t seed, const char *name) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)name; *p; ++p)
    h = (h ^ *p) * 0x100000001b3ULL;
  mpcrtRngSeed(rng, seed ^ h);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mpcrtRngNext(MpcrtRng *rng) { /* xoshiro256** */
  uint64_t *s = rng->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double mpcrtRngUniform(MpcrtRng *rng) { return (double)(mpcrtRngNext(rng) >> 11) * 0x1.0p-53; }

double mpcrtRngNormal(MpcrtRng *rng) {
  double u1 = 1.0 - mpcrtRngUniform(rng), u2 = mpcrtRngUniform(rng); /* u1 in (0, 1] */
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

bool mpcrtInitTensor(MpcrtTensor *t, MpcrtInit init, int64_t fanIn, MpcrtRng *rng, MpcrtError *err) {
  if (!mpcrtDTypeInfo(t->dtype)->isFloat)
    return mpcrtFail(err, "cannot initialise %s data (parameters are float)", mpcrtDTypeInfo(t->dtype)->name);
  if ((init == MPCRT_INIT_KAIMING_UNIFORM || init == MPCRT_INIT_UNIFORM_FAN_IN) && fanIn <= 0)
    return mpcrtFail(err, "%s needs a positive fan-in, got %lld", initNames[init], (long long)fanIn);
  /* kaiming_uniform(a=sqrt(5)): gain sqrt(2 / (1 + a^2)) = sqrt(1/3), bound
   * gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in): the same bound as the bias rule. */
  double bound = fanIn > 0 ? 1.0 / sqrt((double)fanIn) : 0.0;
  int64_t n = mpcrtTensorNumElements(t);
  for (int64_t i = 0; i < n; ++i) {
    double v = 0;
    switch (init) {
    case MPCRT_INIT_KAIMING_UNIFORM:
    case MPCRT_INIT_UNIFORM_FAN_IN: v = (2.0 * mpcrtRngUniform(rng) - 1.0) * bound; break;
    case MPCRT_INIT_NORMAL: v = mpcrtRngNormal(rng); break;
    case MPCRT_INIT_ZEROS: v = 0; break;
    case MPCRT_INIT_ONES: v = 1; break;
    case MPCRT_INIT_COUNT: break;
    }
    mpcrtTensorSetDouble(t, i, v);
  }
  return true;
}
