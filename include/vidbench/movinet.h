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

int vb_movinet_open(const char *tflite_path, int threads, vb_movinet **out, vb_error *err);
void vb_movinet_free(vb_movinet **model);
int vb_movinet_num_classes(const vb_movinet *model);
/* Square input side the model takes (172 for A0). */
int vb_movinet_input_size(const vb_movinet *model);

/* frames: [count, S, S, 3] uint8 RGB (S = vb_movinet_input_size), fed in order from zero
 * states; logits: [classes] after the last frame. */
int vb_movinet_classify_frames(vb_movinet *model, const uint8_t *frames, int count,
                               float *logits, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
