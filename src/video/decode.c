/* Placeholder until the video ingest lands: every call refuses. */
#include "vidbench/video.h"

#include <string.h>

void vb_video_options_init(vb_video_options *options)
{
    memset(options, 0, sizeof *options);
    options->size = 224;
}
int vb_video_decode_clip(const char *path, const vb_video_options *options, vb_clip *clip, vb_error *err)
{
    (void)options;
    memset(clip, 0, sizeof *clip);
    return vb_error_set(err, VB_EUNSUPPORTED, "%s: video decoding is not implemented yet", path);
}
void vb_clip_free(vb_clip *clip) { if (clip) memset(clip, 0, sizeof *clip); }
void vb_resample_indices(int count, int n, int *indices)
{
    for (int i = 0; i < n; i++)
        indices[i] = (int)((long long)i * count / n);
}
int vb_video_probe(const char *path, int count_frames, vb_video_info *info, vb_error *err)
{
    (void)count_frames;
    memset(info, 0, sizeof *info);
    return vb_error_set(err, VB_EUNSUPPORTED, "%s: probing is not implemented yet", path);
}
int vb_clip_write_npy(const vb_clip *clip, const char *path, int as_float32, vb_error *err)
{
    (void)clip; (void)as_float32;
    return vb_error_set(err, VB_EUNSUPPORTED, "%s: npy output is not implemented yet", path);
}
int vb_clip_write_gif(const vb_clip *clip, double fps, const char *path, vb_error *err)
{
    (void)clip; (void)fps;
    return vb_error_set(err, VB_EUNSUPPORTED, "%s: gif output is not implemented yet", path);
}
