/*===- mpc.h - the mpc compiler library -------------------------*- C -*-===*
 *
 * Public C API of libmpc: the op table, the dialect verifier, diagnostics
 * and the pass registry. Names follow MLIR's C API: handles MpcX, functions
 * mpcXVerb, ownership visible in the name (Create/Destroy).
 *===----------------------------------------------------------------------===*/
#ifndef MPC_MPC_H
#define MPC_MPC_H

#include <mlir-c/IR.h>
#include <mlir-c/Pass.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPC_VERSION "0.1.0"

/*---------------------------------------------------------------------------
 * The op table (include/mpc/ops.def)
 *---------------------------------------------------------------------------*/

typedef enum {
#define MPC_OP(ID, NAME, OPERANDS, ATTRS, CPU, CUDA, SHAPE) MPC_OP_##ID,
#include "mpc/ops.def"
#undef MPC_OP
  MPC_OP_COUNT /* also "not an mpc op" */
} MpcOpKind;

typedef enum { MPC_TARGET_CPU, MPC_TARGET_CUDA, MPC_TARGET_COUNT } MpcTarget;

typedef enum {
  MPC_CLASS_LOWER,   /* runs in the mode's low type, operands cast down */
  MPC_CLASS_FP32,    /* runs in f32, operands cast up */
  MPC_CLASS_PROMOTE, /* runs in the widest float type among its operands */
  MPC_CLASS_FOLLOW,  /* runs in its operand's type */
} MpcPrecisionClass;

/* ANY: a float or an integer tensor (data movement of labels); the result has its type. */
typedef enum { MPC_OPERAND_FLOAT, MPC_OPERAND_INT, MPC_OPERAND_I1, MPC_OPERAND_ANY } MpcOperandKind;
typedef enum { MPC_ARITY_ONE, MPC_ARITY_OPTIONAL, MPC_ARITY_VARIADIC } MpcArity;

typedef enum {
  MPC_ATTR_I64,      /* 1 : i64 */
  MPC_ATTR_I64_LIST, /* array<i64: ...> */
  MPC_ATTR_F64,      /* 1.0e-05 : f64 */
  MPC_ATTR_BOOL,     /* true | false */
  MPC_ATTR_ENUM,     /* "a" where a is one of the listed values */
} MpcAttrKind;

#define MPC_MAX_OPERANDS 4
#define MPC_MAX_ATTRS 4
#define MPC_MAX_ENUM 12

typedef struct {
  const char *name;
  MpcOperandKind kind;
  MpcArity arity;
} MpcOperandSpec;

typedef struct {
  const char *name;
  MpcAttrKind kind;
  int numValues;                      /* MPC_ATTR_ENUM only */
  const char *values[MPC_MAX_ENUM];   /* MPC_ATTR_ENUM only */
} MpcAttrSpec;

typedef struct {
  MpcOpKind kind;
  const char *name;     /* "linear" */
  const char *fullName; /* "mpc.linear" */
  const char *operandText, *attrText, *shapeRule;
  int numOperands, numAttrs;
  MpcOperandSpec operands[MPC_MAX_OPERANDS];
  MpcAttrSpec attrs[MPC_MAX_ATTRS];
  MpcPrecisionClass defaultClass[MPC_TARGET_COUNT];
} MpcOpInfo;

/* The entry for `kind` (kind < MPC_OP_COUNT). */
const MpcOpInfo *mpcOpInfoGet(MpcOpKind kind);
/* The kind named "mpc.NAME" or "NAME"; MPC_OP_COUNT if none. */
MpcOpKind mpcOpKindFromName(MlirStringRef name);
/* The kind of an operation; MPC_OP_COUNT if it is not an mpc op. */
MpcOpKind mpcOpKindOf(MlirOperation op);
const char *mpcPrecisionClassName(MpcPrecisionClass cls);
const char *mpcTargetName(MpcTarget target);
/* Writes the op table as a Markdown table (docs/dialect.md embeds it). */
void mpcOpTablePrintMarkdown(FILE *out);

/*---------------------------------------------------------------------------
 * Context setup and verification
 *---------------------------------------------------------------------------*/

/* Creates a context with the upstream dialects and passes registered and the
 * mpc namespace enabled. Destroy with mlirContextDestroy. */
MlirContext mpcContextCreate(void);

/* Checks every op under `root` against the op table and shape rules (and
 * rejects ops of unknown dialects). Emits one error per bad op at its
 * location; returns false if any op failed. */
bool mpcVerify(MlirOperation root);

/*---------------------------------------------------------------------------
 * Parsing with mlir-opt's conventions
 *---------------------------------------------------------------------------*/

/* Parses `source` (named `sourceName` in locations) into a module, wrapping
 * top-level ops that are not a module in one, as mlir-opt does. Returns a
 * null module after emitting diagnostics on failure. */
MlirModule mpcParseModule(MlirContext ctx, MlirStringRef source, const char *sourceName);
/* Reads all of `path` ("-" for stdin) into a malloc'ed buffer (NUL-terminated,
 * *length without the NUL). On failure returns NULL and writes a one-line
 * reason ("cannot open 'f': No such file or directory") to error. */
char *mpcReadFile(const char *path, size_t *length, char *error, size_t errorSize);
/* True for the file name MLIR gives a buffer while mpcParseModule parses it
 * ("-"); diagnostics emitted during parsing carry it. */
bool mpcLocationIsParserBuffer(MlirStringRef file);

/*---------------------------------------------------------------------------
 * Diagnostics
 *---------------------------------------------------------------------------*/

/* The name of a named location (loc("NAME"(...)), as mpc-import writes for
 * ONNX nodes), looking through call sites; false when it has none. */
bool mpcLocationGetName(MlirLocation loc, MlirStringRef *name);
/* Formats a location as "file:line:col" (the innermost file location of
 * name, call-site and fused locations); "<unknown>" if it has none. Returns
 * the number of characters written, as snprintf does. */
int mpcLocationFormat(MlirLocation loc, char *buf, size_t size);
/* Extracts file, line and column; false if the location has none. */
bool mpcLocationGetFileLineCol(MlirLocation loc, MlirStringRef *file, unsigned *line, unsigned *col);

/* Emits "'mpc.NAME' op <message>" as an error at the op's location. */
void mpcOpEmitError(MlirOperation op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Warnings, notes and remarks: MLIR's C API can emit only errors, so mpc's
 * other diagnostics go to the context's MpcDiagnosticEngine (printed or,
 * with --verify-diagnostics, checked like MLIR's), or to stderr if the
 * context has none. */
typedef enum { MPC_DIAG_WARNING, MPC_DIAG_NOTE, MPC_DIAG_REMARK } MpcDiagnosticKind;
void mpcEmitDiagnostic(MlirLocation loc, MpcDiagnosticKind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct MpcDiagnosticEngine MpcDiagnosticEngine;

/* Prints every diagnostic of `ctx` to `out` as "file:line:col: error: msg",
 * with the source line and a caret when `source` is the buffer it came
 * from. Create after the context, destroy before it. */
MpcDiagnosticEngine *mpcDiagnosticEngineCreate(MlirContext ctx, FILE *out);
void mpcDiagnosticEngineDestroy(MpcDiagnosticEngine *engine);
/* The source buffer used to show source lines (may be NULL). */
void mpcDiagnosticEngineSetSource(MpcDiagnosticEngine *engine, const char *name,
                                  const char *text, size_t length);
/* Number of errors seen since creation. */
int mpcDiagnosticEngineErrorCount(const MpcDiagnosticEngine *engine);

/* --verify-diagnostics: collect the expected-{error,warning,remark,note}
 * comments on lines [firstLine, lastLine] of the source (with `@+N`, `@-N`,
 * `@above`, `@below`), capture every diagnostic instead of printing it, and
 * compare them in mpcDiagnosticEngineCheckExpected. */
void mpcDiagnosticEngineExpect(MpcDiagnosticEngine *engine, int firstLine, int lastLine);
/* Reports unmet expectations and unexpected diagnostics; false if any. */
bool mpcDiagnosticEngineCheckExpected(MpcDiagnosticEngine *engine);

/*---------------------------------------------------------------------------
 * Float types and precision modes (SPEC section 1)
 *---------------------------------------------------------------------------*/

typedef enum { MPC_F16, MPC_BF16, MPC_F32, MPC_F64, MPC_FLOAT_COUNT } MpcFloatType;

const char *mpcFloatTypeName(MpcFloatType t); /* "f16" */
MlirType mpcFloatTypeGet(MlirContext ctx, MpcFloatType t);
/* The MpcFloatType of an f16/bf16/f32/f64 type; false for anything else. */
bool mpcFloatTypeOf(MlirType type, MpcFloatType *out);
bool mpcFloatTypeFromName(MlirStringRef name, MpcFloatType *out);
int mpcFloatTypeBytes(MpcFloatType t);
/* The type a promote op computes in: the wider of the two; f16 with bf16
 * gives f32, since neither holds the other. */
MpcFloatType mpcFloatTypePromote(MpcFloatType a, MpcFloatType b);
double mpcFloatTypeMax(MpcFloatType t);           /* largest finite value */
double mpcFloatTypeMinSubnormal(MpcFloatType t);  /* smallest positive value */

typedef enum {
  MPC_MODE_32_TRUE,
  MPC_MODE_16_MIXED,
  MPC_MODE_BF16_MIXED,
  MPC_MODE_16_TRUE,
  MPC_MODE_BF16_TRUE,
  MPC_MODE_64_TRUE,
  MPC_MODE_COUNT
} MpcPrecisionMode;

typedef struct {
  const char *name;    /* "16-mixed" */
  const char *alias;   /* legacy spelling ("16"), or NULL */
  bool aliasDeprecated;/* Lightning warns for "16" and "bf16" */
  bool mixed;          /* per-op policy with f32 master parameters */
  MpcFloatType low;    /* the type of `lower` ops (mixed) or of everything (true modes) */
  MpcFloatType params; /* parameter storage */
} MpcModeInfo;

const MpcModeInfo *mpcModeInfoGet(MpcPrecisionMode mode);
/* Parses a mode or legacy alias exactly as Lightning spells them. Returns
 * false for anything else; *deprecated is set for "16" and "bf16". */
bool mpcModeParse(const char *text, MpcPrecisionMode *mode, bool *deprecated);
/* "32-true, 32, 16-mixed, 16, ..." for error messages. */
const char *mpcModeAllowedList(void);

/*---------------------------------------------------------------------------
 * Precision report (--report=FILE.json, --report-dot=FILE.dot)
 *---------------------------------------------------------------------------*/

typedef struct MpcReport MpcReport;

MpcReport *mpcReportCreate(void);
void mpcReportDestroy(MpcReport *report);
/* Records the decision for one op: class, chosen type and why. */
void mpcReportAddOp(MpcReport *report, MlirOperation op, MpcPrecisionClass cls, MpcFloatType type,
                    const char *reason);
void mpcReportAddCasts(MpcReport *report, int inserted, int folded);
/* Accounts parameter and activation bytes of `module` before or after the
 * precision passes. */
void mpcReportMeasure(MpcReport *report, MlirOperation module, bool after);
/* Adds the module's functions to the DOT graph, coloured by type. */
void mpcReportAddGraph(MpcReport *report, MlirOperation module);
/* Writes the JSON report / DOT graph; false (errno set) if it cannot. */
bool mpcReportWriteJson(const MpcReport *report, const char *path, const char *mode, const char *target);
bool mpcReportWriteDot(const MpcReport *report, const char *path);

/*---------------------------------------------------------------------------
 * Pass options: what the precision passes read
 *---------------------------------------------------------------------------*/

typedef enum { MPC_SOURCE_TABLE, MPC_SOURCE_POLICY_FILE } MpcClassSource;

/* Loss scaling (--loss-scale=dynamic[:init=..,growth=..,backoff=..,interval=..]
 * | static:VALUE | none; docs/training.md). GradScaler's defaults. */
typedef enum { MPC_SCALE_DEFAULT, MPC_SCALE_NONE, MPC_SCALE_STATIC, MPC_SCALE_DYNAMIC } MpcLossScaleKind;
typedef struct {
  MpcLossScaleKind kind; /* DEFAULT: what the mode says (SPEC section 1) */
  double init, growth, backoff;
  int64_t interval;
} MpcLossScale;

/* --train=sgd|momentum|adamw[:key=value,...] (docs/training.md). */
typedef enum { MPC_OPT_NONE, MPC_OPT_SGD, MPC_OPT_ADAMW } MpcOptimizerKind;
typedef struct {
  MpcOptimizerKind kind;
  double lr; /* the trainer's default --lr */
  double momentum, dampening, weightDecay;
  bool nesterov;
  double beta1, beta2, eps;
  bool stochasticRounding; /* rounding=stochastic: low-precision parameters in true modes */
} MpcOptimizer;

/* Parse the flags' values; false with a one-line message naming the bad
 * part and what is allowed. */
bool mpcLossScaleParse(const char *text, MpcLossScale *out, char *error, size_t errorSize);
bool mpcOptimizerParse(const char *text, MpcOptimizer *out, char *error, size_t errorSize);
/* The scaling a mode gets when --loss-scale is absent: dynamic for 16-mixed,
 * none otherwise (SPEC section 1). */
MpcLossScaleKind mpcLossScaleResolve(const MpcLossScale *ls, MpcPrecisionMode mode);

typedef struct {
  MpcPrecisionMode mode;
  MpcTarget target;
  MpcLossScale lossScale;
  MpcOptimizer optimizer;
  MpcPrecisionClass classes[MPC_OP_COUNT]; /* the op table's column, then --policy overrides */
  MpcClassSource sources[MPC_OP_COUNT];
  MpcReport *report; /* may be NULL */
} MpcOptions;

/* Defaults: 32-true on cpu, classes from the op table. */
void mpcOptionsInit(MpcOptions *options, MpcPrecisionMode mode, MpcTarget target);
/* Applies a policy file (`op class` per line, `#` comments). On error writes
 * "FILE:LINE: message" into `error` and returns false. */
bool mpcOptionsLoadPolicy(MpcOptions *options, const char *path, char *error, size_t errorSize);
/* The tools' shared flag handling: --precision (NULL: 32-true; a legacy
 * alias prints "TOOL: warning: ..." naming the new spelling), --target (NULL:
 * cpu) and --policy (NULL: none) into *options. False with a one-line
 * message in error for an unknown mode or target or a bad policy file;
 * *usage tells whether it was a flag's value (a usage error) or a file. */
bool mpcOptionsFromFlags(MpcOptions *options, const char *tool, const char *precision, const char *target,
                         const char *policy, char *error, size_t errorSize, bool *usage);

/*---------------------------------------------------------------------------
 * Passes
 *---------------------------------------------------------------------------*/

typedef struct {
  const char *flag;        /* "mpc-verify" (used as --mpc-verify) */
  const char *description; /* one line, for --help */
  MlirPass (*create)(const MpcOptions *options);
} MpcPassInfo;

/* The registry of mpc passes (passes/), in pipeline order. */
const MpcPassInfo *mpcPassRegistry(size_t *count);
const MpcPassInfo *mpcPassLookup(const char *flag);

/* The precision pipeline that `--precision=MODE` alone runs, in order. */
const char *const *mpcPrecisionPipeline(size_t *count);

/* Helper for pass files: wraps a run function as an external pass anchored on
 * `anchor` ("builtin.module" or "func.func"), named by its registry flag.
 * The run function gets the options (which outlive the pass) and returns
 * false to signal failure (after emitting diagnostics). */
typedef bool (*MpcPassRunFn)(MlirOperation op, const MpcOptions *options);
MlirPass mpcPassCreate(const char *flag, const char *anchor, MpcPassRunFn run, const MpcOptions *options);

/* One entry point per pass file (passes/). */
MlirPass mpcCreateVerifyPass(const MpcOptions *options);
MlirPass mpcCreateLowerToLinalgPass(const MpcOptions *options);
MlirPass mpcCreateAutodiffPass(const MpcOptions *options);
MlirPass mpcCreateLossScalingPass(const MpcOptions *options);
MlirPass mpcCreateOptimizerPass(const MpcOptions *options);
/* Checks the training ops (mpc.scale_loss, mpc.unscale, mpc.all_finite,
 * mpc.update_scale, mpc.*_update; docs/training.md), which are not in the
 * op table because they have no precision class. Returns false if `op` is
 * not one of them; otherwise sets *ok. */
bool mpcVerifyTrainOp(MlirOperation op, bool *ok);
bool mpcIsTrainOpName(MlirStringRef name);

/*---------------------------------------------------------------------------
 * Code generation (lib/codegen.c)
 *---------------------------------------------------------------------------*/

/* The upstream pass pipeline from lowered mpc (linalg on tensors, kernel
 * calls) to the LLVM dialect, as mlir-opt syntax. */
const char *mpcCodegenPipeline(void);
/* Runs that pipeline; on failure sets *error (malloc'ed, one line). */
bool mpcLowerToLLVMDialect(MlirOperation module, char **error);

typedef enum { MPC_EMIT_LLVM, MPC_EMIT_OBJ } MpcEmitKind;
/* Translates an LLVM-dialect module to LLVM IR, optimises it (O3, with the
 * vectorisers) for `cpu` (NULL or "host": this machine, with its features)
 * and writes LLVM IR text or an object file to `path`. An unknown CPU name is
 * an error. On failure sets *error (malloc'ed, one line). */
bool mpcEmitNative(MlirOperation module, const char *cpu, MpcEmitKind kind, const char *path, char **error);
MlirPass mpcCreateAssignPrecisionPass(const MpcOptions *options);
MlirPass mpcCreateLintPrecisionPass(const MpcOptions *options);
MlirPass mpcCreateInsertCastsPass(const MpcOptions *options);
MlirPass mpcCreateFoldCastsPass(const MpcOptions *options);

#ifdef __cplusplus
}
#endif
#endif /* MPC_MPC_H */
