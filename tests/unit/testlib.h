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
/* max |a-b| / max |b|, the normalized error used for float comparisons. NaN when any
 * element of either side is NaN or infinite, so write checks as `!(rel <= tol)` (a NaN
 * compares false with everything: `rel > tol` would accept it). */
double relative_error(const float *actual, const float *expected, size_t n, double *max_abs_diff);

/* For a case that checks one instruction set's kernel against the plain reference: prints
 * "ISA tested: NAME" when the CPU has it (cpu_has_it), else prints "ISA skipped: NAME" and
 * skips the case, which tests/run.sh counts and fails unless tests/skip-allow.txt lists it. */
void test_require_isa(const char *isa, int cpu_has_it);

#endif

/* The local test mirror (tests/tools/mirror_server.py) on 127.0.0.1, serving root. */
typedef struct test_mirror {
    int pid;
    int port;
    char base_url[64];        /* "http://127.0.0.1:PORT" */
    char log_path[4096];      /* JSON lines, one per request */
    char faults_path[4096];   /* rewrite with test_mirror_set_faults */
} test_mirror;

/* Starts the server (fails the test if it does not come up within 10 s). */
void test_mirror_start(test_mirror *mirror, const char *root);
void test_mirror_stop(test_mirror *mirror);
/* Replaces the fault rules (JSON list, see mirror_server.py) for the following requests. */
void test_mirror_set_faults(test_mirror *mirror, const char *json);
/* Number of logged requests whose JSON line contains every given substring (NULL-terminated). */
int test_mirror_count_requests(const test_mirror *mirror, ...);
