/* vb_video_probe: what a clip is (container, codec, size, rotation, rate, frames) from its
 * header, and optionally its exact frame count by decoding every frame. */
#include "vidbench/video.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/pixdesc.h>

#include "video/decoder.h"

#define PROBE_MAX_SECONDS 120.0

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int vb_video_probe(const char *path, int count_frames, vb_video_info *info, vb_error *err)
{
    memset(info, 0, sizeof *info);
    info->frame_count = -1;
    info->sar_den = 1;
    if (!path)
        return vb_error_set(err, VB_EINVAL, "(null): no path given");
    struct stat st;
    if (stat(path, &st) == 0)
        info->file_bytes = (int64_t)st.st_size;

    video_decoder dec;
    int rc = decoder_open(&dec, path, 0, PROBE_MAX_SECONDS, err);
    if (rc)
        return rc;
    const AVCodecParameters *par = dec.stream->codecpar;
    copy_name(info->container, sizeof info->container, dec.format->iformat->name);
    copy_name(info->codec, sizeof info->codec, avcodec_get_name(par->codec_id));
    const char *pix = av_get_pix_fmt_name((enum AVPixelFormat)par->format);
    copy_name(info->pixel_format, sizeof info->pixel_format, pix ? pix : "unknown");
    info->width = par->width;
    info->height = par->height;
    info->rotation_degrees = dec.rotation_degrees;
    if (par->sample_aspect_ratio.num > 0 && par->sample_aspect_ratio.den > 0) {
        info->sar_num = par->sample_aspect_ratio.num;
        info->sar_den = par->sample_aspect_ratio.den;
    }
    info->fps = stream_fps(dec.stream);
    if (dec.format->duration != AV_NOPTS_VALUE && dec.format->duration > 0)
        info->duration_seconds = dec.format->duration / (double)AV_TIME_BASE;
    else if (dec.stream->duration != AV_NOPTS_VALUE && dec.stream->duration > 0)
        info->duration_seconds = dec.stream->duration * av_q2d(dec.stream->time_base);
    if (dec.stream->nb_frames > 0)
        info->frame_count = dec.stream->nb_frames;

    if (count_frames) {
        int got;
        while ((got = decoder_next(&dec, err)) > 0)
            av_frame_unref(dec.frame);
        if (got < 0) {
            decoder_close(&dec);
            return got;
        }
        info->frame_count = dec.decoded_frames;
        info->frame_count_exact = 1;
        info->lost_frames = dec.lost_frames;
    }
    decoder_close(&dec);
    return VB_OK;
}
