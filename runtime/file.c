/*===- file.c - whole-file reads, atomic writes, errors ---------*- C -*-===*/
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool mpcrtFail(MpcrtError *err, const char *fmt, ...) {
  if (!err)
    return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return false;
}

bool mpcrtReadFile(const char *path, unsigned char **data, size_t *length, MpcrtError *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return mpcrtFail(err, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap + 1);
  for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
    len += n;
    if (len == cap) {
      unsigned char *grown = realloc(buf, 2 * cap + 1);
      if (!grown)
        free(buf);
      buf = grown;
      cap *= 2;
    }
  }
  bool bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (!buf)
    return mpcrtFail(err, "%s: out of memory while reading", path);
  if (bad) {
    free(buf);
    return mpcrtFail(err, "%s: cannot read: %s", path, strerror(saved));
  }
  buf[len] = '\0';
  *data = buf;
  *length = len;
  return true;
}

FILE *mpcrtAtomicOpen(const char *path, char *tmp, size_t tmpSize, MpcrtError *err) {
  snprintf(tmp, tmpSize, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f)
    mpcrtFail(err, "%s: cannot write: %s", path, strerror(errno));
  return f;
}

bool mpcrtAtomicCommit(FILE *f, const char *tmp, const char *path, bool ok, MpcrtError *err) {
  if (ok && ferror(f))
    ok = mpcrtFail(err, "%s: cannot write: %s", path, strerror(errno));
  if (fclose(f) != 0 && ok)
    ok = mpcrtFail(err, "%s: cannot write: %s", path, strerror(errno));
  if (ok && rename(tmp, path) != 0)
    ok = mpcrtFail(err, "%s: cannot rename the temporary file into place: %s", path, strerror(errno));
  if (!ok)
    remove(tmp);
  return ok;
}

/* Generated code allocates its intermediate tensors on every evaluation.
 * glibc's defaults hand large blocks back to the kernel on free (mmap above
 * 128 KiB, heap trimming), so each evaluation page-faults its megabytes in
 * again: on the MLP that was half the time of a forward pass. Keep them. */
void mpcrtKeepMemory(void) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}
