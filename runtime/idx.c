/*===- idx.c - MNIST IDX files, gzipped or not ------------------*- C -*-===*
 *
 * Two zero bytes, a type byte (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int,
 * 0x0D float, 0x0E double), the number of dimensions, each dimension as a
 * big-endian uint32, then big-endian data. zlib reads plain files too, so
 * one path serves both.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Reads the whole (possibly gzipped) file. */
static bool readGz(const char *path, unsigned char **data, size_t *length, MpcrtError *err) {
  gzFile gz = gzopen(path, "rb");
  if (!gz)
    return mpcrtFail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
  size_t cap = 1 << 20, len = 0;
  unsigned char *buf = malloc(cap);
  int n = 0;
  while (buf && (n = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
    len += (size_t)n;
    if (len == cap) {
      unsigned char *grown = realloc(buf, cap * 2);
      if (!grown)
        free(buf);
      buf = grown;
      cap *= 2;
    }
  }
  int code = Z_OK;
  const char *msg = n < 0 ? gzerror(gz, &code) : NULL;
  char detail[128] = "";
  if (msg)
    snprintf(detail, sizeof detail, "%s", msg);
  gzclose(gz);
  if (!buf)
    return mpcrtFail(err, "%s: out of memory while reading", path);
  if (n < 0) {
    free(buf);
    return mpcrtFail(err, "%s: corrupt or truncated gzip data: %s", path, detail);
  }
  *data = buf;
  *length = len;
  return true;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool mpcrtIdxRead(const char *path, MpcrtTensor *out, MpcrtError *err) {
  unsigned char *buf = NULL;
  size_t len = 0;
  if (!readGz(path, &buf, &len, err))
    return false;
  static const struct { unsigned char code; MpcrtDType dtype; } types[] = {
      {0x08, MPCRT_U8}, {0x09, MPCRT_I8}, {0x0B, MPCRT_I16}, {0x0C, MPCRT_I32}, {0x0D, MPCRT_F32}, {0x0E, MPCRT_F64}};
  bool ok = false;
  int type = -1;
  for (size_t i = 0; len >= 4 && i < sizeof types / sizeof types[0]; ++i)
    if (buf[2] == types[i].code)
      type = (int)i;
  if (len < 4 || buf[0] != 0 || buf[1] != 0) {
    mpcrtFail(err, "%s: not an IDX file (expected two zero bytes, a type and a rank)", path);
  } else if (type < 0) {
    mpcrtFail(err, "%s: unknown IDX type 0x%02x (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)", path, buf[2]);
  } else if (buf[3] > MPCRT_MAX_RANK) {
    mpcrtFail(err, "%s: IDX rank %d is above the supported %d", path, buf[3], MPCRT_MAX_RANK);
  } else if (len < 4 + 4 * (size_t)buf[3]) {
    mpcrtFail(err, "%s: truncated IDX header (expected %d dimensions)", path, buf[3]);
  } else {
    int rank = buf[3];
    int64_t dims[MPCRT_MAX_RANK];
    for (int i = 0; i < rank; ++i)
      dims[i] = be32(buf + 4 + 4 * i);
    size_t start = 4 + 4 * (size_t)rank;
    if (mpcrtAllocForData(path, types[type].dtype, rank, dims, len - start, out, err)) {
      size_t size = mpcrtDTypeInfo(out->dtype)->size, bytes = mpcrtTensorBytes(out);
      unsigned char *dst = out->data;
      for (size_t i = 0; i < bytes; i += size) /* big endian to little endian */
        for (size_t b = 0; b < size; ++b)
          dst[i + b] = buf[start + i + size - 1 - b];
      ok = true;
    }
  }
  free(buf);
  return ok;
}

bool mpcrtArrayRead(const char *path, MpcrtTensor *out, MpcrtError *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return mpcrtFail(err, "%s: cannot open: %s", path, strerror(errno));
  unsigned char head[6] = {0};
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (n >= 6 && !memcmp(head, "\x93NUMPY", 6))
    return mpcrtNpyRead(path, out, err);
  if (n >= 2 && ((head[0] == 0x1f && head[1] == 0x8b) || (head[0] == 0 && head[1] == 0)))
    return mpcrtIdxRead(path, out, err);
  return mpcrtFail(err, "%s: not a .npy or IDX file (expected \\x93NUMPY, gzip data or an IDX header)", path);
}
