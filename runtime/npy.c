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
  char q = *p++, descr[16] = {0};
  size_t n = 0;
  while (*p && *p != q && n + 1 < sizeof descr)
    descr[n++] = *p++;
  if (n < 2) /* found by the fuzzer: an empty descr lost its terminator below */
    return mpcrtFail(err, "%s: .npy header has an empty or malformed 'descr'", path);
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

/* Checks the magic and version and finds the header text and the data. */
static bool splitFile(const char *path, const unsigned char *buf, size_t len, char **header, size_t *dataStart,
                      MpcrtError *err) {
  if (len < 10 || memcmp(buf, magic, 6))
    return mpcrtFail(err, "%s: not a .npy file (expected the \\x93NUMPY magic)", path);
  if (buf[6] < 1 || buf[6] > 3)
    return mpcrtFail(err, "%s: unsupported .npy version %d.%d (expected 1.0 to 3.0)", path, buf[6], buf[7]);
  size_t lengthBytes = buf[6] == 1 ? 2 : 4, headerLen = 0;
  if (len < 8 + lengthBytes)
    return mpcrtFail(err, "%s: truncated .npy header", path);
  for (size_t i = lengthBytes; i-- > 0;)
    headerLen = headerLen << 8 | buf[8 + i];
  *dataStart = 8 + lengthBytes + headerLen;
  if (*dataStart > len)
    return mpcrtFail(err, "%s: truncated .npy header (expected %zu header bytes, file has %zu)", path, headerLen, len);
  *header = malloc(headerLen + 1);
  if (!*header)
    return mpcrtFail(err, "%s: out of memory", path);
  memcpy(*header, buf + 8 + lengthBytes, headerLen);
  (*header)[headerLen] = '\0';
  return true;
}

bool mpcrtNpyRead(const char *path, MpcrtTensor *out, MpcrtError *err) {
  unsigned char *buf;
  size_t len, dataStart = 0;
  if (!mpcrtReadFile(path, &buf, &len, err))
    return false;
  char *header = NULL;
  MpcrtTensor shape = {0};
  MpcrtDType dtype = MPCRT_F32;
  bool ok = splitFile(path, buf, len, &header, &dataStart, err) &&
            parseDescr(path, findKey(header, "descr"), &dtype, err) &&
            parseShape(path, findKey(header, "shape"), &shape, err);
  if (ok) {
    const char *fortran = findKey(header, "fortran_order");
    if (!fortran || strncmp(fortran, "False", 5))
      ok = mpcrtFail(err, "%s: Fortran-order (or unspecified) data is not supported; save it in C order", path);
  }
  if (ok && (ok = mpcrtAllocForData(path, dtype, shape.rank, shape.dims, len - dataStart, out, err)))
    memcpy(out->data, buf + dataStart, mpcrtTensorBytes(out));
  free(header);
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
