/* The model registry: known models by name (i3d-kinetics-400, i3d-kinetics-600,
 * movinet-a0-stream-k600), their sources, and where an installed copy lives in the cache
 * ($VIDBENCH_HOME, default ~/.cache/vidbench). */
#ifndef VIDBENCH_MODELS_H
#define VIDBENCH_MODELS_H

#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vb_model_paths {
    char weights[4096];   /* .safetensors (I3D) or .tflite (MoViNet) */
    char labels[4096];    /* label map, one class per line, index = class id */
} vb_model_paths;

/* Resolves an installed model by name. VB_ENOTFOUND with a message saying how to install
 * it (vidbench model fetch NAME) when it is known but not installed, or unknown. */
int vb_model_resolve(const char *name, vb_model_paths *paths, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
