/*===- emitter.h - writing functions as text, op by op ----------*- C -*-===*
 *
 * The training passes (mpc-autodiff, mpc-loss-scaling, mpc-optimizer) build
 * a new function from an existing one: they copy its ops (with their
 * attributes and locations), add ops of their own, and parse the text back
 * into the module. An MpcEmitter keeps the names the copied values have in
 * the new text and the types of the values it creates.
 *===----------------------------------------------------------------------===*/
#ifndef MPC_LIB_EMITTER_H
#define MPC_LIB_EMITTER_H

#include "shape.h"
#include "support.h"

#include <mlir-c/IR.h>
#include <stdbool.h>

/* A value of the new function: its SSA name and its tensor type. */
typedef struct {
  char n[32];
  MpcShape s;
  MpcEltKind k;
} MpcVal;

typedef struct {
  const void *ptr;
  MpcVal val;
} MpcEmitBinding;

typedef struct {
  MpcStr out;
  MpcEmitBinding *map;
  size_t count, capacity;
  int next;
  MlirLocation loc; /* the location written on created ops */
  bool hasLoc;
  const char *precision; /* mpc.precision written on created mpc ops, or NULL */
} MpcEmitter;

void mpcEmitterFree(MpcEmitter *e);
void mpcEmitf(MpcEmitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "tensor<4x8xf32>" into a rotating buffer. */
const char *mpcValType(const MpcVal *v);
const char *mpcEltName(MpcEltKind k);
/* A float element kind's mpc.precision spelling ("bf16"). */
const char *mpcEltPrecision(MpcEltKind k);
bool mpcValOf(MlirValue v, MpcVal *out); /* type only (name left empty) */

void mpcEmitBind(MpcEmitter *e, MlirValue v, const MpcVal *val);
/* The value bound to v; false if none. */
bool mpcEmitLookup(const MpcEmitter *e, MlirValue v, MpcVal *out);
MpcVal mpcEmitFresh(MpcEmitter *e, const MpcShape *s, MpcEltKind k);

/* Writes argument i of `func` as argument `out` of the new function's
 * signature ("%argOUT: TYPE {attrs}", preceded by ", " unless first), with
 * its attributes, and binds the old block argument to it. */
void mpcEmitCopyArg(MpcEmitter *e, MlirOperation func, intptr_t i, int out);

/* Copies `op` with its operands renamed, binding its results to new names.
 * False (with an error at the op) if an operand has no name. */
bool mpcEmitCopyOp(MpcEmitter *e, MlirOperation op);

/* Writes ` loc(...)` of e->loc (nothing if none). */
void mpcEmitLoc(MpcEmitter *e);

/* Creates `%r = "NAME"(ins) {attrs} : (...) -> RESULT` with the current
 * precision and location. `attrs` is the inside of the attribute dictionary
 * (may be "" or NULL). */
MpcVal mpcEmitOp(MpcEmitter *e, const char *name, int numIn, const MpcVal *ins, const char *attrs, const MpcShape *s,
                 MpcEltKind k);
/* A splat constant tensor. */
MpcVal mpcEmitConst(MpcEmitter *e, double value, const MpcShape *s, MpcEltKind k);

/* Prints an attribute's text into a new string (free it). */
char *mpcAttrText(MlirAttribute attr);

/* The dictionary attribute `key` of argument / result i of a func.func,
 * or a null attribute. */
MlirAttribute mpcFuncArgAttr(MlirOperation func, intptr_t i, const char *key);
MlirAttribute mpcFuncResultAttr(MlirOperation func, intptr_t i, const char *key);
bool mpcFuncArgHas(MlirOperation func, intptr_t i, const char *key);
/* The text of argument i's whole attribute dictionary ("" if none; free it). */
char *mpcFuncArgAttrText(MlirOperation func, intptr_t i);
/* Where to report a problem with a whole module: its first op (the module
 * itself has no line). */
MlirLocation mpcModuleErrorLocation(MlirOperation module);
/* The func.func named `name` in `module`, or a null operation. */
MlirOperation mpcModuleLookupFunc(MlirOperation module, const char *name);

/* Parses `text` (a module holding functions) and moves its functions into
 * `module`, before `before` if not null, else at the end. False with an
 * error at `module` if it does not parse (an internal error). */
bool mpcEmitParseInto(MlirOperation module, const char *text, MlirOperation before, const char *what);

#endif
