/* DeepMind's RGB I3D (Inflated Inception-v1) run by vidbench's own engine.
 * Weights come from a safetensors file holding the TensorFlow checkpoint's tensor names and
 * shapes; channel counts and the class count are taken from the weight shapes. */
#ifndef VIDBENCH_I3D_H
#define VIDBENCH_I3D_H

#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vb_i3d_backend {
    VB_I3D_BACKEND_ONEDNN = 0,   /* default: oneDNN convolutions, blocked layouts */
    VB_I3D_BACKEND_REFERENCE,    /* plain C loops: the oracle */
} vb_i3d_backend;

typedef struct vb_i3d_options {
    vb_i3d_backend backend;
    int threads;                 /* 0: VIDBENCH_THREADS or all cores */
} vb_i3d_options;

void vb_i3d_options_init(vb_i3d_options *options);

typedef struct vb_i3d vb_i3d;

int vb_i3d_open(const char *weights_path, const vb_i3d_options *options, vb_i3d **out,
                vb_error *err);
void vb_i3d_free(vb_i3d **model);
int vb_i3d_num_classes(const vb_i3d *model);

/* input: [batch, frames, 224, 224, 3] RGB in [0,1] (mapped to 2x-1 inside).
 * logits: [batch, classes], averaged over time, before softmax. */
int vb_i3d_forward(vb_i3d *model, const float *input, int batch, int frames, float *logits,
                   vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
