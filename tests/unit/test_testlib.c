/* The comparison helper every golden and backend test relies on: a NaN or Inf anywhere in an
 * output must make it fail, wherever the bad element sits (a later finite element once
 * overwrote it), and the `!(rel <= tol)` form used by the tests must reject it. */
#include "testlib.h"

#include <math.h>

enum { N = 64 };

static void fill(float *a, float *b)
{
    for (int i = 0; i < N; i++) {
        b[i] = (float)(i - 20) * 0.25f;
        a[i] = b[i] + 1e-6f;
    }
}

static void finite_outputs_compare_normally(void **state)
{
    (void)state;
    float a[N], b[N];
    fill(a, b);
    double max_diff = -1;
    double rel = relative_error(a, b, N, &max_diff);
    assert_true(max_diff > 0 && max_diff < 1e-5);
    assert_true(rel <= 1e-6);   /* max |b| is 10.75 */
    a[7] += 0.5f;
    rel = relative_error(a, b, N, &max_diff);
    assert_true(!(rel <= 1e-4));
}

/* NaN first, in the middle, last; in the output and in the expected values. */
static void a_nan_anywhere_fails_the_comparison(void **state)
{
    (void)state;
    const int where[3] = {0, N / 2, N - 1};
    for (int side = 0; side < 2; side++)
        for (int k = 0; k < 3; k++) {
            float a[N], b[N];
            fill(a, b);
            (side ? b : a)[where[k]] = NAN;
            double max_diff = 0;
            double rel = relative_error(a, b, N, &max_diff);
            if (!isnan(rel) || !isnan(max_diff))
                fail_msg("NaN at %d (%s): relative %g, max diff %g; expected NaN", where[k],
                         side ? "expected" : "actual", rel, max_diff);
            if (rel <= 1e-4)
                fail_msg("a NaN at %d passed the tolerance check", where[k]);
        }
}

static void an_infinity_fails_the_comparison(void **state)
{
    (void)state;
    float a[N], b[N];
    fill(a, b);
    a[3] = INFINITY;
    assert_false(relative_error(a, b, N, NULL) <= 1e-4);
    fill(a, b);
    a[3] = -INFINITY;
    b[3] = -INFINITY;   /* equal infinities are still not a finite answer */
    assert_false(relative_error(a, b, N, NULL) <= 1e-4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finite_outputs_compare_normally),
        cmocka_unit_test(a_nan_anywhere_fails_the_comparison),
        cmocka_unit_test(an_infinity_fails_the_comparison),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
