/* Activation histograms and clipping thresholds for u8 quantization (src/model/i3d/calibrate.c).
 * Expected values come from the data themselves: the exact max and the sorted sample's quantiles
 * computed here, and known distributions (uniform, half-normal) whose shape says where a sensible
 * entropy threshold lies. Data are generated with a fixed xorshift seed, so every run is the same. */
#include "testlib.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/i3d/calibrate.h"

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 88172645463325252ull;
}

/* Uniform in [0, 1) (xorshift64, 53 bits). */
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* |N(0,1)| by Box-Muller. */
static float half_normal(void)
{
    double u1 = uniform(), u2 = uniform();
    return (float)fabs(sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2));
}

static float *new_values(int64_t count)
{
    float *values = malloc((size_t)count * sizeof *values);
    assert_non_null(values);
    return values;
}

static i3d_histogram *histogram_of(const float *values, int64_t count)
{
    i3d_histogram *h = NULL;
    vb_error err = {0};
    if (i3d_histogram_new(&h, &err))
        fail_msg("i3d_histogram_new: %s", err.message);
    i3d_histogram_add(h, values, count);
    return h;
}

static float threshold_of(const i3d_histogram *h, i3d_calibration_method method, double percentile)
{
    float t = -1;
    vb_error err = {0};
    int rc = i3d_histogram_threshold(h, method, percentile, &t, &err);
    if (rc)
        fail_msg("%s threshold (percentile %g): error %d %s", i3d_calibration_method_name(method), percentile, rc,
                 err.message);
    if (!(t > 0) || !isfinite(t))
        fail_msg("%s threshold is %g, not a positive finite value", i3d_calibration_method_name(method), t);
    return t;
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The value below which `percentile` percent of the sorted values fall (nearest rank). */
static float sorted_quantile(const float *sorted, int64_t count, double percentile)
{
    int64_t rank = (int64_t)ceil(percentile / 100.0 * (double)count);
    return sorted[rank < 1 ? 0 : rank - 1];
}

/* The histogram's bin width once its range is the power of two above max: R / 2048. */
static double final_bin_width(float max)
{
    int exponent;
    frexp(max, &exponent);
    return ldexp(1.0, exponent - 11);
}

static void method_names_round_trip(void **state)
{
    (void)state;
    const i3d_calibration_method methods[] = {I3D_CALIBRATE_MINMAX, I3D_CALIBRATE_PERCENTILE, I3D_CALIBRATE_ENTROPY};
    const char *names[] = {"minmax", "percentile", "entropy"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(i3d_calibration_method_name(methods[i]), names[i]))
            fail_msg("method %d is named '%s', expected '%s'", i, i3d_calibration_method_name(methods[i]), names[i]);
        if (i3d_calibration_method_from_name(names[i]) != (int)methods[i])
            fail_msg("'%s' parsed as %d, expected %d", names[i], i3d_calibration_method_from_name(names[i]), i);
    }
    assert_int_equal(i3d_calibration_method_from_name("MinMax"), -1);
    assert_int_equal(i3d_calibration_method_from_name("kl"), -1);
    assert_int_equal(i3d_calibration_method_from_name(""), -1);
    assert_int_equal(i3d_calibration_method_from_name(NULL), -1);
    assert_string_equal(i3d_calibration_method_name((i3d_calibration_method)7), "unknown");
}

static void empty_histogram_is_refused(void **state)
{
    (void)state;
    i3d_histogram *h = histogram_of(NULL, 0);
    assert_true(i3d_histogram_max(h) == 0.0f);
    assert_int_equal(i3d_histogram_count(h), 0);
    for (int method = I3D_CALIBRATE_MINMAX; method <= I3D_CALIBRATE_ENTROPY; method++) {
        float t = 123.0f;
        vb_error err = {0};
        int rc = i3d_histogram_threshold(h, (i3d_calibration_method)method, 99.0, &t, &err);
        if (rc != VB_EINVAL || !strstr(err.message, "empty histogram") || t != 123.0f)
            fail_msg("%s on an empty histogram: rc %d '%s', threshold %g", i3d_calibration_method_name(method), rc,
                     err.message, t);
    }
    /* Only NaN and Inf: still empty, and the message says how many were skipped. */
    const float bad[] = {NAN, INFINITY, -INFINITY};
    i3d_histogram_add(h, bad, 3);
    float t;
    vb_error err = {0};
    int rc = i3d_histogram_threshold(h, I3D_CALIBRATE_MINMAX, 0, &t, &err);
    if (rc != VB_EINVAL || !strstr(err.message, "3 NaN or Inf skipped"))
        fail_msg("NaN/Inf only: rc %d '%s'", rc, err.message);
    i3d_histogram_free(&h);
}

static void minmax_is_the_exact_max(void **state)
{
    (void)state;
    rng_seed(1);
    enum { N = 1000000 };
    float *values = new_values(N);
    float max = 0;
    for (int i = 0; i < N; i++) {
        /* magnitudes from 2^-20 to 2^20: the range doubles many times */
        values[i] = (float)ldexp(uniform(), (int)(uniform() * 41) - 20);
        if (values[i] > max)
            max = values[i];
    }
    i3d_histogram *h = histogram_of(values, N);
    if (i3d_histogram_max(h) != max || threshold_of(h, I3D_CALIBRATE_MINMAX, 0) != max)
        fail_msg("max %.9g, minmax threshold %.9g, expected exactly %.9g", i3d_histogram_max(h),
                 threshold_of(h, I3D_CALIBRATE_MINMAX, 0), max);
    assert_int_equal(i3d_histogram_count(h), N);
    /* A later, larger value is the new max, exactly (not a bin edge). */
    const float larger = 1234567.875f;
    i3d_histogram_add(h, &larger, 1);
    if (threshold_of(h, I3D_CALIBRATE_MINMAX, 0) != larger)
        fail_msg("after adding %.9g the minmax threshold is %.9g", larger, threshold_of(h, I3D_CALIBRATE_MINMAX, 0));
    i3d_histogram_free(&h);
    free(values);
}

static void percentile_of_uniform_data(void **state)
{
    (void)state;
    rng_seed(2);
    enum { N = 1000000 };
    float *values = new_values(N);
    for (int i = 0; i < N; i++)
        values[i] = (float)uniform();
    i3d_histogram *h = histogram_of(values, N);
    qsort(values, N, sizeof *values, compare_floats);
    const double width = 1.0 / 2048;   /* max < 1: R = 1 */
    float p99 = threshold_of(h, I3D_CALIBRATE_PERCENTILE, 99.0);
    if (!(fabs(p99 - 0.99) <= width))
        fail_msg("99th percentile of uniform [0,1) is %.6f, expected 0.99 +- %.6f", p99, width);
    const double percentiles[] = {1, 10, 50, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof percentiles / sizeof *percentiles; i++) {
        float got = threshold_of(h, I3D_CALIBRATE_PERCENTILE, percentiles[i]);
        float exact = sorted_quantile(values, N, percentiles[i]);
        if (!(fabs(got - exact) <= width))
            fail_msg("percentile %g: %.7f, the sorted sample says %.7f (allowed one bin, %.7f)", percentiles[i], got,
                     exact, width);
    }
    if (threshold_of(h, I3D_CALIBRATE_PERCENTILE, 100.0) != values[N - 1])
        fail_msg("percentile 100 is %.9g, the max is %.9g", threshold_of(h, I3D_CALIBRATE_PERCENTILE, 100.0),
                 values[N - 1]);
    i3d_histogram_free(&h);
    free(values);
}

static void negatives_count_as_zero(void **state)
{
    (void)state;
    rng_seed(3);
    enum { N = 200000 };
    float *values = new_values(N);
    for (int i = 0; i < N; i++)
        values[i] = i % 2 ? (float)(1.0 - uniform()) : (float)-(1.0 + 100 * uniform());
    i3d_histogram *h = histogram_of(values, N);
    assert_int_equal(i3d_histogram_count(h), N);
    assert_int_equal(i3d_histogram_negative_count(h), N / 2);
    /* Half the values are 0: the 75th percentile is the positives' median, 0.5 (dropping the
     * negatives instead would give 0.75). Allowed: one bin plus the sample's spread. */
    float p75 = threshold_of(h, I3D_CALIBRATE_PERCENTILE, 75.0);
    if (!(fabs(p75 - 0.5) <= 0.01))
        fail_msg("75th percentile with half negatives is %.5f, expected 0.5 +- 0.01", p75);
    /* The 40th percentile is 0: no scale, so the max comes back. */
    if (threshold_of(h, I3D_CALIBRATE_PERCENTILE, 40.0) != i3d_histogram_max(h))
        fail_msg("40th percentile (inside the zeros) is %.6g, expected the max %.6g",
                 threshold_of(h, I3D_CALIBRATE_PERCENTILE, 40.0), i3d_histogram_max(h));
    if (!(i3d_histogram_max(h) <= 1.0f && i3d_histogram_max(h) > 0.99f))
        fail_msg("max %.6g: the negatives (down to -101) must not count by magnitude", i3d_histogram_max(h));
    i3d_histogram_free(&h);
    free(values);
}

/* Every threshold and percentile of two histograms, compared bit for bit. */
static void expect_same_thresholds(const i3d_histogram *a, const i3d_histogram *b, const char *what)
{
    if (i3d_histogram_max(a) != i3d_histogram_max(b) || i3d_histogram_count(a) != i3d_histogram_count(b))
        fail_msg("%s: max %.9g vs %.9g, count %lld vs %lld", what, i3d_histogram_max(a), i3d_histogram_max(b),
                 (long long)i3d_histogram_count(a), (long long)i3d_histogram_count(b));
    const double percentiles[] = {0.5, 10, 50, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof percentiles / sizeof *percentiles; i++) {
        float ta = threshold_of(a, I3D_CALIBRATE_PERCENTILE, percentiles[i]);
        float tb = threshold_of(b, I3D_CALIBRATE_PERCENTILE, percentiles[i]);
        if (memcmp(&ta, &tb, sizeof ta))
            fail_msg("%s: percentile %g differs: %.9g vs %.9g", what, percentiles[i], ta, tb);
    }
    float ea = threshold_of(a, I3D_CALIBRATE_ENTROPY, 0), eb = threshold_of(b, I3D_CALIBRATE_ENTROPY, 0);
    if (memcmp(&ea, &eb, sizeof ea))
        fail_msg("%s: entropy threshold differs: %.9g vs %.9g", what, ea, eb);
}

static void add_order_does_not_change_thresholds(void **state)
{
    (void)state;
    rng_seed(4);
    enum { N = 500000 };
    float *values = new_values(N);
    for (int i = 0; i < N; i++) {
        double u = uniform();
        values[i] = u < 0.3 ? 0.0f : u < 0.9999 ? 3 * half_normal() : (float)(20 + 30 * uniform());
    }
    i3d_histogram *in_order = histogram_of(values, N);
    /* Fisher-Yates shuffle, added in chunks of random sizes. */
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(uniform() * (i + 1));
        float t = values[i];
        values[i] = values[j];
        values[j] = t;
    }
    i3d_histogram *shuffled = histogram_of(NULL, 0);
    for (int start = 0; start < N;) {
        int chunk = 1 + (int)(uniform() * 5000);
        if (chunk > N - start)
            chunk = N - start;
        i3d_histogram_add(shuffled, values + start, chunk);
        start += chunk;
    }
    expect_same_thresholds(in_order, shuffled, "shuffled");
    i3d_histogram_free(&in_order);
    i3d_histogram_free(&shuffled);
    free(values);
}

static void doubling_rebins_exactly(void **state)
{
    (void)state;
    /* k / 1024 for k = 1..2^20: 2^-10 to 1024. Increasing, the range doubles 20 times; decreasing,
     * the first value sets it once and never moves. */
    enum { N = 1 << 20 };
    float *increasing = new_values(N), *decreasing = new_values(N);
    for (int k = 1; k <= N; k++) {
        increasing[k - 1] = (float)k / 1024;
        decreasing[N - k] = (float)k / 1024;
    }
    i3d_histogram *up = histogram_of(increasing, N);
    i3d_histogram *down = histogram_of(decreasing, N);
    i3d_histogram *one_by_one = histogram_of(NULL, 0);
    for (int i = 0; i < N; i++)
        i3d_histogram_add(one_by_one, increasing + i, 1);
    expect_same_thresholds(up, down, "increasing vs decreasing");
    expect_same_thresholds(up, one_by_one, "one call vs one value per call");
    /* Both orders could agree and still be wrong: compare with the known values. */
    double width = final_bin_width(1024.0f);
    const double percentiles[] = {0.01, 1, 25, 50, 99};
    for (size_t i = 0; i < sizeof percentiles / sizeof *percentiles; i++) {
        float got = threshold_of(up, I3D_CALIBRATE_PERCENTILE, percentiles[i]);
        float exact = sorted_quantile(increasing, N, percentiles[i]);
        if (!(fabs(got - exact) <= width))
            fail_msg("after doubling, percentile %g is %.6f, expected %.6f +- %.4f", percentiles[i], got, exact, width);
    }
    i3d_histogram_free(&up);
    i3d_histogram_free(&down);
    i3d_histogram_free(&one_by_one);
    free(increasing);
    free(decreasing);
}

/* 1e6 half-normal values (max about 5) and 10 outliers at `outlier`. */
static i3d_histogram *half_normal_with_outliers(float outlier)
{
    rng_seed(5);
    enum { N = 1000000, OUTLIERS = 10 };
    float *values = new_values(N + OUTLIERS);
    for (int i = 0; i < N; i++)
        values[i] = half_normal();
    for (int i = 0; i < OUTLIERS; i++)
        values[N + i] = outlier;
    i3d_histogram *h = histogram_of(values, N + OUTLIERS);
    free(values);
    return h;
}

static void entropy_clips_a_thin_tail(void **state)
{
    (void)state;
    /* Outliers at 30: R = 32, candidates from 4.0 up. The bulk ends near 5 (the 99.99th
     * percentile of |N(0,1)| is 3.9): T belongs there, not at the outliers. */
    i3d_histogram *h = half_normal_with_outliers(30.0f);
    float t = threshold_of(h, I3D_CALIBRATE_ENTROPY, 0);
    print_message("entropy threshold, half-normal + 10 at 30: %.4f (max %.1f)\n", t, i3d_histogram_max(h));
    if (!(t < 10.0f && t >= 3.9f))
        fail_msg("entropy threshold %.4f for half-normal + 10 outliers at 30, expected in [3.9, 10)", t);
    i3d_histogram_free(&h);

    /* Outliers at 1000: R = 1024 and bins 0.5 wide, so the smallest candidate is 256 bins = 128
     * (calibrate.h says so), and every candidate whose 256 levels still hold the bulk bin for bin
     * ties with it (the larger T wins a tie): T is at the histogram's resolution limit, yet far
     * below the max. */
    h = half_normal_with_outliers(1000.0f);
    t = threshold_of(h, I3D_CALIBRATE_ENTROPY, 0);
    print_message("entropy threshold, half-normal + 10 at 1000: %.4f\n", t);
    if (!(t >= 128.0f && t < 200.0f))
        fail_msg("entropy threshold %.4f for half-normal + 10 outliers at 1000, expected in [128, 200)", t);
    i3d_histogram_free(&h);
}

static void entropy_keeps_uniform_data(void **state)
{
    (void)state;
    rng_seed(6);
    enum { N = 1000000 };
    float *values = new_values(N);
    for (int i = 0; i < N; i++)
        values[i] = (float)uniform();
    i3d_histogram *h = histogram_of(values, N);
    float t = threshold_of(h, I3D_CALIBRATE_ENTROPY, 0), max = i3d_histogram_max(h);
    print_message("entropy threshold, uniform [0,1): %.5f (max %.5f)\n", t, max);
    if (!(t >= 0.97f * max))
        fail_msg("entropy threshold %.5f on uniform data, expected near the max %.5f (>= 97%%)", t, max);
    /* As many exact zeros again (a post-ReLU tensor): u8 stores them exactly, so T stays. */
    for (int i = 0; i < N; i++)
        values[i] = 0;
    i3d_histogram_add(h, values, N);
    float with_zeros = threshold_of(h, I3D_CALIBRATE_ENTROPY, 0);
    if (with_zeros != t)
        fail_msg("entropy threshold with half zeros is %.5f, without %.5f: zeros must not move it", with_zeros, t);
    i3d_histogram_free(&h);
    free(values);
}

static void non_finite_values_are_skipped_and_counted(void **state)
{
    (void)state;
    const float values[] = {NAN, INFINITY, -INFINITY, 2.5f, 0.0f, -1.0f, -NAN, -0.0f};
    i3d_histogram *h = histogram_of(values, 8);
    assert_int_equal(i3d_histogram_count(h), 4);
    assert_int_equal(i3d_histogram_nonfinite_count(h), 4);
    assert_int_equal(i3d_histogram_negative_count(h), 1);
    if (i3d_histogram_max(h) != 2.5f || threshold_of(h, I3D_CALIBRATE_MINMAX, 0) != 2.5f)
        fail_msg("max %g, expected 2.5 (NaN and Inf skipped)", i3d_histogram_max(h));
    /* +Inf must not have grown the range: small values added next still get fine bins
     * (R = 4 after 2.5, bins of 2^-9; with R = 2^128 all would share bin 0). */
    rng_seed(7);
    enum { N = 10000 };
    float *small = new_values(N);
    for (int i = 0; i < N; i++)
        small[i] = (float)(2.0 * uniform());
    i3d_histogram_add(h, small, N);
    float median = threshold_of(h, I3D_CALIBRATE_PERCENTILE, 50.0);
    if (!(fabs(median - 1.0) < 0.05))
        fail_msg("median of uniform [0,2) after NaN/Inf is %.5f, expected about 1", median);
    float entropy = threshold_of(h, I3D_CALIBRATE_ENTROPY, 0);
    if (!(entropy <= 2.5f))
        fail_msg("entropy threshold %.5g above the max 2.5", entropy);
    i3d_histogram_free(&h);
    free(small);
}

static void all_zero_tensor_gives_threshold_one(void **state)
{
    (void)state;
    const float values[] = {0.0f, -0.0f, -3.0f, 0.0f};
    i3d_histogram *h = histogram_of(values, 4);
    assert_true(i3d_histogram_max(h) == 0.0f);
    for (int method = I3D_CALIBRATE_MINMAX; method <= I3D_CALIBRATE_ENTROPY; method++)
        if (threshold_of(h, (i3d_calibration_method)method, 99.0) != 1.0f)
            fail_msg("%s on an all-zero tensor: %g, expected 1.0", i3d_calibration_method_name(method),
                     threshold_of(h, (i3d_calibration_method)method, 99.0));
    i3d_histogram_free(&h);
}

static void extreme_magnitudes_stay_finite(void **state)
{
    (void)state;
    /* The largest float (R = 2^128, above FLT_MAX) and the smallest denormal in one tensor. */
    const float values[] = {FLT_MAX, 1e-45f, 1.0f, FLT_MAX / 3};
    i3d_histogram *h = histogram_of(values, 4);
    if (threshold_of(h, I3D_CALIBRATE_MINMAX, 0) != FLT_MAX)
        fail_msg("minmax %g, expected FLT_MAX", threshold_of(h, I3D_CALIBRATE_MINMAX, 0));
    assert_true(threshold_of(h, I3D_CALIBRATE_ENTROPY, 0) <= FLT_MAX);
    assert_true(threshold_of(h, I3D_CALIBRATE_PERCENTILE, 50.0) <= FLT_MAX);
    i3d_histogram_free(&h);

    /* Only denormals: all below the smallest range's first bin; T is their max, never 0. */
    const float tiny[] = {1e-45f, 3e-42f, 1e-40f};
    h = histogram_of(tiny, 3);
    for (int method = I3D_CALIBRATE_MINMAX; method <= I3D_CALIBRATE_ENTROPY; method++)
        if (threshold_of(h, (i3d_calibration_method)method, 50.0) > 1e-40f)
            fail_msg("%s on denormals: %g, above their max 1e-40", i3d_calibration_method_name(method),
                     threshold_of(h, (i3d_calibration_method)method, 50.0));
    i3d_histogram_free(&h);
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    const float values[] = {1.0f, 2.0f};
    i3d_histogram *h = histogram_of(values, 2);
    const double bad_percentiles[] = {0.0, -1.0, 100.5, NAN};
    for (size_t i = 0; i < 4; i++) {
        float t = 0;
        vb_error err = {0};
        int rc = i3d_histogram_threshold(h, I3D_CALIBRATE_PERCENTILE, bad_percentiles[i], &t, &err);
        if (rc != VB_EINVAL || !strstr(err.message, "outside (0, 100]"))
            fail_msg("percentile %g: rc %d '%s', expected VB_EINVAL", bad_percentiles[i], rc, err.message);
    }
    float t = 0;
    vb_error err = {0};
    int rc = i3d_histogram_threshold(h, (i3d_calibration_method)7, 0, &t, &err);
    if (rc != VB_EINVAL || !strstr(err.message, "unknown method 7"))
        fail_msg("method 7: rc %d '%s', expected VB_EINVAL", rc, err.message);
    i3d_histogram_free(&h);
    /* An all-zero tensor has its own answer (1.0), but not for a method that does not exist. */
    const float zeros[] = {0.0f, 0.0f};
    h = histogram_of(zeros, 2);
    rc = i3d_histogram_threshold(h, (i3d_calibration_method)-1, 0, &t, &err);
    if (rc != VB_EINVAL)
        fail_msg("method -1 on an all-zero tensor: rc %d (threshold %g), expected VB_EINVAL", rc, t);
    i3d_histogram_free(&h);
    assert_null(h);
    i3d_histogram_free(&h);   /* a cleared pointer and NULL are accepted */
    i3d_histogram_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(method_names_round_trip),
        cmocka_unit_test(empty_histogram_is_refused),
        cmocka_unit_test(minmax_is_the_exact_max),
        cmocka_unit_test(percentile_of_uniform_data),
        cmocka_unit_test(negatives_count_as_zero),
        cmocka_unit_test(add_order_does_not_change_thresholds),
        cmocka_unit_test(doubling_rebins_exactly),
        cmocka_unit_test(entropy_clips_a_thin_tail),
        cmocka_unit_test(entropy_keeps_uniform_data),
        cmocka_unit_test(non_finite_values_are_skipped_and_counted),
        cmocka_unit_test(all_zero_tensor_gives_threshold_one),
        cmocka_unit_test(extreme_magnitudes_stay_finite),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
