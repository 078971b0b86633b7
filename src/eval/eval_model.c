/* The evaluation loop's view of the one classifier (vb_classifier): I3D takes float batches of
 * equal-length views in a single call, MoViNet one view's uint8 frames at a time. Nothing here
 * opens a model or decides its input: classifier.h does both. */
#include "vidbench/eval.h"

#include <string.h>

static int forward_float_batch(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err)
{
    return vb_classifier_logits_f32(impl, batch->input_f32, VB_RANGE_UNIT, batch->count, batch->frames, logits, err);
}

static int forward_views(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err)
{
    vb_classifier *classifier = impl;
    const size_t classes = (size_t)vb_classifier_num_classes(classifier);
    for (int v = 0; v < batch->count; v++) {
        int rc = vb_classifier_logits_u8(classifier, batch->views_u8[v], batch->view_frames[v],
                                         logits + (size_t)v * classes, err);
        if (rc)
            return rc;
    }
    return 0;
}

int vb_eval_model_from_classifier(vb_classifier *classifier, vb_eval_model *model, vb_error *err)
{
    memset(model, 0, sizeof *model);
    const vb_labels *labels = vb_classifier_labels(classifier);
    if (!labels)
        return vb_error_set(err, VB_EINVAL, "evaluation needs the model's label map (class names)");
    vb_classifier_input input;
    vb_classifier_input_spec(classifier, &input);
    model->impl = classifier;
    model->num_classes = vb_classifier_num_classes(classifier);
    model->class_names = (const char *const *)labels->names;
    model->input_size = input.size;
    model->wants_float = input.takes_float_batches;
    model->forward = input.takes_float_batches ? forward_float_batch : forward_views;
    return 0;
}
