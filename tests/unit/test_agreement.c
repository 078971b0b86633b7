/* Logit agreement between a reference and a test model (vidbench/agreement.h). Expected values
 * are worked out by hand in the comments: softmaxes chosen so that KL has a closed form, top-5
 * sets written out, ties broken toward the lower class id as vb_top_k does. */
#include "testlib.h"

#include <math.h>
#include <string.h>

#include "vidbench/agreement.h"

static void add_clip(vb_agreement *a, const float *ref, const float *test, int classes)
{
    vb_error err = {0};
    int rc = vb_agreement_add(a, ref, test, classes, &err);
    if (rc)
        fail_msg("vb_agreement_add (%d classes): error %d %s", classes, rc, err.message);
}

static void expect_close(const char *what, double got, double expected, double tolerance)
{
    if (!(fabs(got - expected) <= tolerance))
        fail_msg("%s: %.12g, expected %.12g (+- %g)", what, got, expected, tolerance);
}

static void identical_logits_agree_exactly(void **state)
{
    (void)state;
    enum { CLASSES = 400, CLIPS = 3 };
    float logits[CLIPS][CLASSES];
    double range = 0;
    for (int c = 0; c < CLIPS; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < CLASSES; i++) {
            logits[c][i] = (float)sin(i * 0.37 + c) * (5.0f + c) + (i == 17 * c ? 12.0f : 0.0f);
            lo = fminf(lo, logits[c][i]);
            hi = fmaxf(hi, logits[c][i]);
        }
        range = fmax(range, (double)hi - lo);
    }
    vb_agreement a;
    vb_agreement_init(&a);
    for (int c = 0; c < CLIPS; c++)
        add_clip(&a, logits[c], logits[c], CLASSES);
    assert_int_equal(a.clips, CLIPS);
    assert_int_equal(a.top1_agree, CLIPS);
    if (a.top5_overlap != 1.0 || a.mean_kl != 0.0 || a.max_abs_logit_error != 0.0)
        fail_msg("identical logits: overlap %.17g, KL %.17g, error %.17g; expected exactly 1, 0, 0", a.top5_overlap,
                 a.mean_kl, a.max_abs_logit_error);
    if (a.max_logit_range != range)
        fail_msg("logit range %.9g, expected %.9g", a.max_logit_range, range);
}

static void three_classes_hand_computed(void **state)
{
    (void)state;
    /* softmax(0,0,0) = (1/3,1/3,1/3), softmax(0,ln 2,0) = (1/4,1/2,1/4):
     * KL = 1/3 (ln(4/3) + ln(2/3) + ln(4/3)) = ln(32/27) / 3. Top-1: the tie (0,0,0) goes to class 0,
     * the test's top is class 1. With 3 classes the "top 5" is all 3: overlap 1. */
    const float ref[] = {0, 0, 0};
    const float test[] = {0, (float)M_LN2, 0};
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, ref, test, 3);
    assert_int_equal(a.top1_agree, 0);
    expect_close("top-5 overlap (3 classes)", a.top5_overlap, 1.0, 0);
    expect_close("KL", a.mean_kl, log(32.0 / 27.0) / 3, 1e-7);
    expect_close("max |error|", a.max_abs_logit_error, (float)M_LN2, 0);
    expect_close("logit range", a.max_logit_range, 0, 0);
}

static void reversed_ranking_hand_computed(void **state)
{
    (void)state;
    /* ref_i = 7 - i, test_i = i + 1 (i = 0..6): both softmaxes share the normaliser sum e^1..e^7, so
     * log p_i - log q_i = 6 - 2i and KL = 6 - 2 E_p[i], E_p[i] = sum i e^-i / sum e^-i.
     * Top 5: ref {0,1,2,3,4}, test {6,5,4,3,2}: 3 in common, overlap 3/5. */
    const float ref[] = {7, 6, 5, 4, 3, 2, 1};
    const float test[] = {1, 2, 3, 4, 5, 6, 7};
    double weighted = 0, norm = 0;
    for (int i = 0; i < 7; i++) {
        weighted += i * exp(-i);
        norm += exp(-i);
    }
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, ref, test, 7);
    assert_int_equal(a.top1_agree, 0);
    expect_close("top-5 overlap", a.top5_overlap, 0.6, 1e-15);
    expect_close("KL", a.mean_kl, 6 - 2 * weighted / norm, 1e-12);
    expect_close("max |error|", a.max_abs_logit_error, 6, 0);
    expect_close("logit range", a.max_logit_range, 6, 0);

    /* A second, identical clip halves the means; the maxima stay. */
    add_clip(&a, ref, ref, 7);
    assert_int_equal(a.clips, 2);
    assert_int_equal(a.top1_agree, 1);
    expect_close("mean overlap of 2 clips", a.top5_overlap, 0.8, 1e-15);
    expect_close("mean KL of 2 clips", a.mean_kl, (6 - 2 * weighted / norm) / 2, 1e-12);
    expect_close("max |error| of 2 clips", a.max_abs_logit_error, 6, 0);
}

static void swapped_top1_disagrees(void **state)
{
    (void)state;
    /* 4 classes: k = min(5, 4) = 4, so the overlap is 4/4 although the top two swapped. */
    const float ref[] = {4, 3, 2, 1};
    const float test[] = {3, 4, 2, 1};
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, ref, test, 4);
    assert_int_equal(a.clips, 1);
    assert_int_equal(a.top1_agree, 0);
    expect_close("overlap with 4 classes", a.top5_overlap, 1.0, 0);
    if (!(a.mean_kl > 0))
        fail_msg("KL of a swapped top-1 is %.17g, expected > 0", a.mean_kl);
    expect_close("max |error|", a.max_abs_logit_error, 1, 0);
}

static void ties_break_toward_lower_class(void **state)
{
    (void)state;
    /* All six reference logits tie: its top 5 is {0,1,2,3,4}, its top 1 class 0. The test's top is
     * class 5, then the tie {0,1,2,3}: 4 in common, overlap 0.8. */
    const float ref[] = {1, 1, 1, 1, 1, 1};
    const float test[] = {1, 1, 1, 1, 1, 2};
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, ref, test, 6);
    assert_int_equal(a.top1_agree, 0);
    expect_close("overlap with ties", a.top5_overlap, 0.8, 1e-15);
}

static void large_logits_keep_kl_finite(void **state)
{
    (void)state;
    /* softmax in float would give (1, 0) and (0, 1): KL infinite or NaN. In log space
     * KL = 1 * (0 - (-1000)) + e^-1000 * (...) = 1000 to double precision. */
    const float ref[] = {1000, 0};
    const float test[] = {0, 1000};
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, ref, test, 2);
    expect_close("KL of opposite certainties", a.mean_kl, 1000, 1e-9);
    const float one_ref[] = {5}, one_test[] = {3};
    vb_agreement_init(&a);
    add_clip(&a, one_ref, one_test, 1);
    assert_int_equal(a.top1_agree, 1);
    if (a.top5_overlap != 1.0 || a.mean_kl != 0.0 || a.max_abs_logit_error != 2.0)
        fail_msg("one class: overlap %g, KL %g, error %g; expected 1, 0, 2", a.top5_overlap, a.mean_kl,
                 a.max_abs_logit_error);
}

static void expect_refused(vb_agreement *a, const float *ref, const float *test, int classes, const char *needle)
{
    vb_agreement before = *a;
    vb_error err = {0};
    int rc = vb_agreement_add(a, ref, test, classes, &err);
    if (rc != VB_EINVAL || !strstr(err.message, needle))
        fail_msg("expected VB_EINVAL naming '%s', got %d '%s'", needle, rc, err.message);
    if (memcmp(&before, a, sizeof before))
        fail_msg("a refused clip ('%s') changed the agreement", needle);
}

static void non_finite_input_is_refused(void **state)
{
    (void)state;
    const float good[] = {1, 2, 3};
    vb_agreement a;
    vb_agreement_init(&a);
    add_clip(&a, good, good, 3);
    const float nan_at_2[] = {1, 2, NAN};
    const float inf_at_0[] = {INFINITY, 2, 3};
    const float minus_inf_at_1[] = {1, -INFINITY, 3};
    expect_refused(&a, good, nan_at_2, 3, "test logit of class 2 is nan (clip 1)");
    expect_refused(&a, inf_at_0, good, 3, "reference logit of class 0 is inf");
    expect_refused(&a, good, minus_inf_at_1, 3, "test logit of class 1 is -inf");
    expect_refused(&a, good, good, 0, "0 classes");
    expect_refused(&a, good, NULL, 3, "no test logits");
    assert_int_equal(a.clips, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_logits_agree_exactly),
        cmocka_unit_test(three_classes_hand_computed),
        cmocka_unit_test(reversed_ranking_hand_computed),
        cmocka_unit_test(swapped_top1_disagrees),
        cmocka_unit_test(ties_break_toward_lower_class),
        cmocka_unit_test(large_logits_keep_kl_finite),
        cmocka_unit_test(non_finite_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
