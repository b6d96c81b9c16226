/*===- context.c - contexts and parsing -------------------------*- C -*-===*/
#include "mpc/mpc.h"
#include "support.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <mlir-c/Diagnostics.h>
#include <mlir-c/RegisterEverything.h>
#include <string.h>

MlirContext mpcContextCreate(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, /*threadingEnabled=*/false);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  /* mpc ops live in an unregistered namespace and are checked by mpcVerify:
   * IRDL binds one type per constraint variable per op, so it cannot
   * describe mpc.concat's inputs of different shapes (docs/dialect.md). */
  mlirContextSetAllowUnregisteredDialects(ctx, true);
  return ctx;
}

/* mlirModuleCreateParse names its buffer "-". */
static const char parserBufferName[] = "-";

static bool isParserBuffer(MlirLocation loc, unsigned *line, unsigned *col) {
  if (!mlirLocationIsAFileLineColRange(loc))
    return false;
  MlirStringRef file = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
  if (file.length != 1 || file.data[0] != parserBufferName[0])
    return false;
  *line = (unsigned)mlirLocationFileLineColRangeGetStartLine(loc);
  *col = (unsigned)mlirLocationFileLineColRangeGetStartColumn(loc);
  return true;
}

typedef struct {
  MlirContext ctx;
  MlirStringRef name;
} RenameState;

static MlirLocation renamed(RenameState *st, MlirLocation loc) {
  unsigned line, col;
  if (!isParserBuffer(loc, &line, &col))
    return loc;
  return mlirLocationFileLineColGet(st->ctx, st->name, line, col);
}

/* Gives the parser's locations (and those of block arguments) the source name. */
static MlirWalkResult renameLocations(MlirOperation op, void *userData) {
  RenameState *st = userData;
  mlirOperationSetLocation(op, renamed(st, mlirOperationGetLocation(op)));
  for (intptr_t r = 0, nr = mlirOperationGetNumRegions(op); r < nr; ++r) {
    MlirRegion region = mlirOperationGetRegion(op, r);
    for (MlirBlock b = mlirRegionGetFirstBlock(region); !mlirBlockIsNull(b); b = mlirBlockGetNextInRegion(b))
      for (intptr_t a = 0, na = mlirBlockGetNumArguments(b); a < na; ++a) {
        MlirValue arg = mlirBlockGetArgument(b, a);
        mlirBlockArgumentSetLocation(arg, renamed(st, mlirValueGetLocation(arg)));
      }
  }
  return MlirWalkResultAdvance;
}

/* Input that MLIR 22's parser crashes on instead of diagnosing, found by the
 * fuzzer: dense arrays of `index` (parseDenseArrayAttr asks an index type for
 * its bit width), and nesting deep enough to exhaust the stack. Scanned for
 * outside strings and comments before parsing. */
#define MPC_MAX_NESTING 256

static bool precheck(MlirContext ctx, const char *p, size_t n, const char *name) {
  unsigned line = 1, col = 1, depth = 0;
  const char *why = NULL;
  for (size_t i = 0; i < n && !why; ++i, ++col) {
    char c = p[i];
    if (c == '\n') {
      ++line;
      col = 0;
    } else if (c == '/' && i + 1 < n && p[i + 1] == '/') {
      while (i + 1 < n && p[i + 1] != '\n')
        ++i;
    } else if (c == '"') {
      for (++i, ++col; i < n && p[i] != '"' && p[i] != '\n'; ++i, ++col)
        if (p[i] == '\\' && i + 1 < n && p[i + 1] != '\n')
          ++i, ++col;
      if (i < n && p[i] == '\n')
        --i, --col; /* let the newline be counted */
    } else if (c == '(' || c == '[' || c == '{') {
      if (++depth > MPC_MAX_NESTING)
        why = "nesting is too deep (more than 256 levels of (), [] and {})";
    } else if (c == ')' || c == ']' || c == '}') {
      depth -= depth > 0;
    } else if (c == 'a' && n - i > 6 && !strncmp(p + i, "array<", 6) &&
               (i == 0 || !(isalnum((unsigned char)p[i - 1]) || p[i - 1] == '_' || p[i - 1] == '.'))) {
      size_t j = i + 6;
      while (j < n && (p[j] == ' ' || p[j] == '\t'))
        ++j;
      if (n - j >= 5 && !strncmp(p + j, "index", 5) && (n - j == 5 || !isalnum((unsigned char)p[j + 5])))
        why = "dense arrays of 'index' are not supported (use array<i64: ...>)";
    }
  }
  if (!why)
    return true;
  MlirLocation loc = mlirLocationFileLineColGet(ctx, mlirStringRefCreateFromCString(name), line, col - 1);
  mlirEmitError(loc, why);
  return false;
}

MlirModule mpcParseModule(MlirContext ctx, MlirStringRef source, const char *sourceName) {
  if (!precheck(ctx, source.data, source.length, sourceName))
    return (MlirModule){NULL};
  /* MLIR's lexer reads up to a NUL terminator, which a caller's buffer may
   * lack: always parse a terminated copy (found by the fuzzer). */
  MpcStr text = {0};
  mpcStrAppend(&text, source.data, source.length);
  /* mlirModuleCreateParse wraps top-level ops that are not a module in one,
   * as mlir-opt does, but names the buffer "-": rename its locations. */
  MlirModule module = mlirModuleCreateParse(ctx, mlirStringRefCreate(text.data, text.length));
  mpcStrFree(&text);
  if (mlirModuleIsNull(module))
    return module;
  RenameState st = {ctx, mlirStringRefCreateFromCString(sourceName)};
  mlirOperationWalk(mlirModuleGetOperation(module), renameLocations, &st, MlirWalkPreOrder);
  return module;
}

bool mpcLocationIsParserBuffer(MlirStringRef file) {
  return file.length == 1 && file.data[0] == parserBufferName[0];
}

char *mpcReadFile(const char *path, size_t *length, char *error, size_t errorSize) {
  bool useStdin = !strcmp(path, "-");
  FILE *f = useStdin ? stdin : fopen(path, "rb");
  if (!f) {
    snprintf(error, errorSize, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (size_t n; buf && (n = fread(buf + len, 1, cap - 1 - len, f)) > 0;) {
    len += n;
    if (len == cap - 1) {
      char *grown = realloc(buf, cap *= 2);
      if (!grown)
        free(buf);
      buf = grown;
    }
  }
  bool failed = !buf || ferror(f);
  if (!useStdin)
    fclose(f);
  if (failed) {
    snprintf(error, errorSize, "cannot read '%s'%s", path, buf ? "" : ": out of memory");
    free(buf);
    return NULL;
  }
  buf[len] = 0;
  *length = len;
  return buf;
}
