/* How close a quantized (or otherwise approximated) model's logits are to a reference's, over
 * clips: top-1 agreement, top-5 overlap, KL divergence of the softmaxes and the largest logit
 * error next to the logits' own range. The caller runs both models; this only compares. */
#ifndef VIDBENCH_AGREEMENT_H
#define VIDBENCH_AGREEMENT_H

#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vb_agreement {
    int clips;
    int top1_agree;            /* clips whose top-1 class is the same */
    double top5_overlap;       /* mean over clips of |top5(ref) & top5(test)| / 5 (k = min(5, classes)) */
    double mean_kl;            /* mean over clips of KL(softmax(ref) || softmax(test)), natural log */
    double max_abs_logit_error;/* max over clips and classes of |ref - test| */
    double max_logit_range;    /* max over clips of max(ref) - min(ref), the scale of that error */
} vb_agreement;

void vb_agreement_init(vb_agreement *agreement);

/* Adds one clip: ref_logits and test_logits [classes]. Top-k ties go to the lower class id, as
 * vb_top_k breaks them. Fails with VB_EINVAL on classes < 1 or a NaN/Inf logit (the message names
 * the side, the class and the value), leaving the agreement unchanged. */
int vb_agreement_add(vb_agreement *agreement, const float *ref_logits, const float *test_logits, int classes,
                     vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
