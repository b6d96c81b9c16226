/*===- support.c - strings and printing helpers -----------------*- C -*-===*/
#include "support.h"

#include <stdarg.h>
#include <string.h>

void mpcStrAppend(MpcStr *s, const char *data, size_t length) {
  if (s->length + length + 1 > s->capacity) {
    size_t cap = s->capacity ? s->capacity : 256;
    while (cap < s->length + length + 1)
      cap *= 2;
    char *grown = realloc(s->data, cap);
    MPC_ASSERT(grown, "out of memory");
    s->data = grown;
    s->capacity = cap;
  }
  if (length)
    memcpy(s->data + s->length, data, length);
  s->length += length;
  s->data[s->length] = '\0';
}

void mpcStrAppendf(MpcStr *s, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  MPC_ASSERT(n >= 0, "vsnprintf failed");
  if ((size_t)n < sizeof small) {
    mpcStrAppend(s, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  MPC_ASSERT(big, "out of memory");
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  mpcStrAppend(s, big, (size_t)n);
  free(big);
}

void mpcStrPrinter(MlirStringRef text, void *userData) {
  mpcStrAppend((MpcStr *)userData, text.data, text.length);
}

char *mpcStrDup(const char *data, size_t length) {
  char *s = malloc(length + 1);
  MPC_ASSERT(s, "out of memory");
  if (length)
    memcpy(s, data, length);
  s[length] = '\0';
  return s;
}

void *mpcGrowArray(void *items, size_t *capacity, size_t count, size_t size) {
  if (count < *capacity)
    return items;
  *capacity = *capacity ? 2 * *capacity : 16;
  void *grown = realloc(items, *capacity * size);
  MPC_ASSERT(grown, "out of memory");
  return grown;
}

void mpcStrFree(MpcStr *s) {
  free(s->data);
  *s = (MpcStr){0};
}

/* Copies printer output into a fixed buffer, truncating with "...". */
typedef struct {
  char *buf;
  size_t size, used;
} FixedBuf;

static void fixedPrinter(MlirStringRef text, void *userData) {
  FixedBuf *fb = userData;
  for (size_t i = 0; i < text.length && fb->used + 1 < fb->size; ++i)
    fb->buf[fb->used++] = text.data[i];
  fb->buf[fb->used] = '\0';
}

static const char *finishFixed(FixedBuf *fb) {
  if (fb->used + 1 >= fb->size && fb->size > 4)
    strcpy(fb->buf + fb->size - 4, "...");
  return fb->buf;
}

const char *mpcTypeToString(MlirType type, char *buf, size_t size) {
  FixedBuf fb = {buf, size, 0};
  buf[0] = '\0';
  mlirTypePrint(type, fixedPrinter, &fb);
  return finishFixed(&fb);
}

const char *mpcAttrToString(MlirAttribute attr, char *buf, size_t size) {
  FixedBuf fb = {buf, size, 0};
  buf[0] = '\0';
  mlirAttributePrint(attr, fixedPrinter, &fb);
  return finishFixed(&fb);
}
