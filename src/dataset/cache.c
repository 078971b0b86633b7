/* The clip cache's naming and file format: each clip decoded and preprocessed once into a
 * uint8 [T,S,S,3] file under cache/kinetics/{ver}/{split}/{key}/, where the key spells out every
 * parameter that changes the pixels. prepare.c fills the cache, clips.c lists it. */
#include "dataset_internal.h"
#include "common/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cache file: 40-byte little-endian header, then T*H*W*C bytes.
 *   magic "VBCLIP01" | u32 T | u32 H | u32 W | u32 C | u32 decoded_frames | u32 lost_frames
 *   | f64 fps */
#define CACHE_MAGIC "VBCLIP01"
#define CACHE_HEADER_BYTES 40
#define MAX_CACHE_BYTES ((size_t)4 << 30)

void vb_prepare_key(const vb_video_options *video, char key[64])
{
    int size = video->size > 0 ? video->size : 224;
    /* fps in milli-frames so the key stays an exact, file-name safe integer */
    long fps_milli = video->target_fps > 0 ? (long)(video->target_fps * 1000.0 + 0.5) : 0;
    snprintf(key, 64, "s%d-%s-t%d-m%d-fps%ld", size, vb_resize_mode_name(video->resize), video->num_frames,
             video->min_frames, fps_milli);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int dataset_cache_write(const char *path, const vb_frames *clip, vb_error *err)
{
    unsigned char header[CACHE_HEADER_BYTES];
    memcpy(header, CACHE_MAGIC, 8);
    put_u32(header + 8, (uint32_t)clip->num_frames);
    put_u32(header + 12, (uint32_t)clip->height);
    put_u32(header + 16, (uint32_t)clip->width);
    put_u32(header + 20, 3);
    put_u32(header + 24, (uint32_t)clip->decoded_frames);
    put_u32(header + 28, (uint32_t)clip->lost_frames);
    uint64_t fps_bits;
    double fps = clip->fps;
    memcpy(&fps_bits, &fps, 8);
    for (int i = 0; i < 8; i++)
        header[32 + i] = (unsigned char)(fps_bits >> (8 * i));
    fs_atomic_file file;
    int rc = fs_atomic_open(&file, path, err);
    if (rc)
        return rc;
    size_t bytes = (size_t)clip->num_frames * clip->height * clip->width * 3;
    if (fwrite(header, 1, sizeof header, file.fp) != sizeof header ||
        (bytes && fwrite(clip->frames, 1, bytes, file.fp) != bytes)) {
        fs_atomic_abort(&file);
        return vb_error_set(err, errno == ENOSPC ? VB_ENOSPACE : VB_EIO, "%s: write failed: %s", path,
                            strerror(errno));
    }
    return fs_atomic_commit(&file, err);
}

/* Reads a cache file back, checking the header against the file size. */
static int read_cache_file(const char *path, vb_frames *clip, vb_error *err)
{
    memset(clip, 0, sizeof *clip);
    char *data = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_CACHE_BYTES, &data, &size, err);
    if (rc)
        return rc == VB_EIO && !fs_path_exists(path)
                   ? vb_error_set(err, VB_ENOTFOUND, "%s: not in the cache", path)
                   : rc;
    const unsigned char *h = (const unsigned char *)data;
    if (size < CACHE_HEADER_BYTES || memcmp(h, CACHE_MAGIC, 8)) {
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: not a vidbench clip cache file", path);
    }
    uint32_t t = get_u32(h + 8), hh = get_u32(h + 12), w = get_u32(h + 16), c = get_u32(h + 20);
    if (c != 3 || t > 100000 || hh > 8192 || w > 8192 ||
        (uint64_t)t * hh * w * c != (uint64_t)(size - CACHE_HEADER_BYTES)) {
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: header says [%u,%u,%u,%u] but the file has %zu bytes",
                            path, t, hh, w, c, size - CACHE_HEADER_BYTES);
    }
    size_t bytes = size - CACHE_HEADER_BYTES;
    clip->frames = malloc(bytes ? bytes : 1);
    if (!clip->frames) {
        free(data);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    memcpy(clip->frames, data + CACHE_HEADER_BYTES, bytes);
    clip->num_frames = (int)t;
    clip->height = (int)hh;
    clip->width = (int)w;
    /* counts written by dataset_cache_write from ints: larger ones are damage */
    const uint32_t decoded = get_u32(h + 24), lost = get_u32(h + 28);
    if (decoded > INT32_MAX || lost > INT32_MAX) {
        free(clip->frames);
        clip->frames = NULL;
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: frame counts %u and %u out of range", path, decoded, lost);
    }
    clip->decoded_frames = (int)decoded;
    clip->lost_frames = (int)lost;
    uint64_t fps_bits = 0;
    for (int i = 0; i < 8; i++)
        fps_bits |= (uint64_t)h[32 + i] << (8 * i);
    memcpy(&clip->fps, &fps_bits, 8);
    free(data);
    return 0;
}

int dataset_cache_path(vb_dataset *ds, int version, vb_split split, const char *key,
                      const char *clip_id, char *out, size_t out_size, vb_error *err)
{
    char dir[PATH_MAX];
    int rc = ds_dir(ds, "cache", version, split, dir, sizeof dir, err);
    if (rc)
        return rc;
    int n = snprintf(out, out_size, "%s/%s/%s.vbclip", dir, key, clip_id ? clip_id : "");
    if (n < 0 || (size_t)n >= out_size)
        return vb_error_set(err, VB_ELIMIT, "%s: cache path too long", clip_id);
    return 0;
}

int vb_dataset_load_prepared(vb_dataset *ds, int version, vb_split split, const char *clip_id,
                             const vb_video_options *video, vb_frames *clip, vb_error *err)
{
    memset(clip, 0, sizeof *clip);
    if (!ds || !clip_id || !video || strchr(clip_id, '/') || !strcmp(clip_id, "..") || !*clip_id)
        return vb_error_set(err, VB_EINVAL, "load prepared: bad arguments");
    char key[64], path[PATH_MAX + 128];
    vb_prepare_key(video, key);
    int rc = dataset_cache_path(ds, version, split, key, clip_id, path, sizeof path, err);
    if (rc)
        return rc;
    if (!fs_path_exists(path))
        return vb_error_set(err, VB_ENOTFOUND, "%s: clip %s is not prepared for %s", path, clip_id, key);
    return read_cache_file(path, clip, err);
}
