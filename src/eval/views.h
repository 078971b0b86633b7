/* Test-time views of a decoded clip, as MMAction2 takes them: K temporal windows of T
 * consecutive frames (SampleFrames, test_mode) times 1 centre or 3 spatial crops
 * (CenterCrop / ThreeCrop). Internal to src/eval. */
#ifndef VB_EVAL_VIEWS_H
#define VB_EVAL_VIEWS_H

#include <stdint.h>
#include "vidbench/error.h"
#include "vidbench/video.h"

typedef struct eval_views {
    int count;
    const uint8_t **frames;   /* [count] -> [frame_counts[i], S, S, 3] */
    int *frame_counts;
    uint8_t *owned;           /* copies, when a view is not the clip itself */
} eval_views;

/* Start frame of each of num_clips windows of clip_len frames in a clip of total frames
 * (MMAction2 SampleFrames._get_test_clips with frame_interval 1): offsets[k] =
 * int(k * avg + avg / 2), avg = (total - clip_len + 1) / num_clips; 0 when the clip is
 * shorter than clip_len (frames then wrap around). */
void eval_window_offsets(int total, int clip_len, int num_clips, int *offsets);

/* Views of clip ([T', H, W, 3], min(H, W) == size): num_frames 0 keeps every frame (one
 * window). One view that is the clip itself is not copied. */
int eval_make_views(const vb_frames *clip, int size, int num_frames, int num_clips,
                       int num_crops, eval_views *views, vb_error *err);
void eval_views_free(eval_views *views);

#endif
