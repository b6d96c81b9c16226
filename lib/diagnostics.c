/*===- diagnostics.c - printing and verifying diagnostics -------*- C -*-===*
 *
 * The diagnostic engine prints MLIR diagnostics the way mlir-opt does
 * ("file:line:col: error: msg", then the source line and a caret), or, for
 * --verify-diagnostics, captures them and checks them against the
 * expected-* comments of the source.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "support.h"

#include <ctype.h>
#include <mlir-c/Diagnostics.h>
#include <stdarg.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Locations
 *---------------------------------------------------------------------------*/

bool mpcLocationGetFileLineCol(MlirLocation loc, MlirStringRef *file, unsigned *line, unsigned *col) {
  for (int depth = 0; depth < 64; ++depth) {
    if (mlirLocationIsAFileLineColRange(loc)) {
      *file = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
      *line = (unsigned)mlirLocationFileLineColRangeGetStartLine(loc);
      *col = (unsigned)mlirLocationFileLineColRangeGetStartColumn(loc);
      return true;
    }
    if (mlirLocationIsAName(loc)) {
      loc = mlirLocationNameGetChildLoc(loc);
    } else if (mlirLocationIsACallSite(loc)) {
      loc = mlirLocationCallSiteGetCallee(loc);
    } else if (mlirLocationIsAFused(loc)) {
      unsigned n = mlirLocationFusedGetNumLocations(loc);
      if (n == 0)
        return false;
      MlirLocation parts[n];
      mlirLocationFusedGetLocations(loc, parts);
      for (unsigned i = 0; i < n; ++i)
        if (mpcLocationGetFileLineCol(parts[i], file, line, col))
          return true;
      return false;
    } else {
      return false;
    }
  }
  return false;
}

bool mpcLocationGetName(MlirLocation loc, MlirStringRef *name) {
  for (int depth = 0; depth < 16; ++depth) {
    if (mlirLocationIsAName(loc)) {
      *name = mlirIdentifierStr(mlirLocationNameGetName(loc));
      return true;
    }
    if (mlirLocationIsACallSite(loc))
      loc = mlirLocationCallSiteGetCallee(loc);
    else
      return false;
  }
  return false;
}

int mpcLocationFormat(MlirLocation loc, char *buf, size_t size) {
  MlirStringRef file;
  unsigned line, col;
  if (!mpcLocationGetFileLineCol(loc, &file, &line, &col))
    return snprintf(buf, size, "<unknown>");
  return snprintf(buf, size, "%.*s:%u:%u", (int)file.length, file.data, line, col);
}

void mpcOpEmitError(MlirOperation op, const char *fmt, ...) {
  char msg[1024];
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  int n = snprintf(msg, sizeof msg, "'%.*s' op ", (int)name.length, name.data);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  mlirEmitError(mlirOperationGetLocation(op), msg);
}

/*---------------------------------------------------------------------------
 * The engine
 *---------------------------------------------------------------------------*/

typedef enum { SEV_ERROR, SEV_WARNING, SEV_NOTE, SEV_REMARK } Severity;
static const char *const severityNames[] = {"error", "warning", "note", "remark"};

static Severity severityOf(MlirDiagnosticSeverity s) {
  switch (s) {
  case MlirDiagnosticError: return SEV_ERROR;
  case MlirDiagnosticWarning: return SEV_WARNING;
  case MlirDiagnosticNote: return SEV_NOTE;
  case MlirDiagnosticRemark: return SEV_REMARK;
  }
  return SEV_ERROR;
}

typedef struct {
  Severity severity;
  unsigned line, col;
  char *file, *message;
  bool matched;
} Captured;

typedef struct {
  Severity severity;
  unsigned line, commentLine, commentCol;
  char *message;
  bool matched;
} Expected;

struct MpcDiagnosticEngine {
  MlirContext ctx;
  MlirDiagnosticHandlerID id;
  FILE *out;
  const char *sourceName, *text;
  size_t length;
  int errors;
  bool expecting, malformedExpectation;
  Captured *captured;
  size_t numCaptured, capCaptured;
  Expected *expected;
  size_t numExpected, capExpected;
};

/* Finds line `line` (1-based) of the source; false if out of range. */
static bool sourceLine(const MpcDiagnosticEngine *e, unsigned line, const char **begin, size_t *len) {
  if (!e->text || line == 0)
    return false;
  const char *p = e->text, *end = e->text + e->length;
  for (unsigned l = 1; l < line; ++l) {
    p = memchr(p, '\n', (size_t)(end - p));
    if (!p)
      return false;
    ++p;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  *begin = p;
  *len = (size_t)((nl ? nl : end) - p);
  return true;
}

/* Like mpcLocationGetFileLineCol, naming the parser's buffer as the source. */
static bool locate(const MpcDiagnosticEngine *e, MlirLocation loc, MlirStringRef *file, unsigned *line,
                   unsigned *col) {
  if (!mpcLocationGetFileLineCol(loc, file, line, col))
    return false;
  if (e->sourceName && mpcLocationIsParserBuffer(*file))
    *file = mlirStringRefCreateFromCString(e->sourceName);
  return true;
}

static void printOne(MpcDiagnosticEngine *e, Severity sev, MlirLocation loc, const char *message) {
  MlirStringRef file;
  unsigned line, col;
  bool located = locate(e, loc, &file, &line, &col);
  /* A named location (an imported ONNX node) is named after the message. */
  MlirStringRef name;
  char named[300] = "";
  if (mpcLocationGetName(loc, &name))
    snprintf(named, sizeof named, " (node '%.*s')", (int)(name.length < 256 ? name.length : 256), name.data);
  if (located)
    fprintf(e->out, "%.*s:%u:%u: %s: %s%s\n", (int)file.length, file.data, line, col, severityNames[sev],
            message, named);
  else
    fprintf(e->out, "<unknown>: %s: %s%s\n", severityNames[sev], message, named);
  const char *text;
  size_t len;
  if (!located || !e->sourceName || strlen(e->sourceName) != file.length ||
      strncmp(e->sourceName, file.data, file.length) || !sourceLine(e, line, &text, &len))
    return;
  fprintf(e->out, "%.*s\n", (int)len, text);
  for (unsigned i = 1; i < col && i <= len; ++i)
    fputc(text[i - 1] == '\t' ? '\t' : ' ', e->out);
  fputs("^\n", e->out);
}

static void capture(MpcDiagnosticEngine *e, Severity sev, MlirLocation loc, const char *message) {
  e->captured = mpcGrowArray(e->captured, &e->capCaptured, e->numCaptured, sizeof *e->captured);
  Captured *c = &e->captured[e->numCaptured++];
  MlirStringRef file = {"<unknown>", 9};
  *c = (Captured){.severity = sev};
  if (!locate(e, loc, &file, &c->line, &c->col))
    file = (MlirStringRef){"<unknown>", 9};
  c->file = mpcStrDup(file.data, file.length);
  c->message = mpcStrDup(message, strlen(message));
}

static void report(MpcDiagnosticEngine *e, Severity sev, MlirLocation loc, const char *message) {
  if (sev == SEV_ERROR)
    ++e->errors;
  if (e->expecting)
    capture(e, sev, loc, message);
  else
    printOne(e, sev, loc, message);
}

static void handleOne(MpcDiagnosticEngine *e, MlirDiagnostic d) {
  MpcStr msg = {0};
  mpcStrAppend(&msg, "", 0);
  mlirDiagnosticPrint(d, mpcStrPrinter, &msg);
  report(e, severityOf(mlirDiagnosticGetSeverity(d)), mlirDiagnosticGetLocation(d), msg.data);
  mpcStrFree(&msg);
  intptr_t notes = mlirDiagnosticGetNumNotes(d);
  for (intptr_t i = 0; i < notes; ++i)
    handleOne(e, mlirDiagnosticGetNote(d, i));
}

static MlirLogicalResult handler(MlirDiagnostic d, void *userData) {
  handleOne(userData, d);
  return mlirLogicalResultSuccess();
}

/* The engines by context, for mpcEmitDiagnostic (tools use one or two). */
static MpcDiagnosticEngine *engines[8];

MpcDiagnosticEngine *mpcDiagnosticEngineCreate(MlirContext ctx, FILE *out) {
  MpcDiagnosticEngine *e = calloc(1, sizeof *e);
  MPC_ASSERT(e, "out of memory");
  e->ctx = ctx;
  e->out = out;
  e->id = mlirContextAttachDiagnosticHandler(ctx, handler, e, NULL);
  for (size_t i = 0; i < sizeof engines / sizeof engines[0]; ++i)
    if (!engines[i]) {
      engines[i] = e;
      break;
    }
  return e;
}

void mpcEmitDiagnostic(MlirLocation loc, MpcDiagnosticKind kind, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  static const Severity severities[] = {
      [MPC_DIAG_WARNING] = SEV_WARNING, [MPC_DIAG_NOTE] = SEV_NOTE, [MPC_DIAG_REMARK] = SEV_REMARK};
  MlirContext ctx = mlirLocationGetContext(loc);
  for (size_t i = 0; i < sizeof engines / sizeof engines[0]; ++i)
    if (engines[i] && mlirContextEqual(engines[i]->ctx, ctx)) {
      report(engines[i], severities[kind], loc, msg);
      return;
    }
  MpcDiagnosticEngine fallback = {.ctx = ctx, .out = stderr};
  printOne(&fallback, severities[kind], loc, msg);
}

static void clearCaptured(MpcDiagnosticEngine *e) {
  for (size_t i = 0; i < e->numCaptured; ++i) {
    free(e->captured[i].file);
    free(e->captured[i].message);
  }
  e->numCaptured = 0;
  for (size_t i = 0; i < e->numExpected; ++i)
    free(e->expected[i].message);
  e->numExpected = 0;
}

void mpcDiagnosticEngineDestroy(MpcDiagnosticEngine *e) {
  if (!e)
    return;
  mlirContextDetachDiagnosticHandler(e->ctx, e->id);
  for (size_t i = 0; i < sizeof engines / sizeof engines[0]; ++i)
    if (engines[i] == e)
      engines[i] = NULL;
  clearCaptured(e);
  free(e->captured);
  free(e->expected);
  free(e);
}

void mpcDiagnosticEngineSetSource(MpcDiagnosticEngine *e, const char *name, const char *text,
                                  size_t length) {
  e->sourceName = name;
  e->text = text;
  e->length = length;
}

int mpcDiagnosticEngineErrorCount(const MpcDiagnosticEngine *e) { return e->errors; }

/*---------------------------------------------------------------------------
 * --verify-diagnostics
 *---------------------------------------------------------------------------*/

/* True if the line holds nothing but an expected-* comment (such lines are
 * skipped by @above and @below, so that several can stack). */
static bool isDesignatorOnly(const char *line, size_t len) {
  size_t i = 0;
  while (i < len && isspace((unsigned char)line[i]))
    ++i;
  return len - i >= 2 && line[i] == '/' && line[i + 1] == '/' &&
         memmem(line + i, len - i, "expected-", 9) != NULL;
}

static unsigned stepOverDesignators(const MpcDiagnosticEngine *e, unsigned line, int step) {
  const char *text;
  size_t len;
  for (line += (unsigned)step; line > 0 && sourceLine(e, line, &text, &len); line += (unsigned)step)
    if (!isDesignatorOnly(text, len))
      return line;
  return 0;
}

/* Reports a malformed expected-* comment as an error at its position. */
static void badExpectation(MpcDiagnosticEngine *e, unsigned line, unsigned col, const char *why) {
  fprintf(e->out, "%s:%u:%u: error: %s\n", e->sourceName ? e->sourceName : "<input>", line, col, why);
  ++e->errors;
  e->malformedExpectation = true;
}

#define BAD_EXPECTATION(...)                                                                  \
  do {                                                                                             \
    badExpectation(__VA_ARGS__);                                                                   \
    return;                                                                                        \
  } while (0)

/* Parses one "expected-KIND[@LOC] {{MSG}}" starting at p (after "expected-"). */
static void parseExpectation(MpcDiagnosticEngine *e, const char *lineText, size_t lineLen, const char *p,
                             unsigned line) {
  const char *end = lineText + lineLen;
  unsigned col = (unsigned)(p - lineText) + 1 - 9;
  static const struct { const char *word; Severity sev; } kinds[] = {
      {"error", SEV_ERROR}, {"warning", SEV_WARNING}, {"note", SEV_NOTE}, {"remark", SEV_REMARK}};
  int kind = -1;
  for (int k = 0; k < 4; ++k) {
    size_t wl = strlen(kinds[k].word);
    if ((size_t)(end - p) >= wl && !strncmp(p, kinds[k].word, wl)) {
      kind = k;
      p += wl;
      break;
    }
  }
  if (kind < 0)
    return; /* some other "expected-" text */
  unsigned target = line;
  if (p < end && *p == '@') {
    ++p;
    if ((size_t)(end - p) >= 5 && !strncmp(p, "above", 5)) {
      target = stepOverDesignators(e, line, -1);
      p += 5;
    } else if ((size_t)(end - p) >= 5 && !strncmp(p, "below", 5)) {
      target = stepOverDesignators(e, line, +1);
      p += 5;
    } else if (p < end && (*p == '+' || *p == '-')) {
      int sign = *p++ == '+' ? 1 : -1;
      long n = 0;
      if (p >= end || !isdigit((unsigned char)*p))
        BAD_EXPECTATION(e, line, col, "expected a line offset after '@+' or '@-'");
      while (p < end && isdigit((unsigned char)*p))
        n = n * 10 + (*p++ - '0');
      long t = (long)line + sign * n;
      target = t > 0 ? (unsigned)t : 0;
    } else {
      BAD_EXPECTATION(e, line, col, "expected '@above', '@below', '@+N' or '@-N'");
    }
  }
  while (p < end && *p == ' ')
    ++p;
  if ((size_t)(end - p) < 2 || strncmp(p, "{{", 2))
    BAD_EXPECTATION(e, line, col, "expected '{{' after the expected-* designator");
  p += 2;
  const char *close = memmem(p, (size_t)(end - p), "}}", 2);
  if (!close)
    BAD_EXPECTATION(e, line, col, "expected '}}' to end the expected message");
  e->expected = mpcGrowArray(e->expected, &e->capExpected, e->numExpected, sizeof *e->expected);
  e->expected[e->numExpected++] = (Expected){.severity = kinds[kind].sev, .line = target,
                                             .commentLine = line, .commentCol = col,
                                             .message = mpcStrDup(p, (size_t)(close - p))};
}

void mpcDiagnosticEngineExpect(MpcDiagnosticEngine *e, int firstLine, int lastLine) {
  e->expecting = true;
  for (int line = firstLine; line <= lastLine; ++line) {
    const char *lt;
    size_t len;
    if (!sourceLine(e, (unsigned)line, &lt, &len))
      break;
    const char *comment = memmem(lt, len, "//", 2);
    for (const char *p = comment; p;) {
      const char *hit = memmem(p, len - (size_t)(p - lt), "expected-", 9);
      if (!hit)
        break;
      parseExpectation(e, lt, len, hit + 9, (unsigned)line);
      p = hit + 9;
    }
  }
}

bool mpcDiagnosticEngineCheckExpected(MpcDiagnosticEngine *e) {
  bool ok = !e->malformedExpectation;
  e->malformedExpectation = false;
  for (size_t i = 0; i < e->numExpected; ++i) {
    Expected *x = &e->expected[i];
    for (size_t j = 0; j < e->numCaptured && !x->matched; ++j) {
      Captured *c = &e->captured[j];
      if (!c->matched && c->severity == x->severity && c->line == x->line && strstr(c->message, x->message))
        c->matched = x->matched = true;
    }
  }
  for (size_t i = 0; i < e->numExpected; ++i) {
    Expected *x = &e->expected[i];
    if (x->matched)
      continue;
    fprintf(e->out, "%s:%u:%u: error: expected %s \"%s\" was not produced\n",
            e->sourceName ? e->sourceName : "<input>", x->commentLine, x->commentCol,
            severityNames[x->severity], x->message);
    ok = false;
  }
  for (size_t j = 0; j < e->numCaptured; ++j) {
    Captured *c = &e->captured[j];
    if (c->matched)
      continue;
    fprintf(e->out, "%s:%u:%u: error: unexpected %s: %s\n", c->file, c->line, c->col,
            severityNames[c->severity], c->message);
    ok = false;
  }
  clearCaptured(e);
  return ok;
}
