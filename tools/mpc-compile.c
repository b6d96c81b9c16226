/*===- mpc-compile.c - compile a model into native code ----------*- C -*-===*
 *
 *   mpc-compile model.mlir --precision=MODE [--emit=mlir|llvm|obj] -o OUT
 *   mpc-compile --forward model.mlir --precision=MODE -o runner
 *
 * Parses and verifies the model, runs the precision pipeline for the mode,
 * lowers mpc to linalg and runtime kernel calls (mpc-lower-to-linalg), runs
 * the upstream pipeline to the LLVM dialect, and emits LLVM IR or an object
 * file for the host CPU (or --cpu=NAME) through the LLVM C API. --forward
 * links the object with the runtime's forward runner into an executable;
 * that step, and only that, runs the system C compiler (to link).
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "mpc/runtime.h"

#include <errno.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Pass.h>
#include <mlir-c/RegisterEverything.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MPC_RUNTIME_LIBRARY
#define MPC_RUNTIME_LIBRARY "libmpcrt.a"
#endif
#ifndef MPC_RUNTIME_LINK_FLAG
#define MPC_RUNTIME_LINK_FLAG ""
#endif
#ifndef MPC_INCLUDE_DIR
#define MPC_INCLUDE_DIR "include"
#endif

typedef enum { EMIT_EXE, EMIT_MLIR, EMIT_LLVM, EMIT_OBJ } Emit;

typedef struct {
  const char *input, *output, *precision, *target, *policy, *cpu, *train, *lossScale, *report, *entry;
  Emit emit;
  bool forward, verbose, keep;
  MpcOptions mpc;
} Options;

static void usageError(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usageError(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpc-compile: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (see mpc-compile --help)\n", stderr);
  va_end(ap);
  exit(1);
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpc-compile: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void printHelp(void) {
  printf("usage: mpc-compile [options] model.mlir -o OUT\n\n"
         "Compiles an mpc model for the CPU.\n\n"
         "options:\n"
         "  -o FILE                 the output (written only on success)\n"
         "  --train=OPT[:K=V,...]   build a trainer: sgd, momentum or adamw (docs/training.md has the keys):\n"
         "                            ./trainer --input NAME=FILE ... --steps N --lr LR [--save F] [--log F.csv]\n"
         "  --loss-scale=SPEC       dynamic[:init=V,growth=V,backoff=V,interval=N], static:VALUE or none\n"
         "                          (default: dynamic for 16-mixed, none otherwise)\n"
         "  --forward               build a runner that evaluates @forward once:\n"
         "                            ./runner --input NAME=FILE ... [--init F.safetensors] [--seed S] --out DIR\n"
         "  --emit=mlir|llvm|obj    stop early: the lowered MLIR (linalg, tensor, kernel calls), LLVM IR,\n"
         "                          or an object file\n"
         "  --precision=MODE        32-true (default), 16-mixed, bf16-mixed, 16-true, bf16-true, 64-true\n"
         "  --target=cpu            the code generator (cuda is not built yet)\n"
         "  --policy=FILE           override op classes (as mpc-opt)\n"
         "  --cpu=NAME              generate code for NAME (an LLVM CPU name, e.g. x86-64-v3);\n"
         "                          default: the host CPU\n"
         "  --report=FILE.json      the precision report (as mpc-opt)\n"
         "  --entry=NAME            the model function (default forward)\n"
         "  -v, --verbose           print each stage and the link command\n"
         "  --help, --version\n");
}

static void parseArgs(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-o")) {
      if (++i == argc)
        usageError("-o needs a file name");
      o->output = argv[i];
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printHelp();
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("mpc-compile (mpc) with MLIR %s\n", MPC_MLIR_VERSION);
      exit(0);
    } else if (!strcmp(a, "--forward")) {
      o->forward = true;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = true;
    } else if (!strcmp(a, "--keep-temps")) {
      o->keep = true;
    } else if (!strncmp(a, "--emit=", 7)) {
      const char *e = a + 7;
      if (!strcmp(e, "mlir"))
        o->emit = EMIT_MLIR;
      else if (!strcmp(e, "llvm"))
        o->emit = EMIT_LLVM;
      else if (!strcmp(e, "obj"))
        o->emit = EMIT_OBJ;
      else if (!strcmp(e, "ptx"))
        usageError("--emit=ptx needs --target=cuda, which is not built yet");
      else
        usageError("invalid --emit '%s'; expected mlir, llvm or obj", e);
    } else if (!strncmp(a, "--precision=", 12)) {
      o->precision = a + 12;
    } else if (!strncmp(a, "--target=", 9)) {
      o->target = a + 9;
    } else if (!strncmp(a, "--policy=", 9)) {
      o->policy = a + 9;
    } else if (!strncmp(a, "--cpu=", 6)) {
      o->cpu = a + 6;
      if (!*o->cpu)
        usageError("--cpu needs a CPU name");
    } else if (!strncmp(a, "--train=", 8)) {
      o->train = a + 8;
    } else if (!strncmp(a, "--loss-scale=", 13)) {
      o->lossScale = a + 13;
    } else if (!strncmp(a, "--report=", 9)) {
      o->report = a + 9;
    } else if (!strncmp(a, "--entry=", 8)) {
      o->entry = a + 8;
    } else if (a[0] == '-' && a[1]) {
      usageError("unknown option '%s'", a);
    } else if (o->input) {
      usageError("more than one input file ('%s' and '%s')", o->input, a);
    } else {
      o->input = a;
    }
  }
  if (!o->input)
    usageError("no input file");
  if (!o->output)
    usageError("no output file; use -o FILE");
  if (!o->entry)
    o->entry = "forward";
  if (o->target && strcmp(o->target, "cpu")) {
    if (!strcmp(o->target, "cuda"))
      fatal("--target=cuda: the CUDA code generator is not built yet; use --target=cpu");
    usageError("invalid --target '%s'; expected cpu or cuda", o->target);
  }
  if (o->train && o->forward)
    usageError("--train and --forward build different executables; give one");
  if (!o->forward && !o->train && o->emit == EMIT_EXE)
    usageError("nothing to build: give --train=OPT (a trainer), --forward (a runner) or --emit=mlir|llvm|obj");
  if (o->forward && o->emit != EMIT_EXE)
    usageError("--forward builds an executable; it cannot be combined with --emit");
  if (o->lossScale && !o->train)
    usageError("--loss-scale needs --train");
  char error[512];
  bool usage;
  if (!mpcOptionsFromFlags(&o->mpc, "mpc-compile", o->precision, "cpu", o->policy, error, sizeof error, &usage)) {
    if (usage)
      usageError("%s", error);
    fatal("%s", error);
  }
  if (o->lossScale && !mpcLossScaleParse(o->lossScale, &o->mpc.lossScale, error, sizeof error))
    usageError("%s", error);
  if (o->train && !mpcOptimizerParse(o->train, &o->mpc.optimizer, error, sizeof error))
    usageError("%s", error);
  if (o->report)
    o->mpc.report = mpcReportCreate();
}

static char *readFile(const char *path, size_t *length) {
  char error[512];
  char *text = mpcReadFile(path, length, error, sizeof error);
  if (!text)
    fatal("%s", error);
  return text;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void stage(const Options *o, double *t, const char *what) {
  if (o->verbose) {
    double n = now();
    fprintf(stderr, "mpc-compile: %-28s %.3f s\n", what, n - *t);
    *t = n;
  }
}

/*---------------------------------------------------------------------------
 * The model's signature, for the runner
 *---------------------------------------------------------------------------*/

typedef struct {
  char name[128];
  MpcrtRole role;
  bool isParam;
  MpcrtDType dtype;
  int rank;
  int64_t dims[MPCRT_MAX_RANK];
  MpcrtInit init;
  int64_t fanIn;
} ArgInfo;

static bool dtypeOf(MlirType element, MpcrtDType *out) {
  if (mlirTypeIsAF16(element))
    *out = MPCRT_F16;
  else if (mlirTypeIsABF16(element))
    *out = MPCRT_BF16;
  else if (mlirTypeIsAF32(element))
    *out = MPCRT_F32;
  else if (mlirTypeIsAF64(element))
    *out = MPCRT_F64;
  else if (mlirTypeIsAInteger(element) && mlirIntegerTypeGetWidth(element) == 32)
    *out = MPCRT_I32;
  else if (mlirTypeIsAInteger(element) && mlirIntegerTypeGetWidth(element) == 64)
    *out = MPCRT_I64;
  else if (mlirTypeIsAInteger(element) && mlirIntegerTypeGetWidth(element) == 1)
    *out = MPCRT_BOOL;
  else
    return false;
  return true;
}

static bool shapeInfo(MlirType type, ArgInfo *a) {
  if (!mlirTypeIsARankedTensor(type) || !mlirShapedTypeHasStaticShape(type))
    return false;
  a->rank = (int)mlirShapedTypeGetRank(type);
  if (a->rank > MPCRT_MAX_RANK)
    return false;
  for (int d = 0; d < a->rank; ++d)
    a->dims[d] = mlirShapedTypeGetDimSize(type, d);
  return dtypeOf(mlirShapedTypeGetElementType(type), &a->dtype);
}

static MlirOperation findFunc(MlirModule module, const char *name) {
  MlirBlock body = mlirModuleGetBody(module);
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute sym = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("sym_name"));
    if (mlirAttributeIsAString(sym)) {
      MlirStringRef s = mlirStringAttrGetValue(sym);
      if (s.length == strlen(name) && !memcmp(s.data, name, s.length))
        return op;
    }
  }
  return (MlirOperation){NULL};
}

static bool opNamed(MlirOperation op, const char *name) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  return s.length == strlen(name) && !memcmp(s.data, name, s.length);
}

static int64_t fanInOf(MlirValue weight) {
  MlirType t = mlirValueGetType(weight);
  int64_t f = 1;
  for (intptr_t d = 1; d < mlirShapedTypeGetRank(t); ++d)
    f *= mlirShapedTypeGetDimSize(t, d);
  return f;
}

/* PyTorch's defaults, read off how the parameter is used (before the
 * precision passes, when parameters feed ops directly): weights of
 * linear/conv2d get kaiming_uniform with their fan-in, their biases
 * uniform(+-1/sqrt(fan_in)) with the weight's fan-in, layer_norm's gamma
 * ones and beta zeros, embedding tables normal. */
static void defaultInit(MlirValue param, ArgInfo *a) {
  a->init = a->rank >= 2 ? MPCRT_INIT_KAIMING_UNIFORM : MPCRT_INIT_UNIFORM_FAN_IN;
  a->fanIn = a->rank >= 2 ? fanInOf(param) : (a->rank == 1 ? a->dims[0] : 1);
  for (MlirOpOperand use = mlirValueGetFirstUse(param); !mlirOpOperandIsNull(use);
       use = mlirOpOperandGetNextUse(use)) {
    MlirOperation user = mlirOpOperandGetOwner(use);
    unsigned n = mlirOpOperandGetOperandNumber(use);
    if ((opNamed(user, "mpc.linear") || opNamed(user, "mpc.conv2d")) && n == 2) {
      a->fanIn = fanInOf(mlirOperationGetOperand(user, 1));
      return;
    }
    if (opNamed(user, "mpc.layer_norm") && n >= 1) {
      a->init = n == 1 ? MPCRT_INIT_ONES : MPCRT_INIT_ZEROS;
      return;
    }
    if (opNamed(user, "mpc.embedding") && n == 0) {
      a->init = MPCRT_INIT_NORMAL;
      return;
    }
  }
}

/* Entry `name` of the i-th dictionary of a func's arg_attrs or res_attrs
 * ("dicts"), or a null attribute. */
static MlirAttribute dictAttr(MlirOperation func, const char *dicts, intptr_t i, const char *name) {
  MlirAttribute all = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString(dicts));
  if (mlirAttributeIsNull(all) || !mlirAttributeIsAArray(all) || i >= mlirArrayAttrGetNumElements(all))
    return (MlirAttribute){NULL};
  MlirAttribute d = mlirArrayAttrGetElement(all, i);
  if (!mlirAttributeIsADictionary(d))
    return (MlirAttribute){NULL};
  return mlirDictionaryAttrGetElementByName(d, mlirStringRefCreateFromCString(name));
}

static MlirAttribute argAttr(MlirOperation func, intptr_t i, const char *name) {
  return dictAttr(func, "arg_attrs", i, name);
}

/* Names, roles and init rules from the model as written. */
static void readRoles(MlirOperation func, ArgInfo *args, int numArgs) {
  MlirBlock block = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  for (int i = 0; i < numArgs; ++i) {
    ArgInfo *a = &args[i];
    MlirValue v = mlirBlockGetArgument(block, i);
    if (!shapeInfo(mlirValueGetType(v), a))
      fatal("%s: argument %d of @forward must be a statically shaped tensor of a float or integer type", "model",
            i);
    MlirAttribute param = argAttr(func, i, "mpc.param"), input = argAttr(func, i, "mpc.input");
    MlirAttribute name = !mlirAttributeIsNull(param) ? param : input;
    a->isParam = !mlirAttributeIsNull(param);
    if (!mlirAttributeIsNull(name) && mlirAttributeIsAString(name)) {
      MlirStringRef s = mlirStringAttrGetValue(name);
      snprintf(a->name, sizeof a->name, "%.*s", (int)s.length, s.data);
    } else {
      snprintf(a->name, sizeof a->name, "arg%d", i);
    }
    if (a->isParam) {
      defaultInit(v, a);
      MlirAttribute init = argAttr(func, i, "mpc.init");
      if (!mlirAttributeIsNull(init) && mlirAttributeIsAString(init)) {
        MlirStringRef s = mlirStringAttrGetValue(init);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)s.length, s.data);
        if (!mpcrtInitFromName(buf, &a->init))
          fatal("parameter '%s': unknown mpc.init '%s'; expected kaiming_uniform, uniform_fan_in, normal, zeros "
                "or ones",
                a->name, buf);
      }
    }
  }
}

/* Types after the precision passes (16-true stores parameters in f16). */
static void readTypes(MlirOperation func, ArgInfo *args, int numArgs, ArgInfo *results, int numResults) {
  MlirType ftype =
      mlirTypeAttrGetValue(mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("function_type")));
  for (int i = 0; i < numArgs; ++i)
    shapeInfo(mlirFunctionTypeGetInput(ftype, i), &args[i]);
  for (int i = 0; i < numResults; ++i) {
    if (!shapeInfo(mlirFunctionTypeGetResult(ftype, i), &results[i]))
      fatal("result %d of @forward must be a statically shaped float tensor", i);
    snprintf(results[i].name, sizeof results[i].name, "result%d", i);
  }
}

/*---------------------------------------------------------------------------
 * The runner: glue between the runtime's MpcrtModel and the generated code
 *---------------------------------------------------------------------------*/

static void writeDescriptor(FILE *f, const char *var, const char *data, const ArgInfo *a) {
  fprintf(f, "  struct { void *allocated, *aligned; int64_t offset;");
  if (a->rank)
    fprintf(f, " int64_t sizes[%d], strides[%d];", a->rank, a->rank);
  fprintf(f, " } %s = {%s, %s, 0", var, data, data);
  if (a->rank) {
    fprintf(f, ", {");
    for (int d = 0; d < a->rank; ++d)
      fprintf(f, "%s%lld", d ? ", " : "", (long long)a->dims[d]);
    fprintf(f, "}, {");
    for (int d = 0; d < a->rank; ++d) {
      int64_t stride = 1;
      for (int e = d + 1; e < a->rank; ++e)
        stride *= a->dims[e];
      fprintf(f, "%s%lld", d ? ", " : "", (long long)stride);
    }
    fprintf(f, "}");
  }
  fprintf(f, "};\n");
}

static void writeInfo(FILE *f, const ArgInfo *a) {
  fprintf(f, "    {.name = \"");
  for (const char *c = a->name; *c; ++c)
    fprintf(f, (*c == '"' || *c == '\\') ? "\\%c" : "%c", *c);
  fprintf(f, "\", .isParam = %s, .dtype = %d, .rank = %d, .dims = {", a->isParam ? "true" : "false", a->dtype,
          a->rank);
  for (int d = 0; d < a->rank; ++d)
    fprintf(f, "%s%lld", d ? ", " : "", (long long)a->dims[d]);
  fprintf(f, "}, .init = %d, .fanIn = %lld},\n", a->init, (long long)a->fanIn);
}

/* A C function `NAME(in, out)` that calls `_mlir_ciface_ENTRY` with memref
 * descriptors of the data pointers (results are out-parameters). */
static void writeWrapper(FILE *f, const char *name, const char *entry, const ArgInfo *args, int numArgs,
                         const ArgInfo *results, int numResults) {
  fprintf(f, "void _mlir_ciface_%s(", entry);
  for (int i = 0; i < numArgs + numResults; ++i)
    fprintf(f, "%svoid *", i ? ", " : "");
  fprintf(f, "%s);\n\n", numArgs + numResults ? "" : "void");
  fprintf(f, "static void %s(void *const *in, void *const *out) {\n", name);
  char var[32], data[32];
  for (int i = 0; i < numArgs; ++i) {
    snprintf(var, sizeof var, "a%d", i);
    snprintf(data, sizeof data, "in[%d]", i);
    writeDescriptor(f, var, data, &args[i]);
  }
  for (int i = 0; i < numResults; ++i) {
    snprintf(var, sizeof var, "r%d", i);
    snprintf(data, sizeof data, "out[%d]", i);
    writeDescriptor(f, var, data, &results[i]);
  }
  fprintf(f, "  _mlir_ciface_%s(", entry);
  for (int i = 0; i < numArgs; ++i)
    fprintf(f, "%s&a%d", i ? ", " : "", i);
  for (int i = 0; i < numResults; ++i)
    fprintf(f, "%s&r%d", i || numArgs ? ", " : "", i);
  fprintf(f, ");\n}\n\n");
}

static void writeInfos(FILE *f, const char *var, const ArgInfo *a, int n) {
  fprintf(f, "static const MpcrtArgInfo %s[] = {\n", var);
  for (int i = 0; i < n; ++i)
    writeInfo(f, &a[i]);
  if (!n)
    fprintf(f, "    {.name = \"\"},\n");
  fprintf(f, "};\n");
}

static void writeRoles(FILE *f, const char *var, const ArgInfo *a, int n) {
  fprintf(f, "static const MpcrtRole %s[] = {", var);
  for (int i = 0; i < n; ++i)
    fprintf(f, "%s%d", i ? ", " : "", a[i].role);
  fprintf(f, "%s};\n", n ? "" : "0");
}

/* The runner's glue: @ENTRY as an MpcrtModel and main. With a train step
 * (args/results of @train_step), the trainer's glue instead. */
typedef struct {
  ArgInfo *args, *results;
  int numArgs, numResults;
} Signature;

static bool writeGlue(const char *path, const Options *o, const Signature *fwd, const Signature *step) {
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "/* Generated by mpc-compile from %s. */\n#include \"mpc/runtime.h\"\n\n", o->input);
  writeWrapper(f, "forward", o->entry, fwd->args, fwd->numArgs, fwd->results, fwd->numResults);
  writeInfos(f, "args", fwd->args, fwd->numArgs);
  writeInfos(f, "results", fwd->results, fwd->numResults);
  fprintf(f, "\nstatic const MpcrtModel model = {\"%s\", %d, %d, args, results, forward};\n\n", o->entry,
          fwd->numArgs, fwd->numResults);
  if (!step) {
    fprintf(f, "int main(int argc, char **argv) { return mpcrtRunnerMain(&model, argc, argv); }\n");
    return fclose(f) == 0;
  }
  writeWrapper(f, "step", "train_step", step->args, step->numArgs, step->results, step->numResults);
  writeInfos(f, "stepArgs", step->args, step->numArgs);
  writeInfos(f, "stepResults", step->results, step->numResults);
  writeRoles(f, "argRoles", step->args, step->numArgs);
  writeRoles(f, "resultRoles", step->results, step->numResults);
  MpcLossScaleKind ls = mpcLossScaleResolve(&o->mpc.lossScale, o->mpc.mode);
  const char *lsName = ls == MPC_SCALE_DYNAMIC ? "dynamic" : ls == MPC_SCALE_STATIC ? "static" : "none";
  fprintf(f,
          "\nstatic const MpcrtTrainer trainer = {\n"
          "    .name = \"%s\", .precision = \"%s\", .optimizer = \"%s\", .lossScaling = \"%s\",\n"
          "    .initScale = %.17g, .defaultLr = %.17g,\n"
          "    .numArgs = %d, .numResults = %d, .args = stepArgs, .results = stepResults,\n"
          "    .argRoles = argRoles, .resultRoles = resultRoles, .step = step, .forward = &model};\n\n",
          o->entry, mpcModeInfoGet(o->mpc.mode)->name, o->mpc.optimizer.kind == MPC_OPT_ADAMW ? "adamw" : "sgd",
          lsName, ls == MPC_SCALE_NONE ? 1.0 : o->mpc.lossScale.init, o->mpc.optimizer.lr, step->numArgs,
          step->numResults);
  fprintf(f, "int main(int argc, char **argv) { return mpcrtTrainerMain(&trainer, argc, argv); }\n");
  return fclose(f) == 0;
}

/* The string value of attribute `key` in a dictionary-array entry. */
/* Whether @train_step's argument or result i has the role attribute `key`;
 * its name is the attribute's string, or the key without "mpc." (mpc.lr). */
static bool roleAttr(MlirOperation func, const char *dicts, intptr_t i, const char *key, char *name, size_t size) {
  MlirAttribute a = dictAttr(func, dicts, i, key);
  if (mlirAttributeIsNull(a))
    return false;
  if (mlirAttributeIsAString(a)) {
    MlirStringRef s = mlirStringAttrGetValue(a);
    snprintf(name, size, "%.*s", (int)s.length, s.data);
  } else {
    snprintf(name, size, "%s", key + 4);
  }
  return true;
}

/* @train_step's signature, roles read off its attributes; parameters take
 * their init rules from the model function's arguments. */
static void readTrainSignature(MlirOperation func, const Signature *fwd, Signature *step) {
  MlirType ftype =
      mlirTypeAttrGetValue(mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("function_type")));
  step->numArgs = (int)mlirFunctionTypeGetNumInputs(ftype);
  step->numResults = (int)mlirFunctionTypeGetNumResults(ftype);
  step->args = calloc((size_t)step->numArgs + 1, sizeof *step->args);
  step->results = calloc((size_t)step->numResults + 1, sizeof *step->results);
  if (!step->args || !step->results)
    abort();
  static const struct {
    const char *key;
    MpcrtRole role;
  } roles[] = {{"mpc.input", MPCRT_ROLE_INPUT}, {"mpc.param", MPCRT_ROLE_PARAM}, {"mpc.state", MPCRT_ROLE_STATE},
               {"mpc.lr", MPCRT_ROLE_LR},       {"mpc.loss", MPCRT_ROLE_LOSS},   {"mpc.skipped", MPCRT_ROLE_SKIPPED},
               {"mpc.metric", MPCRT_ROLE_METRIC}};
  for (int pass = 0; pass < 2; ++pass) {
    int n = pass ? step->numResults : step->numArgs;
    ArgInfo *list = pass ? step->results : step->args;
    for (int i = 0; i < n; ++i) {
      ArgInfo *a = &list[i];
      if (!shapeInfo(pass ? mlirFunctionTypeGetResult(ftype, i) : mlirFunctionTypeGetInput(ftype, i), a))
        fatal("@train_step: %s %d is not a statically shaped tensor", pass ? "result" : "argument", i);
      bool found = false;
      for (size_t r = 0; r < sizeof roles / sizeof roles[0] && !found; ++r)
        if (roleAttr(func, pass ? "res_attrs" : "arg_attrs", i, roles[r].key, a->name, sizeof a->name)) {
          a->role = roles[r].role;
          found = true;
        }
      if (!found)
        fatal("@train_step: %s %d has no mpc.* role attribute", pass ? "result" : "argument", i);
      a->isParam = a->role == MPCRT_ROLE_PARAM;
      for (int k = 0; a->isParam && k < fwd->numArgs; ++k)
        if (fwd->args[k].isParam && !strcmp(fwd->args[k].name, a->name)) {
          a->init = fwd->args[k].init;
          a->fanIn = fwd->args[k].fanIn;
        }
    }
  }
}

static bool runCommand(const Options *o, char *const *argv) {
  if (o->verbose) {
    fprintf(stderr, "mpc-compile:");
    for (int i = 0; argv[i]; ++i)
      fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "mpc-compile: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*---------------------------------------------------------------------------
 * main
 *---------------------------------------------------------------------------*/

typedef enum { PASSES_PRECISION, PASSES_TRAINING, PASSES_LOWERING } PassSet;

static bool runPasses(MlirContext ctx, MlirOperation module, const Options *o, PassSet which) {
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  if (which == PASSES_PRECISION) {
    size_t n;
    const char *const *pipeline = mpcPrecisionPipeline(&n);
    for (size_t i = 0; i < n; ++i)
      mlirPassManagerAddOwnedPass(pm, mpcPassLookup(pipeline[i])->create(&o->mpc));
  } else if (which == PASSES_TRAINING) {
    mlirPassManagerAddOwnedPass(pm, mpcCreateAutodiffPass(&o->mpc));
    mlirPassManagerAddOwnedPass(pm, mpcCreateLossScalingPass(&o->mpc));
    mlirPassManagerAddOwnedPass(pm, mpcCreateOptimizerPass(&o->mpc));
    mlirPassManagerAddOwnedPass(pm, mpcCreateVerifyPass(&o->mpc));
  } else {
    mlirPassManagerAddOwnedPass(pm, mpcCreateLowerToLinalgPass(&o->mpc));
  }
  bool ok = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, module));
  mlirPassManagerDestroy(pm);
  return ok;
}

static void printModule(MlirStringRef text, void *userData) { fwrite(text.data, 1, text.length, userData); }

/* Writes `path` through a temporary and a rename. */
static char *tempBeside(const char *path) {
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (!tmp)
    abort();
  snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
  return tmp;
}

static int compile(const Options *o, MlirContext ctx, MlirModule module) {
  double t = now();
  MlirOperation op = mlirModuleGetOperation(module);
  if (!mpcVerify(op))
    return 1;
  MlirOperation func = findFunc(module, o->entry);
  bool exe = o->emit == EMIT_EXE;
  Signature fwd = {0}, step = {0};
  if (exe || o->train) {
    if (mlirOperationIsNull(func))
      fatal("%s: no function @%s to build a %s for", o->input, o->entry, o->train ? "trainer" : "runner");
    MlirType ftype = mlirTypeAttrGetValue(
        mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("function_type")));
    fwd.numArgs = (int)mlirFunctionTypeGetNumInputs(ftype);
    fwd.numResults = (int)mlirFunctionTypeGetNumResults(ftype);
    fwd.args = calloc((size_t)fwd.numArgs + 1, sizeof *fwd.args);
    fwd.results = calloc((size_t)fwd.numResults + 1, sizeof *fwd.results);
    if (!fwd.args || !fwd.results)
      abort();
    readRoles(func, fwd.args, fwd.numArgs);
  }
  int status = 1;
  char *tmp = NULL;
  if (!runPasses(ctx, op, o, PASSES_PRECISION))
    goto done;
  stage(o, &t, "precision passes");
  if (o->mpc.report) {
    mpcReportMeasure(o->mpc.report, op, true);
    mpcReportAddGraph(o->mpc.report, op);
    if (!mpcReportWriteJson(o->mpc.report, o->report, mpcModeInfoGet(o->mpc.mode)->name, "cpu"))
      goto done;
  }
  if (exe || o->train)
    readTypes(findFunc(module, o->entry), fwd.args, fwd.numArgs, fwd.results, fwd.numResults);
  if (o->train) {
    if (strcmp(o->entry, "forward"))
      fatal("--train differentiates @forward; --entry=%s is for --forward and --emit", o->entry);
    if (!runPasses(ctx, op, o, PASSES_TRAINING))
      goto done;
    stage(o, &t, "training passes (autodiff, loss scaling, optimizer)");
    readTrainSignature(findFunc(module, "train_step"), &fwd, &step);
  }
  if (!runPasses(ctx, op, o, PASSES_LOWERING))
    goto done;
  stage(o, &t, "mpc-lower-to-linalg");
  tmp = tempBeside(o->output);
  status = 0;
  if (o->emit == EMIT_MLIR) {
    FILE *f = fopen(tmp, "w");
    if (!f)
      fatal("cannot write '%s': %s", o->output, strerror(errno));
    mlirOperationPrint(op, printModule, f);
    fputc('\n', f);
    if (fclose(f) || rename(tmp, o->output))
      fatal("cannot write '%s': %s", o->output, strerror(errno));
    goto done;
  }
  char *error = NULL;
  if (!mpcLowerToLLVMDialect(op, &error))
    fatal("%s", error);
  stage(o, &t, "upstream lowering to LLVM");
  char objPath[] = "/tmp/mpc-compile-XXXXXX";
  const char *target = tmp;
  if (exe) {
    if (!mkdtemp(objPath))
      fatal("cannot create a temporary directory: %s", strerror(errno));
  }
  char obj[300], glue[300];
  snprintf(obj, sizeof obj, "%s/model.o", objPath);
  snprintf(glue, sizeof glue, "%s/%s.c", objPath, o->train ? "trainer" : "runner");
  if (exe)
    target = obj;
  if (!mpcEmitNative(op, o->cpu, o->emit == EMIT_LLVM ? MPC_EMIT_LLVM : MPC_EMIT_OBJ, target, &error)) {
    remove(target);
    if (exe)
      rmdir(objPath);
    fatal("%s", error);
  }
  stage(o, &t, o->emit == EMIT_LLVM ? "LLVM IR" : "object code");
  if (exe) {
    if (!writeGlue(glue, o, &fwd, o->train ? &step : NULL))
      fatal("cannot write '%s'", glue);
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    char *argv[16];
    int argn = 0;
    argv[argn++] = (char *)cc;
    argv[argn++] = "-O2";
    argv[argn++] = "-w";
    if (*MPC_RUNTIME_LINK_FLAG)
      argv[argn++] = MPC_RUNTIME_LINK_FLAG;
    char *const rest[] = {"-I", MPC_INCLUDE_DIR, "-o", tmp, glue, obj, MPC_RUNTIME_LIBRARY, "-lz", "-lm", "-lpthread"};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; ++i)
      argv[argn++] = rest[i];
    argv[argn] = NULL;
    if (!runCommand(o, argv)) {
      remove(tmp);
      status = 1;
      fprintf(stderr, "mpc-compile: error: linking the %s failed (the command: mpc-compile -v shows it)\n",
              o->train ? "trainer" : "runner");
    }
    stage(o, &t, "link");
    if (!o->keep) {
      remove(obj);
      remove(glue);
      rmdir(objPath);
    } else {
      fprintf(stderr, "mpc-compile: kept %s and %s\n", obj, glue);
    }
  }
  if (status == 0 && rename(tmp, o->output)) {
    remove(tmp);
    fatal("cannot write '%s': %s", o->output, strerror(errno));
  }
done:
  free(tmp);
  free(fwd.args);
  free(fwd.results);
  free(step.args);
  free(step.results);
  return status;
}

int main(int argc, char **argv) {
  Options o = {0};
  parseArgs(argc, argv, &o);
  mlirRegisterAllPasses();
  size_t length;
  char *source = readFile(o.input, &length);
  MlirContext ctx = mpcContextCreate();
  MpcDiagnosticEngine *diag = mpcDiagnosticEngineCreate(ctx, stderr);
  mpcDiagnosticEngineSetSource(diag, o.input, source, length);
  MlirModule module = mpcParseModule(ctx, mlirStringRefCreate(source, length), o.input);
  int status = 1;
  if (!mlirModuleIsNull(module)) {
    status = compile(&o, ctx, module);
    mlirModuleDestroy(module);
  }
  mpcDiagnosticEngineDestroy(diag);
  mlirContextDestroy(ctx);
  mpcReportDestroy(o.mpc.report);
  free(source);
  return status;
}
