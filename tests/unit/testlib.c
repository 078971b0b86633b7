/* Shared test helpers (see testlib.h). */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *rotating_path(const char *base_env, const char *fallback, const char *relative)
{
    static char buffers[8][4096];
    static int next;
    const char *base = getenv(base_env);
    if (!base)
        base = fallback;
    char *out = buffers[next++ % 8];
    snprintf(out, sizeof buffers[0], "%s/%s", base, relative);
    return out;
}

const char *shared_path(const char *relative)
{
    return rotating_path("VB_SHARED", "../shared", relative);
}

const char *temp_path(const char *name)
{
    return rotating_path("VB_TEST_TMP", "/tmp", name);
}

int test_sanitized(void)
{
    const char *s = getenv("VB_SANITIZED");
    return s && s[0] == '1';
}

double relative_error(const float *actual, const float *expected, size_t n, double *max_abs_diff)
{
    double max_diff = 0, max_value = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)actual[i] - (double)expected[i]);
        if (!(d <= max_diff))
            max_diff = d;   /* NaN propagates as a failure */
        if (fabs(expected[i]) > max_value)
            max_value = fabs(expected[i]);
    }
    if (max_abs_diff)
        *max_abs_diff = max_diff;
    return max_value > 0 ? max_diff / max_value : max_diff;
}
