/*
 * A tiny test harness for the C tests: CHECK and EXPECT count passes and failures, and
 * report() prints "N passed, M failed".
 */
#ifndef HERALD_TEST_CHECK_H
#define HERALD_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "herald.h"

static int checks_passed = 0;
static int checks_failed = 0;

/* Error object filled by the calls under test; EXPECT frees it. */
static herald_error *err = NULL;

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (cond) {                                                                         \
      checks_passed++;                                                                  \
    } else {                                                                            \
      checks_failed++;                                                                  \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
    }                                                                                   \
  } while (0)

static void expect_status(const char *file, int line, const char *call, herald_status got, uint32_t want) {
  if ((uint32_t)got == want) {
    checks_passed++;
  } else {
    checks_failed++;
    fprintf(stderr, "%s:%d: %s\n  returned %s\n  expected %s\n  error: %s\n", file, line, call,
            herald_status_string((uint32_t)got), herald_status_string(want),
            err ? herald_error_message(err) : "(none)");
  }
  herald_error_free(err);
  err = NULL;
}

/* EXPECT(HERALD_STATUS_X, call(..., &err)): the call returns that status. */
#define EXPECT(want, call) expect_status(__FILE__, __LINE__, #call, (call), (want))
#define OK(call) EXPECT(HERALD_STATUS_OK, call)

/* Compares a string the API copied out with an expected C string. */
#define CHECK_STR(buf, want) CHECK(strcmp((buf), (want)) == 0)

static int report(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}

#endif
