/*===- mpc-import.c - ONNX models into mpc IR -------------------*- C -*-===*
 *
 *   mpc-import model.onnx -o model.mlir [--shape NAME=D0,D1,...] [--entry=NAME]
 *
 * Writes the model function to model.mlir and the initializers' values to
 * model.safetensors beside it (SPEC section 5). The generated IR is parsed
 * and verified before anything is written; nothing is written on error.
 *===----------------------------------------------------------------------===*/
#include "mpc/import.h"
#include "mpc/mpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  const char *input, *output, *params, *entry;
  MpcImportShape shapes[64];
  int numShapes;
  bool listOps, noVerify, quiet;
} Options;

/* The same path, or two names of one existing file. */
static bool sameFile(const char *a, const char *b) {
  if (!strcmp(a, b))
    return true;
  struct stat sa, sb;
  return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void usageError(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usageError(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpc-import: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (see mpc-import --help)\n", stderr);
  va_end(ap);
  exit(1);
}

static void printHelp(void) {
  printf("usage: mpc-import model.onnx [-o model.mlir] [options]\n\n"
         "Turns an ONNX model (as torch.onnx exports it; opsets 6 to 21, tested at 13 and 17) into an mpc\n"
         "model function (docs/import.md).\n"
         "Graph inputs become mpc.input arguments; initializers become mpc.param arguments, and their\n"
         "values are written beside the IR as safetensors (-o model.mlir writes model.safetensors).\n\n"
         "options:\n"
         "  -o FILE                write the IR to FILE (default: stdout, no parameter file)\n"
         "  --params=FILE          write the parameter values to FILE instead\n"
         "  --shape NAME=D0,D1,..  give a graph input with dynamic dimensions a static shape\n"
         "                         (NAME= alone makes it a scalar); repeatable\n"
         "  --entry=NAME           the function's name (default forward)\n"
         "  --list-ops             print the supported ONNX op types, one a line\n"
         "  --quiet                no summary line on stderr\n"
         "  --version              print the version\n"
         "  --help                 print this help\n");
}

static void parseShape(Options *o, const char *spec) {
  const char *eq = strrchr(spec, '=');
  if (!eq || eq == spec)
    usageError("--shape wants NAME=D0,D1,... (got '%s')", spec);
  if (o->numShapes == 64)
    usageError("at most 64 --shape flags");
  MpcImportShape *s = &o->shapes[o->numShapes++];
  s->name = strndup(spec, (size_t)(eq - spec));
  s->rank = 0;
  const char *p = eq + 1;
  while (*p) {
    char *end;
    errno = 0;
    long long d = strtoll(p, &end, 10);
    if (end == p || errno || d < 1 || d > (1LL << 40))
      usageError("--shape %s: '%s' is not a list of positive dimensions", s->name, eq + 1);
    if (s->rank == MPCRT_MAX_RANK)
      usageError("--shape %s: more than %d dimensions", s->name, MPCRT_MAX_RANK);
    s->dims[s->rank++] = d;
    p = end;
    if (*p == ',' || *p == 'x')
      ++p;
    else if (*p)
      usageError("--shape %s: '%s' is not a list of positive dimensions", s->name, eq + 1);
  }
  for (int k = 0; k < o->numShapes - 1; ++k)
    if (!strcmp(o->shapes[k].name, s->name))
      usageError("--shape %s is given twice", s->name);
}

static void parseArgs(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printHelp();
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("mpc-import %s (MLIR %s)\n", MPC_VERSION, MPC_MLIR_VERSION);
      exit(0);
    } else if (!strcmp(a, "--list-ops")) {
      o->listOps = true;
    } else if (!strcmp(a, "--quiet")) {
      o->quiet = true;
    } else if (!strcmp(a, "-o")) {
      if (++i == argc)
        usageError("-o needs a file name");
      o->output = argv[i];
    } else if (!strncmp(a, "--params=", 9)) {
      o->params = a + 9;
      if (!*o->params)
        usageError("--params needs a file name");
    } else if (!strcmp(a, "--shape")) {
      if (++i == argc)
        usageError("--shape needs NAME=D0,D1,...");
      parseShape(o, argv[i]);
    } else if (!strncmp(a, "--shape=", 8)) {
      parseShape(o, a + 8);
    } else if (!strncmp(a, "--entry=", 8)) {
      o->entry = a + 8;
      if (!*o->entry)
        usageError("--entry needs a function name");
    } else if (a[0] == '-' && a[1]) {
      usageError("unknown option '%s'", a);
    } else if (o->input) {
      usageError("more than one input file ('%s' and '%s')", o->input, a);
    } else {
      o->input = a;
    }
  }
  if (!o->input && !o->listOps)
    usageError("no input file (give model.onnx)");
  if (o->input && o->output && sameFile(o->input, o->output))
    usageError("-o %s would overwrite the input model", o->output);
  if (o->input && o->params && sameFile(o->input, o->params))
    usageError("--params=%s would overwrite the input model", o->params);
}

static char *readAll(const char *path, size_t *size) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "mpc-import: error: cannot open '%s': %s\n", path, strerror(errno));
    exit(1);
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      char *p = realloc(buf, cap *= 2);
      if (!p) {
        free(buf);
        buf = NULL;
      }
      buf = p;
    }
  }
  bool bad = ferror(f) || !buf;
  if (f != stdin)
    fclose(f);
  if (bad) {
    fprintf(stderr, "mpc-import: error: cannot read '%s'\n", path);
    exit(1);
  }
  *size = len;
  return buf;
}

/* "dir/model.mlir" -> "dir/model.safetensors" */
static char *paramsPathFor(const char *output) {
  size_t n = strlen(output);
  const char *slash = strrchr(output, '/'), *dot = strrchr(output, '.');
  if (dot && (!slash || dot > slash))
    n = (size_t)(dot - output);
  char *p = malloc(n + 13);
  memcpy(p, output, n);
  strcpy(p + n, ".safetensors");
  return p;
}

static const char *baseName(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Parses and verifies the generated text: a failure is an importer bug. */
static bool verifyText(const char *text, const char *name) {
  MlirContext ctx = mpcContextCreate();
  MpcDiagnosticEngine *diag = mpcDiagnosticEngineCreate(ctx, stderr);
  MlirModule module = mpcParseModule(ctx, mlirStringRefCreateFromCString(text), name);
  bool ok = !mlirModuleIsNull(module) && mpcVerify(mlirModuleGetOperation(module));
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mpcDiagnosticEngineDestroy(diag);
  mlirContextDestroy(ctx);
  return ok;
}

static int importModel(const Options *options);

int main(int argc, char **argv) {
  Options o = {0};
  parseArgs(argc, argv, &o);
  int status = importModel(&o);
  for (int k = 0; k < o.numShapes; ++k)
    free((char *)o.shapes[k].name);
  return status;
}

static int importModel(const Options *options) {
  const Options o = *options;
  if (o.listOps) {
    for (const char *const *op = mpcImportSupportedOps(); *op; ++op)
      printf("%s\n", *op);
    return 0;
  }
  size_t size;
  char *data = readAll(o.input, &size);
  const char *source = strcmp(o.input, "-") ? baseName(o.input) : "<stdin>";
  MpcImportOptions io = {.sourceName = source, .funcName = o.entry, .shapes = o.shapes, .numShapes = o.numShapes};
  MpcImportResult r;
  bool ok = mpcImportOnnx(data, size, &io, &r);
  free(data);
  if (!ok) {
    fprintf(stderr, "%s: error: %s\n", o.input, r.error);
    return 1;
  }
  if (!verifyText(r.mlir, source)) {
    fprintf(stderr, "mpc-import: internal error: the IR generated for '%s' does not verify (a bug: please report "
                    "it with the model)\n", o.input);
    mpcImportResultFree(&r);
    return 2;
  }
  char *paramsPath = o.params ? strdup(o.params) : o.output ? paramsPathFor(o.output) : NULL;
  if (paramsPath && o.output && sameFile(paramsPath, o.output)) {
    fprintf(stderr, "mpc-import: error: the IR and the parameters would both be written to '%s'; give -o a name "
                    "ending in .mlir or --params=FILE\n", o.output);
    free(paramsPath);
    mpcImportResultFree(&r);
    return 1;
  }
  if (!paramsPath && r.params.count && !o.quiet)
    fprintf(stderr, "mpc-import: warning: the values of %zu parameter%s are not written (give -o or --params=FILE)\n",
            r.params.count, r.params.count == 1 ? "" : "s");
  if (paramsPath) {
    MpcrtError err;
    if (!mpcrtSafetensorsWrite(paramsPath, &r.params, &err)) {
      fprintf(stderr, "mpc-import: error: %s\n", err.message);
      free(paramsPath);
      mpcImportResultFree(&r);
      return 1;
    }
  }
  FILE *f = o.output ? fopen(o.output, "w") : stdout;
  if (!f || fputs(r.mlir, f) == EOF || (o.output && fclose(f) != 0)) {
    fprintf(stderr, "mpc-import: error: cannot write '%s': %s\n", o.output ? o.output : "<stdout>",
            strerror(errno));
    free(paramsPath);
    mpcImportResultFree(&r);
    return 1;
  }
  if (!o.quiet && o.output)
    fprintf(stderr, "mpc-import: %s (opset %lld, %d node%s) -> %s: %d input%s, %d parameter%s%s%s\n", source,
            (long long)r.opset, r.numNodes, r.numNodes == 1 ? "" : "s", o.output, r.numInputs,
            r.numInputs == 1 ? "" : "s", r.numParams, r.numParams == 1 ? "" : "s", paramsPath ? " in " : "",
            paramsPath ? paramsPath : "");
  free(paramsPath);
  mpcImportResultFree(&r);
  return 0;
}
