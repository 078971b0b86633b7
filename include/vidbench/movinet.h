/* MoViNet stream classifiers from TensorFlow Lite int8 files, run by vidbench's own
 * interpreter: one frame at a time with the model's state tensors carried over. */
#ifndef VIDBENCH_MOVINET_H
#define VIDBENCH_MOVINET_H

#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vb_movinet vb_movinet;

/* Loads the file and checks that its signature has an "image" input [1,1,S,S,3] float32, a
 * "logits" output [1,C] float32, and for every other input an output of the same name, type
 * and shape (the streaming states). threads: worker threads, 0 = automatic (vb_threads_resolve). */
int vb_movinet_open(const char *tflite_path, int threads, vb_movinet **out, vb_error *err);
void vb_movinet_free(vb_movinet **model);
int vb_movinet_num_classes(const vb_movinet *model);
/* Threads the interpreter runs with (the resolved count). */
int vb_movinet_threads(const vb_movinet *model);
/* Square input side the model takes (172 for A0). */
int vb_movinet_input_size(const vb_movinet *model);

/* frames: [count, S, S, 3] uint8 RGB (S = vb_movinet_input_size), fed in order from zero
 * states; logits: [classes] after the last frame. */
int vb_movinet_classify_frames(vb_movinet *model, const uint8_t *frames, int count,
                               float *logits, vb_error *err);

/* Streaming use: reset the states to zero, then feed frames one by one. frame: [S,S,3] uint8
 * RGB, scaled by 1/255 like the published apps; logits ([classes], may be NULL) receives this
 * step's output. */
void vb_movinet_reset(vb_movinet *model);
int vb_movinet_step(vb_movinet *model, const uint8_t *frame, float *logits, vb_error *err);
/* Same with a float frame [S,S,3] in [0,1]. */
int vb_movinet_step_float(vb_movinet *model, const float *frame, float *logits, vb_error *err);
/* Number of state tensors carried between frames (43 for A0). */
int vb_movinet_num_states(const vb_movinet *model);

/* Kernel level for tests and benchmarks: 0 plain C, 1 AVX2, 2 AVX-512 VNNI. Resets the states
 * and returns the level used (capped by the CPU). */
int vb_movinet_set_simd_level(vb_movinet *model, int level);

#ifdef __cplusplus
}
#endif
#endif
