/* Internals of the video ingest shared by decode.c, probe.c, transform.c and resize.c:
 * the OpenCV-exact bilinear resize, the frame transforms and the streaming decoder. */
#ifndef VB_VIDEO_INTERNAL_H
#define VB_VIDEO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vidbench/video.h"

/* ---- resize.c: cv::resize(src, dst, dsize, 0, 0, INTER_LINEAR) on uint8, bit-exact ---- */

/* Precomputed coefficients for one (source size, destination size, channels) triple, so a
 * clip pays for them once. OpenCV's 11-bit fixed point: horizontal pass into int rows,
 * vertical pass with its 16-bit rounding (see resize.c). */
typedef struct resize_plan {
    int src_width, src_height, dst_width, dst_height, channels;
    int area_fast_2x;        /* exact 2x downscale: OpenCV switches to INTER_AREA */
    int *x_offsets;          /* [dst_width*channels] element offset of the left tap */
    int16_t *x_weights;      /* [dst_width*channels*2] */
    int x_interior_end;      /* elements before this use two taps, after it one */
    int *y_offsets;          /* [dst_height] top source row (may be -1) */
    int16_t *y_weights;      /* [dst_height*2] */
    int32_t *rows;           /* [2][dst_width*channels] horizontal-pass rows */
    int cached_row[2];       /* source row held in rows[k], -1 if none */
    int reverse_channels;    /* write channel c from source channel channels-1-c (BGR->RGB) */
    int simd;                /* use the SIMD passes below (cleared by tests to run plain C) */
    /* AVX-512 VBMI horizontal pass: groups of 16 output elements, each group's taps inside
     * one 64-byte window of the source row, so one masked load, one byte permute and one
     * multiply-add give 16 sums. It covers the first wide_elements (whole groups, whole
     * pixels; 0 without VBMI or where a group's taps span more than 64 bytes). */
    int wide_elements;
    int *wide_window;        /* [groups] byte offset of each group's window in the row */
    uint8_t *wide_index;     /* [groups][64] window byte of each 16-bit tap (even bytes) */
    int16_t *wide_weights;   /* [groups][32] w0 w1 per element */
    /* SSSE3 horizontal pass for 3 channels: one 8-byte load, shuffle and multiply-add per
     * pixel, up to the first simd_pixels output pixels (whose load stays inside the row) */
    int simd_pixels;
    int *pixel_offsets;      /* [dst_width] byte offset of the left source pixel */
    int16_t *pixel_weights;  /* [dst_width][8] w0 w1 w0 w1 w0 w1 0 0 */
} resize_plan;

int resize_plan_init(resize_plan *plan, int src_width, int src_height, int dst_width,
                        int dst_height, int channels);
void resize_plan_free(resize_plan *plan);
/* Makes the plan write its channels in reverse order: cv::resize then [:, :, ::-1] in one
 * pass (the arithmetic is per channel, so the values are the same). */
void resize_plan_reverse_channels(resize_plan *plan);
/* src: (src_height, src_width, channels) rows src_stride bytes apart;
 * dst: (dst_height, dst_width, channels) rows dst_stride bytes apart. */
void resize_run(resize_plan *plan, const uint8_t *src, size_t src_stride, uint8_t *dst,
                   size_t dst_stride);
/* One output row of the vertical pass: the AVX2/SSE2 kernels and the plain reference they are
 * tested against (tests/unit/test_video_resize.c). */
void resize_vertical(const int32_t *row0, const int32_t *row1, int16_t b0, int16_t b1, int elements,
                        uint8_t *dst);
void resize_vertical_reference(const int32_t *row0, const int32_t *row1, int16_t b0, int16_t b1,
                                  int elements, uint8_t *dst);

/* ---- transform.c: one decoded BGR24 frame -> S x S RGB, the way the seed does it ---- */

typedef struct frame_transform {
    vb_resize_mode mode;
    int size;
    int in_width, in_height;          /* the frame after rotation */
    int region_x, region_y, region_width, region_height; /* part of the frame resized */
    int resized_width, resized_height;
    int crop_x, crop_y;               /* shortside: crop of the resized frame */
    resize_plan plan;
    uint8_t *scratch;                 /* pad: padded square; shortside: resized frame */
    char limit_reason[256];           /* why init returned VB_ELIMIT */
} frame_transform;

/* VB_ELIMIT (with limit_reason) when the frame's shape makes the mode's intermediate image too
 * large, VB_ENOMEM, VB_EINVAL for a bad size or mode. */
int frame_transform_init(frame_transform *transform, vb_resize_mode mode, int size,
                            int in_width, int in_height);
void frame_transform_free(frame_transform *transform);
/* Size of what the transform writes: S x S, or the aspect-kept size for VB_RESIZE_ASPECT. */
void frame_transform_output_size(const frame_transform *transform, int *width, int *height);
/* bgr: (in_height, in_width, 3) rows stride bytes apart; out: the output size x 3 RGB, contiguous. */
void frame_transform_run(frame_transform *transform, const uint8_t *bgr, size_t stride,
                            uint8_t *out);

/* cv::rotate of a BGR24 image by 90/180/270 degrees clockwise into dst (contiguous). */
void rotate_bgr(const uint8_t *src, int width, int height, size_t stride, int degrees,
                   uint8_t *dst);

/* ---- resample.c ---- */

/* Indices of the frames kept to approach target_fps from a stream at source_fps:
 * frame nearest to k / target_fps for k = 0, 1, ...; all frames when target_fps <= 0,
 * source_fps unknown or target_fps >= source_fps. Fills kept[0..*kept_count) (kept has
 * room for count entries). */
void select_fps(int count, double source_fps, double target_fps, int *kept, int *kept_count);

/* ---- h264_nal.c: which H.264 access units no other picture depends on ---- */

/* The NAL length-prefix size (1, 2 or 4) of an avcC decoder configuration record; 0 when
 * extradata is not one (Annex B streams, other codecs, malformed records). */
int h264_avcc_length_size(const uint8_t *extradata, size_t size);
/* 1 when the length-prefixed packet holds only non-reference slices (nal_ref_idc 0), plus
 * access unit delimiters or filler: dropping it changes no other decoded picture. 0 for
 * anything else, including parameter sets, SEI and malformed length prefixes. */
int h264_packet_disposable(const uint8_t *data, size_t size, int length_size);

/* ---- npy.c: uint8 -> float32 in [0, 1] as the seed computes it ---- */

/* The plain table vb_u8_to_float32 (video.h, SSE2) is tested against. */
void u8_to_float32_reference(const uint8_t *in, size_t n, float *out);

#endif
