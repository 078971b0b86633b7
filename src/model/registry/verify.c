/* vb_model_verify: DeepMind's evaluate_sample.py check as one library call. The sample is
 * already in the network's [-1,1], so it goes in as it is (VB_RANGE_SIGNED): no rescaling on the
 * way that the engine would undo. */
#include "vidbench/classifier.h"
#include "vidbench/models.h"
#include "vidbench/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vb_model_verify(const vb_model_verify_request *req, vb_model_verify_result *result, vb_error *err)
{
    memset(result, 0, sizeof *result);
    const double tolerance = req->tolerance > 0 ? req->tolerance : 1e-3;
    float *input = NULL, *logits = NULL;
    int ndim = 0;
    int64_t shape[8];
    vb_classifier *classifier = NULL;
    int rc = vb_reference_output_parse(req->reference_path, &result->reference, err);
    if (!rc)
        rc = vb_npy_read_float32(req->sample_path, &input, &ndim, shape, err);
    if (rc)
        goto done;
    if (ndim != 5 || shape[0] != 1 || shape[2] != VB_I3D_INPUT_SIZE || shape[3] != VB_I3D_INPUT_SIZE ||
        shape[4] != 3 || shape[1] < VB_I3D_MIN_FRAMES || shape[1] > 100000) {
        rc = vb_error_set(err, VB_ESHAPE, "%s: expected a [1,T,224,224,3] sample with %d <= T <= 100000",
                          req->sample_path, VB_I3D_MIN_FRAMES);
        goto done;
    }
    result->frames = (int)shape[1];
    const size_t count = (size_t)result->frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(input[i])) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: element %zu is %s, not a finite sample value", req->sample_path,
                              i, isnan(input[i]) ? "NaN" : "infinite");
            goto done;
        }
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.backend = req->backend;
    options.threads = req->threads;
    options.num_frames = result->frames;
    if ((rc = vb_classifier_open(req->weights_path, req->labels_path, &options, &classifier, err)))
        goto done;
    if (vb_classifier_get_kind(classifier) != VB_CLASSIFIER_I3D) {
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: the published check is for I3D checkpoints", req->weights_path);
        goto done;
    }
    const int classes = vb_classifier_num_classes(classifier);
    if (!(logits = calloc((size_t)classes, sizeof *logits))) {
        rc = vb_error_set(err, VB_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vb_classifier_logits_f32(classifier, input, VB_RANGE_SIGNED, 1, result->frames, logits, err)))
        goto done;
    rc = vb_reference_output_compare(&result->reference, logits, classes, vb_classifier_labels(classifier), tolerance,
                                     &result->check, err);
    if (rc == 0 || rc == VB_ECHECKSUM) {
        const int top = result->check.top1_index;
        snprintf(result->top1_label, sizeof result->top1_label, "%s", vb_classifier_label(classifier, top));
        result->top1_logit = logits[top];
    }
done:
    free(logits);
    free(input);
    vb_classifier_free(&classifier);
    return rc;
}
