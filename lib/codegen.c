/*===- codegen.c - from lowered IR to LLVM IR and object code ---*- C -*-===*
 *
 * After mpc-lower-to-linalg, a module holds linalg, tensor, arith, math and
 * bufferization ops plus calls into the runtime kernels. This file runs the
 * upstream pipeline that takes it to the LLVM dialect, translates that to
 * LLVM IR, optimises it for the chosen CPU and writes an object file, all
 * through the MLIR and LLVM C APIs (no mlir-opt or llc processes).
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "support.h"

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <mlir-c/Pass.h>
#include <mlir-c/RegisterEverything.h>
#include <mlir-c/Target/LLVMIR.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Elementwise chains are fused on tensors first; function results become
 * out-parameters the caller allocates (so a kernel writes straight into the
 * runner's buffer); bf16 conversions are expanded to integer code so that no
 * libgcc helper is needed on CPUs without AVX512-BF16; math functions
 * without an LLVM intrinsic (erf) call libm. */
static const char *const pipeline =
    "builtin.module("
    "canonicalize,linalg-fuse-elementwise-ops,canonicalize,cse,"
    "one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "arith-expand{include-bf16},convert-math-to-llvm,convert-math-to-libm,"
    "convert-to-llvm,reconcile-unrealized-casts,canonicalize)";

const char *mpcCodegenPipeline(void) { return pipeline; }

static void appendError(MlirStringRef message, void *userData) { mpcStrAppend(userData, message.data, message.length); }

bool mpcLowerToLLVMDialect(MlirOperation module, char **error) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MpcStr msg = {0};
  MlirLogicalResult parsed =
      mlirParsePassPipeline(opm, mlirStringRefCreateFromCString(pipeline), appendError, &msg);
  if (mlirLogicalResultIsFailure(parsed)) {
    *error = mpcStrDup(msg.data ? msg.data : "cannot build the lowering pipeline", msg.length);
    mpcStrFree(&msg);
    mlirPassManagerDestroy(pm);
    return false;
  }
  mpcStrFree(&msg);
  MlirLogicalResult ran = mlirPassManagerRunOnOp(pm, module);
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(ran)) {
    *error = mpcStrDup("the upstream lowering pipeline failed (see the diagnostics above)", 64);
    return false;
  }
  return true;
}

static bool initialised;
static void initLLVM(void) {
  if (initialised)
    return;
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  initialised = true;
}

static char *dupMessage(const char *prefix, char *llvmMessage) {
  MpcStr s = {0};
  mpcStrAppendf(&s, "%s%s", prefix, llvmMessage ? llvmMessage : "");
  if (llvmMessage)
    LLVMDisposeMessage(llvmMessage);
  /* LLVM messages may end with a newline; errors here are one line. */
  while (s.length && (s.data[s.length - 1] == '\n' || s.data[s.length - 1] == '.'))
    s.data[--s.length] = 0;
  char *r = mpcStrDup(s.data, s.length);
  mpcStrFree(&s);
  return r;
}

/* LLVM only warns about a CPU it does not know (on stderr, when it builds
 * the target machine's subtarget) and later aborts; mpc checks the name
 * first, on a throwaway target machine with stderr captured. */
static bool cpuKnown(LLVMTargetRef target, const char *triple, const char *cpu) {
  fflush(stderr);
  char tmpl[] = "/tmp/mpc-llvm-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0)
    return true; /* cannot check: let LLVM speak for itself */
  unlink(tmpl);
  int saved = dup(2);
  dup2(fd, 2);
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu, "", LLVMCodeGenLevelDefault,
                                                    LLVMRelocPIC, LLVMCodeModelDefault);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char buf[1024] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  if (tm)
    LLVMDisposeTargetMachine(tm);
  return !(n > 0 && strstr(buf, "is not a recognized processor"));
}

static bool emitObject(LLVMTargetMachineRef tm, LLVMModuleRef m, const char *path, char **error) {
  char *msg = NULL;
  if (LLVMTargetMachineEmitToFile(tm, m, path, LLVMObjectFile, &msg)) {
    *error = dupMessage("cannot write the object file: ", msg);
    return false;
  }
  return true;
}

bool mpcEmitNative(MlirOperation module, const char *cpu, MpcEmitKind kind, const char *path, char **error) {
  *error = NULL;
  initLLVM();
  MlirContext ctx = mlirOperationGetContext(module);
  mlirRegisterAllLLVMTranslations(ctx);
  LLVMContextRef llctx = LLVMContextCreate();
  LLVMModuleRef m = mlirTranslateModuleToLLVMIR(module, llctx);
  if (!m) {
    LLVMContextDispose(llctx);
    *error = mpcStrDup("cannot translate the module to LLVM IR", 38);
    return false;
  }
  char *triple = LLVMGetDefaultTargetTriple();
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
    *error = dupMessage("no LLVM target for this machine: ", msg);
    LLVMDisposeMessage(triple);
    LLVMDisposeModule(m);
    LLVMContextDispose(llctx);
    return false;
  }
  bool host = !cpu || !*cpu || !strcmp(cpu, "native") || !strcmp(cpu, "host");
  if (!host && !cpuKnown(target, triple, cpu)) {
    MpcStr s = {0};
    mpcStrAppendf(&s, "unknown CPU '%s' for %s (`llc -mcpu=help` lists the names)", cpu, triple);
    *error = mpcStrDup(s.data, s.length);
    mpcStrFree(&s);
    LLVMDisposeMessage(triple);
    LLVMDisposeModule(m);
    LLVMContextDispose(llctx);
    return false;
  }
  char *hostCpu = host ? LLVMGetHostCPUName() : NULL;
  char *hostFeatures = host ? LLVMGetHostCPUFeatures() : NULL;
  LLVMTargetMachineRef tm =
      LLVMCreateTargetMachine(target, triple, host ? hostCpu : cpu, host ? hostFeatures : "",
                              LLVMCodeGenLevelAggressive, LLVMRelocPIC, LLVMCodeModelDefault);
  const char *cpuName = host ? hostCpu : cpu;
  bool ok = true;
  if (!tm) {
    *error = mpcStrDup("cannot create an LLVM target machine", 37);
    ok = false;
  }
  if (ok) {
    LLVMSetTarget(m, triple);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
    char *dl = LLVMCopyStringRepOfTargetData(layout);
    LLVMSetDataLayout(m, dl);
    LLVMDisposeMessage(dl);
    LLVMDisposeTargetData(layout);
    /* Functions carry the CPU so that the optimiser vectorises for it. */
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
      if (LLVMIsDeclaration(f))
        continue;
      LLVMAddTargetDependentFunctionAttr(f, "target-cpu", cpuName);
      if (host && hostFeatures && *hostFeatures)
        LLVMAddTargetDependentFunctionAttr(f, "target-features", hostFeatures);
    }
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
    /* No loop unrolling on top of vectorisation: the generated loops are
     * memory-bound, the GEMMs are in the runtime, and unrolling made the tiny
     * GPT's trainer take 20 s to compile instead of 8.5 s at the same speed. */
    LLVMPassBuilderOptionsSetLoopUnrolling(opts, 0);
    LLVMErrorRef perr = LLVMRunPasses(m, "default<O3>", tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (perr) {
      *error = dupMessage("LLVM optimisation failed: ", LLVMGetErrorMessage(perr));
      ok = false;
    }
  }
  if (ok && kind == MPC_EMIT_LLVM) {
    if (LLVMPrintModuleToFile(m, path, &msg)) {
      *error = dupMessage("cannot write LLVM IR: ", msg);
      ok = false;
    }
  } else if (ok) {
    ok = emitObject(tm, m, path, error);
  }
  if (tm)
    LLVMDisposeTargetMachine(tm);
  if (hostCpu)
    LLVMDisposeMessage(hostCpu);
  if (hostFeatures)
    LLVMDisposeMessage(hostFeatures);
  LLVMDisposeMessage(triple);
  LLVMDisposeModule(m);
  LLVMContextDispose(llctx);
  return ok;
}
