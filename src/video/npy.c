/* NumPy .npy writer (format version 1.0) for clips: uint8 [T,H,W,3], or float32 in [0,1]
 * computed as the seed does (float64 x / 255.0, then cast to float32). Atomic. */
#include "vidbench/video.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

void vb_clip_to_float32(const vb_clip *clip, float *out)
{
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = (float)(v / 255.0); /* float64 division, then rounding to float32 */
    size_t elements = (size_t)clip->num_frames * clip->height * clip->width * 3;
    for (size_t i = 0; i < elements; i++)
        out[i] = table[clip->frames[i]];
}

int vb_clip_write_npy(const vb_clip *clip, const char *path, int as_float32, vb_error *err)
{
    if (!clip || !clip->frames || clip->num_frames <= 0 || clip->height <= 0 || clip->width <= 0)
        return vb_error_set(err, VB_EINVAL, "%s: empty clip, nothing to write", path ? path : "(null)");
    char header[256];
    int len = snprintf(header, sizeof header,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d, %d, 3), }",
                       as_float32 ? "<f4" : "|u1", clip->num_frames, clip->height, clip->width);
    /* magic (6) + version (2) + header length (2) + header + padding + '\n', a multiple of 64 */
    int total = 10 + len + 1;
    int padded = (total + 63) / 64 * 64;
    memset(header + len, ' ', (size_t)(padded - total));
    header[padded - 10 - 1] = '\n';
    int header_len = padded - 10;

    vb_atomic_file file;
    int rc = vb_atomic_open(&file, path, err);
    if (rc)
        return rc;
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  (unsigned char)(header_len & 0xff), (unsigned char)(header_len >> 8)};
    int ok = fwrite(preamble, 1, 10, file.fp) == 10 &&
             fwrite(header, 1, (size_t)header_len, file.fp) == (size_t)header_len;
    size_t elements = (size_t)clip->num_frames * clip->height * clip->width * 3;
    if (ok && !as_float32) {
        ok = fwrite(clip->frames, 1, elements, file.fp) == elements;
    } else if (ok) {
        /* one frame at a time through vb_clip_to_float32; little-endian host (x86, arm) */
        size_t frame_elements = (size_t)clip->height * clip->width * 3;
        float *chunk = malloc(frame_elements * sizeof *chunk);
        ok = chunk != NULL;
        for (int t = 0; ok && t < clip->num_frames; t++) {
            vb_clip one = *clip;
            one.num_frames = 1;
            one.frames = clip->frames + (size_t)t * frame_elements;
            vb_clip_to_float32(&one, chunk);
            ok = fwrite(chunk, sizeof(float), frame_elements, file.fp) == frame_elements;
        }
        free(chunk);
    }
    if (!ok) {
        int saved = errno;
        vb_atomic_abort(&file);
        return vb_error_set(err, VB_EIO, "%s: write failed: %s", path, strerror(saved));
    }
    return vb_atomic_commit(&file, err);
}
