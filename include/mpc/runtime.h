/*===- runtime.h - the mpc training runtime ---------------------*- C -*-===*
 *
 * The small C library that generated code links against (SPEC section 6):
 * tensors and element types, NumPy .npy and MNIST IDX files (gzipped or
 * not), safetensors checkpoints, and seeded parameter initialisation. It has
 * no MLIR dependency.
 *
 * Every function that can fail takes an MpcrtError and fills it with one
 * line that names the file and says what was expected and what was found.
 *===----------------------------------------------------------------------===*/
#ifndef MPC_RUNTIME_H
#define MPC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  char message[512];
} MpcrtError;

/*---------------------------------------------------------------------------
 * Element types
 *---------------------------------------------------------------------------*/

typedef enum {
  MPCRT_F16,
  MPCRT_BF16,
  MPCRT_F32,
  MPCRT_F64,
  MPCRT_I8,
  MPCRT_I16,
  MPCRT_I32,
  MPCRT_I64,
  MPCRT_U8,
  MPCRT_U16,
  MPCRT_BOOL,
  MPCRT_DTYPE_COUNT
} MpcrtDType;

typedef struct {
  const char *name;        /* "f32" */
  size_t size;             /* bytes per element */
  const char *npy;         /* NumPy descr ("<f4"); bf16 is stored as "<u2" (see docs/runtime.md) */
  const char *safetensors; /* "F32" */
  bool isFloat, isSigned;
} MpcrtDTypeInfo;

const MpcrtDTypeInfo *mpcrtDTypeInfo(MpcrtDType dtype);
/* Parses "f32", "bf16", "i64", ... (the mpc / MLIR spelling). */
bool mpcrtDTypeFromName(const char *name, MpcrtDType *out);

/* f16 and bf16 scalars, never bare uint16_t. Conversions from f32 round to
 * nearest even and keep NaN a quiet NaN. */
typedef struct {
  uint16_t bits;
} MpcrtF16;
typedef struct {
  uint16_t bits;
} MpcrtBF16;

MpcrtF16 mpcrtF16FromF32(float x);
float mpcrtF16ToF32(MpcrtF16 h);
MpcrtBF16 mpcrtBF16FromF32(float x);
float mpcrtBF16ToF32(MpcrtBF16 b);

/*---------------------------------------------------------------------------
 * Tensors
 *---------------------------------------------------------------------------*/

#define MPCRT_MAX_RANK 8

typedef struct {
  MpcrtDType dtype;
  int rank;
  int64_t dims[MPCRT_MAX_RANK];
  void *data; /* owned; free with mpcrtTensorFree */
} MpcrtTensor;

int64_t mpcrtTensorNumElements(const MpcrtTensor *t);
size_t mpcrtTensorBytes(const MpcrtTensor *t);
/* The byte size of a shape; false (with an error) if a dimension is negative
 * or the size exceeds 2^40 bytes. Readers check it against the file before
 * allocating, so a corrupt header cannot ask for terabytes. */
bool mpcrtShapeBytes(MpcrtDType dtype, int rank, const int64_t *dims, uint64_t *bytes, MpcrtError *err);
/* Allocates zeroed data for the given type and shape. */
bool mpcrtTensorAlloc(MpcrtTensor *t, MpcrtDType dtype, int rank, const int64_t *dims, MpcrtError *err);
void mpcrtTensorFree(MpcrtTensor *t);
/* "256x784xf32" */
const char *mpcrtTensorDescribe(const MpcrtTensor *t, char *buf, size_t size);
/* Element i as a double (any type). */
double mpcrtTensorGetDouble(const MpcrtTensor *t, int64_t i);
/* Sets element i from a double, rounding to the tensor's type. */
void mpcrtTensorSetDouble(MpcrtTensor *t, int64_t i, double value);

/* Converts `src` into a new tensor of type `to`: floats between each other
 * (rounding to nearest even), integers between each other (range checked),
 * integers into floats, and uint8 into floats divided by 255 (image data).
 * Floats into integers is an error. `what` names the source in errors. */
bool mpcrtConvert(const MpcrtTensor *src, MpcrtDType to, MpcrtTensor *dst, const char *what, MpcrtError *err);

/*---------------------------------------------------------------------------
 * Files
 *---------------------------------------------------------------------------*/

/* NumPy .npy, format versions 1.0 to 3.0, C order. */
bool mpcrtNpyRead(const char *path, MpcrtTensor *out, MpcrtError *err);
bool mpcrtNpyWrite(const char *path, const MpcrtTensor *t, MpcrtError *err);

/* MNIST IDX (ubyte, byte, short, int, float, double), gzipped or not. */
bool mpcrtIdxRead(const char *path, MpcrtTensor *out, MpcrtError *err);

/* A data file of either kind, told apart by its first bytes. */
bool mpcrtArrayRead(const char *path, MpcrtTensor *out, MpcrtError *err);

/* Named tensors, as in a checkpoint. */
typedef struct {
  char *name;
  MpcrtTensor tensor;
} MpcrtNamedTensor;

typedef struct {
  MpcrtNamedTensor *items;
  size_t count, capacity;
} MpcrtTensorSet;

/* Adds a copy of `name` and takes ownership of `tensor`'s data. */
void mpcrtTensorSetAdd(MpcrtTensorSet *set, const char *name, MpcrtTensor tensor);
const MpcrtTensor *mpcrtTensorSetFind(const MpcrtTensorSet *set, const char *name);
void mpcrtTensorSetFree(MpcrtTensorSet *set);

/* safetensors (F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, BOOL). The
 * writer writes a temporary file and renames it, so an interrupted run never
 * leaves a half-written checkpoint. */
bool mpcrtSafetensorsRead(const char *path, MpcrtTensorSet *out, MpcrtError *err);
bool mpcrtSafetensorsWrite(const char *path, const MpcrtTensorSet *set, MpcrtError *err);

/*---------------------------------------------------------------------------
 * Parameter initialisation (SPEC section 4)
 *---------------------------------------------------------------------------*/

typedef enum {
  MPCRT_INIT_KAIMING_UNIFORM, /* nn.Linear weights: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), +) */
  MPCRT_INIT_UNIFORM_FAN_IN,  /* nn.Linear biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
  MPCRT_INIT_NORMAL,          /* N(0, 1), nn.Embedding's default */
  MPCRT_INIT_ZEROS,
  MPCRT_INIT_ONES,
  MPCRT_INIT_COUNT
} MpcrtInit;

bool mpcrtInitFromName(const char *name, MpcrtInit *out);
const char *mpcrtInitName(MpcrtInit init);

/* xoshiro256** seeded through splitmix64. */
typedef struct {
  uint64_t s[4];
} MpcrtRng;

void mpcrtRngSeed(MpcrtRng *rng, uint64_t seed);
/* A stream per parameter: the seed mixed with the parameter's name, so that
 * adding a parameter leaves the others' values unchanged. */
void mpcrtRngSeedFor(MpcrtRng *rng, uint64_t seed, const char *name);
uint64_t mpcrtRngNext(MpcrtRng *rng);
double mpcrtRngUniform(MpcrtRng *rng); /* [0, 1) with 53 random bits */
double mpcrtRngNormal(MpcrtRng *rng);  /* Box-Muller */

/* Fills a float tensor; fanIn is used by the two fan-in rules (> 0). */
bool mpcrtInitTensor(MpcrtTensor *t, MpcrtInit init, int64_t fanIn, MpcrtRng *rng, MpcrtError *err);

/*---------------------------------------------------------------------------
 * Matrix multiply microkernels (runtime/cpu/gemm.c)
 *---------------------------------------------------------------------------*/

/* C[M,N] = A[M,K] . op(B), or C += ... with `accumulate`; op(B) is B[K,N],
 * or with `transB` the transpose of B[N,K] (a linear layer's weight).
 * Row-major with leading dimensions lda, ldb, ldc. Both accumulate in f32:
 * the bf16 variant multiplies bf16 pairs with AVX512-BF16 (vdpbf16ps) where
 * the CPU has it. Packed, tiled for the caches, vectorised with AVX-512 and
 * split across the cores; a portable path serves other CPUs. */
void mpcrtGemmF32(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                  bool transB, float *C, int64_t ldc, bool accumulate);
void mpcrtGemmBF16(int64_t M, int64_t N, int64_t K, const MpcrtBF16 *A, int64_t lda, const MpcrtBF16 *B,
                   int64_t ldb, bool transB, float *C, int64_t ldc, bool accumulate);

/* What the GEMM applies to C before it leaves the cache: nothing, or ReLU
 * (a linear layer's activation, fused by mpc-lower-to-linalg). */
typedef enum { MPCRT_EPILOGUE_NONE, MPCRT_EPILOGUE_RELU } MpcrtEpilogue;

/* The general form: A, B and C each f32, f16 or bf16; the products computed
 * in f32, in bf16 (inputs rounded to bf16 while packing, vdpbf16ps), or in
 * "f16" (inputs rounded to f16 while packing, products and sums in f32: what
 * a CPU without f16 arithmetic does for 16-mixed), always
 * accumulated in f32, and C rounded once at the end. Conversions happen
 * while packing, so a cast costs no extra pass over memory; f16 inputs
 * (f16 storage, as in 16-mixed on a CPU without f16 arithmetic) are computed
 * in f32. False (with an error) for other types or negative sizes. */
typedef struct {
  int64_t M, N, K;
  const void *A;
  int64_t lda;
  MpcrtDType aType;
  const void *B;
  int64_t ldb;
  MpcrtDType bType;
  bool transB;
  void *C;
  int64_t ldc;
  MpcrtDType cType;
  MpcrtDType compute; /* MPCRT_F32, MPCRT_BF16 or MPCRT_F16 */
  bool accumulate;
  MpcrtEpilogue epilogue; /* applied to each block of C as its last K block is done */
} MpcrtGemmArgs;

bool mpcrtGemm(const MpcrtGemmArgs *args, MpcrtError *err);

typedef enum { MPCRT_GEMM_AUTO, MPCRT_GEMM_PORTABLE } MpcrtGemmKernel;
/* For tests and benchmarks: force the portable kernels, and set the number
 * of threads (0: MPC_NUM_THREADS, else the online CPUs). */
void mpcrtGemmConfigure(MpcrtGemmKernel kernel, int threads);
/* "avx512", "avx512-bf16" or "portable": what the next call will use. */
const char *mpcrtGemmKernelName(bool bf16);

/*---------------------------------------------------------------------------
 * Kernels that generated code calls (runtime/cpu/kernels.c)
 *
 * One signature for all: `meta` is a constant array the compiler writes
 * (element types as MpcrtDType codes, sizes, attributes; the layouts are in
 * kernels.c), `out` the result, absent inputs NULL. Dense row-major data.
 *---------------------------------------------------------------------------*/

/* meta: aType bType cType biasType batch M N K transB compute epilogue */
void mpcrt_kernel_matmul(const int64_t *meta, void *out, const void *a, const void *b, const void *bias);
/* meta: xType wType yType biasType N C H W O KH KW OH OW strideH strideW
 *       padTop padLeft dilationH dilationW groups compute epilogue */
void mpcrt_kernel_conv2d(const int64_t *meta, void *out, const void *x, const void *w, const void *bias);
/* meta: xType yType isMax N C H W OH OW KH KW strideH strideW padTop padLeft */
void mpcrt_kernel_pool2d(const int64_t *meta, void *out, const void *x, const void *unused1, const void *unused2);
/* meta: xType indexType updatesType outType rank axis xDims[rank] indexDims[rank] */
void mpcrt_kernel_scatter_add(const int64_t *meta, void *out, const void *x, const void *index, const void *updates);

/* Gradients (mpc-autodiff's backward ops). The conv2d gradients take
 * conv2d's meta: xType is dx's type (grad_input) or x's (grad_weight), wType
 * is w's (grad_input) or dw's (grad_weight), yType is dy's; biasType and
 * epilogue are unused; compute is the forward op's compute type. */
void mpcrt_kernel_conv2d_grad_input(const int64_t *meta, void *dx, const void *dy, const void *w, const void *unused);
void mpcrt_kernel_conv2d_grad_weight(const int64_t *meta, void *dw, const void *dy, const void *x, const void *unused);
/* pool2d's meta, xType being dx's and x's type and yType dy's. Max pooling
 * routes each window's gradient to its first maximal element (padding never
 * wins); average pooling spreads it over the whole window. */
void mpcrt_kernel_pool2d_grad(const int64_t *meta, void *dx, const void *dy, const void *x, const void *unused);
/* meta: tableType dyType idsType V D numIds. dtable[V,D] = sum over ids of
 * dy rows; ids outside [0, V) contribute nothing. */
void mpcrt_kernel_embedding_grad(const int64_t *meta, void *dtable, const void *dy, const void *ids, const void *unused);

/*---------------------------------------------------------------------------
 * Compiled models and the forward runner (runtime/runner.c)
 *---------------------------------------------------------------------------*/

/* One argument or result of a compiled model function, as mpc-compile
 * describes it: an `mpc.input` (fed from a file) or an `mpc.param` (from
 * --init, else initialised by its rule). */
typedef struct {
  const char *name; /* the mpc.input / mpc.param name; results: "result0", ... */
  bool isParam;
  MpcrtDType dtype;
  int rank;
  int64_t dims[MPCRT_MAX_RANK];
  MpcrtInit init; /* parameters without --init */
  int64_t fanIn;  /* for the fan-in rules */
} MpcrtArgInfo;

/* What mpc-compile emits for a model: the signature and an entry point that
 * takes the arguments' and results' data pointers in order (results are
 * allocated by the caller with the described types and shapes). */
typedef struct {
  const char *name;
  int numArgs, numResults;
  const MpcrtArgInfo *args, *results;
  void (*forward)(void *const *args, void *const *results);
} MpcrtModel;

/* The runner's main (SPEC section 5):
 *   ./runner --input NAME=FILE ... [--init FILE.safetensors] [--seed S] --out DIR
 * Inputs are converted to the model's types (uint8 to float divided by 255);
 * a missing input or parameter, or a shape or type that does not fit, is one
 * line naming the file and what was expected. Writes DIR/result0.npy, ... and
 * returns the process exit status. */
int mpcrtRunnerMain(const MpcrtModel *model, int argc, char **argv);

/*---------------------------------------------------------------------------
 * Trainers (runtime/trainer.c; docs/training.md)
 *---------------------------------------------------------------------------*/

/* What an argument or result of a compiled @train_step is, read by
 * mpc-compile off the function's attributes. */
typedef enum {
  MPCRT_ROLE_INPUT,   /* mpc.input: one batch of a data input */
  MPCRT_ROLE_PARAM,   /* mpc.param: a parameter (argument: current value, result: updated value) */
  MPCRT_ROLE_STATE,   /* mpc.state: optimizer or scaler state, named by its checkpoint key */
  MPCRT_ROLE_LR,      /* argument: this step's learning rate, a scalar f32 */
  MPCRT_ROLE_LOSS,    /* result: the step's loss before scaling */
  MPCRT_ROLE_SKIPPED, /* result: an i1 scalar (one byte), 1 when gradients were not finite */
  MPCRT_ROLE_METRIC,  /* result: any further result of the model function */
} MpcrtRole;

/* State keys the trainer knows: */
#define MPCRT_STATE_SCALER "scaler"         /* f32[2]: loss scale, steps since the last non-finite step */
#define MPCRT_STATE_COUNT "optimizer.step"  /* i64 scalar: updates applied (skipped steps not counted) */

typedef struct {
  const char *name;   /* model name, for messages */
  const char *precision, *optimizer, *lossScaling; /* "bf16-mixed", "adamw", "dynamic" (for messages and logs) */
  double initScale;   /* the scaler's starting scale (1 without loss scaling) */
  double defaultLr;   /* used when --lr is absent */
  int numArgs, numResults;
  const MpcrtArgInfo *args, *results; /* role, name, type and shape of each */
  const MpcrtRole *argRoles, *resultRoles;
  /* One step: arguments and results in order; a result with the name and
   * role of an argument is that argument's new value. */
  void (*step)(void *const *args, void *const *results);
  /* The model function (its first result is the loss), for --eval. */
  const MpcrtModel *forward;
} MpcrtTrainer;

/* The trainer's main (SPEC section 5, docs/training.md):
 *   ./trainer --input NAME=FILE ... (--steps N | --epochs E) [--lr LR] [--seed S]
 *             [--init FILE] [--resume FILE] [--save FILE] [--log FILE.csv] [--shuffle]
 *             [--schedule constant|cosine|linear] [--warmup N] [--min-lr LR]
 *             [--eval NAME=FILE ...] [--quiet]
 * Returns the process exit status. */
int mpcrtTrainerMain(const MpcrtTrainer *trainer, int argc, char **argv);

/* Keeps freed memory in the process (no unmapping, no heap trimming), so
 * that a model evaluated repeatedly does not page-fault its intermediate
 * tensors in each time. The runner and trainer mains call it first. */
void mpcrtKeepMemory(void);

#ifdef __cplusplus
}
#endif
#endif /* MPC_RUNTIME_H */
