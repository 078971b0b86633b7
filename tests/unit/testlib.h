/* Helpers shared by the cmocka tests: where the shared data, the CLI and a scratch
 * directory are (set by tests/run.sh), and tensor comparison. */
#ifndef VB_TESTLIB_H
#define VB_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* "$VB_SHARED/<relative>" in a static rotating buffer (valid for a few calls). */
const char *shared_path(const char *relative);
/* "$VB_TEST_TMP/<name>" likewise: a scratch directory removed after the run. */
const char *temp_path(const char *name);
/* 1 when built with sanitizers (tests may shrink heavy workloads, never skip checks). */
int test_sanitized(void);
/* max |a-b| / max |b|, the normalized error used for float comparisons. */
double relative_error(const float *actual, const float *expected, size_t n, double *max_abs_diff);

#endif
