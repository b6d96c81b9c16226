/*===- tensor.c - element types, f16/bf16, tensors, conversion --*- C -*-===*/
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const MpcrtDTypeInfo dtypes[MPCRT_DTYPE_COUNT] = {
    [MPCRT_F16] = {.name = "f16", .size = 2, .npy = "<f2", .safetensors = "F16", .isFloat = true, .isSigned = true},
    [MPCRT_BF16] = {.name = "bf16", .size = 2, .npy = "<u2", .safetensors = "BF16", .isFloat = true, .isSigned = true},
    [MPCRT_F32] = {.name = "f32", .size = 4, .npy = "<f4", .safetensors = "F32", .isFloat = true, .isSigned = true},
    [MPCRT_F64] = {.name = "f64", .size = 8, .npy = "<f8", .safetensors = "F64", .isFloat = true, .isSigned = true},
    [MPCRT_I8] = {.name = "i8", .size = 1, .npy = "|i1", .safetensors = "I8", .isSigned = true},
    [MPCRT_I16] = {.name = "i16", .size = 2, .npy = "<i2", .safetensors = "I16", .isSigned = true},
    [MPCRT_I32] = {.name = "i32", .size = 4, .npy = "<i4", .safetensors = "I32", .isSigned = true},
    [MPCRT_I64] = {.name = "i64", .size = 8, .npy = "<i8", .safetensors = "I64", .isSigned = true},
    [MPCRT_U8] = {.name = "u8", .size = 1, .npy = "|u1", .safetensors = "U8"},
    [MPCRT_U16] = {.name = "u16", .size = 2, .npy = "<u2", .safetensors = "U16"},
    [MPCRT_BOOL] = {.name = "bool", .size = 1, .npy = "|b1", .safetensors = "BOOL"},
};

const MpcrtDTypeInfo *mpcrtDTypeInfo(MpcrtDType dtype) { return &dtypes[dtype]; }

bool mpcrtDTypeFromName(const char *name, MpcrtDType *out) {
  for (int d = 0; d < MPCRT_DTYPE_COUNT; ++d)
    if (!strcmp(dtypes[d].name, name)) {
      *out = (MpcrtDType)d;
      return true;
    }
  return false;
}

/*---------------------------------------------------------------------------
 * f16 and bf16: round to nearest even, NaN stays a quiet NaN
 *---------------------------------------------------------------------------*/

static uint32_t bitsOf(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static float floatOf(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

MpcrtF16 mpcrtF16FromF32(float x) {
  uint32_t u = bitsOf(x), sign = (u >> 16) & 0x8000, a = u & 0x7fffffff;
  if (a > 0x7f800000) /* NaN: keep the top payload bits, force quiet */
    return (MpcrtF16){(uint16_t)(sign | 0x7e00 | ((a >> 13) & 0x3ff))};
  if (a >= 0x477ff000) /* >= 65520 rounds to infinity */
    return (MpcrtF16){(uint16_t)(sign | 0x7c00)};
  if (a < 0x38800000) { /* below 2^-14: a subnormal half, or zero */
    if (a <= 0x33000000) /* <= 2^-25 rounds to zero (2^-25 is a tie to even 0) */
      return (MpcrtF16){(uint16_t)sign};
    uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000, shift = 126 - e;
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    h += rem > half || (rem == half && (h & 1));
    return (MpcrtF16){(uint16_t)(sign | h)};
  }
  uint32_t h = (a - 0x38000000) >> 13, rem = a & 0x1fff;
  h += rem > 0x1000 || (rem == 0x1000 && (h & 1)); /* a carry into the exponent is right */
  return (MpcrtF16){(uint16_t)(sign | h)};
}

float mpcrtF16ToF32(MpcrtF16 hv) {
  uint32_t h = hv.bits, sign = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0) {
    float v = ldexpf((float)m, -24);
    return sign ? -v : v;
  }
  if (e == 31)
    return floatOf(sign | 0x7f800000 | (m << 13) | (m ? 0x400000 : 0));
  return floatOf(sign | ((e + 112) << 23) | (m << 13));
}

MpcrtBF16 mpcrtBF16FromF32(float x) {
  uint32_t u = bitsOf(x);
  if ((u & 0x7fffffff) > 0x7f800000)
    return (MpcrtBF16){(uint16_t)((u >> 16) | 0x0040)};
  u += 0x7fff + ((u >> 16) & 1);
  return (MpcrtBF16){(uint16_t)(u >> 16)};
}

float mpcrtBF16ToF32(MpcrtBF16 b) { return floatOf((uint32_t)b.bits << 16); }

/*---------------------------------------------------------------------------
 * Tensors
 *---------------------------------------------------------------------------*/

int64_t mpcrtTensorNumElements(const MpcrtTensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; ++i)
    n *= t->dims[i];
  return n;
}

size_t mpcrtTensorBytes(const MpcrtTensor *t) {
  return (size_t)mpcrtTensorNumElements(t) * dtypes[t->dtype].size;
}

bool mpcrtShapeBytes(MpcrtDType dtype, int rank, const int64_t *dims, uint64_t *bytes, MpcrtError *err) {
  if (rank < 0 || rank > MPCRT_MAX_RANK)
    return mpcrtFail(err, "rank %d is out of range (at most %d)", rank, MPCRT_MAX_RANK);
  /* At most 2^40 bytes; the product is checked before it can overflow. */
  const uint64_t limit = ((uint64_t)1 << 40) / dtypes[dtype].size;
  uint64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return mpcrtFail(err, "dimension %lld is out of range", (long long)dims[i]);
    if (dims[i] > 0 && n > limit / (uint64_t)dims[i])
      return mpcrtFail(err, "a %s tensor of more than %llu elements is too large", dtypes[dtype].name,
                       (unsigned long long)limit);
    n *= (uint64_t)dims[i];
  }
  *bytes = n * dtypes[dtype].size;
  return true;
}

bool mpcrtTensorAlloc(MpcrtTensor *t, MpcrtDType dtype, int rank, const int64_t *dims, MpcrtError *err) {
  uint64_t bytes;
  if (!mpcrtShapeBytes(dtype, rank, dims, &bytes, err))
    return false;
  *t = (MpcrtTensor){.dtype = dtype, .rank = rank};
  for (int i = 0; i < rank; ++i)
    t->dims[i] = dims[i];
  uint64_t n = bytes / dtypes[dtype].size;
  t->data = calloc(n ? n : 1, dtypes[dtype].size);
  if (!t->data)
    return mpcrtFail(err, "out of memory for %llu elements", (unsigned long long)n);
  return true;
}

bool mpcrtAllocForData(const char *path, MpcrtDType dtype, int rank, const int64_t *dims, size_t have,
                       MpcrtTensor *out, MpcrtError *err) {
  uint64_t want = 0;
  if (!mpcrtShapeBytes(dtype, rank, dims, &want, err)) {
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    return mpcrtFail(err, "%s: %s", path, why);
  }
  if (have != want) {
    MpcrtTensor shape = {.dtype = dtype, .rank = rank};
    memcpy(shape.dims, dims, (size_t)rank * sizeof *dims);
    char desc[96];
    return mpcrtFail(err, "%s: expected %llu bytes of data for %s, found %zu%s", path, (unsigned long long)want,
                     mpcrtTensorDescribe(&shape, desc, sizeof desc), have, have < want ? " (truncated?)" : "");
  }
  return mpcrtTensorAlloc(out, dtype, rank, dims, err);
}

void mpcrtTensorFree(MpcrtTensor *t) {
  free(t->data);
  t->data = NULL;
}

const char *mpcrtTensorDescribe(const MpcrtTensor *t, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < t->rank && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, "%lldx", (long long)t->dims[i]);
  if (used < size)
    snprintf(buf + used, size - used, "%s", dtypes[t->dtype].name);
  return buf;
}

double mpcrtTensorGetDouble(const MpcrtTensor *t, int64_t i) {
  const void *p = (const char *)t->data + (size_t)i * dtypes[t->dtype].size;
  switch (t->dtype) {
  case MPCRT_F16: return mpcrtF16ToF32(*(const MpcrtF16 *)p);
  case MPCRT_BF16: return mpcrtBF16ToF32(*(const MpcrtBF16 *)p);
  case MPCRT_F32: return *(const float *)p;
  case MPCRT_F64: return *(const double *)p;
  case MPCRT_I8: return *(const int8_t *)p;
  case MPCRT_I16: return *(const int16_t *)p;
  case MPCRT_I32: return *(const int32_t *)p;
  case MPCRT_I64: return (double)*(const int64_t *)p;
  case MPCRT_U8: return *(const uint8_t *)p;
  case MPCRT_U16: return *(const uint16_t *)p;
  case MPCRT_BOOL: return *(const uint8_t *)p != 0;
  case MPCRT_DTYPE_COUNT: break;
  }
  return 0;
}

void mpcrtTensorSetDouble(MpcrtTensor *t, int64_t i, double v) {
  void *p = (char *)t->data + (size_t)i * dtypes[t->dtype].size;
  switch (t->dtype) {
  case MPCRT_F16: *(MpcrtF16 *)p = mpcrtF16FromF32((float)v); break;
  case MPCRT_BF16: *(MpcrtBF16 *)p = mpcrtBF16FromF32((float)v); break;
  case MPCRT_F32: *(float *)p = (float)v; break;
  case MPCRT_F64: *(double *)p = v; break;
  case MPCRT_I8: *(int8_t *)p = (int8_t)v; break;
  case MPCRT_I16: *(int16_t *)p = (int16_t)v; break;
  case MPCRT_I32: *(int32_t *)p = (int32_t)v; break;
  case MPCRT_I64: *(int64_t *)p = (int64_t)v; break;
  case MPCRT_U8: *(uint8_t *)p = (uint8_t)v; break;
  case MPCRT_U16: *(uint16_t *)p = (uint16_t)v; break;
  case MPCRT_BOOL: *(uint8_t *)p = v != 0; break;
  case MPCRT_DTYPE_COUNT: break;
  }
}

/* Integers as int64 (exact for every integer type here). */
static int64_t getInt(const MpcrtTensor *t, int64_t i) {
  const void *p = (const char *)t->data + (size_t)i * dtypes[t->dtype].size;
  switch (t->dtype) {
  case MPCRT_I64: return *(const int64_t *)p;
  default: return (int64_t)mpcrtTensorGetDouble(t, i);
  }
}

static bool intFits(int64_t v, MpcrtDType to) {
  switch (to) {
  case MPCRT_I8: return v >= INT8_MIN && v <= INT8_MAX;
  case MPCRT_I16: return v >= INT16_MIN && v <= INT16_MAX;
  case MPCRT_I32: return v >= INT32_MIN && v <= INT32_MAX;
  case MPCRT_U8: return v >= 0 && v <= UINT8_MAX;
  case MPCRT_U16: return v >= 0 && v <= UINT16_MAX;
  case MPCRT_BOOL: return v == 0 || v == 1;
  default: return true;
  }
}

bool mpcrtConvert(const MpcrtTensor *src, MpcrtDType to, MpcrtTensor *dst, const char *what, MpcrtError *err) {
  const MpcrtDTypeInfo *from = &dtypes[src->dtype], *into = &dtypes[to];
  if (from->isFloat && !into->isFloat)
    return mpcrtFail(err, "%s: expected integer data (%s), found %s", what, into->name, from->name);
  if (!mpcrtTensorAlloc(dst, to, src->rank, src->dims, err))
    return false;
  int64_t n = mpcrtTensorNumElements(src);
  if (src->dtype == to) {
    memcpy(dst->data, src->data, mpcrtTensorBytes(src));
  } else if (src->dtype == MPCRT_U16 && to == MPCRT_BF16) {
    memcpy(dst->data, src->data, mpcrtTensorBytes(src)); /* bf16 bits stored as uint16 (docs/runtime.md) */
  } else if (src->dtype == MPCRT_U8 && into->isFloat) {
    /* Image bytes: 0..255 -> 0..1, each value rounded once from the exact
     * quotient (a table of the 256 results). */
    MpcrtTensor table = {.dtype = to, .rank = 1, .dims = {256}};
    if (!mpcrtTensorAlloc(&table, to, 1, table.dims, err)) {
      mpcrtTensorFree(dst);
      return false;
    }
    for (int v = 0; v < 256; ++v)
      mpcrtTensorSetDouble(&table, v, v / 255.0);
    const uint8_t *in = src->data;
    if (into->size == 2)
      for (int64_t i = 0; i < n; ++i)
        ((uint16_t *)dst->data)[i] = ((const uint16_t *)table.data)[in[i]];
    else if (into->size == 4)
      for (int64_t i = 0; i < n; ++i)
        ((uint32_t *)dst->data)[i] = ((const uint32_t *)table.data)[in[i]];
    else
      for (int64_t i = 0; i < n; ++i)
        ((uint64_t *)dst->data)[i] = ((const uint64_t *)table.data)[in[i]];
    mpcrtTensorFree(&table);
  } else if (!from->isFloat && !into->isFloat) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = getInt(src, i);
      if (!intFits(v, to)) {
        mpcrtTensorFree(dst);
        return mpcrtFail(err, "%s: value %lld at index %lld does not fit %s", what, (long long)v, (long long)i,
                         into->name);
      }
      mpcrtTensorSetDouble(dst, i, (double)v);
      if (to == MPCRT_I64)
        ((int64_t *)dst->data)[i] = v;
    }
  } else {
    for (int64_t i = 0; i < n; ++i)
      mpcrtTensorSetDouble(dst, i, mpcrtTensorGetDouble(src, i));
  }
  return true;
}
