/*===- runtime-tests.c - C tests of the training runtime --------*- C -*-===*
 *
 * Each test prints an @marker; failed checks print FAIL with the line; the
 * last line is "N passed, M failed". Files go to the directory in argv[1].
 *===----------------------------------------------------------------------===*/
#include "mpc-check.h"
#include "mpc/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char *dir;

/* Checks that `ok` is false and the error mentions `needle`. */
#define CHECK_ERROR(ok, err, needle)                                                               \
  do {                                                                                             \
    bool ok_ = (ok);                                                                               \
    CHECK(!ok_);                                                                                   \
    if (!ok_ && !strstr((err).message, needle)) {                                                  \
      ++failed;                                                                                    \
      printf("FAIL %s:%d: error '%s' lacks '%s'\n", __FILE__, __LINE__, (err).message, needle);  \
    }                                                                                              \
  } while (0)

static const char *path(const char *name) {
  static char buf[4][1024];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 1024, "%s/%s", dir, name);
  return p;
}

static void writeBytes(const char *file, const void *data, size_t n) {
  FILE *f = fopen(file, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

static size_t readBytes(const char *file, unsigned char *buf, size_t cap) {
  FILE *f = fopen(file, "rb");
  size_t n = f ? fread(buf, 1, cap, f) : 0;
  if (f)
    fclose(f);
  return n;
}

static float f32(uint32_t bits) {
  float x;
  memcpy(&x, &bits, 4);
  return x;
}

/*---------------------------------------------------------------------------*/

/* Exhaustive, against midpoints: for neighbours a < b of the 16-bit type, the
 * exact midpoint rounds to the even one, and the f32 values just below and
 * above it round to a and b. */
static void testHalfRounding(void) {
  printf("@testHalfRounding\n");
  int bad16 = 0, badbf = 0, roundTrip = 0;
  for (uint32_t h = 0; h + 1 < 0x7c00; ++h) { /* positive finite f16 below the largest */
    float a = mpcrtF16ToF32((MpcrtF16){(uint16_t)h}), b = mpcrtF16ToF32((MpcrtF16){(uint16_t)(h + 1)});
    roundTrip += mpcrtF16FromF32(a).bits != h;
    float mid = (a + b) / 2;
    uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
    bad16 += mpcrtF16FromF32(mid).bits != even;
    bad16 += mpcrtF16FromF32(nextafterf(mid, 0)).bits != h;
    bad16 += mpcrtF16FromF32(nextafterf(mid, INFINITY)).bits != h + 1;
    bad16 += mpcrtF16FromF32(-a).bits != (h | 0x8000);
  }
  for (uint32_t h = 0; h + 1 < 0x7f80; ++h) { /* positive finite bf16 below the largest */
    float a = mpcrtBF16ToF32((MpcrtBF16){(uint16_t)h}), b = mpcrtBF16ToF32((MpcrtBF16){(uint16_t)(h + 1)});
    roundTrip += mpcrtBF16FromF32(a).bits != h;
    float mid = a / 2 + b / 2; /* exact; a + b would overflow near the top */
    uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
    badbf += mpcrtBF16FromF32(mid).bits != even;
    badbf += mpcrtBF16FromF32(nextafterf(mid, 0)).bits != h;
    badbf += mpcrtBF16FromF32(nextafterf(mid, INFINITY)).bits != h + 1;
  }
  CHECK(bad16 == 0);
  CHECK(badbf == 0);
  CHECK(roundTrip == 0);
  /* Edges: the largest half, overflow, underflow, NaN. */
  CHECK(mpcrtF16FromF32(65519.0f).bits == 0x7bff);
  CHECK(mpcrtF16FromF32(65520.0f).bits == 0x7c00);
  CHECK(mpcrtF16FromF32(1e9f).bits == 0x7c00 && mpcrtF16FromF32(-1e9f).bits == 0xfc00);
  CHECK(mpcrtF16FromF32(ldexpf(1, -25)).bits == 0);
  CHECK(mpcrtF16FromF32(nextafterf(ldexpf(1, -25), 1)).bits == 1);
  CHECK(mpcrtF16FromF32(INFINITY).bits == 0x7c00);
  MpcrtF16 qn = mpcrtF16FromF32(f32(0x7f800001)); /* signalling NaN in */
  CHECK((qn.bits & 0x7e00) == 0x7e00);
  CHECK(isnan(mpcrtF16ToF32(qn)));
  MpcrtBF16 bn = mpcrtBF16FromF32(f32(0x7f800001));
  CHECK((bn.bits & 0x7fc0) == 0x7fc0);
  CHECK(mpcrtBF16FromF32(3.4e38f).bits == 0x7f80); /* rounds past the largest bf16 */
}

static void testTensors(void) {
  printf("@testTensors\n");
  MpcrtError err;
  MpcrtTensor t;
  CHECK(mpcrtTensorAlloc(&t, MPCRT_F32, 2, (int64_t[]){3, 4}, &err));
  CHECK(mpcrtTensorNumElements(&t) == 12 && mpcrtTensorBytes(&t) == 48);
  char buf[64];
  CHECK(!strcmp(mpcrtTensorDescribe(&t, buf, sizeof buf), "3x4xf32"));
  mpcrtTensorFree(&t);
  CHECK_ERROR(mpcrtTensorAlloc(&t, MPCRT_F32, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, &err), err, "rank 9");
  CHECK_ERROR(mpcrtTensorAlloc(&t, MPCRT_F32, 1, (int64_t[]){-1}, &err), err, "dimension -1");
  CHECK_ERROR(mpcrtTensorAlloc(&t, MPCRT_F64, 2, (int64_t[]){1LL << 30, 1LL << 30}, &err), err, "too large");
  MpcrtDType d;
  CHECK(mpcrtDTypeFromName("bf16", &d) && d == MPCRT_BF16);
  CHECK(!mpcrtDTypeFromName("f8", &d));
}

static void testConvert(void) {
  printf("@testConvert\n");
  MpcrtError err;
  MpcrtTensor u8, f, i64, small;
  CHECK(mpcrtTensorAlloc(&u8, MPCRT_U8, 1, (int64_t[]){3}, &err));
  ((uint8_t *)u8.data)[0] = 0;
  ((uint8_t *)u8.data)[1] = 51;
  ((uint8_t *)u8.data)[2] = 255;
  CHECK(mpcrtConvert(&u8, MPCRT_F32, &f, "pixels", &err));
  CHECK(((float *)f.data)[1] == 0.2f && ((float *)f.data)[2] == 1.0f);
  CHECK(mpcrtConvert(&u8, MPCRT_I64, &i64, "labels", &err)); /* uint8 labels stay integers */
  CHECK(((int64_t *)i64.data)[2] == 255);
  CHECK_ERROR(mpcrtConvert(&f, MPCRT_I64, &small, "x.npy", &err), err, "x.npy: expected integer data (i64), found f32");
  ((int64_t *)i64.data)[2] = 300;
  CHECK_ERROR(mpcrtConvert(&i64, MPCRT_I8, &small, "y.npy", &err), err, "y.npy: value 300 at index 2 does not fit i8");
  MpcrtTensor h, b, u16, back;
  CHECK(mpcrtConvert(&f, MPCRT_F16, &h, "f", &err));
  CHECK(((MpcrtF16 *)h.data)[2].bits == 0x3c00);
  CHECK(mpcrtConvert(&f, MPCRT_BF16, &b, "f", &err));
  /* bf16 saved as uint16 bits reads back as bf16 bits (docs/runtime.md). */
  u16 = b;
  u16.dtype = MPCRT_U16;
  CHECK(mpcrtConvert(&u16, MPCRT_BF16, &back, "b", &err));
  CHECK(!memcmp(back.data, b.data, 6));
  mpcrtTensorFree(&u8);
  mpcrtTensorFree(&f);
  mpcrtTensorFree(&i64);
  mpcrtTensorFree(&h);
  mpcrtTensorFree(&b);
  mpcrtTensorFree(&back);
}

static void fillPattern(MpcrtTensor *t) {
  for (int64_t i = 0; i < mpcrtTensorNumElements(t); ++i)
    mpcrtTensorSetDouble(t, i, mpcrtDTypeInfo(t->dtype)->isFloat ? i * 0.25 - 1 : (double)(i % 7));
}

static void testNpy(void) {
  printf("@testNpy\n");
  MpcrtError err;
  for (int d = 0; d < MPCRT_DTYPE_COUNT; ++d) {
    MpcrtTensor t, r;
    CHECK(mpcrtTensorAlloc(&t, (MpcrtDType)d, 3, (int64_t[]){2, 3, 5}, &err));
    fillPattern(&t);
    CHECK(mpcrtNpyWrite(path("t.npy"), &t, &err));
    CHECK(mpcrtNpyRead(path("t.npy"), &r, &err));
    MpcrtDType expect = d == MPCRT_BF16 ? MPCRT_U16 : (MpcrtDType)d; /* bf16 travels as uint16 */
    CHECK(r.dtype == expect && r.rank == 3 && r.dims[2] == 5);
    CHECK(!memcmp(r.data, t.data, mpcrtTensorBytes(&t)));
    mpcrtTensorFree(&t);
    mpcrtTensorFree(&r);
  }
  /* Rank 0 and rank 1 shapes print as () and (n,). */
  MpcrtTensor s, r;
  CHECK(mpcrtTensorAlloc(&s, MPCRT_F32, 0, NULL, &err));
  CHECK(mpcrtNpyWrite(path("s.npy"), &s, &err) && mpcrtNpyRead(path("s.npy"), &r, &err) && r.rank == 0);
  mpcrtTensorFree(&r);
  unsigned char file[512];
  size_t n = readBytes(path("s.npy"), file, sizeof file);
  CHECK(n == 128 + 4 && file[127] == '\n' && strstr((char *)file + 10, "'shape': ()"));
  /* Errors. */
  CHECK_ERROR(mpcrtNpyRead(path("missing.npy"), &r, &err), err, "missing.npy: cannot open: No such file");
  writeBytes(path("bad.npy"), "NOTNUMPY....", 12);
  CHECK_ERROR(mpcrtNpyRead(path("bad.npy"), &r, &err), err, "not a .npy file");
  writeBytes(path("trunc.npy"), file, n - 2); /* two data bytes short */
  CHECK_ERROR(mpcrtNpyRead(path("trunc.npy"), &r, &err), err, "expected 4 bytes of data for f32, found 2 (truncated?)");
  writeBytes(path("head.npy"), file, 40); /* cut inside the header */
  CHECK_ERROR(mpcrtNpyRead(path("head.npy"), &r, &err), err, "truncated .npy header");
  memcpy(file + 6, "\x04", 1);
  writeBytes(path("ver.npy"), file, n);
  CHECK_ERROR(mpcrtNpyRead(path("ver.npy"), &r, &err), err, "unsupported .npy version 4.0");
  static const char *const headers[][2] = {
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "Fortran-order"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "big-endian"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "unsupported .npy dtype '<c8'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }", "malformed 'shape'"},
      {"{'fortran_order': False, 'shape': (1,), }", "no 'descr'"},
      {"{'descr': '', 'fortran_order': False, 'shape': (1,), }", "empty or malformed 'descr'"},
      {"{'descr': '<', 'fortran_order': False, 'shape': (1,), }", "empty or malformed 'descr'"},
  };
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; ++i) {
    unsigned char f2[256] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t hl = strlen(headers[i][0]);
    f2[8] = (unsigned char)hl;
    memcpy(f2 + 10, headers[i][0], hl);
    writeBytes(path("h.npy"), f2, 10 + hl + 4);
    CHECK_ERROR(mpcrtNpyRead(path("h.npy"), &r, &err), err, headers[i][1]);
  }
  mpcrtTensorFree(&s);
}

static void writeIdx(const char *file, bool gz, int type, int rank, const uint32_t *dims, const void *data,
                     size_t bytes) {
  unsigned char head[4 + 4 * 8] = {0, 0, (unsigned char)type, (unsigned char)rank};
  for (int i = 0; i < rank; ++i)
    for (int b = 0; b < 4; ++b)
      head[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
  if (gz) {
    gzFile g = gzopen(file, "wb");
    gzwrite(g, head, 4 + 4 * (unsigned)rank);
    gzwrite(g, data, (unsigned)bytes);
    gzclose(g);
  } else {
    FILE *f = fopen(file, "wb");
    fwrite(head, 1, 4 + 4 * (size_t)rank, f);
    fwrite(data, 1, bytes, f);
    fclose(f);
  }
}

static void testIdx(void) {
  printf("@testIdx\n");
  MpcrtError err;
  MpcrtTensor t;
  unsigned char pixels[2 * 3 * 4];
  for (size_t i = 0; i < sizeof pixels; ++i)
    pixels[i] = (unsigned char)(i * 10);
  for (int gz = 0; gz < 2; ++gz) {
    writeIdx(path("img.idx"), gz, 0x08, 3, (uint32_t[]){2, 3, 4}, pixels, sizeof pixels);
    CHECK(mpcrtIdxRead(path("img.idx"), &t, &err));
    CHECK(t.dtype == MPCRT_U8 && t.rank == 3 && t.dims[0] == 2 && t.dims[2] == 4);
    CHECK(!memcmp(t.data, pixels, sizeof pixels));
    mpcrtTensorFree(&t);
    CHECK(mpcrtArrayRead(path("img.idx"), &t, &err) && t.dtype == MPCRT_U8);
    mpcrtTensorFree(&t);
  }
  /* Multi-byte types are big endian on disk. */
  unsigned char be[8] = {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0}; /* 1.0f, -2.0f */
  writeIdx(path("f.idx"), false, 0x0D, 1, (uint32_t[]){2}, be, 8);
  CHECK(mpcrtIdxRead(path("f.idx"), &t, &err) && ((float *)t.data)[0] == 1.0f && ((float *)t.data)[1] == -2.0f);
  mpcrtTensorFree(&t);
  unsigned char labels[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  writeIdx(path("short.idx.gz"), true, 0x08, 1, (uint32_t[]){60000}, labels, sizeof labels);
  CHECK_ERROR(mpcrtIdxRead(path("short.idx.gz"), &t, &err), err, "expected 60000 bytes of data for 60000xu8, found 10");
  writeIdx(path("type.idx"), false, 0x0A, 1, (uint32_t[]){1}, labels, 1);
  CHECK_ERROR(mpcrtIdxRead(path("type.idx"), &t, &err), err, "unknown IDX type 0x0a");
  writeIdx(path("rank.idx"), false, 0x08, 1, (uint32_t[]){1}, labels, 1);
  unsigned char raw[64];
  size_t n = readBytes(path("rank.idx"), raw, sizeof raw);
  raw[3] = 3; /* claims 3 dims, has bytes for 1 and a half */
  writeBytes(path("rank.idx"), raw, 6);
  CHECK_ERROR(mpcrtIdxRead(path("rank.idx"), &t, &err), err, "truncated IDX header");
  (void)n;
  /* A gzip stream cut short and one with corrupt bytes. */
  writeIdx(path("cut.idx.gz"), true, 0x08, 3, (uint32_t[]){2, 3, 4}, pixels, sizeof pixels);
  n = readBytes(path("cut.idx.gz"), raw, sizeof raw);
  writeBytes(path("cut.idx.gz"), raw, n - 12);
  CHECK(!mpcrtIdxRead(path("cut.idx.gz"), &t, &err));
  CHECK(strstr(err.message, "cut.idx.gz: ") != NULL);
  raw[n / 2] ^= 0xff;
  raw[n / 2 + 1] ^= 0xff;
  writeBytes(path("flip.idx.gz"), raw, n);
  CHECK(!mpcrtIdxRead(path("flip.idx.gz"), &t, &err));
  CHECK(strstr(err.message, "flip.idx.gz: ") != NULL);
  writeBytes(path("text.dat"), "hello world", 11);
  CHECK_ERROR(mpcrtArrayRead(path("text.dat"), &t, &err), err, "not a .npy or IDX file");
}

static void testSafetensors(void) {
  printf("@testSafetensors\n");
  MpcrtError err;
  MpcrtTensorSet set = {0}, back;
  for (int d = 0; d < MPCRT_DTYPE_COUNT; ++d) {
    MpcrtTensor t;
    CHECK(mpcrtTensorAlloc(&t, (MpcrtDType)d, 2, (int64_t[]){3, d + 1}, &err));
    fillPattern(&t);
    char name[64];
    snprintf(name, sizeof name, "layer.%s \"quoted\"", mpcrtDTypeInfo((MpcrtDType)d)->name);
    mpcrtTensorSetAdd(&set, name, t);
  }
  MpcrtTensor scalar;
  CHECK(mpcrtTensorAlloc(&scalar, MPCRT_F32, 0, NULL, &err));
  mpcrtTensorSetAdd(&set, "scalar", scalar);
  CHECK(mpcrtSafetensorsWrite(path("ck.safetensors"), &set, &err));
  CHECK(access(path("ck.safetensors"), F_OK) == 0);
  CHECK(mpcrtSafetensorsRead(path("ck.safetensors"), &back, &err));
  CHECK(back.count == set.count);
  for (size_t i = 0; i < set.count && i < back.count; ++i) {
    const MpcrtTensor *a = &set.items[i].tensor, *b = mpcrtTensorSetFind(&back, set.items[i].name);
    CHECK(b && b->dtype == a->dtype && b->rank == a->rank && !memcmp(a->data, b->data, mpcrtTensorBytes(a)));
  }
  mpcrtTensorSetFree(&back);
  /* The header is 8-byte aligned JSON with the data after it. */
  unsigned char raw[4096];
  size_t n = readBytes(path("ck.safetensors"), raw, sizeof raw);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; --i)
    hl = hl << 8 | raw[i];
  CHECK(hl % 8 == 0 && hl < n && raw[8] == '{');
  /* Truncation anywhere fails cleanly. */
  int cleanFailures = 0;
  for (size_t cut = 0; cut < n; cut += 7) {
    writeBytes(path("cut.safetensors"), raw, cut);
    cleanFailures += !mpcrtSafetensorsRead(path("cut.safetensors"), &back, &err) && strstr(err.message, "cut.safetensors: ");
  }
  CHECK(cleanFailures == (int)((n + 6) / 7));
  /* Malformed headers. */
  static const char *const headers[][2] = {
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,400]}}", "(truncated?)"},
      {"{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unsupported dtype 'C64'"},
      {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "lacks 'shape'"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
       "appears twice"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "expected '}'"},
      {"[1,2]", "expected '{'"},
      {"{\"__metadata__\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}", "nesting too deep"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "expected a non-negative integer"},
  };
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; ++i) {
    unsigned char file[512] = {0};
    size_t len = strlen(headers[i][0]);
    file[0] = (unsigned char)len;
    memcpy(file + 8, headers[i][0], len);
    writeBytes(path("bad.safetensors"), file, 8 + len + 4);
    CHECK_ERROR(mpcrtSafetensorsRead(path("bad.safetensors"), &back, &err), err, headers[i][1]);
  }
  /* Metadata is skipped; escapes decode. */
  const char *ok = "{\"__metadata__\":{\"format\":\"pt\",\"x\":[true,null,1.5e3]},\"caf\\u00e9\\n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
  unsigned char file[512] = {0};
  size_t len = strlen(ok);
  file[0] = (unsigned char)len;
  memcpy(file + 8, ok, len);
  file[8 + len] = 42;
  writeBytes(path("meta.safetensors"), file, 8 + len + 8);
  CHECK(mpcrtSafetensorsRead(path("meta.safetensors"), &back, &err));
  const MpcrtTensor *cafe = mpcrtTensorSetFind(&back, "caf\xc3\xa9\n");
  CHECK(cafe && cafe->rank == 0 && ((int64_t *)cafe->data)[0] == 42);
  mpcrtTensorSetFree(&back);
  /* An unwritable path fails and leaves no temporary file behind. */
  CHECK_ERROR(mpcrtSafetensorsWrite(path("no/such/dir/ck.safetensors"), &set, &err), err, "cannot write");
  mpcrtTensorSetFree(&set);
}

static void testInit(void) {
  printf("@testInit\n");
  MpcrtError err;
  MpcrtRng a, b;
  mpcrtRngSeedFor(&a, 42, "fc1.weight");
  mpcrtRngSeedFor(&b, 42, "fc1.weight");
  bool same = true;
  for (int i = 0; i < 100; ++i)
    same &= mpcrtRngNext(&a) == mpcrtRngNext(&b);
  CHECK(same);
  mpcrtRngSeedFor(&b, 42, "fc1.bias");
  CHECK(mpcrtRngNext(&a) != mpcrtRngNext(&b));
  mpcrtRngSeedFor(&b, 43, "fc1.weight");
  mpcrtRngSeedFor(&a, 42, "fc1.weight");
  CHECK(mpcrtRngNext(&a) != mpcrtRngNext(&b));
  /* kaiming_uniform(a=sqrt(5)) and the bias rule: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  MpcrtTensor w;
  CHECK(mpcrtTensorAlloc(&w, MPCRT_F32, 2, (int64_t[]){256, 784}, &err));
  mpcrtRngSeedFor(&a, 1, "w");
  CHECK(mpcrtInitTensor(&w, MPCRT_INIT_KAIMING_UNIFORM, 784, &a, &err));
  double bound = 1 / sqrt(784.0), lo = 1, hi = -1, sum = 0, sq = 0;
  int64_t n = mpcrtTensorNumElements(&w);
  for (int64_t i = 0; i < n; ++i) {
    double v = ((float *)w.data)[i];
    lo = fmin(lo, v);
    hi = fmax(hi, v);
    sum += v;
    sq += v * v;
  }
  CHECK(lo >= -bound && hi <= bound);
  CHECK(lo < -0.99 * bound && hi > 0.99 * bound); /* fills the range */
  /* Uniform(-b, b): mean 0, variance b^2/3; 200k samples, 5-sigma bounds. */
  double mean = sum / (double)n, var = sq / (double)n - mean * mean;
  CHECK(fabs(mean) < 5 * bound / sqrt(3.0 * (double)n));
  CHECK(fabs(var - bound * bound / 3) < 0.02 * bound * bound);
  mpcrtRngSeedFor(&a, 1, "e");
  CHECK(mpcrtInitTensor(&w, MPCRT_INIT_NORMAL, 0, &a, &err));
  sum = sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = ((float *)w.data)[i];
    sum += v;
    sq += v * v;
  }
  mean = sum / (double)n;
  var = sq / (double)n - mean * mean;
  CHECK(fabs(mean) < 5 / sqrt((double)n) && fabs(var - 1) < 0.02);
  CHECK(mpcrtInitTensor(&w, MPCRT_INIT_ONES, 0, &a, &err) && ((float *)w.data)[n - 1] == 1.0f);
  CHECK(mpcrtInitTensor(&w, MPCRT_INIT_ZEROS, 0, &a, &err) && ((float *)w.data)[0] == 0.0f);
  CHECK_ERROR(mpcrtInitTensor(&w, MPCRT_INIT_UNIFORM_FAN_IN, 0, &a, &err), err, "needs a positive fan-in");
  mpcrtTensorFree(&w);
  MpcrtTensor ids;
  CHECK(mpcrtTensorAlloc(&ids, MPCRT_I64, 1, (int64_t[]){4}, &err));
  CHECK_ERROR(mpcrtInitTensor(&ids, MPCRT_INIT_ZEROS, 0, &a, &err), err, "cannot initialise i64");
  mpcrtTensorFree(&ids);
  MpcrtInit init;
  CHECK(mpcrtInitFromName("uniform_fan_in", &init) && init == MPCRT_INIT_UNIFORM_FAN_IN);
  CHECK(!mpcrtInitFromName("xavier", &init));
  /* bf16 parameters are rounded once from the f64 draw. */
  MpcrtTensor hb;
  CHECK(mpcrtTensorAlloc(&hb, MPCRT_BF16, 1, (int64_t[]){8}, &err));
  mpcrtRngSeedFor(&a, 7, "b");
  CHECK(mpcrtInitTensor(&hb, MPCRT_INIT_UNIFORM_FAN_IN, 4, &a, &err));
  CHECK(fabs(mpcrtTensorGetDouble(&hb, 3)) <= 0.5);
  mpcrtTensorFree(&hb);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : ".";
  testHalfRounding();
  testTensors();
  testConvert();
  testNpy();
  testIdx();
  testSafetensors();
  testInit();
  return MPC_CHECK_SUMMARY();
}
