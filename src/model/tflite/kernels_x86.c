/* Vector int8 kernels for x86-64: AVX2 (vpmaddwd on int16 operands) and AVX-512 VNNI
 * (vpdpbusd on uint8 x int8, the input shifted by 128 and the shift folded into the bias),
 * chosen at run time. Every result equals the plain C kernels' bit for bit: the integer sums
 * are exact and the requantization reproduces gemmlowp's rounding lane by lane. */
#include "kernels.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TFL_X86 1
#else
#define TFL_X86 0
#endif

#define CHUNK_PIXELS 64   /* im2col rows built at a time: stays in L1/L2 */

int tfl_cpu_level(void)
{
#if TFL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return 2;
    if (__builtin_cpu_supports("avx2"))
        return 1;
#endif
    return 0;
}

void tfl_packed_conv_free(tfl_packed_conv *packed)
{
    free(packed->weights);
    free(packed->bias_adjusted);
    free(packed->multiplier);
    free(packed->left_shift);
    free(packed->right_shift);
    memset(packed, 0, sizeof *packed);
}

int tfl_pack_conv(const tfl_conv_params *p, int level, tfl_packed_conv *packed)
{
    memset(packed, 0, sizeof *packed);
    const int k = p->k_h * p->k_w * p->in_c;
    const int block = level == 2 ? 32 : 16;
    packed->level = level;
    packed->k_padded = (k + 3) / 4 * 4;
    packed->n_padded = (p->out_c + block - 1) / block * block;
    const size_t kp = (size_t)packed->k_padded, np = (size_t)packed->n_padded;
    const size_t weight_bytes = kp * np * (level == 2 ? 1 : 2);
    packed->weights = aligned_alloc(64, (weight_bytes + 63) / 64 * 64);
    packed->bias_adjusted = calloc(np, sizeof(int32_t));
    packed->multiplier = calloc(np, sizeof(int32_t));
    packed->left_shift = calloc(np, sizeof(int32_t));
    packed->right_shift = calloc(np, sizeof(int32_t));
    if (!packed->weights || !packed->bias_adjusted || !packed->multiplier || !packed->left_shift || !packed->right_shift) {
        tfl_packed_conv_free(packed);
        return -1;
    }
    memset(packed->weights, 0, weight_bytes);
    for (int oc = 0; oc < p->out_c; oc++) {
        const int8_t *w = p->filter + (size_t)oc * k;
        int32_t wsum = 0;
        const size_t nb = (size_t)(oc / block), j = (size_t)(oc % block);
        for (int kk = 0; kk < k; kk++) {
            wsum += w[kk];
            if (level == 2) {
                int8_t *dst = packed->weights;
                dst[((nb * (kp / 4) + (size_t)kk / 4) * 32 + j) * 4 + (size_t)kk % 4] = w[kk];
            } else {
                int16_t *dst = packed->weights;
                dst[((nb * (kp / 2) + (size_t)kk / 2) * 16 + j) * 2 + (size_t)kk % 2] = w[kk];
            }
        }
        const int32_t bias = p->bias ? p->bias[oc] : 0;
        /* sum (x+128) w = sum (x - zp) w + (zp + 128) sum w, zp = -input_offset; wraps like
         * the reference's int32 additions. */
        packed->bias_adjusted[oc] = level == 2
            ? (int32_t)((uint32_t)bias - (uint32_t)(128 - p->input_offset) * (uint32_t)wsum)
            : bias;
        packed->multiplier[oc] = p->multiplier[oc];
        packed->left_shift[oc] = p->shift[oc] > 0 ? p->shift[oc] : 0;
        packed->right_shift[oc] = p->shift[oc] > 0 ? 0 : -p->shift[oc];
    }
    return 0;
}

size_t tfl_conv_scratch_bytes(const tfl_conv_params *p, const tfl_packed_conv *packed, int pixels)
{
    (void)p;
    (void)pixels;
    return (size_t)(CHUNK_PIXELS + 4) * (size_t)packed->k_padded * (packed->level == 2 ? 1 : 2) + 64 * 4;
}

/* im2col of output pixels [first, first+count) into rows of k_padded values: level 2 stores
 * x+128 as uint8 (padding = zero point + 128), level 1 stores x - zp as int16 (padding 0).
 * Rows up to a multiple of 4 are filled so the 4-row tiles read defined values. */
static void build_rows(const tfl_conv_params *p, const tfl_packed_conv *packed, const int8_t *input, int first,
                       int count, void *rows)
{
    const int kp = packed->k_padded;
    const int level = packed->level;
    const int rows_filled = (count + 3) / 4 * 4;
    const uint8_t pad_u8 = (uint8_t)(128 - p->input_offset);
    const int one_by_one = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                           p->pad_top == 0 && p->pad_left == 0;
    for (int r = 0; r < rows_filled; r++) {
        uint8_t *row8 = (uint8_t *)rows + (size_t)r * kp;
        int16_t *row16 = (int16_t *)rows + (size_t)r * kp;
        if (r >= count) {
            if (level == 2)
                memset(row8, 0, (size_t)kp);
            else
                memset(row16, 0, (size_t)kp * 2);
            continue;
        }
        const int pixel = first + r;
        const int b = pixel / (p->out_h * p->out_w), rem = pixel % (p->out_h * p->out_w);
        const int oy = rem / p->out_w, ox = rem % p->out_w;
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        int kk = 0;
        if (one_by_one) {
            const int8_t *src = in_batch + ((size_t)oy * p->in_w + ox) * p->in_c;
            if (level == 2)
                for (int c = 0; c < p->in_c; c++)
                    row8[c] = (uint8_t)(src[c] ^ 0x80);
            else
                for (int c = 0; c < p->in_c; c++)
                    row16[c] = (int16_t)(src[c] + p->input_offset);
            kk = p->in_c;
        } else {
            const int ix0 = ox * p->stride_w - p->pad_left;
            const int row_inside = p->dilation_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
            for (int ky = 0; ky < p->k_h; ky++) {
                const int iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                if (row_inside && iy >= 0 && iy < p->in_h) {
                    /* The whole filter row is inside: one contiguous run of k_w * in_c bytes. */
                    const int8_t *src = in_batch + ((size_t)iy * p->in_w + ix0) * p->in_c;
                    const int run = p->k_w * p->in_c;
                    if (level == 2)
                        for (int j = 0; j < run; j++)
                            row8[kk + j] = (uint8_t)(src[j] ^ 0x80);
                    else
                        for (int j = 0; j < run; j++)
                            row16[kk + j] = (int16_t)(src[j] + p->input_offset);
                    kk += run;
                    continue;
                }
                for (int kx = 0; kx < p->k_w; kx++, kk += p->in_c) {
                    const int ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                    const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                    const int8_t *src = in_batch + ((size_t)(inside ? iy : 0) * p->in_w + (inside ? ix : 0)) * p->in_c;
                    if (level == 2 && inside)
                        for (int c = 0; c < p->in_c; c++)
                            row8[kk + c] = (uint8_t)(src[c] ^ 0x80);
                    else if (level == 2)
                        memset(row8 + kk, pad_u8, (size_t)p->in_c);
                    else if (inside)
                        for (int c = 0; c < p->in_c; c++)
                            row16[kk + c] = (int16_t)(src[c] + p->input_offset);
                    else
                        memset(row16 + kk, 0, (size_t)p->in_c * 2);
                }
            }
        }
        for (; kk < kp; kk++) {
            if (level == 2)
                row8[kk] = 0;
            else
                row16[kk] = 0;
        }
    }
}

#if TFL_X86

/* ---------------------------------------------------------------- AVX-512 */

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq")))

/* MultiplyByQuantizedMultiplier on 16 lanes with per-lane multiplier and shifts.
 * Multipliers come from tfl_quantize_multiplier with positive scales, so 0 <= mult < 2^31:
 * the INT32_MIN * INT32_MIN overflow cannot occur, and gemmlowp's "add 2^30 or 1-2^30, then
 * divide by 2^31 truncating" equals floor((x*mult + 2^30) / 2^31) for either sign of x*mult
 * (for a negative sum the truncation adds 2^31-1, and 1-2^30 + 2^31-1 = 2^30). */
T512 static inline __m512i mbqm_512(__m512i x, __m512i mult, __m512i lshift, __m512i rshift)
{
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i half = _mm512_set1_epi64(1 << 30);
    x = _mm512_sllv_epi32(x, lshift);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, mult), half);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(mult, 32)), half);
    even = _mm512_srai_epi64(even, 31);
    odd = _mm512_srai_epi64(odd, 31);
    const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, rshift), one);
    const __m512i remainder = _mm512_and_si512(high, mask);
    const __m512i threshold = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(high, 31));
    __m512i result = _mm512_srav_epi32(high, rshift);
    return _mm512_mask_add_epi32(result, _mm512_cmpgt_epi32_mask(remainder, threshold), result, one);
}

T512 static inline void store_requantized_512(__m512i acc, const tfl_conv_params *p, const tfl_packed_conv *pk,
                                              int oc, int n_end, int8_t *out)
{
    acc = _mm512_add_epi32(acc, _mm512_loadu_si512(pk->bias_adjusted + oc));
    acc = mbqm_512(acc, _mm512_loadu_si512(pk->multiplier + oc), _mm512_loadu_si512(pk->left_shift + oc),
                   _mm512_loadu_si512(pk->right_shift + oc));
    acc = _mm512_add_epi32(acc, _mm512_set1_epi32(p->output_offset));
    acc = _mm512_max_epi32(acc, _mm512_set1_epi32(p->act_min));
    acc = _mm512_min_epi32(acc, _mm512_set1_epi32(p->act_max));
    const int left = n_end - oc;
    const __mmask16 store = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    _mm_mask_storeu_epi8(out + oc, store, _mm512_cvtepi32_epi8(acc));
}

/* rows: count rows of lda bytes (k_padded used); flip: the rows are the int8 input itself
 * and get x ^ 0x80 = x + 128 on the fly (1x1 convolutions need no im2col copy). */
T512 static void conv_chunk_512(const tfl_conv_params *p, const tfl_packed_conv *pk, const uint8_t *rows, int lda,
                                int flip, int count, int8_t *output, int first, int n_begin, int n_end)
{
    const int kp = pk->k_padded, k4 = kp / 4;
    const __m512i flip_bits = _mm512_set1_epi32(flip ? (int32_t)0x80808080u : 0);
    for (int nb = n_begin / 32; nb * 32 < n_end; nb++) {
        const int8_t *wb = (const int8_t *)pk->weights + (size_t)nb * k4 * 128;
        int r = 0;
        for (; r + 4 <= count || (r < count && count >= 4); r += 4) {
            /* Rows past count repeat row r: valid memory, results not stored. */
            const uint8_t *a0 = rows + (size_t)r * lda;
            const uint8_t *a1 = r + 1 < count ? a0 + lda : a0, *a2 = r + 2 < count ? a0 + 2 * (size_t)lda : a0;
            const uint8_t *a3 = r + 3 < count ? a0 + 3 * (size_t)lda : a0;
            __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                    c30 = c00, c31 = c00;
            for (int k = 0; k < k4; k++) {
                const __m512i w0 = _mm512_load_si512(wb + (size_t)k * 128);
                const __m512i w1 = _mm512_load_si512(wb + (size_t)k * 128 + 64);
                int32_t v0, v1, v2, v3;
                memcpy(&v0, a0 + 4 * k, 4);
                memcpy(&v1, a1 + 4 * k, 4);
                memcpy(&v2, a2 + 4 * k, 4);
                memcpy(&v3, a3 + 4 * k, 4);
                const __m512i b0 = _mm512_xor_si512(_mm512_set1_epi32(v0), flip_bits);
                const __m512i b1 = _mm512_xor_si512(_mm512_set1_epi32(v1), flip_bits);
                const __m512i b2 = _mm512_xor_si512(_mm512_set1_epi32(v2), flip_bits);
                const __m512i b3 = _mm512_xor_si512(_mm512_set1_epi32(v3), flip_bits);
                c00 = _mm512_dpbusd_epi32(c00, b0, w0);
                c01 = _mm512_dpbusd_epi32(c01, b0, w1);
                c10 = _mm512_dpbusd_epi32(c10, b1, w0);
                c11 = _mm512_dpbusd_epi32(c11, b1, w1);
                c20 = _mm512_dpbusd_epi32(c20, b2, w0);
                c21 = _mm512_dpbusd_epi32(c21, b2, w1);
                c30 = _mm512_dpbusd_epi32(c30, b3, w0);
                c31 = _mm512_dpbusd_epi32(c31, b3, w1);
            }
            const __m512i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
            for (int i = 0; i < 4 && r + i < count; i++) {
                int8_t *out = output + (size_t)(first + r + i) * p->out_c;
                for (int h = 0; h < 2; h++) {
                    const int oc = nb * 32 + h * 16;
                    if (oc < n_end)
                        store_requantized_512(acc[i][h], p, pk, oc, n_end, out);
                }
            }
        }
        /* Fewer than 4 rows in all (the 1-pixel head convolutions): one row at a time instead
         * of a 4-row tile that would compute 3 copies for nothing. */
        for (; r < count; r++) {
            const uint8_t *a0 = rows + (size_t)r * lda;
            __m512i c00 = _mm512_setzero_si512(), c01 = c00, d00 = c00, d01 = c00;
            int k = 0;
            for (; k + 2 <= k4; k += 2) {   /* two independent chains hide the latency */
                int32_t v0, v1;
                memcpy(&v0, a0 + 4 * k, 4);
                memcpy(&v1, a0 + 4 * k + 4, 4);
                const __m512i b0 = _mm512_xor_si512(_mm512_set1_epi32(v0), flip_bits);
                const __m512i b1 = _mm512_xor_si512(_mm512_set1_epi32(v1), flip_bits);
                c00 = _mm512_dpbusd_epi32(c00, b0, _mm512_load_si512(wb + (size_t)k * 128));
                c01 = _mm512_dpbusd_epi32(c01, b0, _mm512_load_si512(wb + (size_t)k * 128 + 64));
                d00 = _mm512_dpbusd_epi32(d00, b1, _mm512_load_si512(wb + (size_t)k * 128 + 128));
                d01 = _mm512_dpbusd_epi32(d01, b1, _mm512_load_si512(wb + (size_t)k * 128 + 192));
            }
            for (; k < k4; k++) {
                int32_t v0;
                memcpy(&v0, a0 + 4 * k, 4);
                const __m512i b0 = _mm512_xor_si512(_mm512_set1_epi32(v0), flip_bits);
                c00 = _mm512_dpbusd_epi32(c00, b0, _mm512_load_si512(wb + (size_t)k * 128));
                c01 = _mm512_dpbusd_epi32(c01, b0, _mm512_load_si512(wb + (size_t)k * 128 + 64));
            }
            c00 = _mm512_add_epi32(c00, d00);
            c01 = _mm512_add_epi32(c01, d01);
            int8_t *out = output + (size_t)(first + r) * p->out_c;
            store_requantized_512(c00, p, pk, nb * 32, n_end, out);
            if (nb * 32 + 16 < n_end)
                store_requantized_512(c01, p, pk, nb * 32 + 16, n_end, out);
        }
    }
}

/* Output pixels [pixel_begin, pixel_end) of the flattened (batch, y, x) index. */
T512 static void depthwise_512(const tfl_conv_params *p, const int8_t *input, int8_t *output, int pixel_begin,
                               int pixel_end)
{
    const __m512i in_off = _mm512_set1_epi32(p->input_offset);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i out_off = _mm512_set1_epi32(p->output_offset);
    const __m512i act_min = _mm512_set1_epi32(p->act_min), act_max = _mm512_set1_epi32(p->act_max);
    const int taps = p->k_h * p->k_w;
    __m512i weights[64];   /* this channel block's filter, widened once */
    for (int c = 0; c < p->out_c; c += 16) {
        const int left = p->out_c - c;
        const __mmask16 lanes = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        for (int t = 0; t < taps; t++)
            weights[t] = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, p->filter + (size_t)t * p->out_c + c));
        const __m512i bias = p->bias ? _mm512_maskz_loadu_epi32(lanes, p->bias + c) : zero;
        const __m512i shift = _mm512_maskz_loadu_epi32(lanes, p->shift + c);
        const __m512i mult = _mm512_maskz_loadu_epi32(lanes, p->multiplier + c);
        const __m512i lshift = _mm512_max_epi32(shift, zero);
        const __m512i rshift = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
        /* Walk the pixels row by row: the vertical tap range once per row, the horizontal one
         * only near the left and right edges. */
        for (int pixel = pixel_begin; pixel < pixel_end;) {
            const int b = pixel / (p->out_h * p->out_w), rem = pixel % (p->out_h * p->out_w);
            const int oy = rem / p->out_w, ox_first = rem % p->out_w;
            const int ox_last = ox_first + (pixel_end - pixel) < p->out_w ? ox_first + (pixel_end - pixel) : p->out_w;
            const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
            const int iy0 = oy * p->stride_h - p->pad_top;
            int ky0 = 0, ky1 = p->k_h;
            while (ky0 < ky1 && iy0 + ky0 * p->dilation_h < 0)
                ky0++;
            while (ky1 > ky0 && iy0 + (ky1 - 1) * p->dilation_h >= p->in_h)
                ky1--;
            int8_t *out = output + (size_t)pixel * p->out_c + c;
            for (int ox = ox_first; ox < ox_last; ox++, out += p->out_c) {
                const int ix0 = ox * p->stride_w - p->pad_left;
                int kx0 = 0, kx1 = p->k_w;
                if (ix0 < 0 || ix0 + (p->k_w - 1) * p->dilation_w >= p->in_w) {
                    while (kx0 < kx1 && ix0 + kx0 * p->dilation_w < 0)
                        kx0++;
                    while (kx1 > kx0 && ix0 + (kx1 - 1) * p->dilation_w >= p->in_w)
                        kx1--;
                }
                __m512i acc = bias;
                for (int ky = ky0; ky < ky1; ky++) {
                    const int8_t *in_row = in_batch + ((size_t)(iy0 + ky * p->dilation_h) * p->in_w + ix0) * p->in_c + c;
                    const __m512i *w_row = weights + ky * p->k_w;
                    for (int kx = kx0; kx < kx1; kx++) {
                        const __m512i x = _mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(
                            lanes, in_row + (ptrdiff_t)kx * p->dilation_w * p->in_c)), in_off);
                        acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, w_row[kx]));
                    }
                }
                acc = mbqm_512(acc, mult, lshift, rshift);
                acc = _mm512_add_epi32(acc, out_off);
                acc = _mm512_max_epi32(acc, act_min);
                acc = _mm512_min_epi32(acc, act_max);
                _mm_mask_storeu_epi8(out, lanes, _mm512_cvtepi32_epi8(acc));
            }
            pixel += ox_last - ox_first;
        }
    }
}

T512 static void quantize_512(const float *input, int8_t *output, size_t n, float scale, int32_t zero_point)
{
    const __m512 s = _mm512_set1_ps(scale), lo = _mm512_set1_ps(-1.0e6f), hi = _mm512_set1_ps(1.0e6f);
    const __m512 half = _mm512_set1_ps(0.5f), onef = _mm512_set1_ps(1.0f);
    const __m512i zp = _mm512_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 q = _mm512_div_ps(_mm512_loadu_ps(input + i), s);
        q = _mm512_max_ps(q, lo);   /* NaN -> lo, like the reference's !(q >= lo) */
        q = _mm512_min_ps(q, hi);
        /* roundf: truncate, then step away from zero when the dropped part is >= 0.5. */
        const __m512 t = _mm512_roundscale_ps(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(q, t));
        const __m512 away = _mm512_castsi512_ps(_mm512_or_si512(
            _mm512_and_si512(_mm512_castps_si512(q), _mm512_set1_epi32(INT32_MIN)), _mm512_castps_si512(onef)));
        const __m512 r = _mm512_mask_add_ps(t, _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ), t, away);
        __m512i v = _mm512_add_epi32(_mm512_cvttps_epi32(r), zp);
        v = _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(127)), _mm512_set1_epi32(-128));
        _mm_storeu_si128((__m128i *)(output + i), _mm512_cvtepi32_epi8(v));
    }
    tfl_quantize_ref(input + i, output + i, n - i, scale, zero_point);
}

T512 static void add_mul_512(const tfl_elementwise_params *e, const int8_t *a, const int8_t *b, int8_t *out, size_t n)
{
    const __m512i off1 = _mm512_set1_epi32(e->in1_offset), off2 = _mm512_set1_epi32(e->in2_offset);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i out_mult = _mm512_set1_epi32(e->out_mult);
    const __m512i out_l = _mm512_set1_epi32(e->out_shift > 0 ? e->out_shift : 0);
    const __m512i out_r = _mm512_set1_epi32(e->out_shift > 0 ? 0 : -e->out_shift);
    const __m512i m1 = _mm512_set1_epi32(e->in1_mult), m2 = _mm512_set1_epi32(e->in2_mult);
    const __m512i l1 = _mm512_set1_epi32(e->in1_shift > 0 ? e->in1_shift : 0);
    const __m512i r1 = _mm512_set1_epi32(e->in1_shift > 0 ? 0 : -e->in1_shift);
    const __m512i l2 = _mm512_set1_epi32(e->in2_shift > 0 ? e->in2_shift : 0);
    const __m512i r2 = _mm512_set1_epi32(e->in2_shift > 0 ? 0 : -e->in2_shift);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i x = _mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, a + i)), off1);
        const __m512i y = _mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, b + i)), off2);
        __m512i v;
        if (e->is_add) {
            const __m512i sx = mbqm_512(_mm512_slli_epi32(x, 20), m1, l1, r1);
            const __m512i sy = mbqm_512(_mm512_slli_epi32(y, 20), m2, l2, r2);
            v = mbqm_512(_mm512_add_epi32(sx, sy), out_mult, out_l, out_r);
        } else {
            v = mbqm_512(_mm512_mullo_epi32(x, y), out_mult, out_l, out_r);
        }
        v = _mm512_add_epi32(v, _mm512_set1_epi32(e->out_offset));
        v = _mm512_max_epi32(v, _mm512_set1_epi32(e->act_min));
        v = _mm512_min_epi32(v, _mm512_set1_epi32(e->act_max));
        _mm_mask_storeu_epi8(out + i, lanes, _mm512_cvtepi32_epi8(v));
    }
    (void)zero;
}

/* Average pooling, 16 channels per vector; the rounded division is done in double, exact
 * for int32 numerators (the quotient's distance to the next integer, >= 1/count, is far
 * above double's rounding error). */
T512 static void avgpool_512(const tfl_conv_params *p, const int8_t *input, int8_t *output)
{
    const __m512i act_min = _mm512_set1_epi32(p->act_min), act_max = _mm512_set1_epi32(p->act_max);
    const __m512i zero = _mm512_setzero_si512();
    for (int b = 0; b < p->batches; b++)
        for (int oy = 0; oy < p->out_h; oy++)
            for (int ox = 0; ox < p->out_w; ox++) {
                const tfl_pool_window w = tfl_pool_window_at(p, oy, ox);
                const int iy0 = w.iy0, ix0 = w.ix0, fy0 = w.fy0, fy1 = w.fy1, fx0 = w.fx0, fx1 = w.fx1;
                const int count = w.count;
                const __m512i half = _mm512_set1_epi32(count / 2);
                const __m512d divisor = _mm512_set1_pd(count > 0 ? (double)count : 1.0);
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->in_c;
                for (int c = 0; c < p->in_c; c += 16) {
                    const int left = p->in_c - c;
                    const __mmask16 lanes = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
                    __m512i acc = zero;
                    for (int fy = fy0; fy < fy1; fy++) {
                        const int8_t *row = input + (((size_t)b * p->in_h + iy0 + fy) * p->in_w + ix0) * p->in_c + c;
                        for (int fx = fx0; fx < fx1; fx++)
                            acc = _mm512_add_epi32(acc, _mm512_cvtepi8_epi32(
                                _mm_maskz_loadu_epi8(lanes, row + (size_t)fx * p->in_c)));
                    }
                    if (count > 0) {
                        const __mmask16 positive = _mm512_cmpgt_epi32_mask(acc, zero);
                        acc = _mm512_mask_add_epi32(_mm512_sub_epi32(acc, half), positive, acc, half);
                        const __m256i lo = _mm512_cvttpd_epi32(
                            _mm512_div_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(acc)), divisor));
                        const __m256i hi = _mm512_cvttpd_epi32(
                            _mm512_div_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(acc, 1)), divisor));
                        acc = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
                    }
                    acc = _mm512_min_epi32(_mm512_max_epi32(acc, act_min), act_max);
                    _mm_mask_storeu_epi8(out + c, lanes, _mm512_cvtepi32_epi8(acc));
                }
            }
}

/* ---------------------------------------------------------------- AVX2 */

#define T256 __attribute__((target("avx2")))

/* As mbqm_512 (same argument for the rounding), 8 lanes. The quotient fits in 32 bits, so a
 * logical 64-bit shift leaves the same low half as the arithmetic one AVX2 lacks. */
T256 static inline __m256i mbqm_256(__m256i x, __m256i mult, __m256i lshift, __m256i rshift)
{
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i half = _mm256_set1_epi64x(1 << 30);
    x = _mm256_sllv_epi32(x, lshift);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, mult), half);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)), half);
    even = _mm256_srli_epi64(even, 31);
    odd = _mm256_srli_epi64(odd, 31);
    const __m256i high = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rshift), one);
    const __m256i remainder = _mm256_and_si256(high, mask);
    const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(high, 31));
    const __m256i result = _mm256_srav_epi32(high, rshift);
    return _mm256_sub_epi32(result, _mm256_cmpgt_epi32(remainder, threshold));
}

T256 static inline void finish_256(__m256i acc, __m256i bias, __m256i mult, __m256i lshift, __m256i rshift,
                                   const tfl_conv_params *p, int8_t *out, int lanes)
{
    acc = _mm256_add_epi32(acc, bias);
    acc = mbqm_256(acc, mult, lshift, rshift);
    acc = _mm256_add_epi32(acc, _mm256_set1_epi32(p->output_offset));
    acc = _mm256_max_epi32(acc, _mm256_set1_epi32(p->act_min));
    acc = _mm256_min_epi32(acc, _mm256_set1_epi32(p->act_max));
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    const __m128i bytes = _mm_packs_epi16(words, words);
    if (lanes >= 8) {
        _mm_storel_epi64((__m128i *)out, bytes);
    } else {
        int8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        memcpy(out, tmp, (size_t)lanes);
    }
}

T256 static void conv_chunk_256(const tfl_conv_params *p, const tfl_packed_conv *pk, const int16_t *rows, int count,
                                int8_t *output, int first, int n_begin, int n_end)
{
    const int kp = pk->k_padded, k2 = kp / 2;
    for (int nb = n_begin / 16; nb * 16 < n_end; nb++) {
        const int16_t *wb = (const int16_t *)pk->weights + (size_t)nb * k2 * 32;
        for (int r = 0; r < count; r += 4) {
            const int16_t *a0 = rows + (size_t)r * kp, *a1 = a0 + kp, *a2 = a1 + kp, *a3 = a2 + kp;
            __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                    c30 = c00, c31 = c00;
            for (int k = 0; k < k2; k++) {
                const __m256i w0 = _mm256_load_si256((const __m256i *)(wb + (size_t)k * 32));
                const __m256i w1 = _mm256_load_si256((const __m256i *)(wb + (size_t)k * 32 + 16));
                int32_t v0, v1, v2, v3;
                memcpy(&v0, a0 + 2 * k, 4);
                memcpy(&v1, a1 + 2 * k, 4);
                memcpy(&v2, a2 + 2 * k, 4);
                memcpy(&v3, a3 + 2 * k, 4);
                const __m256i b0 = _mm256_set1_epi32(v0), b1 = _mm256_set1_epi32(v1);
                const __m256i b2 = _mm256_set1_epi32(v2), b3 = _mm256_set1_epi32(v3);
                c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, w0));
                c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b0, w1));
                c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b1, w0));
                c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, w1));
                c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b2, w0));
                c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b2, w1));
                c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b3, w0));
                c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b3, w1));
            }
            const __m256i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
            for (int i = 0; i < 4 && r + i < count; i++) {
                int8_t *out = output + (size_t)(first + r + i) * p->out_c;
                for (int h = 0; h < 2; h++) {
                    const int oc = nb * 16 + h * 8;
                    if (oc >= n_end)
                        continue;
                    finish_256(acc[i][h], _mm256_loadu_si256((const __m256i *)(pk->bias_adjusted + oc)),
                               _mm256_loadu_si256((const __m256i *)(pk->multiplier + oc)),
                               _mm256_loadu_si256((const __m256i *)(pk->left_shift + oc)),
                               _mm256_loadu_si256((const __m256i *)(pk->right_shift + oc)), p, out + oc, n_end - oc);
                }
            }
        }
    }
}

T256 static void depthwise_256(const tfl_conv_params *p, const int8_t *input, int8_t *output, int pixel_begin,
                               int pixel_end)
{
    const __m256i in_off = _mm256_set1_epi32(p->input_offset);
    const int vec_c = p->out_c / 8 * 8;
    for (int pixel = pixel_begin; pixel < pixel_end; pixel++) {
        const int b = pixel / (p->out_h * p->out_w), rem = pixel % (p->out_h * p->out_w);
        const int oy = rem / p->out_w;
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        const int iy0 = oy * p->stride_h - p->pad_top;
        {
            const int ox = rem % p->out_w;
            const int ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
            for (int c = 0; c < vec_c; c += 8) {
                __m256i acc = _mm256_setzero_si256();
                for (int ky = 0; ky < p->k_h; ky++) {
                    const int iy = iy0 + ky * p->dilation_h;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        const int ix = ix0 + kx * p->dilation_w;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        const __m256i x = _mm256_add_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                            (const __m128i *)(in_batch + ((size_t)iy * p->in_w + ix) * p->in_c + c))), in_off);
                        const __m256i w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(
                            (const __m128i *)(p->filter + ((size_t)ky * p->k_w + kx) * p->out_c + c)));
                        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, w));
                    }
                }
                const __m256i shift = _mm256_loadu_si256((const __m256i *)(p->shift + c));
                const __m256i zero = _mm256_setzero_si256();
                finish_256(acc, p->bias ? _mm256_loadu_si256((const __m256i *)(p->bias + c)) : zero,
                           _mm256_loadu_si256((const __m256i *)(p->multiplier + c)), _mm256_max_epi32(shift, zero),
                           _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero), p, out + c, 8);
            }
        }
    }
    if (vec_c < p->out_c) {
        /* Channel tail: the reference on a channel-restricted view would need strides, so run
         * the scalar formula here (same arithmetic as tfl_depthwise_ref). */
        for (int pixel = pixel_begin; pixel < pixel_end; pixel++) {
            const int b = pixel / (p->out_h * p->out_w), rem = pixel % (p->out_h * p->out_w);
            const int oy = rem / p->out_w;
            const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
            {
                const int ox = rem % p->out_w;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (int c = vec_c; c < p->out_c; c++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < p->k_h; ky++) {
                        const int iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                        if (iy < 0 || iy >= p->in_h)
                            continue;
                        for (int kx = 0; kx < p->k_w; kx++) {
                            const int ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                            if (ix < 0 || ix >= p->in_w)
                                continue;
                            acc += (in_batch[((size_t)iy * p->in_w + ix) * p->in_c + c] + p->input_offset) *
                                   p->filter[((size_t)ky * p->k_w + kx) * p->out_c + c];
                        }
                    }
                    if (p->bias)
                        acc = (int32_t)((uint32_t)acc + (uint32_t)p->bias[c]);
                    acc = tfl_multiply_by_quantized_multiplier(acc, p->multiplier[c], p->shift[c]);
                    acc = (int32_t)((uint32_t)acc + (uint32_t)p->output_offset);
                    acc = acc < p->act_min ? p->act_min : acc > p->act_max ? p->act_max : acc;
                    out[c] = (int8_t)acc;
                }
            }
        }
    }
}

T256 static void quantize_256(const float *input, int8_t *output, size_t n, float scale, int32_t zero_point)
{
    const __m256 s = _mm256_set1_ps(scale), lo = _mm256_set1_ps(-1.0e6f), hi = _mm256_set1_ps(1.0e6f);
    const __m256 half = _mm256_set1_ps(0.5f), onef = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
    const __m256i zp = _mm256_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 q = _mm256_div_ps(_mm256_loadu_ps(input + i), s);
        q = _mm256_max_ps(q, lo);
        q = _mm256_min_ps(q, hi);
        const __m256 t = _mm256_round_ps(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(q, t));
        const __m256 away = _mm256_or_ps(_mm256_and_ps(q, sign), onef);
        const __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), away));
        __m256i v = _mm256_add_epi32(_mm256_cvttps_epi32(r), zp);
        v = _mm256_max_epi32(_mm256_min_epi32(v, _mm256_set1_epi32(127)), _mm256_set1_epi32(-128));
        const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(output + i), _mm_packs_epi16(words, words));
    }
    tfl_quantize_ref(input + i, output + i, n - i, scale, zero_point);
}

#endif /* TFL_X86 */

void tfl_conv_vector(const tfl_conv_params *p, const tfl_packed_conv *packed, const int8_t *input, int8_t *output,
                     int pixel_begin, int pixel_end, int n_begin, int n_end, void *scratch)
{
#if TFL_X86
    const int direct = packed->level == 2 && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                       p->pad_top == 0 && p->pad_left == 0 && p->in_c % 4 == 0;
    for (int first = pixel_begin; first < pixel_end; first += CHUNK_PIXELS) {
        const int count = pixel_end - first < CHUNK_PIXELS ? pixel_end - first : CHUNK_PIXELS;
        if (direct) {
            conv_chunk_512(p, packed, (const uint8_t *)input + (size_t)first * p->in_c, p->in_c, 1, count, output,
                           first, n_begin, n_end);
            continue;
        }
        build_rows(p, packed, input, first, count, scratch);
        if (packed->level == 2)
            conv_chunk_512(p, packed, scratch, packed->k_padded, 0, count, output, first, n_begin, n_end);
        else
            conv_chunk_256(p, packed, scratch, count, output, first, n_begin, n_end);
    }
#else
    (void)packed; (void)pixel_begin; (void)pixel_end; (void)n_begin; (void)n_end; (void)scratch;
    tfl_conv_ref(p, input, output, 0, p->batches * p->out_h);
#endif
}

void tfl_depthwise_vector(int level, const tfl_conv_params *p, const int8_t *input, int8_t *output, int pixel_begin,
                          int pixel_end)
{
#if TFL_X86
    if (p->depth_multiplier == 1 && level == 2 && p->k_h * p->k_w <= 64) {
        depthwise_512(p, input, output, pixel_begin, pixel_end);
        return;
    }
    if (p->depth_multiplier == 1 && level == 1) {
        depthwise_256(p, input, output, pixel_begin, pixel_end);
        return;
    }
#endif
    (void)level;
    tfl_depthwise_ref(p, input, output, pixel_begin, pixel_end);
}

void tfl_quantize_vector(int level, const float *input, int8_t *output, size_t n, float scale, int32_t zero_point)
{
#if TFL_X86
    if (level == 2) {
        quantize_512(input, output, n, scale, zero_point);
        return;
    }
    if (level == 1) {
        quantize_256(input, output, n, scale, zero_point);
        return;
    }
#endif
    (void)level;
    tfl_quantize_ref(input, output, n, scale, zero_point);
}

void tfl_lookup2_vector(int level, const int8_t *table, const int8_t *a, const int8_t *b, int8_t *out, size_t n)
{
    (void)level;
    for (size_t i = 0; i < n; i++)
        out[i] = table[((unsigned)(uint8_t)a[i] << 8) | (uint8_t)b[i]];
}

int tfl_add_mul_vector(int level, const tfl_elementwise_params *e, const int8_t *a, const int8_t *b, int8_t *out,
                       size_t n)
{
#if TFL_X86
    if (level == 2 && e->left_shift == 20) {
        add_mul_512(e, a, b, out, n);
        return 1;
    }
    if (level == 2 && !e->is_add) {
        add_mul_512(e, a, b, out, n);
        return 1;
    }
#endif
    (void)level; (void)e; (void)a; (void)b; (void)out; (void)n;
    return 0;
}

void tfl_avgpool_vector(int level, const tfl_conv_params *p, const int8_t *input, int8_t *output)
{
#if TFL_X86
    if (level == 2) {
        avgpool_512(p, input, output);
        return;
    }
#endif
    (void)level;
    tfl_avgpool_ref(p, input, output);
}
