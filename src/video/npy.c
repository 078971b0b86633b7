/* Frames as NumPy .npy (the format itself is common/npy.c): uint8 [T,H,W,3], or float32 in
 * [0,1] computed as the seed does (float64 x / 255.0, then cast to float32), and that
 * conversion's SIMD passes over the plain reference. Written atomically. */
#include "vidbench/video.h"
#include "vidbench/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2_CONVERSION 1
#endif

#include "common/fsutil.h"
#include "video/video_internal.h"

void u8_to_float32_reference(const uint8_t *in, size_t n, float *out)
{
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = (float)(v / 255.0); /* float64 division, then rounding to float32 */
    for (size_t i = 0; i < n; i++)
        out[i] = table[in[i]];
}

#ifdef HAVE_AVX2_CONVERSION

/* Outputs this large (a 100-frame 224x224 clip is 60 MB) go past every cache level before
 * anyone reads them, so streaming stores skip the read-for-ownership of each destination
 * line: about 40% less memory traffic (bench video). Smaller ones stay cached for the
 * consumer. */
enum { STREAMING_MIN_BYTES = 8 << 20 };

/* 8 values per step: zero-extend to int32, convert, divide by 255.0f -- the same float
 * operations as the SSE2 body, so the same values. Returns how many it converted. */
__attribute__((target("avx2"))) static size_t u8_to_float32_avx2(const uint8_t *in, size_t n, float *out)
{
    const __m256 divisor = _mm256_set1_ps(255.0f);
    size_t i = 0;
    if (n * sizeof(float) < STREAMING_MIN_BYTES) {
        for (; i + 8 <= n; i += 8) {
            __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(in + i)));
            _mm256_storeu_ps(out + i, _mm256_div_ps(_mm256_cvtepi32_ps(wide), divisor));
        }
        return i;
    }
    /* streaming stores need 32-byte aligned addresses: plain ones up to the first */
    for (; i < n && ((uintptr_t)(out + i) & 31) != 0; i++)
        out[i] = (float)in[i] / 255.0f;
    for (; i + 8 <= n; i += 8) {
        __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(in + i)));
        _mm256_stream_ps(out + i, _mm256_div_ps(_mm256_cvtepi32_ps(wide), divisor));
    }
    _mm_sfence(); /* streaming stores are weakly ordered: publish them before returning */
    return i;
}
#endif

void vb_u8_to_float32(const uint8_t *in, size_t n, float *out)
{
    size_t i = 0;
#ifdef HAVE_AVX2_CONVERSION
    if (__builtin_cpu_supports("avx2"))
        i = u8_to_float32_avx2(in, n, out);
#endif
#ifdef __SSE2__
    /* For every uint8 v, the float32 division v / 255.0f is the same float as the seed's
     * float64 v / 255.0 rounded to float32 (tests/unit/test_video_io.c checks all 256), so
     * 16 values at a time are widened, converted and divided in float32. */
    const __m128i zero = _mm_setzero_si128();
    const __m128 divisor = _mm_set1_ps(255.0f);
    for (; i + 16 <= n; i += 16) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(in + i));
        __m128i lo = _mm_unpacklo_epi8(bytes, zero), hi = _mm_unpackhi_epi8(bytes, zero);
        __m128i quarter[4] = {_mm_unpacklo_epi16(lo, zero), _mm_unpackhi_epi16(lo, zero),
                              _mm_unpacklo_epi16(hi, zero), _mm_unpackhi_epi16(hi, zero)};
        for (int q = 0; q < 4; q++)
            _mm_storeu_ps(out + i + 4 * q, _mm_div_ps(_mm_cvtepi32_ps(quarter[q]), divisor));
    }
#endif
    if (i < n)
        u8_to_float32_reference(in + i, n - i, out + i);
}

void vb_clip_to_float32(const vb_frames *clip, float *out)
{
    vb_u8_to_float32(clip->frames, (size_t)clip->num_frames * clip->height * clip->width * 3, out);
}

int vb_clip_write_npy(const vb_frames *clip, const char *path, int as_float32, vb_error *err)
{
    if (!clip || !clip->frames || clip->num_frames <= 0 || clip->height <= 0 || clip->width <= 0)
        return vb_error_set(err, VB_EINVAL, "%s: empty clip, nothing to write", path ? path : "(null)");
    char header[256];
    const int64_t shape[4] = {clip->num_frames, clip->height, clip->width, 3};
    const int header_bytes = vb_npy_header(as_float32 ? "<f4" : "|u1", shape, 4, header, sizeof header);
    if (header_bytes < 0)
        return vb_error_set(err, VB_EINVAL, "%s: .npy header does not fit", path);
    fs_atomic_file file;
    int rc = fs_atomic_open(&file, path, err);
    if (rc)
        return rc;
    int ok = fwrite(header, 1, (size_t)header_bytes, file.fp) == (size_t)header_bytes;
    size_t elements = (size_t)clip->num_frames * clip->height * clip->width * 3;
    if (ok && !as_float32) {
        ok = fwrite(clip->frames, 1, elements, file.fp) == elements;
    } else if (ok) {
        /* one frame at a time through vb_clip_to_float32; little-endian host (x86, arm) */
        size_t frame_elements = (size_t)clip->height * clip->width * 3;
        float *chunk = malloc(frame_elements * sizeof *chunk);
        ok = chunk != NULL;
        for (int t = 0; ok && t < clip->num_frames; t++) {
            vb_frames one = *clip;
            one.num_frames = 1;
            one.frames = clip->frames + (size_t)t * frame_elements;
            vb_clip_to_float32(&one, chunk);
            ok = fwrite(chunk, sizeof(float), frame_elements, file.fp) == frame_elements;
        }
        free(chunk);
    }
    if (!ok) {
        int saved = errno;
        fs_atomic_abort(&file);
        return vb_error_set(err, fs_write_error_code(saved), "%s: write failed: %s", path, strerror(saved));
    }
    return fs_atomic_commit(&file, err);
}
