/* The loader behind --num_crops 3: frames resized so that their short side is S with the
 * aspect kept (MMAction2 Resize(scale=(-1, S)): long side int(long * S / short + 0.5)), so
 * ThreeCrop has a long side to move along. Built on the video ingest's decoder and its
 * OpenCV-exact resize (internal headers), because video.h only returns square frames. */
#include "vidbench/eval.h"
#include "video/decoder.h"
#include "video/video_internal.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_FRAMES = 100000 };
#define MAX_SECONDS 300.0

static int aspect_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                       vb_clip *out, vb_error *err)
{
    (void)impl;
    memset(out, 0, sizeof *out);
    const int size = video->size > 0 ? video->size : 224;
    vb_decoder dec;
    int rc = vb_decoder_open(&dec, clip->path, video->threads, MAX_SECONDS, err);
    if (rc)
        return rc;
    vb_resize_plan plan;
    memset(&plan, 0, sizeof plan);
    int plan_ready = 0, out_w = 0, out_h = 0, count = 0, capacity = 0;
    size_t frame_bytes = 0;
    uint8_t *frames = NULL;
    for (;;) {
        int got = vb_decoder_next(&dec, err);
        if (got < 0) {
            rc = got;
            goto done;
        }
        if (got == 0)
            break;
        const uint8_t *bgr;
        int w, h;
        size_t stride;
        rc = vb_decoder_bgr(&dec, &bgr, &w, &h, &stride, err);
        if (rc)
            goto done;
        if (!plan_ready || plan.src_width != w || plan.src_height != h) {
            if (count > 0) {
                rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: frame size changes mid-stream", clip->path);
                goto done;
            }
            const int short_side = w < h ? w : h;
            out_w = w == short_side ? size : (int)((double)w * size / short_side + 0.5);
            out_h = h == short_side ? size : (int)((double)h * size / short_side + 0.5);
            if (plan_ready)
                vb_resize_plan_free(&plan);
            rc = vb_resize_plan_init(&plan, w, h, out_w, out_h, 3);
            if (rc) {
                rc = vb_error_set(err, rc, "%s: cannot resize %dx%d to %dx%d", clip->path, w, h, out_w, out_h);
                goto done;
            }
            vb_resize_plan_reverse_channels(&plan); /* BGR in, RGB out */
            plan_ready = 1;
            frame_bytes = (size_t)out_w * (size_t)out_h * 3;
        }
        if (count >= MAX_FRAMES) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: more than %d frames", clip->path, MAX_FRAMES);
            goto done;
        }
        if (count == capacity) {
            int grown = capacity ? capacity * 2 : 64;
            uint8_t *more = realloc(frames, frame_bytes * (size_t)grown);
            if (!more) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: %d frames do not fit in memory", clip->path, grown);
                goto done;
            }
            frames = more;
            capacity = grown;
        }
        uint8_t *dst = frames + frame_bytes * (size_t)count++;
        vb_resize_run(&plan, bgr, stride, dst, (size_t)out_w * 3);
        av_frame_unref(dec.frame);
    }
    if (count == 0) {
        rc = vb_error_set(err, VB_EDECODE, "%s: no frame could be decoded", clip->path);
        goto done;
    }
    if (video->min_frames > 0 && count < video->min_frames) {
        rc = vb_error_set(err, VB_ETOOSHORT, "%s: %d frames, fewer than the required %d", clip->path,
                          count, video->min_frames);
        goto done;
    }
    if (video->num_frames > 0) {
        /* the seed's resampling, as vb_video_decode_clip does it */
        int *idx = malloc((size_t)video->num_frames * sizeof *idx);
        uint8_t *picked = malloc(frame_bytes * (size_t)video->num_frames);
        if (!idx || !picked) {
            free(idx);
            free(picked);
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", clip->path);
            goto done;
        }
        vb_resample_indices(count, video->num_frames, idx);
        for (int i = 0; i < video->num_frames; i++)
            memcpy(picked + frame_bytes * (size_t)i, frames + frame_bytes * (size_t)idx[i], frame_bytes);
        free(idx);
        free(frames);
        frames = picked;
        count = video->num_frames;
    }
    out->frames = frames;
    out->num_frames = count;
    out->width = out_w;
    out->height = out_h;
    out->decoded_frames = dec.decoded_frames;
    out->lost_frames = dec.lost_frames;
    out->fps = vb_stream_fps(dec.stream);
    frames = NULL;
done:
    free(frames);
    if (plan_ready)
        vb_resize_plan_free(&plan);
    vb_decoder_close(&dec);
    return rc;
}

const vb_eval_loader vb_eval_aspect_loader = {.impl = NULL, .load = aspect_load};
