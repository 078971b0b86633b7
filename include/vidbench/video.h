/* Video ingest: any clip FFmpeg opens -> uint8 RGB frames of S x S, the tensor the
 * classifiers take. Decoding streams frame by frame: at most one full-resolution frame is
 * alive at a time. Resizing is bit-exact with OpenCV's cv2.resize(INTER_LINEAR). */
#ifndef VIDBENCH_VIDEO_H
#define VIDBENCH_VIDEO_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vb_resize_mode {
    VB_RESIZE_CROP = 0,   /* the seed's center square (start = dim/2 - min/2), then resize */
    VB_RESIZE_PAD,        /* the seed's zero padding to a square, then resize */
    VB_RESIZE_SHORTSIDE,  /* DeepMind: short side to 256 (bilinear), then center crop S */
    VB_RESIZE_STRETCH,    /* whole frame resized to S x S, aspect not kept (MoViNet apps) */
    VB_RESIZE_ASPECT,     /* short side to S, aspect kept, no crop: frames are S x L or L x S with
                             L = round(long * S / short) (MMAction2 Resize(scale=(-1, S)), what
                             ThreeCrop cuts from); every frame of a clip must have one size */
} vb_resize_mode;

/* "crop", "pad", "shortside", "stretch", "aspect" <-> the enum; parse returns 0 or VB_EINVAL. */
int vb_resize_mode_parse(const char *name, vb_resize_mode *mode);
const char *vb_resize_mode_name(vb_resize_mode mode);

/* The largest output S the decoder produces (a model asking for more is refused when it is
 * opened, not clip by clip). */
#define VB_VIDEO_MAX_SIZE 4096

typedef struct vb_video_options {
    int size;                 /* output S (1..VB_VIDEO_MAX_SIZE); 0 means 224 */
    vb_resize_mode resize;
    int num_frames;           /* resample to N with the seed's rule; 0 keeps all frames */
    int min_frames;           /* fail with VB_ETOOSHORT below this many decoded frames; 0 off */
    double target_fps;        /* > 0: keep frames nearest to this rate before resampling */
    int threads;              /* decoder threads; 0 = all cores */
    int max_frames;           /* safety limit on decoded frames; 0 = default (100000) */
    double max_seconds;       /* wall-clock limit on decoding one file; 0 = default (300) */
} vb_video_options;

/* Defaults: size 224, crop, all frames, no minimum. */
void vb_video_options_init(vb_video_options *options);

/* The decoded frames of one clip: what the models take. ("Clip" is the video itself; this is
 * its tensor.) */
typedef struct vb_frames {
    int num_frames;           /* T */
    int height, width;        /* S, S (the aspect resize: its own size) */
    uint8_t *frames;          /* [T,H,W,3] RGB, owned; free with vb_frames_free */
    int decoded_frames;       /* frames in the stream: the count the resampling used */
    int skipped_frames;       /* of those, frames the selection drops that were not even
                                 decoded (H.264 frames no other frame references) */
    int lost_frames;          /* frames that failed to decode mid-stream (kept going) */
    double fps;               /* the stream's average frame rate, 0 if unknown */
} vb_frames;

/* Decodes, transforms and resamples one file. On error *clip is left empty and err names
 * the file and the cause. */
int vb_video_decode_clip(const char *path, const vb_video_options *options, vb_frames *clip,
                         vb_error *err);
void vb_frames_free(vb_frames *clip);

/* The seed's resampling rule: output frame i is input frame floor(i * count / n).
 * Fills indices[0..n) ; count > 0, n > 0. */
void vb_resample_indices(int count, int n, int *indices);

typedef struct vb_video_info {
    char container[64];       /* FFmpeg format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
    char codec[32];           /* e.g. "h264" */
    char pixel_format[32];    /* e.g. "yuv420p" */
    int width, height;        /* coded size, before rotation */
    int rotation_degrees;     /* display rotation: 0, 90, 180, 270 */
    int sar_num, sar_den;     /* sample aspect ratio, 0/1 when unknown */
    double fps;               /* average frame rate */
    double duration_seconds;
    int64_t frame_count;      /* from the header (or counted when requested); -1 unknown */
    int frame_count_exact;    /* 1 when frame_count was counted by decoding */
    int lost_frames;          /* frames that failed to decode (only when counted) */
    int64_t file_bytes;       /* size of the file */
} vb_video_info;

/* Reads the header (and decodes every frame when count_frames is set). */
int vb_video_probe(const char *path, int count_frames, vb_video_info *info, vb_error *err);

/* The seed's float tensor: out[i] = (float)(frames[i] / 255.0), the value numpy's
 * np.array(frames) / 255.0 then .astype(np.float32) gives. out holds T*H*W*3 floats. */
void vb_clip_to_float32(const vb_frames *clip, float *out);
/* The same for any count uint8 values (a view, a batch): out[i] = (float)(values[i] / 255.0). */
void vb_u8_to_float32(const uint8_t *values, size_t count, float *out);

/* Writes a uint8 [T,S,S,3] clip (or float32 in [0,1] when as_float32) as a NumPy .npy file,
 * atomically. */
int vb_clip_write_npy(const vb_frames *clip, const char *path, int as_float32, vb_error *err);

/* Writes an animated GIF of the clip with FFmpeg's GIF encoder (palettegen/paletteuse). */
int vb_clip_write_gif(const vb_frames *clip, double fps, const char *path, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
