/* Logit agreement between a reference model and an approximation of it (vidbench/agreement.h),
 * written for int8 I3D against fp32 but blind to where the logits come from. */
#include "vidbench/agreement.h"

#include <math.h>
#include <string.h>

#include "vidbench/classifier.h"

#define TOP_K 5

void vb_agreement_init(vb_agreement *a)
{
    memset(a, 0, sizeof *a);
}

/* log(sum(exp(x))) in double, shifted by the max so that no exp overflows. */
static double log_sum_exp(const float *x, int n)
{
    double max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += exp((double)x[i] - max);
    return max + log(sum);
}

/* KL(softmax(ref) || softmax(test)) from log-softmaxes, so that a probability too small for a
 * float (a logit 100 below the top) still weighs its log ratio correctly. */
static double softmax_kl(const float *ref, const float *test, int n)
{
    double ref_lse = log_sum_exp(ref, n), test_lse = log_sum_exp(test, n);
    double kl = 0;
    for (int i = 0; i < n; i++) {
        double log_p = ref[i] - ref_lse, log_q = test[i] - test_lse;
        kl += exp(log_p) * (log_p - log_q);
    }
    /* KL >= 0; a rounding residue below 0 would read as "better than identical". */
    return kl > 0 ? kl : 0;
}

static int check_finite(const float *logits, int classes, const char *side, int clip, vb_error *err)
{
    for (int i = 0; i < classes; i++)
        if (!isfinite(logits[i]))
            return vb_error_set(err, VB_EINVAL, "agreement: %s logit of class %d is %g (clip %d)", side, i,
                                (double)logits[i], clip);
    return 0;
}

int vb_agreement_add(vb_agreement *a, const float *ref_logits, const float *test_logits, int classes, vb_error *err)
{
    if (classes < 1)
        return vb_error_set(err, VB_EINVAL, "agreement: %d classes (clip %d)", classes, a->clips);
    if (!ref_logits || !test_logits)
        return vb_error_set(err, VB_EINVAL, "agreement: no %s logits (clip %d)", ref_logits ? "test" : "reference",
                            a->clips);
    int rc = check_finite(ref_logits, classes, "reference", a->clips, err);
    if (!rc)
        rc = check_finite(test_logits, classes, "test", a->clips, err);
    if (rc)
        return rc;

    vb_prediction ref_top[TOP_K], test_top[TOP_K];
    int k = vb_top_k(ref_logits, classes, TOP_K, ref_top);   /* ranks logits as it ranks probabilities */
    vb_top_k(test_logits, classes, TOP_K, test_top);
    int common = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            common += ref_top[i].class_id == test_top[j].class_id;

    double max_error = 0, ref_min = ref_logits[0], ref_max = ref_logits[0];
    for (int i = 0; i < classes; i++) {
        double error = fabs((double)ref_logits[i] - test_logits[i]);
        if (error > max_error)
            max_error = error;
        if (ref_logits[i] < ref_min)
            ref_min = ref_logits[i];
        if (ref_logits[i] > ref_max)
            ref_max = ref_logits[i];
    }

    a->clips++;
    a->top1_agree += ref_top[0].class_id == test_top[0].class_id;
    /* Running means: exact for constant inputs (all-identical clips stay at overlap 1, KL 0). */
    a->top5_overlap += ((double)common / k - a->top5_overlap) / a->clips;
    a->mean_kl += (softmax_kl(ref_logits, test_logits, classes) - a->mean_kl) / a->clips;
    if (max_error > a->max_abs_logit_error)
        a->max_abs_logit_error = max_error;
    if (ref_max - ref_min > a->max_logit_range)
        a->max_logit_range = ref_max - ref_min;
    return 0;
}
