/*===- mpc-check.h - the CHECK macro of the C tests -------------*- C -*-===*
 *
 * Counts passed and failed checks and prints "FAIL file:line: condition" for
 * each failure; a test ends with MPC_CHECK_SUMMARY(), which prints
 * "N passed, M failed" and gives the exit status.
 *===----------------------------------------------------------------------===*/
#ifndef MPC_TEST_CHECK_H
#define MPC_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (cond)                                                                                      \
      ++passed;                                                                                    \
    else {                                                                                         \
      ++failed;                                                                                    \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                     \
    }                                                                                              \
  } while (0)

#define MPC_CHECK_SUMMARY() (printf("%d passed, %d failed\n", passed, failed), failed != 0)

#endif
