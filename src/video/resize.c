/* Bilinear resize of uint8 images, bit-exact with OpenCV 4.6 cv::resize(INTER_LINEAR) as
 * built for x86-64: 11-bit weights, an integer horizontal pass, and the vertical pass's
 * 16-bit high-half products with (sum + 2) >> 2 rounding. Exact 2x downscales switch to
 * OpenCV's INTER_AREA fast path, as cv::resize does. Plain C passes are the reference; the
 * SSE2/AVX2 vertical and the AVX-512 VBMI and SSSE3 horizontal passes do the same integer
 * arithmetic. */
#include "video/video_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_SSSE3_PASS 1
#define HAVE_WIDE_PASS 1
#endif

enum { COEF_BITS = 11, COEF_SCALE = 1 << COEF_BITS };

#ifdef HAVE_WIDE_PASS
enum { WIDE_GROUP = 16 };

static int greatest_common_divisor(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* (Re)builds the wide pass's windows, permute indices and weights from x_offsets and
 * x_weights (reverse_channels swaps the offsets), and sets wide_elements. Element e takes
 * its left tap from x_offsets[e] and, inside the row, its right tap from x_offsets[e] +
 * channels; past x_interior_end OpenCV takes S[ofs] * 2048, which is the pair (S[ofs], 0)
 * with weights (2048, 0). */
static void fill_wide_pass(resize_plan *plan)
{
    const int cn = plan->channels, elements = plan->dst_width * cn;
    /* whole groups ending on a pixel boundary, so the narrower passes resume at a pixel */
    const int step = WIDE_GROUP / greatest_common_divisor(WIDE_GROUP, cn) * cn;
    int covered = 0;
    for (int g = 0; (g + 1) * WIDE_GROUP <= elements; g++) {
        int window = INT32_MAX, last = 0;
        for (int j = 0; j < WIDE_GROUP; j++) {
            int e = g * WIDE_GROUP + j, left = plan->x_offsets[e];
            int right = e < plan->x_interior_end ? left + cn : left;
            window = left < window ? left : window;
            last = right > last ? right : last;
        }
        if (last - window >= 64)
            break; /* taps too far apart (a strong downscale): the narrower passes do the rest */
        plan->wide_window[g] = window;
        uint8_t *index = plan->wide_index + (size_t)g * 64;
        int16_t *weights = plan->wide_weights + (size_t)g * 2 * WIDE_GROUP;
        memset(index, 0, 64);
        for (int j = 0; j < WIDE_GROUP; j++) {
            int e = g * WIDE_GROUP + j, left = plan->x_offsets[e];
            int interior = e < plan->x_interior_end;
            index[4 * j] = (uint8_t)(left - window);
            index[4 * j + 2] = (uint8_t)((interior ? left + cn : left) - window);
            weights[2 * j] = interior ? plan->x_weights[2 * e] : COEF_SCALE;
            weights[2 * j + 1] = interior ? plan->x_weights[2 * e + 1] : 0;
        }
        if ((g + 1) * WIDE_GROUP % step == 0)
            covered = (g + 1) * WIDE_GROUP;
    }
    plan->wide_elements = covered;
}
#endif

/* saturate_cast<short>(float): round half to even, then clamp. */
static int16_t round_weight(float value)
{
    long v = lrintf(value * COEF_SCALE);
    if (v > INT16_MAX)
        v = INT16_MAX;
    if (v < INT16_MIN)
        v = INT16_MIN;
    return (int16_t)v;
}

int resize_plan_init(resize_plan *plan, int src_width, int src_height, int dst_width,
                        int dst_height, int channels)
{
    memset(plan, 0, sizeof *plan);
    if (src_width <= 0 || src_height <= 0 || dst_width <= 0 || dst_height <= 0 || channels <= 0)
        return VB_EINVAL;
    plan->src_width = src_width;
    plan->src_height = src_height;
    plan->dst_width = dst_width;
    plan->dst_height = dst_height;
    plan->channels = channels;
    plan->cached_row[0] = plan->cached_row[1] = -1;

    /* cv::resize computes the inverse scale first and the scale as its reciprocal; the
     * last bit of scale matters for the float coordinates below. */
    double inv_scale_x = (double)dst_width / src_width;
    double inv_scale_y = (double)dst_height / src_height;
    double scale_x = 1. / inv_scale_x, scale_y = 1. / inv_scale_y;
    int iscale_x = (int)lrint(scale_x), iscale_y = (int)lrint(scale_y);
    int area_fast = fabs(scale_x - iscale_x) < DBL_EPSILON && fabs(scale_y - iscale_y) < DBL_EPSILON;
    if (area_fast && iscale_x == 2 && iscale_y == 2) {
        plan->area_fast_2x = 1;
        return VB_OK;
    }

    size_t row_elements = (size_t)dst_width * channels;
    plan->x_offsets = malloc(row_elements * sizeof *plan->x_offsets);
    plan->x_weights = malloc(row_elements * 2 * sizeof *plan->x_weights);
    plan->y_offsets = malloc((size_t)dst_height * sizeof *plan->y_offsets);
    plan->y_weights = malloc((size_t)dst_height * 2 * sizeof *plan->y_weights);
    plan->rows = malloc(row_elements * 2 * sizeof *plan->rows);
    if (!plan->x_offsets || !plan->x_weights || !plan->y_offsets || !plan->y_weights || !plan->rows) {
        resize_plan_free(plan);
        return VB_ENOMEM;
    }

    int x_interior_end = dst_width;
    for (int dx = 0; dx < dst_width; dx++) {
        float fx = (float)((dx + 0.5) * scale_x - 0.5);
        int sx = (int)floorf(fx);
        fx -= (float)sx;
        if (sx < 0) {
            fx = 0.f;
            sx = 0;
        }
        if (sx + 1 >= src_width) {
            if (dx < x_interior_end)
                x_interior_end = dx;
            if (sx >= src_width - 1) {
                fx = 0.f;
                sx = src_width - 1;
            }
        }
        int16_t w0 = round_weight(1.f - fx), w1 = round_weight(fx);
        for (int c = 0; c < channels; c++) {
            size_t e = (size_t)dx * channels + c;
            plan->x_offsets[e] = sx * channels + c;
            plan->x_weights[2 * e] = w0;
            plan->x_weights[2 * e + 1] = w1;
        }
    }
    plan->x_interior_end = x_interior_end * channels;

#ifdef HAVE_WIDE_PASS
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) {
        int groups = (int)(row_elements / WIDE_GROUP);
        plan->wide_window = malloc(((size_t)groups + 1) * sizeof *plan->wide_window);
        plan->wide_index = malloc(((size_t)groups + 1) * 64);
        plan->wide_weights = malloc(((size_t)groups + 1) * 2 * WIDE_GROUP * sizeof *plan->wide_weights);
        if (!plan->wide_window || !plan->wide_index || !plan->wide_weights) {
            resize_plan_free(plan);
            return VB_ENOMEM;
        }
        fill_wide_pass(plan);
        plan->simd = 1;
    }
#endif
#ifdef HAVE_SSSE3_PASS
    if (channels == 3 && __builtin_cpu_supports("ssse3")) {
        plan->pixel_offsets = malloc((size_t)dst_width * sizeof *plan->pixel_offsets);
        plan->pixel_weights = malloc((size_t)dst_width * 8 * sizeof *plan->pixel_weights);
        if (!plan->pixel_offsets || !plan->pixel_weights) {
            resize_plan_free(plan);
            return VB_ENOMEM;
        }
        int dx = 0;
        /* the 8-byte load of pixel sx reads up to byte 3*sx + 7: inside the row while
         * sx + 3 <= src_width */
        for (; dx < x_interior_end && plan->x_offsets[3 * dx] / 3 + 3 <= src_width; dx++) {
            plan->pixel_offsets[dx] = plan->x_offsets[3 * dx];
            for (int k = 0; k < 3; k++) {
                plan->pixel_weights[8 * dx + 2 * k] = plan->x_weights[6 * dx];
                plan->pixel_weights[8 * dx + 2 * k + 1] = plan->x_weights[6 * dx + 1];
            }
            plan->pixel_weights[8 * dx + 6] = plan->pixel_weights[8 * dx + 7] = 0;
        }
        plan->simd_pixels = dx;
        plan->simd = 1;
    }
#endif

    for (int dy = 0; dy < dst_height; dy++) {
        float fy = (float)((dy + 0.5) * scale_y - 0.5);
        int sy = (int)floorf(fy);
        fy -= (float)sy;
        plan->y_offsets[dy] = sy;
        plan->y_weights[2 * dy] = round_weight(1.f - fy);
        plan->y_weights[2 * dy + 1] = round_weight(fy);
    }
    return VB_OK;
}

void resize_plan_free(resize_plan *plan)
{
    if (!plan)
        return;
    free(plan->x_offsets);
    free(plan->x_weights);
    free(plan->y_offsets);
    free(plan->y_weights);
    free(plan->rows);
    free(plan->pixel_offsets);
    free(plan->pixel_weights);
    free(plan->wide_window);
    free(plan->wide_index);
    free(plan->wide_weights);
    memset(plan, 0, sizeof *plan);
}

void resize_plan_reverse_channels(resize_plan *plan)
{
    const int cn = plan->channels;
    plan->reverse_channels = !plan->reverse_channels;
    if (!plan->x_offsets)
        return; /* the 2x area path reads the flag */
    /* element (dx, c) takes the source channel cn-1-c; weights are the same per pixel */
    for (int dx = 0; dx < plan->dst_width; dx++)
        for (int c = 0; c < cn / 2; c++) {
            int *a = &plan->x_offsets[dx * cn + c], *b = &plan->x_offsets[dx * cn + cn - 1 - c];
            int t = *a;
            *a = *b;
            *b = t;
        }
#ifdef HAVE_WIDE_PASS
    if (plan->wide_window)
        fill_wide_pass(plan);
#endif
}

#ifdef HAVE_SSSE3_PASS
/* The sums of horizontal_pass (below) for the first simd_pixels pixels of a 3-channel row:
 * the two source pixels as zero-extended 16-bit (left, right) pairs per channel, times
 * (w0, w1) pairwise with pmaddwd -- exact, as the products and sums fit in 32 bits. */
__attribute__((target("ssse3"))) static int horizontal_pass_ssse3(const resize_plan *plan,
                                                                   const uint8_t *src_row, int first_pixel,
                                                                   int32_t *out)
{
    const __m128i pairs_bgr = _mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
    const __m128i pairs_rgb = _mm_setr_epi8(2, -1, 5, -1, 1, -1, 4, -1, 0, -1, 3, -1, -1, -1, -1, -1);
    const __m128i pairs = plan->reverse_channels ? pairs_rgb : pairs_bgr;
    const int *ofs = plan->pixel_offsets;
    const int16_t *w = plan->pixel_weights;
    int dx = first_pixel;
    for (; dx < plan->simd_pixels; dx++) {
        /* reverse_channels swapped x_offsets but pixel_offsets stay the left pixel's start */
        __m128i two_pixels = _mm_loadl_epi64((const __m128i *)(src_row + ofs[dx]));
        __m128i sums = _mm_madd_epi16(_mm_shuffle_epi8(two_pixels, pairs),
                                      _mm_loadu_si128((const __m128i *)(w + 8 * dx)));
        _mm_storel_epi64((__m128i *)(out + 3 * dx), sums);
        out[3 * dx + 2] = _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    }
    return dx * 3;
}
#endif

#ifdef HAVE_WIDE_PASS
/* The sums of horizontal_pass for the first wide_elements elements, 16 per step: the
 * masked load reads no byte past the row's end (masked-off bytes are never touched), the
 * permute puts each tap in the low byte of a 16-bit lane with a zero high byte, and
 * pmaddwd adds left * w0 + right * w1 exactly in 32 bits. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int
horizontal_pass_wide(const resize_plan *plan, const uint8_t *src_row, int32_t *out)
{
    const int row_bytes = plan->src_width * plan->channels;
    const __mmask64 low_bytes = 0x5555555555555555ull;
    const int groups = plan->wide_elements / WIDE_GROUP;
    for (int g = 0; g < groups; g++) {
        int window = plan->wide_window[g], available = row_bytes - window;
        __mmask64 inside = available >= 64 ? ~0ull : (1ull << available) - 1;
        __m512i bytes = _mm512_maskz_loadu_epi8(inside, src_row + window);
        __m512i taps = _mm512_maskz_permutexvar_epi8(low_bytes,
                                                     _mm512_loadu_si512(plan->wide_index + (size_t)g * 64), bytes);
        __m512i weights = _mm512_loadu_si512(plan->wide_weights + (size_t)g * 2 * WIDE_GROUP);
        _mm512_storeu_si512(out + g * WIDE_GROUP, _mm512_madd_epi16(taps, weights));
    }
    return plan->wide_elements;
}
#endif

/* HResizeLinear: out[e] = S[ofs]*w0 + S[ofs+cn]*w1 inside, S[ofs]*2048 at the right edge.
 * Exact integer arithmetic, so any evaluation order gives OpenCV's values. */
static void horizontal_pass(const resize_plan *plan, const uint8_t *src_row, int32_t *out)
{
    const int cn = plan->channels;
    const int elements = plan->dst_width * cn;
    const int *ofs = plan->x_offsets;
    const int16_t *w = plan->x_weights;
    int e = 0;
#ifdef HAVE_WIDE_PASS
    if (plan->simd && plan->wide_elements)
        e = horizontal_pass_wide(plan, src_row, out);
#endif
#ifdef HAVE_SSSE3_PASS
    if (plan->simd && e / cn < plan->simd_pixels) /* simd_pixels is 0 unless 3 channels */
        e = horizontal_pass_ssse3(plan, src_row, e / cn, out);
#endif
    if (cn == 3) { /* the common case: one offset and weight pair per pixel */
        for (; e + 3 <= plan->x_interior_end; e += 3) {
            const uint8_t *s0 = src_row + ofs[e], *s1 = src_row + ofs[e + 1], *s2 = src_row + ofs[e + 2];
            int32_t w0 = w[2 * e], w1 = w[2 * e + 1];
            out[e] = s0[0] * w0 + s0[3] * w1;
            out[e + 1] = s1[0] * w0 + s1[3] * w1;
            out[e + 2] = s2[0] * w0 + s2[3] * w1;
        }
    }
    for (; e < plan->x_interior_end; e++)
        out[e] = src_row[ofs[e]] * w[2 * e] + src_row[ofs[e] + cn] * w[2 * e + 1];
    for (; e < elements; e++)
        out[e] = src_row[ofs[e]] * COEF_SCALE;
}


static inline uint8_t saturate_uint8(int32_t v)
{
    return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v);
}

/* VResizeLinear<uchar, int, short, ...> (a specialization in OpenCV): both its SIMD body
 * and its scalar tail take (row >> 4) * weight >> 16 per row and round the sum by
 * (sum + 2) >> 2 -- not the exact (a*b0 + b*b1 + 2^21) >> 22, which differs by 1 at times.
 * This is the plain reference; resize_vertical below runs the same arithmetic with SSE2. */
void resize_vertical_reference(const int32_t *row0, const int32_t *row1, int16_t b0, int16_t b1,
                                  int elements, uint8_t *dst)
{
    for (int x = 0; x < elements; x++) {
        int32_t sum = ((b0 * (row0[x] >> 4)) >> 16) + ((b1 * (row1[x] >> 4)) >> 16);
        dst[x] = saturate_uint8((sum + 2) >> 2);
    }
}

#ifdef HAVE_WIDE_PASS
/* The SSE2 kernel below on 32 elements per step. The 256-bit packs work per 128-bit lane,
 * so after the two packs a lane holds elements 0-3, 8-11, 16-19, 24-27 (or the +4 set) as
 * 4-byte groups; one cross-lane dword permute puts them back in order. */
__attribute__((target("avx2"))) static int vertical_avx2(const int32_t *row0, const int32_t *row1, int16_t b0,
                                                         int16_t b1, int elements, uint8_t *dst)
{
    const __m256i w0 = _mm256_set1_epi16(b0), w1 = _mm256_set1_epi16(b1), two = _mm256_set1_epi16(2);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int x = 0;
#define ROW_SHIFTED(row, at) _mm256_srai_epi32(_mm256_loadu_si256((const __m256i *)((row) + (at))), 4)
    for (; x + 32 <= elements; x += 32) {
        __m256i a_lo = _mm256_packs_epi32(ROW_SHIFTED(row0, x), ROW_SHIFTED(row0, x + 8));
        __m256i a_hi = _mm256_packs_epi32(ROW_SHIFTED(row0, x + 16), ROW_SHIFTED(row0, x + 24));
        __m256i b_lo = _mm256_packs_epi32(ROW_SHIFTED(row1, x), ROW_SHIFTED(row1, x + 8));
        __m256i b_hi = _mm256_packs_epi32(ROW_SHIFTED(row1, x + 16), ROW_SHIFTED(row1, x + 24));
        __m256i lo = _mm256_add_epi16(_mm256_mulhi_epi16(a_lo, w0), _mm256_mulhi_epi16(b_lo, w1));
        __m256i hi = _mm256_add_epi16(_mm256_mulhi_epi16(a_hi, w0), _mm256_mulhi_epi16(b_hi, w1));
        lo = _mm256_srai_epi16(_mm256_add_epi16(lo, two), 2);
        hi = _mm256_srai_epi16(_mm256_add_epi16(hi, two), 2);
        __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(lo, hi), order);
        _mm256_storeu_si256((__m256i *)(dst + x), bytes);
    }
#undef ROW_SHIFTED
    return x;
}
#endif

void resize_vertical(const int32_t *row0, const int32_t *row1, int16_t b0, int16_t b1, int elements,
                        uint8_t *dst)
{
    int x = 0;
#ifdef HAVE_WIDE_PASS
    if (__builtin_cpu_supports("avx2"))
        x = vertical_avx2(row0, row1, b0, b1, elements, dst);
#endif
#ifdef __SSE2__
    /* OpenCV's own kernel: pack (row >> 4) to int16 with saturation, mulhi, add, (v+2)>>2,
     * pack to uint8 with saturation. */
    const __m128i w0 = _mm_set1_epi16(b0), w1 = _mm_set1_epi16(b1), two = _mm_set1_epi16(2);
    for (; x + 16 <= elements; x += 16) {
        __m128i a_lo = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row0 + x)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row0 + x + 4)), 4));
        __m128i a_hi = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row0 + x + 8)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row0 + x + 12)), 4));
        __m128i b_lo = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row1 + x)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row1 + x + 4)), 4));
        __m128i b_hi = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row1 + x + 8)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(row1 + x + 12)), 4));
        __m128i lo = _mm_add_epi16(_mm_mulhi_epi16(a_lo, w0), _mm_mulhi_epi16(b_lo, w1));
        __m128i hi = _mm_add_epi16(_mm_mulhi_epi16(a_hi, w0), _mm_mulhi_epi16(b_hi, w1));
        lo = _mm_srai_epi16(_mm_add_epi16(lo, two), 2);
        hi = _mm_srai_epi16(_mm_add_epi16(hi, two), 2);
        _mm_storeu_si128((__m128i *)(dst + x), _mm_packus_epi16(lo, hi));
    }
#endif
    if (x < elements)
        resize_vertical_reference(row0 + x, row1 + x, b0, b1, elements - x, dst + x);
}

/* resizeAreaFast_ for an exact 2x reduction: the mean of each 2x2 block, rounded half up. */
static void area_fast_2x(const resize_plan *plan, const uint8_t *src, size_t src_stride,
                         uint8_t *dst, size_t dst_stride)
{
    const int cn = plan->channels;
    for (int dy = 0; dy < plan->dst_height; dy++) {
        const uint8_t *s0 = src + (size_t)(2 * dy) * src_stride;
        const uint8_t *s1 = s0 + src_stride;
        uint8_t *d = dst + (size_t)dy * dst_stride;
        for (int dx = 0; dx < plan->dst_width; dx++)
            for (int c = 0; c < cn; c++) {
                int i = 2 * dx * cn + (plan->reverse_channels ? cn - 1 - c : c);
                d[dx * cn + c] = (uint8_t)((s0[i] + s0[i + cn] + s1[i] + s1[i + cn] + 2) >> 2);
            }
    }
}

static int clamp_row(const resize_plan *plan, int sy)
{
    return sy < 0 ? 0 : sy >= plan->src_height ? plan->src_height - 1 : sy;
}

/* The horizontal pass of source row sy, computed once per image and kept while the next
 * output row still needs it; `keep` is the other row the current output row needs. */
static const int32_t *source_row(resize_plan *plan, const uint8_t *src, size_t src_stride, int sy,
                                 int keep)
{
    size_t elements = (size_t)plan->dst_width * plan->channels;
    for (int k = 0; k < 2; k++)
        if (plan->cached_row[k] == sy)
            return plan->rows + k * elements;
    int slot = plan->cached_row[0] == keep ? 1 : 0;
    horizontal_pass(plan, src + (size_t)sy * src_stride, plan->rows + slot * elements);
    plan->cached_row[slot] = sy;
    return plan->rows + slot * elements;
}

void resize_run(resize_plan *plan, const uint8_t *src, size_t src_stride, uint8_t *dst,
                   size_t dst_stride)
{
    if (plan->area_fast_2x) {
        area_fast_2x(plan, src, src_stride, dst, dst_stride);
        return;
    }
    const int elements = plan->dst_width * plan->channels;
    plan->cached_row[0] = plan->cached_row[1] = -1; /* a new image */
    for (int dy = 0; dy < plan->dst_height; dy++) {
        int sy0 = clamp_row(plan, plan->y_offsets[dy]), sy1 = clamp_row(plan, plan->y_offsets[dy] + 1);
        const int32_t *row0 = source_row(plan, src, src_stride, sy0, sy1);
        const int32_t *row1 = source_row(plan, src, src_stride, sy1, sy0);
        resize_vertical(row0, row1, plan->y_weights[2 * dy], plan->y_weights[2 * dy + 1], elements,
                      dst + (size_t)dy * dst_stride);
    }
}
