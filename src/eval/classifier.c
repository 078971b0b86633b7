/* Classifier adapters for the evaluation loop (see eval.h): I3D takes float batches of
 * equal-length views, MoViNet takes one view's uint8 frames at a time. The label map must
 * have exactly one name per class the weights produce. */
#include "vidbench/eval.h"
#include "vidbench/i3d.h"
#include "vidbench/labels.h"
#include "vidbench/movinet.h"

#include <stdlib.h>
#include <string.h>

struct vb_eval_classifier {
    vb_eval_model model;
    vb_labels labels;
    vb_i3d *i3d;
    vb_movinet *movinet;
};

static int i3d_forward(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err)
{
    vb_eval_classifier *c = impl;
    return vb_i3d_forward(c->i3d, batch->input_f32, batch->count, batch->frames, logits, err);
}

static int movinet_forward(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err)
{
    vb_eval_classifier *c = impl;
    for (int v = 0; v < batch->count; v++) {
        int rc = vb_movinet_classify_frames(c->movinet, batch->views_u8[v], batch->view_frames[v],
                                            logits + (size_t)v * (size_t)c->model.num_classes, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int vb_eval_classifier_open(const char *weights_path, const char *labels_path,
                            const vb_eval_classifier_options *options,
                            vb_eval_classifier **out, vb_error *err)
{
    *out = NULL;
    vb_eval_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", weights_path);
    const int threads = options ? options->threads : 0;
    int rc, classes;
    if (ends_with(weights_path, ".safetensors")) {
        vb_i3d_options o;
        vb_i3d_options_init(&o);
        o.threads = threads;
        if (options && options->i3d_reference)
            o.backend = VB_I3D_BACKEND_REFERENCE;
        rc = vb_i3d_open(weights_path, &o, &c->i3d, err);
        if (rc)
            goto fail;
        classes = vb_i3d_num_classes(c->i3d);
        c->model.input_size = VB_I3D_INPUT_SIZE;
        c->model.wants_float = 1;
        c->model.forward = i3d_forward;
    } else if (ends_with(weights_path, ".tflite")) {
        rc = vb_movinet_open(weights_path, threads, &c->movinet, err);
        if (rc)
            goto fail;
        classes = vb_movinet_num_classes(c->movinet);
        c->model.input_size = vb_movinet_input_size(c->movinet);
        c->model.wants_float = 0;
        c->model.forward = movinet_forward;
    } else {
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: unknown model file type (expected .safetensors "
                          "for I3D or .tflite for MoViNet)", weights_path);
        goto fail;
    }
    rc = vb_labels_load(labels_path, &c->labels, err);
    if (rc)
        goto fail;
    if (c->labels.count != classes) {
        rc = vb_error_set(err, VB_ESHAPE, "%s: %d labels, but %s has %d classes", labels_path,
                          c->labels.count, weights_path, classes);
        goto fail;
    }
    c->model.impl = c;
    c->model.num_classes = classes;
    c->model.class_names = (const char *const *)c->labels.names;
    *out = c;
    return 0;
fail:
    vb_eval_classifier_free(&c);
    return rc;
}

void vb_eval_classifier_free(vb_eval_classifier **classifier)
{
    if (!classifier || !*classifier)
        return;
    vb_eval_classifier *c = *classifier;
    vb_i3d_free(&c->i3d);
    vb_movinet_free(&c->movinet);
    vb_labels_free(&c->labels);
    free(c);
    *classifier = NULL;
}

const vb_eval_model *vb_eval_classifier_model(const vb_eval_classifier *c)
{
    return &c->model;
}

const char *vb_eval_classifier_kind(const vb_eval_classifier *c)
{
    return c->i3d ? "i3d" : "movinet";
}

const char *vb_eval_classifier_precision(const vb_eval_classifier *c)
{
    return c->i3d ? "fp32" : "int8";
}

double vb_eval_classifier_gflop_per_view(const vb_eval_classifier *c, int frames)
{
    if (!c->i3d || frames <= 0)
        return -1;
    double flops = vb_i3d_flops_per_clip(c->i3d, frames);
    return flops > 0 ? flops * 1e-9 : -1;
}
