/*===- context.c - contexts and parsing -------------------------*- C -*-===*/
#include "mpc/mpc.h"
#include "support.h"

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

MlirModule mpcParseModule(MlirContext ctx, MlirStringRef source, const char *sourceName) {
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
