/* Animated GIF preview of a clip (the seed's to_gif) with FFmpeg: palettegen/paletteuse
 * in libavfilter pick one palette for the whole clip, the gif encoder and muxer write it.
 * Written through an atomic temp file. */
#include "vidbench/video.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "common/fsutil.h"

enum { GIF_TICKS_PER_SECOND = 100 }; /* GIF delays are in 1/100 s */

typedef struct gif_writer {
    const char *path;
    fs_atomic_file file;
    AVFilterGraph *graph;
    AVFilterContext *source, *sink;
    AVCodecContext *encoder;
    AVFormatContext *muxer;
    AVIOContext *io;
    unsigned char *io_buffer;
    AVPacket *packet;
    AVFrame *frame;
    int header_written;    /* the muxer holds state that only av_write_trailer frees */
    int io_errno;          /* errno of the first failed write, 0 if none */
} gif_writer;

static int write_to_file(void *opaque, uint8_t *buf, int size)
{
    gif_writer *w = opaque;
    if (fwrite(buf, 1, (size_t)size, w->file.fp) != (size_t)size) {
        if (!w->io_errno)
            w->io_errno = errno ? errno : EIO;
        return AVERROR(w->io_errno); /* the real cause (ENOSPC), not a generic EIO */
    }
    return size;
}

static int fail_av(gif_writer *w, vb_error *err, int code, const char *what, int av_code)
{
    if (w->io_errno) /* a failed write explains every later muxer error */
        return vb_error_set(err, fs_write_error_code(w->io_errno), "%s: %s: %s", w->path, what,
                            strerror(w->io_errno));
    char text[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(av_code, text, sizeof text);
    return vb_error_set(err, code, "%s: %s: %s", w->path, what, text);
}

static int build_graph(gif_writer *w, int width, int height, vb_error *err)
{
    char args[256];
    w->graph = avfilter_graph_alloc();
    if (!w->graph)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", w->path);
    snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=1/%d:pixel_aspect=1/1", width,
             height, AV_PIX_FMT_RGB24, GIF_TICKS_PER_SECOND);
    int ret = avfilter_graph_create_filter(&w->source, avfilter_get_by_name("buffer"), "in", args, NULL,
                                           w->graph);
    if (ret >= 0)
        ret = avfilter_graph_create_filter(&w->sink, avfilter_get_by_name("buffersink"), "out", NULL,
                                           NULL, w->graph);
    if (ret < 0)
        return fail_av(w, err, VB_EUNSUPPORTED, "cannot create the filter graph", ret);
    AVFilterInOut *outputs = avfilter_inout_alloc(), *inputs = avfilter_inout_alloc();
    if (!outputs || !inputs) {
        avfilter_inout_free(&outputs);
        avfilter_inout_free(&inputs);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", w->path);
    }
    outputs->name = av_strdup("in");
    outputs->filter_ctx = w->source;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = w->sink;
    ret = avfilter_graph_parse_ptr(w->graph,
                                   "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
                                   &inputs, &outputs, NULL);
    avfilter_inout_free(&outputs);
    avfilter_inout_free(&inputs);
    if (ret >= 0)
        ret = avfilter_graph_config(w->graph, NULL);
    if (ret < 0)
        return fail_av(w, err, VB_EUNSUPPORTED, "cannot configure palettegen/paletteuse", ret);
    return VB_OK;
}

static int open_output(gif_writer *w, int width, int height, vb_error *err)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_GIF);
    if (!codec)
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: this FFmpeg has no GIF encoder", w->path);
    w->encoder = avcodec_alloc_context3(codec);
    if (!w->encoder)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", w->path);
    w->encoder->width = width;
    w->encoder->height = height;
    w->encoder->pix_fmt = AV_PIX_FMT_PAL8;
    w->encoder->time_base = (AVRational){1, GIF_TICKS_PER_SECOND};
    int ret = avformat_alloc_output_context2(&w->muxer, NULL, "gif", NULL);
    if (ret < 0)
        return fail_av(w, err, VB_EUNSUPPORTED, "no GIF muxer", ret);
    if (w->muxer->oformat->flags & AVFMT_GLOBALHEADER)
        w->encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ret = avcodec_open2(w->encoder, codec, NULL);
    if (ret < 0)
        return fail_av(w, err, VB_EUNSUPPORTED, "cannot open the GIF encoder", ret);
    AVStream *stream = avformat_new_stream(w->muxer, NULL);
    if (!stream)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", w->path);
    stream->time_base = w->encoder->time_base;
    ret = avcodec_parameters_from_context(stream->codecpar, w->encoder);
    if (ret < 0)
        return fail_av(w, err, VB_EUNSUPPORTED, "cannot set up the GIF stream", ret);

    int rc = fs_atomic_open(&w->file, w->path, err);
    if (rc)
        return rc;
    enum { IO_BUFFER_BYTES = 65536 };
    w->io_buffer = av_malloc(IO_BUFFER_BYTES);
    if (w->io_buffer)
        w->io = avio_alloc_context(w->io_buffer, IO_BUFFER_BYTES, 1, w, NULL, write_to_file, NULL);
    if (!w->io)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", w->path);
    w->io_buffer = NULL; /* owned by the AVIOContext now */
    w->muxer->pb = w->io;
    w->muxer->flags |= AVFMT_FLAG_CUSTOM_IO;
    ret = avformat_write_header(w->muxer, NULL);
    if (ret < 0)
        return fail_av(w, err, VB_EIO, "cannot write the GIF header", ret);
    w->header_written = 1;
    return VB_OK;
}

/* Writes every packet the encoder has ready. */
static int write_packets(gif_writer *w, vb_error *err)
{
    for (;;) {
        int ret = avcodec_receive_packet(w->encoder, w->packet);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VB_OK;
        if (ret < 0)
            return fail_av(w, err, VB_EUNSUPPORTED, "GIF encoding failed", ret);
        av_packet_rescale_ts(w->packet, w->encoder->time_base, w->muxer->streams[0]->time_base);
        w->packet->stream_index = 0;
        ret = av_write_frame(w->muxer, w->packet);
        av_packet_unref(w->packet);
        if (ret < 0)
            return fail_av(w, err, VB_EIO, "cannot write GIF data", ret);
    }
}

/* Moves every frame the graph has ready through the encoder into the file; palettegen
 * holds everything back until the input ends, so most work happens when flushing. */
static int drain(gif_writer *w, int flushing, vb_error *err)
{
    for (;;) {
        int ret = av_buffersink_get_frame(w->sink, w->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0)
            return fail_av(w, err, VB_EUNSUPPORTED, "palette filter failed", ret);
        ret = avcodec_send_frame(w->encoder, w->frame);
        av_frame_unref(w->frame);
        if (ret < 0)
            return fail_av(w, err, VB_EUNSUPPORTED, "GIF encoding failed", ret);
        int rc = write_packets(w, err);
        if (rc)
            return rc;
    }
    if (flushing) {
        avcodec_send_frame(w->encoder, NULL);
        return write_packets(w, err);
    }
    return VB_OK;
}

static void gif_writer_free(gif_writer *w)
{
    /* The GIF muxer keeps the previous packet until the trailer; after a failed write the
     * trailer is still run (its own error ignored) or that packet leaks. */
    if (w->header_written)
        av_write_trailer(w->muxer);
    avfilter_graph_free(&w->graph);
    avcodec_free_context(&w->encoder);
    if (w->io) {
        av_freep(&w->io->buffer);
        avio_context_free(&w->io);
    }
    av_free(w->io_buffer);
    if (w->muxer)
        w->muxer->pb = NULL;
    avformat_free_context(w->muxer);
    av_packet_free(&w->packet);
    av_frame_free(&w->frame);
    fs_atomic_abort(&w->file);
}

int vb_clip_write_gif(const vb_frames *clip, double fps, const char *path, vb_error *err)
{
    if (!path)
        return vb_error_set(err, VB_EINVAL, "(null): no output path");
    if (!clip || !clip->frames || clip->num_frames <= 0 || clip->width <= 0 || clip->height <= 0)
        return vb_error_set(err, VB_EINVAL, "%s: empty clip, nothing to write", path);
    if (!(fps > 0) || fps > GIF_TICKS_PER_SECOND)
        return vb_error_set(err, VB_EINVAL, "%s: frame rate %g outside (0, %d]", path, fps,
                            GIF_TICKS_PER_SECOND);
    gif_writer w;
    memset(&w, 0, sizeof w);
    w.path = path;
    w.packet = av_packet_alloc();
    w.frame = av_frame_alloc();
    int rc = w.packet && w.frame ? VB_OK : vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    if (!rc)
        rc = build_graph(&w, clip->width, clip->height, err);
    if (!rc)
        rc = open_output(&w, clip->width, clip->height, err);
    size_t row_bytes = (size_t)clip->width * 3;
    for (int i = 0; !rc && i < clip->num_frames; i++) {
        AVFrame *in = av_frame_alloc();
        if (!in) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            break;
        }
        in->format = AV_PIX_FMT_RGB24;
        in->width = clip->width;
        in->height = clip->height;
        in->pts = llround(i * GIF_TICKS_PER_SECOND / fps);
        int ret = av_frame_get_buffer(in, 0);
        if (ret >= 0) {
            const uint8_t *src = clip->frames + (size_t)i * clip->height * row_bytes;
            for (int y = 0; y < clip->height; y++)
                memcpy(in->data[0] + (size_t)y * in->linesize[0], src + (size_t)y * row_bytes, row_bytes);
            ret = av_buffersrc_add_frame(w.source, in);
        }
        av_frame_free(&in);
        if (ret < 0)
            rc = fail_av(&w, err, VB_EUNSUPPORTED, "cannot feed the palette filter", ret);
        else
            rc = drain(&w, 0, err);
    }
    if (!rc) {
        int ret = av_buffersrc_add_frame(w.source, NULL);
        rc = ret < 0 ? fail_av(&w, err, VB_EUNSUPPORTED, "cannot flush the palette filter", ret)
                     : drain(&w, 1, err);
    }
    if (!rc) {
        int ret = av_write_trailer(w.muxer);
        w.header_written = 0;
        if (ret < 0)
            rc = fail_av(&w, err, VB_EIO, "cannot finish the GIF", ret);
        avio_flush(w.io);
        if (!rc && w.io_errno)
            rc = fail_av(&w, err, VB_EIO, "write failed", AVERROR(w.io_errno));
    }
    if (!rc)
        rc = fs_atomic_commit(&w.file, err);
    gif_writer_free(&w);
    return rc;
}
