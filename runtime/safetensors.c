/*===- safetensors.c - safetensors checkpoints ------------------*- C -*-===*
 *
 * An 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {...}, "name": {"dtype": "F32", "shape": [2, 3],
 *    "data_offsets": [begin, end]}, ...}
 * then the data, offsets relative to its start. The JSON reader below knows
 * just enough JSON for that header, with a nesting limit.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Tensor sets
 *---------------------------------------------------------------------------*/

void mpcrtTensorSetAdd(MpcrtTensorSet *set, const char *name, MpcrtTensor tensor) {
  if (set->count == set->capacity) {
    size_t cap = set->capacity ? 2 * set->capacity : 16;
    MpcrtNamedTensor *grown = realloc(set->items, cap * sizeof *grown);
    if (!grown)
      abort();
    set->items = grown;
    set->capacity = cap;
  }
  char *copy = strdup(name);
  if (!copy)
    abort();
  set->items[set->count++] = (MpcrtNamedTensor){copy, tensor};
}

const MpcrtTensor *mpcrtTensorSetFind(const MpcrtTensorSet *set, const char *name) {
  for (size_t i = 0; i < set->count; ++i)
    if (!strcmp(set->items[i].name, name))
      return &set->items[i].tensor;
  return NULL;
}

void mpcrtTensorSetFree(MpcrtTensorSet *set) {
  for (size_t i = 0; i < set->count; ++i) {
    free(set->items[i].name);
    mpcrtTensorFree(&set->items[i].tensor);
  }
  free(set->items);
  *set = (MpcrtTensorSet){0};
}

/*---------------------------------------------------------------------------
 * A small JSON reader
 *---------------------------------------------------------------------------*/

typedef struct {
  const char *p, *end, *path;
  MpcrtError *err;
  bool failed;
} Json;

static bool jsonFail(Json *j, const char *what) {
  if (!j->failed)
    mpcrtFail(j->err, "%s: malformed safetensors header: %s", j->path, what);
  j->failed = true;
  return false;
}

static void skipSpace(Json *j) {
  while (j->p < j->end && isspace((unsigned char)*j->p))
    ++j->p;
}

static bool expectChar(Json *j, char c) {
  skipSpace(j);
  if (j->p >= j->end || *j->p != c) {
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return jsonFail(j, what);
  }
  ++j->p;
  return true;
}

static bool peekChar(Json *j, char c) {
  skipSpace(j);
  return j->p < j->end && *j->p == c;
}

/* Parses a string into a malloc'ed UTF-8 buffer (NULL on error). */
static char *parseString(Json *j) {
  if (!expectChar(j, '"'))
    return NULL;
  size_t cap = 32, n = 0;
  char *s = malloc(cap);
  while (s && j->p < j->end && *j->p != '"') {
    if (n + 5 >= cap) {
      char *grown = realloc(s, cap *= 2);
      if (!grown)
        free(s);
      s = grown;
      if (!s)
        break;
    }
    unsigned char c = (unsigned char)*j->p++;
    if (c < 0x20) {
      free(s);
      jsonFail(j, "control character in a string");
      return NULL;
    }
    if (c != '\\') {
      s[n++] = (char)c;
      continue;
    }
    if (j->p >= j->end)
      break;
    char e = *j->p++;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (simple && e) {
      static const char map[] = "\"\\/\b\f\n\r\t";
      s[n++] = map[simple - "\"\\/bfnrt"];
    } else if (e == 'u' && j->end - j->p >= 4) {
      unsigned cp = 0;
      for (int i = 0; i < 4; ++i) {
        char h = *j->p++;
        cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
        if (!isxdigit((unsigned char)h)) {
          free(s);
          jsonFail(j, "bad \\u escape");
          return NULL;
        }
      }
      if (cp < 0x80) {
        s[n++] = (char)cp;
      } else if (cp < 0x800) {
        s[n++] = (char)(0xc0 | cp >> 6);
        s[n++] = (char)(0x80 | (cp & 0x3f));
      } else {
        s[n++] = (char)(0xe0 | cp >> 12);
        s[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[n++] = (char)(0x80 | (cp & 0x3f));
      }
    } else {
      free(s);
      jsonFail(j, "bad escape in a string");
      return NULL;
    }
  }
  if (!s) {
    jsonFail(j, "out of memory");
    return NULL;
  }
  if (j->p >= j->end) {
    free(s);
    jsonFail(j, "unterminated string");
    return NULL;
  }
  ++j->p;
  s[n] = '\0';
  return s;
}

static bool parseUint(Json *j, uint64_t *out) {
  skipSpace(j);
  if (j->p >= j->end || !isdigit((unsigned char)*j->p))
    return jsonFail(j, "expected a non-negative integer");
  uint64_t v = 0;
  while (j->p < j->end && isdigit((unsigned char)*j->p)) {
    if (v > (UINT64_MAX - 9) / 10)
      return jsonFail(j, "integer out of range");
    v = v * 10 + (uint64_t)(*j->p++ - '0');
  }
  *out = v;
  return true;
}

/* Skips any JSON value (for metadata and unknown keys). */
static bool skipValue(Json *j, int depth) {
  if (depth > 32)
    return jsonFail(j, "nesting too deep");
  skipSpace(j);
  if (j->p >= j->end)
    return jsonFail(j, "unexpected end");
  char c = *j->p;
  if (c == '"') {
    char *s = parseString(j);
    free(s);
    return s != NULL;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++j->p;
    if (peekChar(j, close))
      return ++j->p, true;
    do {
      if (c == '{') {
        char *k = parseString(j);
        free(k);
        if (!k || !expectChar(j, ':'))
          return false;
      }
      if (!skipValue(j, depth + 1))
        return false;
    } while (peekChar(j, ',') && ++j->p);
    return expectChar(j, close);
  }
  const char *start = j->p;
  while (j->p < j->end && (isalnum((unsigned char)*j->p) || strchr("+-.", *j->p)))
    ++j->p;
  return j->p > start ? true : jsonFail(j, "unexpected character");
}

/*---------------------------------------------------------------------------
 * Reading
 *---------------------------------------------------------------------------*/

typedef struct {
  MpcrtDType dtype;
  int rank;
  int64_t dims[MPCRT_MAX_RANK];
  uint64_t begin, end;
  bool haveDtype, haveShape, haveOffsets;
} Entry;

static bool dtypeFromSafetensors(const char *name, MpcrtDType *out) {
  for (int d = 0; d < MPCRT_DTYPE_COUNT; ++d)
    if (!strcmp(mpcrtDTypeInfo((MpcrtDType)d)->safetensors, name)) {
      *out = (MpcrtDType)d;
      return true;
    }
  return false;
}

static bool parseEntry(Json *j, const char *name, Entry *e) {
  *e = (Entry){0};
  if (!expectChar(j, '{'))
    return false;
  if (peekChar(j, '}'))
    return ++j->p, jsonFail(j, "empty tensor entry");
  do {
    char *key = parseString(j);
    if (!key || !expectChar(j, ':')) {
      free(key);
      return false;
    }
    bool ok = true;
    if (!strcmp(key, "dtype")) {
      char *d = parseString(j);
      ok = d != NULL;
      if (ok && !dtypeFromSafetensors(d, &e->dtype)) {
        mpcrtFail(j->err, "%s: tensor '%s' has unsupported dtype '%s'", j->path, name, d);
        j->failed = true;
        ok = false;
      }
      free(d);
      e->haveDtype = true;
    } else if (!strcmp(key, "shape")) {
      ok = expectChar(j, '[');
      if (ok && !peekChar(j, ']'))
        while (ok) {
          uint64_t d;
          if (e->rank == MPCRT_MAX_RANK)
            ok = jsonFail(j, "rank too high");
          else if ((ok = parseUint(j, &d)) && d > (1ULL << 40))
            ok = jsonFail(j, "dimension out of range");
          if (!ok)
            break;
          e->dims[e->rank++] = (int64_t)d;
          if (!peekChar(j, ','))
            break;
          ++j->p;
        }
      ok = ok && expectChar(j, ']');
      e->haveShape = true;
    } else if (!strcmp(key, "data_offsets")) {
      ok = expectChar(j, '[') && parseUint(j, &e->begin) && expectChar(j, ',') && parseUint(j, &e->end) &&
           expectChar(j, ']');
      e->haveOffsets = true;
    } else {
      ok = skipValue(j, 1);
    }
    free(key);
    if (!ok)
      return false;
  } while (peekChar(j, ',') && ++j->p);
  if (!expectChar(j, '}'))
    return false;
  if (!e->haveDtype || !e->haveShape || !e->haveOffsets) {
    mpcrtFail(j->err, "%s: tensor '%s' lacks %s", j->path, name,
              !e->haveDtype ? "'dtype'" : !e->haveShape ? "'shape'" : "'data_offsets'");
    j->failed = true;
    return false;
  }
  return true;
}

static bool addEntry(Json *j, const char *name, const Entry *e, const unsigned char *data, uint64_t dataLen,
                     MpcrtTensorSet *out) {
  MpcrtTensor t = {.dtype = e->dtype, .rank = e->rank};
  memcpy(t.dims, e->dims, sizeof t.dims);
  uint64_t want = 0;
  char desc[96];
  if (!mpcrtShapeBytes(e->dtype, e->rank, e->dims, &want, j->err)) {
    char why[sizeof j->err->message];
    snprintf(why, sizeof why, "%s", j->err->message);
    mpcrtFail(j->err, "%s: tensor '%s': %s", j->path, name, why);
    return j->failed = true, false;
  }
  if (e->end < e->begin || e->end - e->begin != want || e->end > dataLen) {
    mpcrtFail(j->err, "%s: tensor '%s' (%s) needs %llu bytes but its data_offsets are [%llu, %llu) of %llu%s", j->path,
              name, mpcrtTensorDescribe(&t, desc, sizeof desc), (unsigned long long)want,
              (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)dataLen,
              e->end > dataLen ? " (truncated?)" : "");
    return j->failed = true, false;
  }
  if (mpcrtTensorSetFind(out, name)) {
    mpcrtFail(j->err, "%s: tensor '%s' appears twice", j->path, name);
    return j->failed = true, false;
  }
  if (!mpcrtTensorAlloc(&t, e->dtype, e->rank, e->dims, j->err))
    return j->failed = true, false;
  if (want)
    memcpy(t.data, data + e->begin, want);
  mpcrtTensorSetAdd(out, name, t);
  return true;
}

bool mpcrtSafetensorsRead(const char *path, MpcrtTensorSet *out, MpcrtError *err) {
  *out = (MpcrtTensorSet){0};
  unsigned char *buf;
  size_t len;
  if (!mpcrtReadFile(path, &buf, &len, err))
    return false;
  uint64_t n = 0;
  for (int i = 7; len >= 8 && i >= 0; --i)
    n = n << 8 | buf[i];
  if (len < 8 || n > len - 8 || n > (100u << 20)) {
    bool tiny = len < 8;
    free(buf);
    return tiny ? mpcrtFail(err, "%s: not a safetensors file (%zu bytes, expected an 8-byte header length)", path, len)
                : mpcrtFail(err, "%s: header length %llu does not fit the file (%zu bytes; truncated?)", path,
                            (unsigned long long)n, len);
  }
  Json j = {(const char *)buf + 8, (const char *)buf + 8 + n, path, err, false};
  const unsigned char *data = buf + 8 + n;
  uint64_t dataLen = len - 8 - n;
  bool ok = expectChar(&j, '{');
  if (ok && peekChar(&j, '}')) {
    ++j.p;
  } else {
    while (ok) {
      char *name = parseString(&j);
      ok = name && expectChar(&j, ':');
      if (ok && !strcmp(name, "__metadata__")) {
        ok = skipValue(&j, 1);
      } else if (ok) {
        Entry e;
        ok = parseEntry(&j, name, &e) && addEntry(&j, name, &e, data, dataLen, out);
      }
      free(name);
      if (!ok || !peekChar(&j, ','))
        break;
      ++j.p;
    }
    ok = ok && expectChar(&j, '}');
  }
  free(buf);
  if (!ok)
    mpcrtTensorSetFree(out);
  return ok;
}

/*---------------------------------------------------------------------------
 * Writing
 *---------------------------------------------------------------------------*/

static void appendf(char **s, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void appendf(char **s, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*s + *len, *cap - *len, fmt, ap);
    va_end(ap);
    if ((size_t)n < *cap - *len) {
      *len += (size_t)n;
      return;
    }
    char *grown = realloc(*s, *cap * 2 + (size_t)n);
    if (!grown)
      abort();
    *s = grown;
    *cap = *cap * 2 + (size_t)n;
  }
}

static void appendJsonString(char **s, size_t *len, size_t *cap, const char *text) {
  appendf(s, len, cap, "\"");
  for (const unsigned char *p = (const unsigned char *)text; *p; ++p) {
    if (*p == '"' || *p == '\\')
      appendf(s, len, cap, "\\%c", *p);
    else if (*p < 0x20)
      appendf(s, len, cap, "\\u%04x", *p);
    else
      appendf(s, len, cap, "%c", *p);
  }
  appendf(s, len, cap, "\"");
}

bool mpcrtSafetensorsWrite(const char *path, const MpcrtTensorSet *set, MpcrtError *err) {
  size_t cap = 256, len = 0;
  char *h = malloc(cap);
  if (!h)
    return mpcrtFail(err, "%s: out of memory", path);
  appendf(&h, &len, &cap, "{\"__metadata__\":{\"format\":\"pt\"}");
  uint64_t offset = 0;
  for (size_t i = 0; i < set->count; ++i) {
    const MpcrtTensor *t = &set->items[i].tensor;
    appendf(&h, &len, &cap, ",");
    appendJsonString(&h, &len, &cap, set->items[i].name);
    appendf(&h, &len, &cap, ":{\"dtype\":\"%s\",\"shape\":[", mpcrtDTypeInfo(t->dtype)->safetensors);
    for (int d = 0; d < t->rank; ++d)
      appendf(&h, &len, &cap, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    uint64_t bytes = mpcrtTensorBytes(t);
    appendf(&h, &len, &cap, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
            (unsigned long long)(offset + bytes));
    offset += bytes;
  }
  appendf(&h, &len, &cap, "}");
  while (len % 8) /* keep the data 8-byte aligned */
    appendf(&h, &len, &cap, " ");
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i)
    prefix[i] = (unsigned char)((uint64_t)len >> (8 * i));
  char tmp[4096];
  FILE *f = mpcrtAtomicOpen(path, tmp, sizeof tmp, err);
  if (!f) {
    free(h);
    return false;
  }
  bool ok = fwrite(prefix, 1, 8, f) == 8 && fwrite(h, 1, len, f) == len;
  for (size_t i = 0; ok && i < set->count; ++i) {
    size_t bytes = mpcrtTensorBytes(&set->items[i].tensor);
    ok = bytes == 0 || fwrite(set->items[i].tensor.data, 1, bytes, f) == bytes;
  }
  free(h);
  return mpcrtAtomicCommit(f, tmp, path, ok, err);
}
