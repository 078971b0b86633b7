/* vb_video_decode_clip: decode -> BGR24 (as cv2.VideoCapture) -> rotate -> crop/pad/
 * shortside/stretch -> OpenCV-exact resize -> RGB, frame by frame, keeping only the S x S
 * frames the resampling selects. When the header's frame count is right (the usual case),
 * frames the selection drops are decoded but never converted; when it is wrong or missing,
 * a second pass with the exact count keeps the result identical to converting everything.
 * A damaged stream is decoded again with one thread: frame threads conceal damage by timing. */
#include "vidbench/video.h"

#include <stdlib.h>
#include <string.h>

#include <libavutil/time.h>

#include "video/decoder.h"
#include "video/video_internal.h"

enum { DEFAULT_SIZE = 224, DEFAULT_MAX_FRAMES = 100000, MAX_SIZE = VB_VIDEO_MAX_SIZE };
#define DEFAULT_MAX_SECONDS 300.0
/* The output tensor is refused beyond this, before the allocation is tried. */
#define MAX_OUTPUT_BYTES ((size_t)8 << 30)

void vb_video_options_init(vb_video_options *options)
{
    memset(options, 0, sizeof *options);
    options->size = DEFAULT_SIZE;
    options->resize = VB_RESIZE_CROP;
}

void vb_frames_free(vb_frames *clip)
{
    if (!clip)
        return;
    free(clip->frames);
    memset(clip, 0, sizeof *clip);
}

/* What one decoding pass produced besides the frames. */
typedef struct pass_result {
    int expected;           /* the count the selection was computed for */
    int decoded, lost, read_error;
    int skipped;            /* of `decoded`, frames left undecoded (the selection drops them) */
    int skip_failed;        /* skipping's assumptions did not hold: redo without it */
    int damaged;            /* a frame was lost or flagged corrupt (concealed) */
    int out_width, out_height;   /* each output frame's size */
    double fps;
} pass_result;

/* The packets of a stream are read ahead (for skipping) up to this many bytes: a 10 s
 * Kinetics clip is about 1 MiB, 10 s of 1080p at 8 Mbit/s 10 MiB; a bigger stream is
 * decoded the plain way. */
#define MAX_PREFETCH_BYTES ((size_t)16 << 20)

enum { KEEP_ALL = -1, COUNT_ONLY = 0, FROM_HEADER = -2 };

/* expected KEEP_ALL: keep every frame (no selection). COUNT_ONLY: count frames only.
 * FROM_HEADER: the container's frame count when it has one, else COUNT_ONLY; with
 * allow_skip, the stream is read ahead and, when its display order is known, its packet
 * count is the guess and frames the selection drops are not decoded where no other frame
 * needs them (result->skip_failed when the decode contradicts that plan).
 * expected > 0: the selection is computed for that many frames; if the stream has a
 * different count, result->decoded tells and the frames are not valid. */
static int decode_pass(const char *path, const vb_video_options *opt, int expected, int allow_skip,
                       double deadline_s, vb_frames *clip, pass_result *result, vb_error *err)
{
    video_decoder dec;
    frame_transform transform;
    memset(&transform, 0, sizeof transform);
    int *kept = NULL, *selection = NULL;
    uint8_t *frames = NULL, *droppable = NULL;
    int skipping = 0;
    int out_count = 0, capacity = 0;
    memset(result, 0, sizeof *result);

    int rc = decoder_open(&dec, path, opt->threads, deadline_s, err);
    if (rc)
        return rc;
    /* Output frames are S x S, except with the aspect kept: then their size follows from the
     * stream's (after rotation), which every frame must keep. */
    result->out_width = result->out_height = opt->size;
    if (opt->resize == VB_RESIZE_ASPECT) {
        const int turned = dec.rotation_degrees == 90 || dec.rotation_degrees == 270;
        const int w = turned ? dec.codec->height : dec.codec->width, h = turned ? dec.codec->width : dec.codec->height;
        rc = frame_transform_init(&transform, opt->resize, opt->size, w, h);
        if (rc) {
            rc = vb_error_set(err, rc, "%s: cannot resize %dx%d frames (the stream's size) with the short side to %d%s%s",
                              path, w, h, opt->size, rc == VB_ELIMIT ? ": " : "",
                              rc == VB_ELIMIT ? transform.limit_reason : "");
            goto done;
        }
        frame_transform_output_size(&transform, &result->out_width, &result->out_height);
    }
    const size_t frame_bytes = (size_t)result->out_width * (size_t)result->out_height * 3;
    result->fps = stream_fps(dec.stream);
    if (expected == FROM_HEADER && allow_skip) {
        rc = decoder_prefetch(&dec, MAX_PREFETCH_BYTES, err);
        if (rc < 0)
            goto done;
        skipping = rc == 1 && dec.queue_count <= opt->max_frames;
        rc = VB_OK;
        if (skipping)
            expected = dec.queue_count;
    }
    if (expected == FROM_HEADER)
        expected = dec.stream->nb_frames > 0 && dec.stream->nb_frames <= opt->max_frames
                       ? (int)dec.stream->nb_frames
                       : COUNT_ONLY;
    result->expected = expected;

    if (expected > 0) {
        kept = malloc((size_t)expected * sizeof *kept);
        if (!kept) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        int kept_count;
        select_fps(expected, result->fps, opt->target_fps, kept, &kept_count);
        out_count = opt->num_frames > 0 ? opt->num_frames : kept_count;
        if (kept_count == 0 || (opt->min_frames > 0 && kept_count < opt->min_frames)) {
            /* decide after decoding: the header count may be wrong */
            out_count = 0;
        } else {
            if (frame_bytes * (size_t)out_count > MAX_OUTPUT_BYTES) {
                rc = vb_error_set(err, VB_ELIMIT, "%s: %d frames of %dx%d exceed the %zu GiB output limit",
                                  path, out_count, result->out_width, result->out_height, MAX_OUTPUT_BYTES >> 30);
                goto done;
            }
            selection = malloc((size_t)out_count * sizeof *selection);
            frames = malloc(frame_bytes * (size_t)out_count);
            if (!selection || !frames) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: %d frames of %dx%d do not fit in memory", path,
                                  out_count, result->out_width, result->out_height);
                goto done;
            }
            if (opt->num_frames > 0) {
                vb_resample_indices(kept_count, out_count, selection);
                for (int j = 0; j < out_count; j++)
                    selection[j] = kept[selection[j]];
            } else {
                memcpy(selection, kept, (size_t)out_count * sizeof *selection);
            }
        }
    }
    if (skipping && out_count > 0) {
        droppable = malloc((size_t)expected);
        if (!droppable) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        memset(droppable, 1, (size_t)expected);
        for (int j = 0; j < out_count; j++)
            droppable[selection[j]] = 0;
        decoder_set_droppable(&dec, droppable);
    } else {
        skipping = 0;
    }

    int next_slot = 0; /* first output slot not yet filled (selection is non-decreasing) */
    int frame_index = 0;
    for (;;) {
        int got = decoder_next(&dec, err);
        if (got < 0) {
            rc = got;
            goto done;
        }
        if (got == 0)
            break;
        if (dec.decoded_frames > opt->max_frames) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: more than %d frames (the max_frames limit)", path,
                              opt->max_frames);
            goto done;
        }
        int i = frame_index++;
        if (skipping) {
            if (dec.order_broken) {
                result->skip_failed = 1;
                goto done;
            }
            i = dec.frame_display_index;
        }
        int wanted;
        if (expected < 0)
            wanted = 1;
        else if (expected == 0 || i >= expected)
            wanted = 0;
        else
            wanted = next_slot < out_count && selection[next_slot] == i;
        if (!wanted) {
            av_frame_unref(dec.frame);
            continue;
        }

        const uint8_t *bgr;
        int w, h;
        size_t stride;
        rc = decoder_bgr(&dec, &bgr, &w, &h, &stride, err);
        if (rc)
            goto done;
        if (!transform.size || transform.in_width != w || transform.in_height != h) {
            frame_transform_free(&transform);
            rc = frame_transform_init(&transform, opt->resize, opt->size, w, h);
            if (rc) {
                rc = vb_error_set(err, rc, "%s: cannot transform %dx%d frames to %d with the %s resize (%s)", path, w,
                                  h, opt->size, vb_resize_mode_name(opt->resize),
                                  rc == VB_ELIMIT  ? transform.limit_reason
                                  : rc == VB_ENOMEM ? "out of memory"
                                                    : "invalid size or resize mode");
                goto done;
            }
            int width, height;
            frame_transform_output_size(&transform, &width, &height);
            if (width != result->out_width || height != result->out_height) {
                rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: the frame size changes to %dx%d mid-stream; the %s resize "
                                  "needs one frame size", path, w, h, vb_resize_mode_name(opt->resize));
                goto done;
            }
        }
        uint8_t *slot;
        if (expected < 0) {
            if (out_count == capacity) {
                int grown = capacity ? capacity * 2 : 64;
                if (frame_bytes * (size_t)grown > MAX_OUTPUT_BYTES)
                    grown = (int)(MAX_OUTPUT_BYTES / frame_bytes);
                if (grown <= out_count) {
                    rc = vb_error_set(err, VB_ELIMIT,
                                      "%s: more than %d frames of %dx%d exceed the %zu GiB output limit "
                                      "(resample with num_frames)", path, out_count, result->out_width, result->out_height,
                                      MAX_OUTPUT_BYTES >> 30);
                    goto done;
                }
                uint8_t *more = realloc(frames, frame_bytes * (size_t)grown);
                if (!more) {
                    rc = vb_error_set(err, VB_ENOMEM, "%s: %d frames do not fit in memory", path, grown);
                    goto done;
                }
                frames = more;
                capacity = grown;
            }
            slot = frames + frame_bytes * (size_t)out_count++;
        } else {
            slot = frames + frame_bytes * (size_t)next_slot++;
        }
        frame_transform_run(&transform, bgr, stride, slot);
        /* upsampling repeats a frame: copy it into the following slots that want it too */
        while (expected > 0 && next_slot < out_count && selection[next_slot] == i) {
            memcpy(frames + frame_bytes * (size_t)next_slot, slot, frame_bytes);
            next_slot++;
        }
        av_frame_unref(dec.frame);
    }
    result->decoded = dec.decoded_frames + dec.skipped_frames;
    result->damaged = dec.lost_frames || dec.flagged_frames;
    result->skipped = dec.skipped_frames;
    result->lost = dec.lost_frames;
    result->read_error = dec.read_error;
    /* Skipping is exact only for a clean stream that decoded to the planned count; anything
     * else (lost or concealed frames, extra or missing output) is redone the plain way. */
    if (skipping && (result->decoded != expected || dec.lost_frames || dec.flagged_frames || dec.read_error ||
                     next_slot != out_count)) {
        result->skip_failed = 1;
        goto done;
    }
    if (expected != 0) {
        clip->frames = frames;
        clip->num_frames = out_count;
        frames = NULL;
    }
done:
    result->damaged |= dec.lost_frames || dec.flagged_frames;
    free(frames);
    free(droppable);
    free(kept);
    free(selection);
    frame_transform_free(&transform);
    decoder_close(&dec);
    return rc;
}

/* The passes one decode needs (see the file's opening comment); *damaged is set when any of
 * them lost a frame or got one flagged corrupt. */
static int decode_passes(const char *path, const vb_video_options *options, int64_t start_us, vb_frames *clip,
                         pass_result *out, int *damaged, vb_error *err)
{
    const vb_video_options opt = *options;
    const int selecting = opt.num_frames > 0 || opt.target_fps > 0;
    pass_result result;
    int rc;
    if (!selecting) {
        rc = decode_pass(path, &opt, KEEP_ALL, 0, opt.max_seconds, clip, &result, err);
        *damaged |= result.damaged;
    } else {
        /* First guess at the count: the packets' (skipping what the selection drops) or the
         * container's. Wrong or missing -> count, then redo. */
        rc = decode_pass(path, &opt, FROM_HEADER, 1, opt.max_seconds, clip, &result, err);
        *damaged |= result.damaged;
        if (rc == VB_OK && result.skip_failed) {
            vb_frames_free(clip);
            double left = opt.max_seconds - (av_gettime_relative() - start_us) / 1e6;
            if (left <= 0)
                return vb_error_set(err, VB_ELIMIT, "%s: decoding exceeded its time limit", path);
            rc = decode_pass(path, &opt, FROM_HEADER, 0, left, clip, &result, err);
            *damaged |= result.damaged;
        }
        if (rc == VB_OK && result.decoded > 0 && result.decoded != result.expected) {
            vb_frames_free(clip);
            double left = opt.max_seconds - (av_gettime_relative() - start_us) / 1e6;
            if (left <= 0)
                return vb_error_set(err, VB_ELIMIT, "%s: decoding exceeded its time limit", path);
            int exact = result.decoded;
            rc = decode_pass(path, &opt, exact, 0, left, clip, &result, err);
            *damaged |= result.damaged;
            if (rc == VB_OK && result.decoded != exact) {
                vb_frames_free(clip);
                return vb_error_set(err, VB_EDECODE, "%s: decoding is not repeatable (%d then %d frames)",
                                    path, exact, result.decoded);
            }
        }
    }
    if (rc) {
        vb_frames_free(clip);
        return rc;
    }
    *out = result;
    return VB_OK;
}

/* Checks what the passes produced against the options and fills the clip's fields. */
static int finish_clip(const char *path, const vb_video_options *options, const pass_result *result_in,
                       vb_frames *clip, vb_error *err)
{
    const vb_video_options opt = *options;
    const pass_result result = *result_in;
    if (result.decoded == 0) {
        vb_frames_free(clip);
        if (result.read_error) {
            char text[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(result.read_error, text, sizeof text);
            return vb_error_set(err, VB_EDECODE, "%s: no frame could be decoded (container error: %s)",
                                path, text);
        }
        return vb_error_set(err, VB_EDECODE, "%s: no frame could be decoded%s", path,
                            result.lost ? " (every frame was corrupt)" : " (no frame data: header only or truncated)");
    }
    int kept_count = result.decoded;
    if (opt.target_fps > 0) {
        int *kept = malloc((size_t)result.decoded * sizeof *kept);
        if (!kept) {
            vb_frames_free(clip);
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        }
        select_fps(result.decoded, result.fps, opt.target_fps, kept, &kept_count);
        free(kept);
    }
    if (opt.min_frames > 0 && kept_count < opt.min_frames) {
        vb_frames_free(clip);
        return vb_error_set(err, VB_ETOOSHORT, "%s: %d frames, fewer than the required %d", path,
                            kept_count, opt.min_frames);
    }
    if (clip->num_frames == 0 || !clip->frames) {
        vb_frames_free(clip);
        return vb_error_set(err, VB_EDECODE, "%s: no frame selected", path);
    }
    clip->width = result.out_width;
    clip->height = result.out_height;
    clip->decoded_frames = result.decoded;
    clip->skipped_frames = result.skipped;
    clip->lost_frames = result.lost;
    clip->fps = result.fps;
    return VB_OK;
}

int vb_video_decode_clip(const char *path, const vb_video_options *options, vb_frames *clip, vb_error *err)
{
    memset(clip, 0, sizeof *clip);
    vb_video_options opt;
    if (options)
        opt = *options;
    else
        vb_video_options_init(&opt);
    if (opt.size == 0)
        opt.size = DEFAULT_SIZE;
    if (opt.max_frames <= 0)
        opt.max_frames = DEFAULT_MAX_FRAMES;
    if (!(opt.max_seconds > 0))
        opt.max_seconds = DEFAULT_MAX_SECONDS;
    if (!path)
        return vb_error_set(err, VB_EINVAL, "(null): no path given");
    if (opt.size < 1 || opt.size > MAX_SIZE)
        return vb_error_set(err, VB_EINVAL, "%s: output size %d outside 1..%d", path, opt.size, MAX_SIZE);
    if ((unsigned)opt.resize > VB_RESIZE_ASPECT)
        return vb_error_set(err, VB_EINVAL, "%s: unknown resize mode %d", path, (int)opt.resize);
    if (opt.num_frames < 0 || opt.num_frames > opt.max_frames || opt.min_frames < 0 || opt.target_fps < 0)
        return vb_error_set(err, VB_EINVAL, "%s: invalid frame count options", path);

    const int64_t start_us = av_gettime_relative();
    pass_result result;
    memset(&result, 0, sizeof result);
    int damaged = 0;
    int rc = decode_passes(path, &opt, start_us, clip, &result, &damaged, err);
    if ((rc == VB_OK || rc == VB_EDECODE) && damaged && opt.threads != 1) {
        /* Frame threads conceal damaged slices with whatever neighbouring frames are ready
         * at that moment, so a damaged stream decodes differently from run to run (and a
         * selection would not equal the full decode). One thread is deterministic: such a
         * stream is decoded again with it, whatever frames were asked for. */
        vb_frames_free(clip);
        opt.threads = 1;
        opt.max_seconds -= (av_gettime_relative() - start_us) / 1e6; /* one budget for both */
        if (opt.max_seconds <= 0)
            return vb_error_set(err, VB_ELIMIT, "%s: decoding exceeded its time limit", path);
        damaged = 0;
        rc = decode_passes(path, &opt, av_gettime_relative(), clip, &result, &damaged, err);
    }
    if (rc) {
        vb_frames_free(clip);
        return rc;
    }
    return finish_clip(path, &opt, &result, clip, err);
}
