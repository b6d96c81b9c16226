/*===- npy.c - NumPy .npy files ----------------------------------*- C -*-===*
 *
 * Format versions 1.0, 2.0 and 3.0: magic "\x93NUMPY", version, header
 * length (2 bytes LE in 1.0, 4 bytes after), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and a newline, then the data in C order. bf16 has no NumPy type: it
 * is written as '<u2' holding the bf16 bits (docs/runtime.md).
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char magic[] = "\x93NUMPY";

/* Finds 'key': in the header and returns the text after the colon. */
static const char *findKey(const char *header, const char *key) {
  char quoted[32];
  snprintf(quoted, sizeof quoted, "'%s'", key);
  const char *p = strstr(header, quoted);
  if (!p) {
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    p = strstr(header, quoted);
  }
  if (!p)
    return NULL;
  p += strlen(quoted);
  while (isspace((unsigned char)*p))
    ++p;
  if (*p != ':')
    return NULL;
  for (++p; isspace((unsigned char)*p); ++p) {
  }
  return p;
}

static bool parseDescr(const char *path, const char *p, MpcrtDType *out, MpcrtError *err) {
  if (!p || (*p != '\'' && *p != '"'))
    return mpcrtFail(err, "%s: .npy header has no 'descr' string", path);
  char q = *p++, descr[16];
  size_t n = 0;
  while (*p && *p != q && n + 1 < sizeof descr)
    descr[n++] = *p++;
  descr[n] = '\0';
  if (descr[0] == '=' || descr[0] == '|')
    descr[0] = '<'; /* native or not applicable: little endian here */
  if (descr[0] == '>' && strcmp(descr + 1, "i1") && strcmp(descr + 1, "u1") && strcmp(descr + 1, "b1"))
    return mpcrtFail(err, "%s: big-endian data ('%s') is not supported; save it little-endian", path, descr);
  descr[0] = '<';
  static const struct { const char *descr; MpcrtDType dtype; } known[] = {
      {"<f2", MPCRT_F16}, {"<f4", MPCRT_F32}, {"<f8", MPCRT_F64}, {"<i1", MPCRT_I8},  {"<i2", MPCRT_I16},
      {"<i4", MPCRT_I32}, {"<i8", MPCRT_I64}, {"<u1", MPCRT_U8},  {"<u2", MPCRT_U16}, {"<b1", MPCRT_BOOL},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i)
    if (!strcmp(descr, known[i].descr)) {
      *out = known[i].dtype;
      return true;
    }
  return mpcrtFail(err, "%s: unsupported .npy dtype '%s' (expected f2, f4, f8, i1, i2, i4, i8, u1, u2 or b1)", path,
                   descr);
}

static bool parseShape(const char *path, const char *p, MpcrtTensor *t, MpcrtError *err) {
  if (!p || *p != '(')
    return mpcrtFail(err, "%s: .npy header has no 'shape' tuple", path);
  t->rank = 0;
  for (++p;;) {
    while (isspace((unsigned char)*p) || *p == ',')
      ++p;
    if (*p == ')')
      return true;
    if (!isdigit((unsigned char)*p))
      return mpcrtFail(err, "%s: malformed 'shape' in the .npy header", path);
    if (t->rank == MPCRT_MAX_RANK)
      return mpcrtFail(err, "%s: rank above %d is not supported", path, MPCRT_MAX_RANK);
    char *end;
    long long d = strtoll(p, &end, 10);
    if (d < 0 || end == p || d > (1LL << 40))
      return mpcrtFail(err, "%s: malformed 'shape' in the .npy header", path);
    t->dims[t->rank++] = d;
    p = end;
  }
}

bool mpcrtNpyRead(const char *path, MpcrtTensor *out, MpcrtError *err) {
  unsigned char *buf;
  size_t len;
  if (!mpcrtReadFile(path, &buf, &len, err))
    return false;
  bool ok = false;
  MpcrtTensor shape = {0};
  MpcrtDType dtype = MPCRT_F32;
  size_t headerLen, dataStart;
  if (len < 10 || memcmp(buf, magic, 6)) {
    mpcrtFail(err, "%s: not a .npy file (expected the \\x93NUMPY magic)", path);
  } else if (buf[6] < 1 || buf[6] > 3) {
    mpcrtFail(err, "%s: unsupported .npy version %d.%d (expected 1.0 to 3.0)", path, buf[6], buf[7]);
  } else {
    bool v1 = buf[6] == 1;
    headerLen = v1 ? (size_t)buf[8] | (size_t)buf[9] << 8
                   : len < 12 ? SIZE_MAX : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    dataStart = (v1 ? 10 : 12) + headerLen;
    if (headerLen == SIZE_MAX || dataStart > len) {
      mpcrtFail(err, "%s: truncated .npy header (expected %zu header bytes, file has %zu)", path,
                headerLen == SIZE_MAX ? 0 : headerLen, len);
    } else {
      char *header = malloc(headerLen + 1);
      if (!header) {
        mpcrtFail(err, "%s: out of memory", path);
      } else {
        memcpy(header, buf + (v1 ? 10 : 12), headerLen);
        header[headerLen] = '\0';
        const char *fortran = findKey(header, "fortran_order");
        if (parseDescr(path, findKey(header, "descr"), &dtype, err) &&
            parseShape(path, findKey(header, "shape"), &shape, err)) {
          if (!fortran || strncmp(fortran, "False", 5))
            mpcrtFail(err, "%s: Fortran-order (or unspecified) data is not supported; save it in C order", path);
          else {
            uint64_t want = 0;
            size_t have = len - dataStart;
            char desc[96];
            shape.dtype = dtype;
            if (!mpcrtShapeBytes(dtype, shape.rank, shape.dims, &want, err)) {
              char why[sizeof err->message];
              snprintf(why, sizeof why, "%s", err->message);
              mpcrtFail(err, "%s: %s", path, why);
            } else if (have != want) {
              mpcrtFail(err, "%s: expected %llu bytes of data for %s, found %zu%s", path, (unsigned long long)want,
                        mpcrtTensorDescribe(&shape, desc, sizeof desc), have, have < want ? " (truncated?)" : "");
            } else if (mpcrtTensorAlloc(out, dtype, shape.rank, shape.dims, err)) {
              memcpy(out->data, buf + dataStart, want);
              ok = true;
            }
          }
        }
        free(header);
      }
    }
  }
  free(buf);
  return ok;
}

bool mpcrtNpyWrite(const char *path, const MpcrtTensor *t, MpcrtError *err) {
  char dict[512], shape[256] = "(";
  size_t used = 1;
  for (int i = 0; i < t->rank; ++i)
    used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
  snprintf(shape + used, sizeof shape - used, "%s)", t->rank == 1 ? "," : "");
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   mpcrtDTypeInfo(t->dtype)->npy, shape);
  /* Pad with spaces so that magic + version + length + header is a multiple
   * of 64, ending in a newline. */
  size_t total = 10 + (size_t)n + 1, padded = (total + 63) / 64 * 64, headerLen = padded - 10;
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(headerLen & 0xff),
                              (unsigned char)(headerLen >> 8)};
  char tmp[4096];
  FILE *f = mpcrtAtomicOpen(path, tmp, sizeof tmp, err);
  if (!f)
    return false;
  fwrite(prefix, 1, sizeof prefix, f);
  fwrite(dict, 1, (size_t)n, f);
  for (size_t i = total; i < padded; ++i)
    fputc(' ', f);
  fputc('\n', f);
  size_t bytes = mpcrtTensorBytes(t);
  bool ok = bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes;
  return mpcrtAtomicCommit(f, tmp, path, ok, err);
}
