/* Test-time views (see views.h). Window and crop positions follow MMAction2 so that
 * multi-view accuracies are comparable with its published tables. */
#include "eval/views.h"

#include <stdlib.h>
#include <string.h>

void eval_window_offsets(int total, int clip_len, int num_clips, int *offsets)
{
    double avg = (double)(total - clip_len + 1) / num_clips;
    for (int k = 0; k < num_clips; k++)
        offsets[k] = total > clip_len - 1 ? (int)(k * avg + avg / 2.0) : 0;
}

void eval_views_free(eval_views *views)
{
    if (!views)
        return;
    free(views->frames);
    free(views->frame_counts);
    free(views->owned);
    memset(views, 0, sizeof *views);
}

int eval_make_views(const vb_frames *clip, int size, int num_frames, int num_clips,
                       int num_crops, eval_views *views, vb_error *err)
{
    memset(views, 0, sizeof *views);
    const int h = clip->height, w = clip->width, total = clip->num_frames;
    if (total < 1 || !clip->frames)
        return vb_error_set(err, VB_ETOOSHORT, "clip has no frames");
    if ((h < w ? h : w) != size || h < 1 || w < 1)
        return vb_error_set(err, VB_ESHAPE, "frames are %dx%d, expected a short side of %d", w, h,
                            size);
    const int t = num_frames > 0 ? num_frames : total;
    if (num_clips == 1 && num_frames > 0 && total != num_frames)
        return vb_error_set(err, VB_ESHAPE, "clip has %d frames, expected %d", total, num_frames);
    /* Crop origins: centre (start = (dim - size) / 2, MMAction2 CenterCrop rounds the same
     * way) or ThreeCrop's first, centre and last square along the long side. */
    int crop_x[3], crop_y[3];
    for (int c = 0; c < num_crops; c++) {
        int along = num_crops == 1 ? 1 : c;   /* 0 first, 1 centre, 2 last */
        int x = w > size ? (along == 0 ? 0 : along == 1 ? (w - size) / 2 : w - size) : 0;
        int y = h > size ? (along == 0 ? 0 : along == 1 ? (h - size) / 2 : h - size) : 0;
        crop_x[c] = x;
        crop_y[c] = y;
    }
    const int count = num_clips * num_crops;
    views->count = count;
    views->frames = calloc((size_t)count, sizeof *views->frames);
    views->frame_counts = calloc((size_t)count, sizeof *views->frame_counts);
    if (!views->frames || !views->frame_counts) {
        eval_views_free(views);
        return vb_error_set(err, VB_ENOMEM, "views: out of memory");
    }
    if (count == 1 && h == size && w == size && (num_frames == 0 || total == t)) {
        views->frames[0] = clip->frames;   /* the clip is its only view */
        views->frame_counts[0] = total;
        return 0;
    }
    const size_t view_bytes = (size_t)t * (size_t)size * (size_t)size * 3;
    views->owned = malloc((size_t)count * view_bytes);
    int *offsets = malloc((size_t)num_clips * sizeof *offsets);
    if (!views->owned || !offsets) {
        free(offsets);
        eval_views_free(views);
        return vb_error_set(err, VB_ENOMEM, "views: out of memory");
    }
    if (num_clips == 1)
        offsets[0] = 0;
    else
        eval_window_offsets(total, t, num_clips, offsets);
    const size_t row_bytes = (size_t)size * 3;
    for (int k = 0; k < num_clips; k++)
        for (int c = 0; c < num_crops; c++) {
            const int v = k * num_crops + c;
            uint8_t *dst = views->owned + (size_t)v * view_bytes;
            for (int f = 0; f < t; f++) {
                const int src_f = (offsets[k] + f) % total;   /* loop when too short */
                for (int y = 0; y < size; y++) {
                    const uint8_t *src = clip->frames +
                        (((size_t)src_f * h + (size_t)(crop_y[c] + y)) * w + (size_t)crop_x[c]) * 3;
                    memcpy(dst + ((size_t)f * size + y) * row_bytes, src, row_bytes);
                }
            }
            views->frames[v] = dst;
            views->frame_counts[v] = t;
        }
    free(offsets);
    return 0;
}
