/*===- gemm.c - packed, vectorised matrix multiply --------------*- C -*-===*
 *
 * The BLIS scheme: for each KC-deep slice of K, pack a KC x NC panel of op(B)
 * into NR-wide strips and an MC x KC block of A into MR-tall strips, then run
 * an MR x NR microkernel over every strip pair with the accumulators in
 * registers. MR = 12, NR = 32: 24 zmm accumulators, two B loads and twelve
 * broadcasts per k. bf16 packs pairs of k so that one vdpbf16ps multiplies
 * two k at once into f32. The problem is split along N (or M) between
 * threads, each with its own packing buffers.
 *===----------------------------------------------------------------------===*/
#include "../internal.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* KC is in bytes of packed data: 256 f32 or 512 bf16 values deep. */
enum { MR = 12, NR = 32, KC_BYTES = 1024, MC = 120, NC = 2048 };
_Static_assert(NR % 16 == 0, "the AVX-512 packers work on 16-column blocks");

static MpcrtGemmKernel forced = MPCRT_GEMM_AUTO;
static int forcedThreads;

void mpcrtGemmConfigure(MpcrtGemmKernel kernel, int threads) {
  forced = kernel;
  forcedThreads = threads;
}

static bool haveAvx512(void) {
  return forced == MPCRT_GEMM_AUTO && __builtin_cpu_supports("avx512f");
}

static bool haveAvx512Bf16(void) { return haveAvx512() && __builtin_cpu_supports("avx512bf16"); }

const char *mpcrtGemmKernelName(bool bf16) {
  if (bf16)
    return haveAvx512Bf16() ? "avx512-bf16" : "portable";
  return haveAvx512() ? "avx512" : "portable";
}

static int threadCount(void) {
  if (forcedThreads > 0)
    return forcedThreads;
  const char *env = getenv("MPC_NUM_THREADS");
  int n = env ? atoi(env) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : n;
}

/* One problem (or a thread's share of one). */
typedef struct {
  int64_t M, N, K, lda, ldb, ldc;
  const void *A, *B;
  float *C; /* f32 here; other output types go through a buffer (runSerial) */
  void *out;
  MpcrtDType aType, bType, cType;
  bool transB, accumulate, bf16;
  bool roundF16; /* compute type f16: operands rounded to f16 while packing, products in f32 */
  MpcrtEpilogue epilogue;
  /* A 16-bit C (runSerial): C above is an f32 buffer; each block is loaded
   * from out16 before its first K block (when accumulating) and rounded into
   * it after its last, while the block is in cache. */
  uint16_t *out16;
  int64_t ld16;
  bool bf16Out;
  int slot; /* the workspace slot of this part; -1: allocate per call */
} Gemm;

/* Packing buffers persist between calls: generated code calls the GEMM
 * several times per step, and allocating (and page-faulting) megabytes each
 * time cost as much as the arithmetic on MLP-sized products. One slot per
 * thread of a call; a call that finds the pool busy (another thread of the
 * program is in a GEMM) allocates its own. Freed at exit. */
enum { POOL_SLOTS = 64, POOL_BUFFERS = 3 };
static struct {
  void *data;
  size_t capacity;
} pool[POOL_SLOTS][POOL_BUFFERS];
static pthread_mutex_t poolLock = PTHREAD_MUTEX_INITIALIZER;

static void *workspace(int slot, int which, size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  if (slot < 0)
    return aligned_alloc(64, bytes ? bytes : 64);
  if (pool[slot][which].capacity < bytes) {
    free(pool[slot][which].data);
    pool[slot][which].data = aligned_alloc(64, bytes);
    pool[slot][which].capacity = pool[slot][which].data ? bytes : 0;
  }
  return pool[slot][which].data;
}

static void release(int slot, void *p) {
  if (slot < 0)
    free(p);
}

__attribute__((destructor)) static void freePool(void) {
  for (int i = 0; i < POOL_SLOTS; ++i)
    for (int j = 0; j < POOL_BUFFERS; ++j) {
      free(pool[i][j].data);
      pool[i][j].data = NULL;
      pool[i][j].capacity = 0;
    }
}

/* f32 -> bf16 bits, round to nearest even, NaN kept quiet: the same
 * rounding as mpcrtBF16FromF32 (and arith.truncf), inline so that the
 * converting packers vectorise. */
static inline uint16_t bf16Bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

/* f16 bits -> f32, exact for every input (subnormals through one multiply),
 * inline and branch-light so that converting packers vectorise. */
static inline float halfToFloat(uint16_t h) {
  uint32_t em = h & 0x7fffu, sign = (uint32_t)(h & 0x8000u) << 16, u;
  float f;
  if (em >= 0x7c00u) {
    u = (em << 13) | 0x7f800000u; /* inf, NaN */
    memcpy(&f, &u, sizeof f);
  } else {
    u = em << 13;
    memcpy(&f, &u, sizeof f);
    f *= 0x1p112f; /* rebias the exponent: 2^(127-15) */
  }
  memcpy(&u, &f, sizeof u);
  u |= sign;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ReLU on bits, so that it vectorises: negative numbers (and -0) become
 * +0, NaNs stay, as arith.maximumf(x, 0) does. */
static void reluRow(float *row, int64_t n) {
  uint32_t *bits = (uint32_t *)row;
  for (int64_t j = 0; j < n; ++j)
    bits[j] = bits[j] >= 0x80000000u && bits[j] <= 0xff800000u ? 0u : bits[j];
}

static inline float bf16ToF32(uint16_t bits) {
  uint32_t u = (uint32_t)bits << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/*---------------------------------------------------------------------------
 * Transposing packers (AVX-512). Packing a transposed B (a linear layer's
 * weight, [N, K]) into k-major strips is a transpose; element by element it
 * cost more than the products on MLP-sized layers. These move 16 x 16 blocks
 * of 32-bit words (f32 values, or bf16 pairs along k) through registers.
 *---------------------------------------------------------------------------*/

/* r[i] holds row i of a 16 x 16 block of 32-bit words; on return r[c] holds
 * column c. Three rounds: 32-bit and 64-bit interleaves within 128-bit
 * lanes, then 128-bit lane shuffles across the four row groups. */
__attribute__((target("avx512f"))) static inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) { /* u[4i+e], lane L: rows 4i..4i+3 of column 4L+e */
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    __m512i x0 = _mm512_shuffle_i32x4(u[e], u[4 + e], 0x88), x1 = _mm512_shuffle_i32x4(u[e], u[4 + e], 0xdd);
    __m512i x2 = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0x88), x3 = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0xdd);
    r[e] = _mm512_shuffle_i32x4(x0, x2, 0x88);
    r[8 + e] = _mm512_shuffle_i32x4(x0, x2, 0xdd);
    r[4 + e] = _mm512_shuffle_i32x4(x1, x3, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(x1, x3, 0xdd);
  }
}

/* 16 f32 values (as bits) -> their bf16 bits in the low half of each 32-bit
 * lane, rounded to nearest even with NaNs kept quiet: bit for bit what
 * bf16Bits does. */
__attribute__((target("avx512f"))) static inline __m512i bf16Lanes(__m512i u) {
  __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)),
                                                       _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))),
                                      16);
  __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                          _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_or_epi32(rounded, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
}

/* 32 f32 values -> 16 words of bf16 pairs (bf16Lanes of each half). */
__attribute__((target("avx512f,avx512bw"))) static inline __m512i bf16Pairs(const float *p) {
  __m512i h[2] = {bf16Lanes(_mm512_loadu_si512(p)), bf16Lanes(_mm512_loadu_si512(p + 16))};
  /* The low 16 bits of each 32-bit lane, in order: words 0..15 of h[0], then h[1]. */
  const __m512i pick = _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26, 24,
                                        22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_epi16(h[0], pick, h[1]);
}

/* One NR-wide strip of a transposed B: dst[p * NR + j] = word p of row j,
 * for rows j < NR and words p < words, a multiple of 16. Kinds: STRIP_COPY
 * copies 32-bit words (row j at src + j * ld words); STRIP_BF16_PAIRS reads
 * 2 * words floats per row (ld in floats) and makes bf16 pairs; STRIP_F16
 * reads f16 values (ld in halves) and widens them to f32. */
enum { STRIP_COPY, STRIP_BF16_PAIRS, STRIP_F16 };
__attribute__((target("avx512f,avx512bw,f16c"))) static void packStripT(const void *src, int64_t ld, int64_t words,
                                                                        int kind, uint32_t *dst) {
  __m512i r[16];
  for (int64_t p = 0; p < words; p += 16)
    for (int64_t jb = 0; jb < NR; jb += 16) {
      for (int j = 0; j < 16; ++j)
        r[j] = kind == STRIP_BF16_PAIRS ? bf16Pairs((const float *)src + (jb + j) * ld + 2 * p)
               : kind == STRIP_F16
                   ? _mm512_castps_si512(
                         _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)src + (jb + j) * ld + p))))
                   : _mm512_loadu_si512((const uint32_t *)src + (jb + j) * ld + p);
      transpose16(r);
      for (int q = 0; q < 16; ++q)
        _mm512_storeu_si512(dst + (p + q) * NR + jb, r[q]);
    }
}

/* Rounds packed operands to f16 and back (round to nearest even), for the
 * f16 compute type: what arith.truncf to f16 and an f32 product would do. */
__attribute__((target("avx512f,f16c"))) static void roundF16Avx512(float *p, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(p + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(p + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i)
    p[i] = mpcrtF16ToF32(mpcrtF16FromF32(p[i]));
}

/* f32 -> f16 bits, round to nearest even (F16C where there is AVX-512). */
__attribute__((target("avx512f,f16c"))) static void toF16Avx512(const float *p, uint16_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(p + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i)
    out[i] = mpcrtF16FromF32(p[i]).bits;
}

/* f32 -> bf16 bits, bit for bit bf16Bits, 16 at a time. */
__attribute__((target("avx512f"))) static void toBF16Avx512(const float *p, uint16_t *out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(bf16Lanes(_mm512_loadu_si512(p + i))));
  for (; i < n; ++i)
    out[i] = bf16Bits(p[i]);
}

/* Two rows of f32 into bf16 pairs: dst[j] = bf16(r0[j]) | bf16(r1[j]) << 16
 * for j < 16 * blocks (a non-transposed B's rows k and k+1, packed for
 * vdpbf16ps), bit for bit bf16Bits. */
__attribute__((target("avx512f"))) static void pairRowsAvx512(const float *r0, const float *r1, int64_t blocks,
                                                               uint32_t *dst) {
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i lo = bf16Lanes(_mm512_loadu_si512(r0 + 16 * b)), hi = bf16Lanes(_mm512_loadu_si512(r1 + 16 * b));
    _mm512_storeu_si512(dst + 16 * b, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
  }
}

static void toBF16(const float *p, uint16_t *out, int64_t n) {
  if (haveAvx512()) {
    toBF16Avx512(p, out, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = bf16Bits(p[i]);
}

static void toF16(const float *p, uint16_t *out, int64_t n) {
  if (haveAvx512()) {
    toF16Avx512(p, out, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = mpcrtF16FromF32(p[i]).bits;
}

static void roundF16(float *p, int64_t n) {
  if (haveAvx512()) {
    roundF16Avx512(p, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    p[i] = mpcrtF16ToF32(mpcrtF16FromF32(p[i]));
}

static bool haveTransposePack(void) { return haveAvx512() && __builtin_cpu_supports("avx512bw"); }

/* Element i of an f32, f16 or bf16 array, as f32 or as bf16 bits. */
static float loadF(const void *p, MpcrtDType t, int64_t i) {
  switch (t) {
  case MPCRT_F16: return mpcrtF16ToF32(((const MpcrtF16 *)p)[i]);
  case MPCRT_BF16: return mpcrtBF16ToF32(((const MpcrtBF16 *)p)[i]);
  default: return ((const float *)p)[i];
  }
}

static uint16_t loadBF(const void *p, MpcrtDType t, int64_t i) {
  return t == MPCRT_BF16 ? ((const MpcrtBF16 *)p)[i].bits : mpcrtBF16FromF32(loadF(p, t, i)).bits;
}

/*---------------------------------------------------------------------------
 * f32
 *---------------------------------------------------------------------------*/

static float loadB32(const Gemm *g, int64_t k, int64_t j) {
  return loadF(g->B, g->bType, g->transB ? j * g->ldb + k : k * g->ldb + j);
}

/* Packs op(B)[k0:k0+kc, j0:j0+nc] as NR-wide strips, zero padded, converting
 * f16/bf16 inputs as it goes. Full f32 strips of a plain B copy rows; of a
 * transposed B gather along k. */
static void packB32(const Gemm *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *dst) {
  const float *B = g->B;
  for (int64_t js = 0; js < nc; js += NR, dst += NR * kc) {
    if (js + NR <= nc && g->bType == MPCRT_F16) { /* f16 storage: widen while packing */
      const uint16_t *B16 = g->B;
      if (g->transB) {
        int64_t done = haveTransposePack() ? kc / 16 * 16 : 0;
        if (done)
          packStripT(B16 + (j0 + js) * g->ldb + k0, g->ldb, done, STRIP_F16, (uint32_t *)dst);
        for (int64_t kb = done; kb < kc; kb += 16) {
          int64_t ke = kb + 16 < kc ? kb + 16 : kc;
          for (int64_t j = 0; j < NR; ++j) {
            const uint16_t *row = B16 + (j0 + js + j) * g->ldb + k0;
            for (int64_t k = kb; k < ke; ++k)
              dst[k * NR + j] = halfToFloat(row[k]);
          }
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          const uint16_t *row = B16 + (k0 + k) * g->ldb + j0 + js;
          for (int64_t j = 0; j < NR; ++j)
            dst[k * NR + j] = halfToFloat(row[j]);
        }
      }
    } else if (js + NR > nc || g->bType != MPCRT_F32) {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j)
          dst[k * NR + j] = js + j < nc ? loadB32(g, k0 + k, j0 + js + j) : 0.0f;
    } else if (!g->transB) {
      for (int64_t k = 0; k < kc; ++k)
        memcpy(dst + k * NR, B + (k0 + k) * g->ldb + j0 + js, NR * sizeof(float));
    } else {
      /* A transpose: 16 x 16 blocks in registers, then the rest of k
       * blocked so that the rows being read and written stay in L1. */
      int64_t done = haveTransposePack() ? kc / 16 * 16 : 0;
      if (done)
        packStripT(B + (j0 + js) * g->ldb + k0, g->ldb, done, STRIP_COPY, (uint32_t *)dst);
      for (int64_t kb = done; kb < kc; kb += 16) {
        int64_t ke = kb + 16 < kc ? kb + 16 : kc;
        for (int64_t j = 0; j < NR; ++j) {
          const float *row = B + (j0 + js + j) * g->ldb + k0;
          for (int64_t k = kb; k < ke; ++k)
            dst[k * NR + j] = row[k];
        }
      }
    }
  }
}

static void packA32(const Gemm *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float *dst) {
  for (int64_t is = 0; is < mc; is += MR, dst += MR * kc) {
    int64_t rows = mc - is < MR ? mc - is : MR;
    for (int64_t i = 0; i < rows; ++i) {
      int64_t base = (i0 + is + i) * g->lda + k0;
      if (g->aType == MPCRT_F32) {
        continue; /* below, blocked over k */
      } else if (g->aType == MPCRT_F16) {
        const uint16_t *row = (const uint16_t *)g->A + base;
        for (int64_t k = 0; k < kc; ++k)
          dst[k * MR + i] = halfToFloat(row[k]);
      } else {
        const uint16_t *row = (const uint16_t *)g->A + base;
        for (int64_t k = 0; k < kc; ++k)
          dst[k * MR + i] = bf16ToF32(row[k]);
      }
    }
    if (g->aType == MPCRT_F32) /* a transpose, blocked over k as in packB32 */
      for (int64_t kb = 0; kb < kc; kb += 16) {
        int64_t ke = kb + 16 < kc ? kb + 16 : kc;
        for (int64_t i = 0; i < rows; ++i) {
          const float *row = (const float *)g->A + (i0 + is + i) * g->lda + k0;
          for (int64_t k = kb; k < ke; ++k)
            dst[k * MR + i] = row[k];
        }
      }
    for (int64_t i = rows; i < MR; ++i)
      for (int64_t k = 0; k < kc; ++k)
        dst[k * MR + i] = 0.0f;
  }
}

/* Adds (or stores) an MR x NR tile into C, clipped to mr x nr. */
static void storeTile(const float *tile, float *c, int64_t ldc, int64_t mr, int64_t nr, bool add) {
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] = add ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
}

/* Writes the accumulators to C: straight from registers for a full tile,
 * through a buffer for a clipped one. Inlined into both kernels. */
__attribute__((target("avx512f"), always_inline)) static inline void storeAcc(__m512 acc[MR][2], float *c,
                                                                               int64_t ldc, int64_t mr, int64_t nr,
                                                                               bool add) {
  if (mr == MR && nr == NR) {
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      float *row = c + i * ldc;
      __m512 lo = acc[i][0], hi = acc[i][1];
      if (add) {
        lo = _mm512_add_ps(lo, _mm512_loadu_ps(row));
        hi = _mm512_add_ps(hi, _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, lo);
      _mm512_storeu_ps(row + 16, hi);
    }
    return;
  }
  float tile[MR * NR];
  for (int i = 0; i < MR; ++i) {
    _mm512_storeu_ps(tile + i * NR, acc[i][0]);
    _mm512_storeu_ps(tile + i * NR + 16, acc[i][1]);
  }
  storeTile(tile, c, ldc, mr, nr, add);
}

__attribute__((target("avx512f,fma"))) static void kernel32(int64_t kc, const float *a, const float *b, float *c,
                                                               int64_t ldc, int64_t mr, int64_t nr, bool add) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      __m512 av = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  storeAcc(acc, c, ldc, mr, nr, add);
}

/*---------------------------------------------------------------------------
 * bf16: pairs of k
 *---------------------------------------------------------------------------*/

static uint16_t loadB16(const Gemm *g, int64_t k, int64_t j) {
  if (k >= g->K)
    return 0; /* K padded to even */
  return loadBF(g->B, g->bType, g->transB ? j * g->ldb + k : k * g->ldb + j);
}

/* Per pair of k and NR-wide strip: NR columns x (k, k+1) interleaved. Full
 * strips with both k in range take the branch-free paths. */
static void packB16(const Gemm *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, uint16_t *dst) {
  const MpcrtBF16 *B = g->B;
  bool fullK = k0 + kc <= g->K;
  for (int64_t js = 0; js < nc; js += NR, dst += NR * kc) {
    if (js + NR <= nc && fullK && g->bType == MPCRT_F32) { /* a cast fused into packing */
      const float *B32 = g->B;
      if (g->transB) {
        int64_t done = haveTransposePack() ? kc / 32 * 32 : 0; /* in k; kc / 2 words */
        if (done)
          packStripT(B32 + (j0 + js) * g->ldb + k0, g->ldb, done / 2, STRIP_BF16_PAIRS, (uint32_t *)dst);
        for (int64_t kb = done; kb < kc; kb += 16) {
          int64_t ke = kb + 16 < kc ? kb + 16 : kc;
          for (int64_t j = 0; j < NR; ++j) {
            const float *row = B32 + (j0 + js + j) * g->ldb + k0;
            for (int64_t k = kb; k < ke; ++k)
              dst[(k & ~(int64_t)1) * NR + 2 * j + (k & 1)] = bf16Bits(row[k]);
          }
        }
      } else {
        bool wide = haveAvx512();
        for (int64_t k = 0; k < kc; k += 2) {
          const float *r0 = B32 + (k0 + k) * g->ldb + j0 + js, *r1 = r0 + g->ldb;
          if (wide) {
            pairRowsAvx512(r0, r1, NR / 16, (uint32_t *)(dst + k * NR));
            continue;
          }
          for (int64_t j = 0; j < NR; ++j) {
            dst[k * NR + 2 * j] = bf16Bits(r0[j]);
            dst[k * NR + 2 * j + 1] = bf16Bits(r1[j]);
          }
        }
      }
    } else if (js + NR > nc || !fullK || g->bType != MPCRT_BF16) {
      for (int64_t k = 0; k < kc; k += 2)
        for (int64_t j = 0; j < NR; ++j) {
          bool in = js + j < nc;
          dst[k * NR + 2 * j] = in ? loadB16(g, k0 + k, j0 + js + j) : 0;
          dst[k * NR + 2 * j + 1] = in ? loadB16(g, k0 + k + 1, j0 + js + j) : 0;
        }
    } else if (!g->transB) {
      for (int64_t k = 0; k < kc; k += 2) {
        const MpcrtBF16 *r0 = B + (k0 + k) * g->ldb + j0 + js, *r1 = r0 + g->ldb;
        for (int64_t j = 0; j < NR; ++j) {
          dst[k * NR + 2 * j] = r0[j].bits;
          dst[k * NR + 2 * j + 1] = r1[j].bits;
        }
      }
    } else {
      /* Pairs along k are 32-bit words of each row when rows start even. */
      int64_t done = haveTransposePack() && g->ldb % 2 == 0 ? kc / 32 * 32 : 0;
      if (done)
        packStripT(B + (j0 + js) * g->ldb + k0, g->ldb / 2, done / 2, STRIP_COPY, (uint32_t *)dst);
      for (int64_t j = 0; j < NR; ++j) {
        const MpcrtBF16 *row = B + (j0 + js + j) * g->ldb + k0;
        for (int64_t k = done; k < kc; ++k)
          dst[(k & ~(int64_t)1) * NR + 2 * j + (k & 1)] = row[k].bits;
      }
    }
  }
}

/* Per pair of k and row: (A[i][k], A[i][k+1]) as one 32-bit word; a bf16
 * row's pairs are its values read as 32-bit words. */
static void packA16(const Gemm *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, uint32_t *dst) {
  int64_t pairs = kc / 2, full = g->K - k0 >= kc ? pairs : (g->K - k0) / 2;
  if (g->aType != MPCRT_BF16)
    full = 0; /* converting: take the general path */
  for (int64_t is = 0; is < mc; is += MR, dst += MR * pairs) {
    int64_t rows = mc - is < MR ? mc - is : MR;
    for (int64_t i = 0; i < rows; ++i) {
      int64_t base = (i0 + is + i) * g->lda + k0;
      const MpcrtBF16 *row = (const MpcrtBF16 *)g->A + base;
      for (int64_t p = 0; p < full; ++p) {
        uint32_t word;
        memcpy(&word, row + 2 * p, sizeof word);
        dst[p * MR + i] = word;
      }
      int64_t p = full;
      if (g->aType == MPCRT_F32) { /* a cast fused into packing */
        const float *row32 = (const float *)g->A + base;
        int64_t whole = g->K - k0 >= kc ? pairs : (g->K - k0) / 2;
        for (; p < whole; ++p)
          dst[p * MR + i] = (uint32_t)bf16Bits(row32[2 * p]) | (uint32_t)bf16Bits(row32[2 * p + 1]) << 16;
      }
      for (; p < pairs; ++p) { /* the odd end of K, or a conversion */
        uint32_t lo = k0 + 2 * p < g->K ? loadBF(g->A, g->aType, base + 2 * p) : 0;
        uint32_t hi = k0 + 2 * p + 1 < g->K ? loadBF(g->A, g->aType, base + 2 * p + 1) : 0;
        dst[p * MR + i] = lo | hi << 16;
      }
    }
    for (int64_t i = rows; i < MR; ++i)
      for (int64_t p = 0; p < pairs; ++p)
        dst[p * MR + i] = 0;
  }
}

__attribute__((target("avx512f,avx512bf16"))) static void kernel16(int64_t kc, const uint32_t *a, const uint16_t *b,
                                                                      float *c, int64_t ldc, int64_t mr, int64_t nr,
                                                                      bool add) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; k += 2, a += MR, b += 2 * NR) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + NR);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[i]);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
    }
  }
  storeAcc(acc, c, ldc, mr, nr, add);
}

/*---------------------------------------------------------------------------
 * Portable kernels: the same packed layout, plain C
 *---------------------------------------------------------------------------*/

static void portable32(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t mr, int64_t nr,
                       bool add) {
  float tile[MR * NR] = {0};
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        tile[i * NR + j] += a[k * MR + i] * b[k * NR + j];
  storeTile(tile, c, ldc, mr, nr, add);
}

static void portable16(int64_t kc, const uint32_t *a, const uint16_t *b, float *c, int64_t ldc, int64_t mr,
                       int64_t nr, bool add) {
  float tile[MR * NR] = {0};
  for (int64_t p = 0; p < kc / 2; ++p)
    for (int i = 0; i < MR; ++i) {
      uint32_t pair = a[p * MR + i];
      float a0 = mpcrtBF16ToF32((MpcrtBF16){(uint16_t)pair}), a1 = mpcrtBF16ToF32((MpcrtBF16){(uint16_t)(pair >> 16)});
      for (int j = 0; j < NR; ++j) {
        const uint16_t *bp = b + p * 2 * NR + 2 * j;
        tile[i * NR + j] += a0 * mpcrtBF16ToF32((MpcrtBF16){bp[0]}) + a1 * mpcrtBF16ToF32((MpcrtBF16){bp[1]});
      }
    }
  storeTile(tile, c, ldc, mr, nr, add);
}

/*---------------------------------------------------------------------------
 * The blocked loop nest (one thread)
 *---------------------------------------------------------------------------*/

static void runBlocked(const Gemm *g);

/* Output types other than f32 accumulate in an f32 buffer (the K blocks must
 * not round in between) and are rounded once at the end. */
static void runSerial(const Gemm *g) {
  if (g->M <= 0 || g->N <= 0)
    return;
  if (g->cType == MPCRT_F32) {
    runBlocked(g);
    return;
  }
  float *tmp = workspace(g->slot, 2, sizeof(float) * (size_t)(g->M * g->N));
  if (!tmp)
    abort();
  Gemm inner = *g;
  inner.C = tmp;
  inner.ldc = g->N;
  inner.cType = MPCRT_F32;
  inner.out16 = g->out;
  inner.ld16 = g->ldc;
  inner.bf16Out = g->cType == MPCRT_BF16;
  runBlocked(&inner);
  release(g->slot, tmp);
}

static void runBlocked(const Gemm *g) {
  if (g->K <= 0) { /* an empty sum: C is zero, or stays as it is (then ReLU) */
    for (int64_t i = 0; i < g->M; ++i) {
      float *row = g->C + i * g->ldc;
      for (int64_t j = 0; j < g->N; ++j) {
        float v = !g->accumulate ? 0.0f : g->out16 ? (g->bf16Out ? bf16ToF32(g->out16[i * g->ld16 + j])
                                                                 : halfToFloat(g->out16[i * g->ld16 + j]))
                                                   : row[j];
        row[j] = g->epilogue == MPCRT_EPILOGUE_RELU && !(v > 0 || v != v) ? 0.0f : v;
        if (g->out16)
          g->out16[i * g->ld16 + j] = g->bf16Out ? bf16Bits(row[j]) : mpcrtF16FromF32(row[j]).bits;
      }
    }
    return;
  }
  size_t elt = g->bf16 ? 2 : 4; /* of the packed data */
  const int64_t KC = KC_BYTES / (int64_t)elt;
  int64_t kcMax = g->K < KC ? (g->K + 1) & ~(int64_t)1 : KC, ncMax = g->N < NC ? g->N : NC;
  int64_t mcMax = g->M < MC ? g->M : MC;
  void *packedB = workspace(g->slot, 0, (size_t)((ncMax + NR - 1) / NR * NR * kcMax) * elt);
  void *packedA = workspace(g->slot, 1, (size_t)((mcMax + MR - 1) / MR * MR * kcMax) * elt);
  if (!packedB || !packedA)
    abort();
  bool fast = g->bf16 ? haveAvx512Bf16() : haveAvx512();
  for (int64_t j0 = 0; j0 < g->N; j0 += NC) {
    int64_t nc = g->N - j0 < NC ? g->N - j0 : NC;
    for (int64_t k0 = 0; k0 < g->K; k0 += KC) {
      int64_t kc = g->K - k0 < KC ? g->K - k0 : KC;
      if (g->bf16)
        kc = (kc + 1) & ~(int64_t)1;
      bool add = g->accumulate || k0 > 0, last = k0 + KC >= g->K;
      if (g->bf16)
        packB16(g, k0, kc, j0, nc, packedB);
      else
        packB32(g, k0, kc, j0, nc, packedB);
      if (g->roundF16 && g->bType != MPCRT_F16) /* f16 values are already exact */
        roundF16(packedB, (nc + NR - 1) / NR * NR * kc);
      for (int64_t i0 = 0; i0 < g->M; i0 += MC) {
        int64_t mc = g->M - i0 < MC ? g->M - i0 : MC;
        if (g->bf16)
          packA16(g, i0, mc, k0, kc, packedA);
        else
          packA32(g, i0, mc, k0, kc, packedA);
        if (g->roundF16 && g->aType != MPCRT_F16)
          roundF16(packedA, (mc + MR - 1) / MR * MR * kc);
        if (g->out16 && g->accumulate && k0 == 0) /* this block's starting values */
          for (int64_t i = 0; i < mc; ++i) {
            const uint16_t *from = g->out16 + (i0 + i) * g->ld16 + j0;
            float *to = g->C + (i0 + i) * g->ldc + j0;
            for (int64_t j = 0; j < nc; ++j)
              to[j] = g->bf16Out ? bf16ToF32(from[j]) : halfToFloat(from[j]);
          }
        for (int64_t js = 0; js < nc; js += NR)
          for (int64_t is = 0; is < mc; is += MR) {
            float *c = g->C + (i0 + is) * g->ldc + j0 + js;
            int64_t mr = mc - is < MR ? mc - is : MR, nr = nc - js < NR ? nc - js : NR;
            if (g->bf16) {
              const uint32_t *a = (const uint32_t *)packedA + is / MR * (MR * kc / 2);
              const uint16_t *b = (const uint16_t *)packedB + js / NR * (NR * kc);
              (fast ? kernel16 : portable16)(kc, a, b, c, g->ldc, mr, nr, add);
            } else {
              const float *a = (const float *)packedA + is / MR * (MR * kc);
              const float *b = (const float *)packedB + js / NR * (NR * kc);
              (fast ? kernel32 : portable32)(kc, a, b, c, g->ldc, mr, nr, add);
            }
          }
        if (last && g->epilogue == MPCRT_EPILOGUE_RELU) /* this mc x nc block of C is final and in cache */
          for (int64_t i = 0; i < mc; ++i)
            reluRow(g->C + (i0 + i) * g->ldc + j0, nc);
        if (last && g->out16) /* round the finished block into the 16-bit result */
          for (int64_t i = 0; i < mc; ++i) {
            const float *from = g->C + (i0 + i) * g->ldc + j0;
            uint16_t *to = g->out16 + (i0 + i) * g->ld16 + j0;
            if (g->bf16Out)
              toBF16(from, to, nc);
            else
              toF16(from, to, nc);
          }
      }
    }
  }
  release(g->slot, packedA);
  release(g->slot, packedB);
}

static void *runThread(void *arg) {
  runSerial(arg);
  return NULL;
}

/* Splits along N in NR multiples (or along M when N is narrow). */
static void runParts(Gemm g);
static void run(Gemm g) {
  bool pooled = pthread_mutex_trylock(&poolLock) == 0;
  g.slot = pooled ? 0 : -1;
  runParts(g);
  if (pooled)
    pthread_mutex_unlock(&poolLock);
}

static void runParts(Gemm g) {
  int threads = threadCount();
  double flops = 2.0 * (double)g.M * (double)g.N * (double)g.K;
  if (threads > 1 && flops < 4e6)
    threads = 1; /* not worth a thread */
  bool alongN = g.N >= (int64_t)threads * NR;
  int64_t extent = alongN ? g.N : g.M, unit = alongN ? NR : MR;
  if (threads > (extent + unit - 1) / unit)
    threads = (int)((extent + unit - 1) / unit);
  if (threads <= 1) {
    runSerial(&g);
    return;
  }
  pthread_t ids[64];
  Gemm parts[64];
  int64_t per = ((extent + threads - 1) / threads + unit - 1) / unit * unit;
  int started = 0;
  size_t aSize = mpcrtDTypeInfo(g.aType)->size, bSize = mpcrtDTypeInfo(g.bType)->size,
         cSize = mpcrtDTypeInfo(g.cType)->size;
  for (int t = 0; t < threads; ++t) {
    int64_t begin = t * per, end = begin + per < extent ? begin + per : extent;
    if (begin >= end)
      break;
    parts[t] = g;
    int64_t cOffset = alongN ? begin : begin * g.ldc;
    if (alongN) {
      parts[t].N = end - begin;
      parts[t].B = (const char *)g.B + (size_t)(g.transB ? begin * g.ldb : begin) * bSize;
    } else {
      parts[t].M = end - begin;
      parts[t].A = (const char *)g.A + (size_t)(begin * g.lda) * aSize;
    }
    parts[t].out = (char *)g.out + (size_t)cOffset * cSize;
    parts[t].C = parts[t].out;
    parts[t].slot = g.slot < 0 ? -1 : t;
    if (pthread_create(&ids[t], NULL, runThread, &parts[t]) != 0)
      runSerial(&parts[t]); /* no thread: do it here */
    else
      started |= 1 << t;
  }
  for (int t = 0; t < threads; ++t)
    if (started & (1 << t))
      pthread_join(ids[t], NULL);
}

static bool isGemmInput(MpcrtDType t) { return t == MPCRT_F32 || t == MPCRT_F16 || t == MPCRT_BF16; }

bool mpcrtGemm(const MpcrtGemmArgs *a, MpcrtError *err) {
  if (!isGemmInput(a->aType) || !isGemmInput(a->bType) || !isGemmInput(a->cType))
    return mpcrtFail(err, "gemm: operands must be f32, f16 or bf16 (got A %s, B %s, C %s)",
                     mpcrtDTypeInfo(a->aType)->name, mpcrtDTypeInfo(a->bType)->name, mpcrtDTypeInfo(a->cType)->name);
  if (a->compute != MPCRT_F32 && a->compute != MPCRT_BF16 && a->compute != MPCRT_F16)
    return mpcrtFail(err, "gemm: compute type must be f32, bf16 or f16, got %s", mpcrtDTypeInfo(a->compute)->name);
  if (a->M < 0 || a->N < 0 || a->K < 0)
    return mpcrtFail(err, "gemm: negative size %lldx%lldx%lld", (long long)a->M, (long long)a->N, (long long)a->K);
  run((Gemm){.M = a->M, .N = a->N, .K = a->K, .lda = a->lda, .ldb = a->ldb, .ldc = a->ldc, .A = a->A, .B = a->B,
             .C = a->C, .out = a->C, .aType = a->aType, .bType = a->bType, .cType = a->cType, .transB = a->transB,
             .accumulate = a->accumulate, .bf16 = a->compute == MPCRT_BF16,
             .roundF16 = a->compute == MPCRT_F16, .epilogue = a->epilogue});
  return true;
}

void mpcrtGemmF32(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                  bool transB, float *C, int64_t ldc, bool accumulate) {
  MpcrtGemmArgs args = {M,         N,      K,         A,         lda,        MPCRT_F32, B, ldb, MPCRT_F32, transB,
                        C,         ldc,    MPCRT_F32, MPCRT_F32, accumulate, MPCRT_EPILOGUE_NONE};
  mpcrtGemm(&args, NULL);
}

void mpcrtGemmBF16(int64_t M, int64_t N, int64_t K, const MpcrtBF16 *A, int64_t lda, const MpcrtBF16 *B,
                   int64_t ldb, bool transB, float *C, int64_t ldc, bool accumulate) {
  MpcrtGemmArgs args = {M,          N,   K,         A,          lda,        MPCRT_BF16, B, ldb, MPCRT_BF16, transB,
                        C,          ldc, MPCRT_F32, MPCRT_BF16, accumulate, MPCRT_EPILOGUE_NONE};
  mpcrtGemm(&args, NULL);
}
