/* Frame transforms from a decoded BGR24 frame to the RGB tensor: the seed's center square crop,
 * zero padding, DeepMind's short side 256 + center crop, a plain stretch (all S x S), and the
 * short side to S with the aspect kept (three-crop testing), all resized with the OpenCV-exact
 * bilinear of resize.c. Also cv::rotate for display
 * rotation. */
#include "video/video_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SHORTSIDE_TARGET = 256 };
enum { MAX_SHORTSIDE_LONG_SIDE = 65536 }; /* the resized frame before its center crop */
enum { MAX_PAD_PIXELS = 1 << 26 };   /* the padded square, like the decoder's frame limit */

static const char *const mode_names[] = {"crop", "pad", "shortside", "stretch", "aspect"};

int vb_resize_mode_parse(const char *name, vb_resize_mode *mode)
{
    for (int i = 0; name && i < (int)(sizeof mode_names / sizeof mode_names[0]); i++)
        if (!strcmp(name, mode_names[i])) {
            *mode = (vb_resize_mode)i;
            return VB_OK;
        }
    return VB_EINVAL;
}

const char *vb_resize_mode_name(vb_resize_mode mode)
{
    return (unsigned)mode < sizeof mode_names / sizeof mode_names[0] ? mode_names[mode] : "?";
}

/* The whole frame resized so its short side is `target` and its long side round(long * target /
 * short) (shortside and aspect); VB_ELIMIT with the reason when the long side gets too long. */
static int scale_short_side(frame_transform *t, int target, int min_dim, int max_dim)
{
    long long long_side = ((long long)max_dim * target + min_dim / 2) / min_dim;
    if (long_side > MAX_SHORTSIDE_LONG_SIDE) {
        snprintf(t->limit_reason, sizeof t->limit_reason,
                 "scaling the short side to %d makes the long side %lld pixels, over the %d limit; "
                 "the frame is too narrow for this resize", target, long_side, MAX_SHORTSIDE_LONG_SIDE);
        return VB_ELIMIT;
    }
    t->region_width = t->in_width;
    t->region_height = t->in_height;
    t->resized_width = t->in_width <= t->in_height ? target : (int)long_side;
    t->resized_height = t->in_width <= t->in_height ? (int)long_side : target;
    return 0;
}

int frame_transform_init(frame_transform *t, vb_resize_mode mode, int size, int in_width,
                            int in_height)
{
    memset(t, 0, sizeof *t);
    if (size <= 0 || in_width <= 0 || in_height <= 0)
        return VB_EINVAL;
    t->mode = mode;
    t->size = size;
    t->in_width = in_width;
    t->in_height = in_height;
    int min_dim = in_width < in_height ? in_width : in_height;
    int max_dim = in_width > in_height ? in_width : in_height;
    t->resized_width = t->resized_height = size;
    switch (mode) {
    case VB_RESIZE_CROP: /* crop_center_square: start = dim//2 - min//2 */
        t->region_x = in_width / 2 - min_dim / 2;
        t->region_y = in_height / 2 - min_dim / 2;
        t->region_width = t->region_height = min_dim;
        break;
    case VB_RESIZE_PAD: /* the frame centered on a black max x max square */
        /* a 65536 x 1024 frame is within the decoder's pixel limit, its square is not */
        if ((long long)max_dim * max_dim > MAX_PAD_PIXELS) {
            snprintf(t->limit_reason, sizeof t->limit_reason,
                     "the padded %dx%d square would exceed 8192x8192 pixels", max_dim, max_dim);
            return VB_ELIMIT;
        }
        t->region_width = t->region_height = max_dim;
        t->scratch = calloc((size_t)max_dim * max_dim, 3);
        if (!t->scratch)
            return VB_ENOMEM;
        break;
    case VB_RESIZE_STRETCH:
        t->region_width = in_width;
        t->region_height = in_height;
        break;
    case VB_RESIZE_SHORTSIDE: {
        /* short side to 256 (or S if larger), long side scaled to the nearest integer */
        int target = size > SHORTSIDE_TARGET ? size : SHORTSIDE_TARGET;
        if (scale_short_side(t, target, min_dim, max_dim))
            return VB_ELIMIT;
        t->crop_x = (t->resized_width - size) / 2;
        t->crop_y = (t->resized_height - size) / 2;
        t->scratch = malloc((size_t)t->resized_width * t->resized_height * 3);
        if (!t->scratch)
            return VB_ENOMEM;
        break;
    }
    case VB_RESIZE_ASPECT: {
        if (scale_short_side(t, size, min_dim, max_dim))
            return VB_ELIMIT;
        break;
    }
    default:
        return VB_EINVAL;
    }
    int rc = resize_plan_init(&t->plan, t->region_width, t->region_height, t->resized_width,
                                 t->resized_height, 3);
    if (rc) {
        frame_transform_free(t);
        return rc;
    }
    resize_plan_reverse_channels(&t->plan); /* the seed's frame[:, :, [2, 1, 0]] */
    return VB_OK;
}

void frame_transform_free(frame_transform *t)
{
    if (!t)
        return;
    resize_plan_free(&t->plan);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

void frame_transform_output_size(const frame_transform *t, int *width, int *height)
{
    const int aspect = t->mode == VB_RESIZE_ASPECT;
    *width = aspect ? t->resized_width : t->size;
    *height = aspect ? t->resized_height : t->size;
}

void frame_transform_run(frame_transform *t, const uint8_t *bgr, size_t stride, uint8_t *out)
{
    int out_width, out_height;
    frame_transform_output_size(t, &out_width, &out_height);
    const size_t out_stride = (size_t)out_width * 3;
    switch (t->mode) {
    case VB_RESIZE_CROP:
    case VB_RESIZE_STRETCH:
    case VB_RESIZE_ASPECT:
        resize_run(&t->plan, bgr + (size_t)t->region_y * stride + (size_t)t->region_x * 3, stride,
                      out, out_stride);
        break;
    case VB_RESIZE_PAD: {
        int side = t->region_width;
        int x0 = (side - t->in_width) / 2, y0 = (side - t->in_height) / 2;
        size_t side_stride = (size_t)side * 3;
        for (int y = 0; y < t->in_height; y++)
            memcpy(t->scratch + (size_t)(y0 + y) * side_stride + (size_t)x0 * 3,
                   bgr + (size_t)y * stride, (size_t)t->in_width * 3);
        resize_run(&t->plan, t->scratch, side_stride, out, out_stride);
        break;
    }
    case VB_RESIZE_SHORTSIDE: {
        size_t resized_stride = (size_t)t->resized_width * 3;
        resize_run(&t->plan, bgr, stride, t->scratch, resized_stride);
        for (int y = 0; y < t->size; y++)
            memcpy(out + (size_t)y * out_stride,
                   t->scratch + (size_t)(t->crop_y + y) * resized_stride + (size_t)t->crop_x * 3,
                   out_stride);
        break;
    }
    }
}

void rotate_bgr(const uint8_t *src, int width, int height, size_t stride, int degrees, uint8_t *dst)
{
    /* dst is (height x width) for 90/270, (width x height) for 180. */
    if (degrees == 180) {
        for (int y = 0; y < height; y++) {
            const uint8_t *s = src + (size_t)y * stride;
            uint8_t *d = dst + (size_t)(height - 1 - y) * width * 3;
            for (int x = 0; x < width; x++)
                memcpy(d + (size_t)(width - 1 - x) * 3, s + (size_t)x * 3, 3);
        }
    } else if (degrees == 90) { /* clockwise: dst(r, c) = src(height-1-c, r) */
        for (int y = 0; y < height; y++) {
            const uint8_t *s = src + (size_t)y * stride;
            int c = height - 1 - y;
            for (int x = 0; x < width; x++)
                memcpy(dst + ((size_t)x * height + c) * 3, s + (size_t)x * 3, 3);
        }
    } else if (degrees == 270) { /* counter-clockwise: dst(r, c) = src(c, width-1-r) */
        for (int y = 0; y < height; y++) {
            const uint8_t *s = src + (size_t)y * stride;
            for (int x = 0; x < width; x++)
                memcpy(dst + ((size_t)(width - 1 - x) * height + y) * 3, s + (size_t)x * 3, 3);
        }
    } else {
        for (int y = 0; y < height; y++)
            memcpy(dst + (size_t)y * width * 3, src + (size_t)y * stride, (size_t)width * 3);
    }
}
