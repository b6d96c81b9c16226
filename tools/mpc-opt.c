/*===- mpc-opt.c - the mpc optimizer driver ---------------------*- C -*-===*
 *
 * mlir-opt for the mpc dialect: reads IR from a file or stdin, verifies it,
 * runs the passes named on the command line in order, and prints the result.
 * Nothing is written when anything fails.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"

#include <errno.h>
#include <mlir-c/RegisterEverything.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPLIT_MARKER "// -----"

/* A pipeline stage: an mpc pass or an upstream pipeline, in argv order. */
typedef struct {
  const MpcPassInfo *pass; /* NULL for an upstream pipeline */
  const char *pipeline;
} Stage;

typedef struct {
  const char *input, *output;
  bool split, verifyDiagnostics, printAfterAll, debugInfo;
  Stage *stages;
  int numStages;
  const char *precision, *target, *policy, *report, *reportDot, *train, *lossScale;
  MpcOptions mpc; /* what the passes read */
} Options;

static void usageError(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usageError(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpc-opt: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (see mpc-opt --help)\n", stderr);
  va_end(ap);
  exit(1);
}

static void printHelp(void) {
  printf("usage: mpc-opt [options] [input.mlir | -]\n\n"
         "Parses, verifies and transforms mpc IR; prints the result to stdout or -o FILE.\n\n"
         "options:\n"
         "  -o FILE                   write the output to FILE (written only on success)\n"
         "  --split-input-file        process each '// -----' separated chunk independently\n"
         "  --verify-diagnostics      check diagnostics against expected-* comments\n"
         "  --print-ir-after-all      print the IR after every pass (to stderr)\n"
         "  --pass-pipeline=PIPELINE  run upstream MLIR passes, e.g. 'canonicalize,cse'\n"
         "  --mlir-print-debuginfo    print locations in the output\n"
         "  --precision=MODE          32-true, 16-mixed, bf16-mixed, 16-true, bf16-true, 64-true (alone: run it)\n"
         "  --target=cpu|cuda         the target whose policy table applies (default cpu)\n"
         "  --policy=FILE             override op classes: one 'OP CLASS' pair a line, '#' comments\n"
         "  --train=OPT[:K=V,..]      sgd, momentum or adamw: build @train_step (with --precision's pipeline)\n"
         "  --loss-scale=SPEC         dynamic[:init=V,growth=V,backoff=V,interval=N], static:VALUE or none\n"
         "                            (default: dynamic for 16-mixed, none otherwise)\n"
         "  --report=FILE.json        write each op's class, type and reason, and a summary\n"
         "  --report-dot=FILE.dot     write the graph coloured by type (Graphviz)\n"
         "  --print-op-table          print the mpc op table as Markdown and exit\n"
         "  --help                    show this help and exit\n"
         "  --version                 show the version and exit\n\n"
         "mpc passes (run in the order given):\n");
  size_t n;
  const MpcPassInfo *passes = mpcPassRegistry(&n);
  for (size_t i = 0; i < n; ++i)
    printf("  --%-24s %s\n", passes[i].flag, passes[i].description);
}

static void addStage(Options *o, Stage s) {
  Stage *grown = realloc(o->stages, (size_t)(o->numStages + 1) * sizeof *grown);
  if (!grown)
    abort();
  o->stages = grown;
  o->stages[o->numStages++] = s;
}

/* Validates the precision flags and fills o->mpc; `--precision` alone
 * (no pass flags, no --pass-pipeline) runs the precision pipeline. */
static void setupPrecision(Options *o) {
  char error[512];
  bool usage;
  if (!mpcOptionsFromFlags(&o->mpc, "mpc-opt", o->precision, o->target, o->policy, error, sizeof error, &usage)) {
    if (usage)
      usageError("%s", error);
    fprintf(stderr, "mpc-opt: error: %s\n", error);
    exit(1);
  }
  if (o->lossScale && !mpcLossScaleParse(o->lossScale, &o->mpc.lossScale, error, sizeof error))
    usageError("%s", error);
  if (o->train && !mpcOptimizerParse(o->train, &o->mpc.optimizer, error, sizeof error))
    usageError("%s", error);
  if (o->report || o->reportDot)
    o->mpc.report = mpcReportCreate();
  if ((o->precision || o->train) && o->numStages == 0) {
    size_t n;
    const char *const *pipeline = mpcPrecisionPipeline(&n);
    for (size_t i = 0; i < n; ++i)
      addStage(o, (Stage){mpcPassLookup(pipeline[i]), NULL});
    if (o->train) {
      addStage(o, (Stage){mpcPassLookup("mpc-autodiff"), NULL});
      addStage(o, (Stage){mpcPassLookup("mpc-loss-scaling"), NULL});
      addStage(o, (Stage){mpcPassLookup("mpc-optimizer"), NULL});
    }
  }
}

static void parseArgs(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-o")) {
      if (++i == argc)
        usageError("-o needs a file name");
      o->output = argv[i];
    } else if (!strncmp(a, "-o=", 3)) {
      o->output = a + 3;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printHelp();
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("mpc-opt %s (MLIR %s)\n", MPC_VERSION, MPC_MLIR_VERSION);
      exit(0);
    } else if (!strcmp(a, "--print-op-table")) {
      mpcOpTablePrintMarkdown(stdout);
      exit(0);
    } else if (!strcmp(a, "--split-input-file")) {
      o->split = true;
    } else if (!strcmp(a, "--verify-diagnostics")) {
      o->verifyDiagnostics = true;
    } else if (!strcmp(a, "--print-ir-after-all")) {
      o->printAfterAll = true;
    } else if (!strcmp(a, "--mlir-print-debuginfo")) {
      o->debugInfo = true;
    } else if (!strncmp(a, "--precision=", 12)) {
      o->precision = a + 12;
    } else if (!strncmp(a, "--target=", 9)) {
      o->target = a + 9;
    } else if (!strncmp(a, "--policy=", 9)) {
      o->policy = a + 9;
    } else if (!strncmp(a, "--train=", 8)) {
      o->train = a + 8;
    } else if (!strncmp(a, "--loss-scale=", 13)) {
      o->lossScale = a + 13;
    } else if (!strncmp(a, "--report=", 9)) {
      o->report = a + 9;
    } else if (!strncmp(a, "--report-dot=", 13)) {
      o->reportDot = a + 13;
    } else if (!strncmp(a, "--pass-pipeline=", 16)) {
      if (!a[16])
        usageError("--pass-pipeline needs a pipeline");
      addStage(o, (Stage){NULL, a + 16});
    } else if (!strncmp(a, "--", 2) && mpcPassLookup(a + 2)) {
      addStage(o, (Stage){mpcPassLookup(a + 2), NULL});
    } else if (a[0] == '-' && a[1]) {
      usageError("unknown option '%s'", a);
    } else if (o->input) {
      usageError("more than one input file ('%s' and '%s')", o->input, a);
    } else {
      o->input = a;
    }
  }
  if (!o->input)
    o->input = "-";
  setupPrecision(o);
}

/* Reads all of `path` ("-" for stdin); exits with a one-line error. */
static char *readInput(const char *path, size_t *length) {
  char error[512];
  char *text = mpcReadFile(path, length, error, sizeof error);
  if (!text) {
    fprintf(stderr, "mpc-opt: error: %s\n", error);
    exit(1);
  }
  return text;
}

/*---------------------------------------------------------------------------
 * Running one chunk
 *---------------------------------------------------------------------------*/

typedef struct {
  char *data;
  size_t length, capacity;
} Buffer;

static void bufferAppend(Buffer *b, const char *data, size_t length) {
  if (length == 0)
    return;
  if (b->length + length > b->capacity) {
    size_t cap = b->capacity ? b->capacity : 4096;
    while (cap < b->length + length)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
      abort();
    b->data = grown;
    b->capacity = cap;
  }
  memcpy(b->data + b->length, data, length);
  b->length += length;
}

static void bufferPrinter(MlirStringRef text, void *userData) {
  bufferAppend(userData, text.data, text.length);
}

static void pipelineError(MlirStringRef message, void *userData) {
  fprintf(stderr, "mpc-opt: error: bad --pass-pipeline '%s': %.*s\n", (const char *)userData,
          (int)message.length, message.data);
}

/* Adds one upstream pipeline; an anchored one ("builtin.module(...)") is
 * parsed whole, a plain list ("canonicalize,cse") is nested at top level. */
static bool addPipeline(MlirPassManager pm, const char *pipeline) {
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirStringRef text = mlirStringRefCreateFromCString(pipeline);
  if (!strncmp(pipeline, "builtin.module(", 15))
    return mlirLogicalResultIsSuccess(mlirParsePassPipeline(opm, text, pipelineError, (void *)pipeline));
  return mlirLogicalResultIsSuccess(mlirOpPassManagerAddPipeline(opm, text, pipelineError, (void *)pipeline));
}

static MlirPassManager buildPassManager(MlirContext ctx, const Options *o) {
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  for (int i = 0; i < o->numStages; ++i) {
    if (o->stages[i].pass) {
      mlirPassManagerAddOwnedPass(pm, o->stages[i].pass->create(&o->mpc));
    } else if (!addPipeline(pm, o->stages[i].pipeline)) {
      mlirPassManagerDestroy(pm);
      return (MlirPassManager){NULL};
    }
  }
  if (o->printAfterAll) {
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    mlirPassManagerEnableIRPrinting(pm, false, true, true, false, false, flags, mlirStringRefCreate(NULL, 0));
    mlirOpPrintingFlagsDestroy(flags);
  }
  return pm;
}

/* Parses, verifies, transforms and prints one chunk; false on failure. */
static bool processChunk(MlirContext ctx, const Options *o, MlirStringRef text, const char *name,
                         Buffer *out) {
  MlirModule module = mpcParseModule(ctx, text, name);
  if (mlirModuleIsNull(module))
    return false;
  MlirOperation op = mlirModuleGetOperation(module);
  bool ok = mpcVerify(op);
  if (ok && o->numStages) {
    MlirPassManager pm = buildPassManager(ctx, o);
    ok = pm.ptr && mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, op)) && mpcVerify(op);
    if (pm.ptr)
      mlirPassManagerDestroy(pm);
  }
  if (ok && o->mpc.report) {
    mpcReportMeasure(o->mpc.report, op, true);
    mpcReportAddGraph(o->mpc.report, op);
  }
  if (ok) {
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    if (o->debugInfo)
      mlirOpPrintingFlagsEnableDebugInfo(flags, true, false);
    mlirOperationPrintWithFlags(op, flags, bufferPrinter, out);
    mlirOpPrintingFlagsDestroy(flags);
    bufferAppend(out, "\n", 1);
  }
  mlirModuleDestroy(module);
  return ok;
}

static bool isSplitMarker(const char *line, const char *end) {
  while (line < end && (*line == ' ' || *line == '\t'))
    ++line;
  return (size_t)(end - line) >= strlen(SPLIT_MARKER) && !strncmp(line, SPLIT_MARKER, strlen(SPLIT_MARKER));
}

typedef struct {
  const char *begin, *end;
  int firstLine, lastLine;
} Chunk;

/* Cuts the source at '// -----' lines (or not at all); returns the count. */
static int splitChunks(const char *source, size_t length, bool split, Chunk **chunks) {
  int count = 0, line = 1;
  Chunk cur = {source, NULL, 1, 0};
  *chunks = NULL;
  for (const char *p = source, *end = source + length;; ++line) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *lineEnd = nl ? nl : end;
    bool last = !nl;
    if (last || (split && isSplitMarker(p, lineEnd))) {
      cur.end = last ? end : p;
      cur.lastLine = last ? line : line - 1;
      Chunk *grown = realloc(*chunks, (size_t)(count + 1) * sizeof *grown);
      if (!grown)
        abort();
      *chunks = grown;
      (*chunks)[count++] = cur;
      if (last)
        return count;
      cur = (Chunk){nl + 1, NULL, line + 1, 0};
    }
    p = nl + 1;
  }
}

static int writeReports(const Options *o) {
  const MpcReport *r = o->mpc.report;
  const char *mode = mpcModeInfoGet(o->mpc.mode)->name, *target = mpcTargetName(o->mpc.target);
  if (o->report && !mpcReportWriteJson(r, o->report, mode, target)) {
    fprintf(stderr, "mpc-opt: error: cannot write '%s': %s\n", o->report, strerror(errno));
    return 1;
  }
  if (o->reportDot && !mpcReportWriteDot(r, o->reportDot)) {
    fprintf(stderr, "mpc-opt: error: cannot write '%s': %s\n", o->reportDot, strerror(errno));
    return 1;
  }
  return 0;
}

/* Runs the chunks; returns the process exit code. */
static int run(const Options *o, const char *source, size_t length) {
  const char *name = strcmp(o->input, "-") ? o->input : "<stdin>";
  MlirContext ctx = mpcContextCreate();
  MpcDiagnosticEngine *diag = mpcDiagnosticEngineCreate(ctx, stderr);
  mpcDiagnosticEngineSetSource(diag, name, source, length);

  Chunk *chunks;
  int numChunks = splitChunks(source, length, o->split, &chunks);
  Buffer out = {0}, text = {0};
  bool ok = true;
  for (int i = 0; i < numChunks; ++i) {
    /* Pad each chunk with the newlines before it, so that its locations
     * are those of the original file. */
    text.length = 0;
    for (int l = 1; l < chunks[i].firstLine; ++l)
      bufferAppend(&text, "\n", 1);
    bufferAppend(&text, chunks[i].begin, (size_t)(chunks[i].end - chunks[i].begin));
    if (i)
      bufferAppend(&out, SPLIT_MARKER "\n", strlen(SPLIT_MARKER) + 1);
    if (o->verifyDiagnostics)
      mpcDiagnosticEngineExpect(diag, chunks[i].firstLine, chunks[i].lastLine);
    bool chunkOk = processChunk(ctx, o, mlirStringRefCreate(text.data, text.length), name, &out);
    /* With --verify-diagnostics a chunk passes when its diagnostics are
     * exactly the expected ones, whether or not processing failed. */
    if (o->verifyDiagnostics)
      chunkOk = mpcDiagnosticEngineCheckExpected(diag);
    ok &= chunkOk;
  }
  free(chunks);
  free(text.data);
  mpcDiagnosticEngineDestroy(diag);
  mlirContextDestroy(ctx);

  int status = ok ? 0 : 1;
  if (ok && !o->output) {
    if (out.length)
      fwrite(out.data, 1, out.length, stdout);
  } else if (ok) {
    /* Write a temporary file, then rename: never a half-written output. */
    size_t n = strlen(o->output) + 32;
    char *tmp = malloc(n);
    if (!tmp)
      abort();
    snprintf(tmp, n, "%s.tmp%ld", o->output, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    bool written = f && (out.length == 0 || fwrite(out.data, 1, out.length, f) == out.length);
    if (f && fclose(f) != 0)
      written = false;
    if (!written || rename(tmp, o->output)) {
      fprintf(stderr, "mpc-opt: error: cannot write '%s': %s\n", o->output, strerror(errno));
      remove(tmp);
      status = 1;
    }
    free(tmp);
  }
  free(out.data);
  if (status == 0)
    status = writeReports(o);
  return status;
}

int main(int argc, char **argv) {
  Options o = {0};
  parseArgs(argc, argv, &o);
  mlirRegisterAllPasses();
  if (o.numStages) {
    /* Check the pipeline once up front, so a typo is one error, not one per chunk. */
    MlirContext ctx = mpcContextCreate();
    MlirPassManager pm = buildPassManager(ctx, &o);
    if (pm.ptr)
      mlirPassManagerDestroy(pm);
    mlirContextDestroy(ctx);
    if (!pm.ptr)
      return 1;
  }
  size_t length;
  char *source = readInput(o.input, &length);
  int status = run(&o, source, length);
  free(source);
  free(o.stages);
  mpcReportDestroy(o.mpc.report);
  return status;
}
