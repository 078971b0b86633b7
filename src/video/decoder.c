/* Streaming decoder (see decoder.h): doc/examples/demux_decode.c's send/receive loop, frame
 * threading, a deadline checked between packets and inside blocking reads, and the BGR24
 * conversion of OpenCV's FFmpeg capture (coded size, SWS_BICUBIC, 32-byte aligned rows) so
 * that our pixels equal cv2.VideoCapture's. */
#include "video/decoder.h"
#include "vidbench/threads.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>

#include "video/video_internal.h"

enum { MAX_PIXELS = 1 << 26 };   /* 8192 x 8192: larger frames are refused, not allocated */
enum { MAX_AUTO_THREADS = 3 };

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/* The library never prints: FFmpeg's own log goes quiet unless VB_FFMPEG_LOG is set. */
static void quiet_ffmpeg(void)
{
    if (!getenv("VB_FFMPEG_LOG"))
        av_log_set_level(AV_LOG_QUIET);
}

static int deadline_passed(void *opaque)
{
    const video_decoder *decoder = opaque;
    return av_gettime_relative() > decoder->deadline_us;
}

static const char *av_text(int code, char *buf, size_t size)
{
    av_strerror(code, buf, size);
    return buf;
}

int stream_rotation(const AVStream *stream)
{
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!matrix)
        return 0;
    /* OpenCV 4.6 (CvCapture_FFMPEG::get_rotation_angle) takes av_display_rotation_get's
     * angle as the clockwise rotation to apply: -90 -> 270 -> ROTATE_90_COUNTERCLOCKWISE.
     * That is the opposite turn to ffmpeg's autorotate for quarter turns; we follow OpenCV,
     * whose frames the seed saw (tests/ref/video_opencv.py checks it on video_90.mov). */
    double theta = av_display_rotation_get((const int32_t *)matrix);
    if (isnan(theta))
        return 0;
    int degrees = (int)lrint(theta);
    degrees %= 360;
    if (degrees < 0)
        degrees += 360;
    /* cv::rotate supports quarter turns only; OpenCV ignores anything else, so do we */
    return degrees % 90 == 0 ? degrees : 0;
}

double stream_fps(const AVStream *stream)
{
    if (stream->avg_frame_rate.num > 0 && stream->avg_frame_rate.den > 0)
        return av_q2d(stream->avg_frame_rate);
    if (stream->r_frame_rate.num > 0 && stream->r_frame_rate.den > 0)
        return av_q2d(stream->r_frame_rate);
    return 0;
}

int decoder_open(video_decoder *d, const char *path, int threads, double max_seconds, vb_error *err)
{
    char text[AV_ERROR_MAX_STRING_SIZE];
    memset(d, 0, sizeof *d);
    d->path = path;
    d->stream_index = -1;
    d->frame_display_index = -1;
    pthread_once(&quiet_once, quiet_ffmpeg);
    if (!(max_seconds > 0))
        max_seconds = 300;
    d->deadline_us = av_gettime_relative() + (int64_t)(max_seconds * 1e6);

    struct stat st;
    if (stat(path, &st) != 0)
        return vb_error_set(err, errno == ENOENT ? VB_ENOTFOUND : VB_EIO, "%s: cannot open: %s", path,
                            strerror(errno));
    if (S_ISDIR(st.st_mode))
        return vb_error_set(err, VB_EIO, "%s: is a directory, not a video file", path);
    /* a FIFO or device could block in open() where the deadline cannot reach */
    if (!S_ISREG(st.st_mode))
        return vb_error_set(err, VB_EIO, "%s: not a regular file", path);
    if (st.st_size == 0)
        return vb_error_set(err, VB_EFORMAT, "%s: empty file (0 bytes)", path);

    int rc;
    d->format = avformat_alloc_context();
    if (!d->format)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    d->format->interrupt_callback.callback = deadline_passed;
    d->format->interrupt_callback.opaque = d;
    int ret = avformat_open_input(&d->format, path, NULL, NULL);
    if (ret < 0) {
        /* avformat_open_input frees the context on failure */
        if (ret == AVERROR_EXIT)
            return vb_error_set(err, VB_ELIMIT, "%s: opening took longer than %.0f s", path, max_seconds);
        return vb_error_set(err, ret == AVERROR(ENOENT) ? VB_ENOTFOUND : VB_EFORMAT,
                            "%s: not a readable media file: %s", path, av_text(ret, text, sizeof text));
    }
    ret = avformat_find_stream_info(d->format, NULL);
    if (ret < 0 && d->format->nb_streams == 0) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: cannot read stream information: %s", path,
                          av_text(ret, text, sizeof text));
        goto fail;
    }
    const AVCodec *decoder_codec = NULL;
    ret = av_find_best_stream(d->format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder_codec, 0);
    if (ret == AVERROR_STREAM_NOT_FOUND) {
        rc = vb_error_set(err, VB_ENOTFOUND, "%s: no video stream (%u stream%s of other kinds)", path,
                          d->format->nb_streams, d->format->nb_streams == 1 ? "" : "s");
        goto fail;
    }
    if (ret < 0 || !decoder_codec) {
        int idx = -1;
        for (unsigned i = 0; i < d->format->nb_streams; i++)
            if (d->format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
                idx = (int)i;
                break;
            }
        const char *name = idx >= 0 ? avcodec_get_name(d->format->streams[idx]->codecpar->codec_id) : "?";
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: no decoder for video codec '%s'", path, name);
        goto fail;
    }
    d->stream_index = ret;
    d->stream = d->format->streams[ret];
    for (unsigned i = 0; i < d->format->nb_streams; i++)
        if ((int)i != d->stream_index)
            d->format->streams[i]->discard = AVDISCARD_ALL;
    const AVCodecParameters *par = d->stream->codecpar;
    if (par->width < 0 || par->height < 0 || (int64_t)par->width * par->height > MAX_PIXELS) {
        rc = vb_error_set(err, VB_ELIMIT, "%s: frame size %dx%d exceeds the limit of %d pixels", path,
                          par->width, par->height, MAX_PIXELS);
        goto fail;
    }
    d->rotation_degrees = stream_rotation(d->stream);

    d->codec = avcodec_alloc_context3(decoder_codec);
    d->packet = av_packet_alloc();
    d->frame = av_frame_alloc();
    d->bgr = av_frame_alloc();
    if (!d->codec || !d->packet || !d->frame || !d->bgr) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    ret = avcodec_parameters_to_context(d->codec, par);
    if (ret >= 0) {
        /* Frame threads each hold frames in flight, so memory grows with them: "all cores"
         * means at most MAX_AUTO_THREADS, which keeps the 1080p bound on big machines. */
        if (threads <= 0) {
            threads = vb_threads_resolve(0);
            if (threads > MAX_AUTO_THREADS)
                threads = MAX_AUTO_THREADS;
        }
        d->codec->thread_count = threads;
        d->codec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
        d->codec->pkt_timebase = d->stream->time_base;
        ret = avcodec_open2(d->codec, decoder_codec, NULL);
    }
    if (ret < 0) {
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: cannot open the %s decoder: %s", path,
                          decoder_codec->name, av_text(ret, text, sizeof text));
        goto fail;
    }
    return VB_OK;
fail:
    decoder_close(d);
    return rc;
}

/* The demuxer's next packet of the video stream into d->packet. 1: one is there; 0: input
 * done (d->read_error keeps a container error: truncated or corrupt files keep what decoded);
 * < 0: error (deadline). */
static int read_stream_packet(video_decoder *d, vb_error *err)
{
    while (!d->input_done) {
        int ret = av_read_frame(d->format, d->packet);
        if (ret == AVERROR(EAGAIN))
            continue;
        if (ret == AVERROR_EXIT)
            return vb_error_set(err, VB_ELIMIT, "%s: reading exceeded its time limit", d->path);
        if (ret < 0) {
            if (ret != AVERROR_EOF)
                d->read_error = ret;
            d->input_done = 1;
            return 0;
        }
        if (d->packet->stream_index == d->stream_index)
            return 1;
        av_packet_unref(d->packet);
    }
    return 0;
}

typedef struct pts_entry {
    int64_t pts;
    int packet;
} pts_entry;

static int compare_pts(const void *a, const void *b)
{
    const pts_entry *x = a, *y = b;
    return x->pts < y->pts ? -1 : x->pts > y->pts ? 1 : x->packet - y->packet;
}

/* The stream's reorder depth: the most packets that precede one in decode order and follow
 * it in display order (H.264's max_num_reorder_frames), with a Fenwick tree over display
 * positions. -1 when out of memory. */
static int reorder_depth(const int *display_index, int count)
{
    if (count <= 0)
        return 0;
    int *tree = calloc((size_t)count + 1, sizeof *tree);
    if (!tree)
        return -1;
    int depth = 0;
    for (int k = 0; k < count; k++) {
        int earlier_before = 0; /* packets decoded earlier that display before this one */
        for (int i = display_index[k]; i > 0; i -= i & -i)
            earlier_before += tree[i];
        if (k - earlier_before > depth)
            depth = k - earlier_before;
        for (int i = display_index[k] + 1; i <= count; i += i & -i)
            tree[i]++;
    }
    free(tree);
    return depth;
}

static int queue_push(video_decoder *d, AVPacket *packet, int *capacity)
{
    if (d->queue_count == *capacity) {
        int grown = *capacity ? *capacity * 2 : 512;
        AVPacket **more = realloc(d->queue, (size_t)grown * sizeof *more);
        if (!more)
            return VB_ENOMEM;
        d->queue = more;
        *capacity = grown;
    }
    AVPacket *copy = av_packet_alloc();
    if (!copy)
        return VB_ENOMEM;
    av_packet_move_ref(copy, packet);
    d->queue[d->queue_count++] = copy;
    return VB_OK;
}

int decoder_prefetch(video_decoder *d, size_t max_bytes, vb_error *err)
{
    d->nal_length_size = d->stream->codecpar->codec_id == AV_CODEC_ID_H264
                             ? h264_avcc_length_size(d->stream->codecpar->extradata,
                                                        (size_t)d->stream->codecpar->extradata_size)
                             : 0;
    if (!d->nal_length_size || d->queue)
        return 0;
    size_t bytes = 0;
    int capacity = 0, whole_stream = 0, usable = 1;
    while (bytes <= max_bytes) {
        int ret = read_stream_packet(d, err);
        if (ret < 0)
            return ret;
        if (ret == 0) {
            whole_stream = !d->read_error;
            break;
        }
        /* packets the demuxer marks to discard (edit lists) decode without being output */
        if (d->packet->pts == AV_NOPTS_VALUE || (d->packet->flags & AV_PKT_FLAG_DISCARD))
            usable = 0;
        bytes += (size_t)d->packet->size;
        if (queue_push(d, d->packet, &capacity)) {
            av_packet_unref(d->packet);
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", d->path);
        }
    }
    int n = d->queue_count;
    if (!whole_stream || !usable || n == 0)
        return 0;
    pts_entry *order = malloc((size_t)n * sizeof *order);
    d->queue_display_index = malloc((size_t)n * sizeof *d->queue_display_index);
    d->display_pts = malloc((size_t)n * sizeof *d->display_pts);
    if (!order || !d->queue_display_index || !d->display_pts) {
        free(order);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", d->path);
    }
    for (int k = 0; k < n; k++)
        order[k] = (pts_entry){d->queue[k]->pts, k};
    qsort(order, (size_t)n, sizeof *order, compare_pts);
    for (int r = 0; r < n; r++) {
        if (r > 0 && order[r].pts == order[r - 1].pts)
            usable = 0; /* two frames at one time: display order is not known */
        d->display_pts[r] = order[r].pts;
        d->queue_display_index[order[r].packet] = r;
    }
    free(order);
    /* A decoder whose delay is shorter than the stream's reordering drops or misorders
     * frames while it adapts; what it would output then depends on which frames it saw. */
    int depth = usable ? reorder_depth(d->queue_display_index, n) : -1;
    if (depth < 0 || depth > d->codec->has_b_frames) {
        free(d->display_pts);
        d->display_pts = NULL;
        return 0;
    }
    return 1;
}

void decoder_set_droppable(video_decoder *d, const uint8_t *droppable)
{
    d->droppable = d->display_pts ? droppable : NULL;
}

/* The display position of a decoded frame from its pts; -1 when it is not a queued one. */
static int display_index_of(const video_decoder *d, int64_t pts)
{
    int lo = 0, hi = d->queue_count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->display_pts[mid] == pts)
            return mid;
        if (d->display_pts[mid] < pts)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The next packet of the stream: the prefetched queue first, then the demuxer.
 * 1: d->packet holds one; 0: input done; < 0: error. */
static int next_packet(video_decoder *d, vb_error *err)
{
    while (d->queue_next < d->queue_count) {
        int k = d->queue_next++;
        AVPacket *queued = d->queue[k];
        if (d->droppable && d->droppable[d->queue_display_index[k]] &&
            h264_packet_disposable(queued->data, (size_t)queued->size, d->nal_length_size)) {
            d->skipped_frames++;
            av_packet_free(&d->queue[k]);
            continue;
        }
        av_packet_move_ref(d->packet, queued);
        av_packet_free(&d->queue[k]);
        return 1;
    }
    return read_stream_packet(d, err);
}

int decoder_next(video_decoder *d, vb_error *err)
{
    for (;;) {
        if (av_gettime_relative() > d->deadline_us)
            return vb_error_set(err, VB_ELIMIT, "%s: decoding exceeded its time limit", d->path);
        int ret = avcodec_receive_frame(d->codec, d->frame);
        if (ret >= 0) {
            if (d->frame->width <= 0 || d->frame->height <= 0 ||
                (int64_t)d->frame->width * d->frame->height > MAX_PIXELS) {
                d->lost_frames++;
                av_frame_unref(d->frame);
                continue;
            }
            d->decoded_frames++;
            if (d->frame->decode_error_flags || (d->frame->flags & AV_FRAME_FLAG_CORRUPT))
                d->flagged_frames++;
            if (d->display_pts) {
                int index = display_index_of(d, d->frame->pts);
                if (index < 0 || index <= d->frame_display_index)
                    d->order_broken = 1;
                d->frame_display_index = index;
            }
            return 1;
        }
        if (ret == AVERROR_EOF)
            return 0;
        if (ret != AVERROR(EAGAIN)) {
            d->lost_frames++; /* this frame failed; the decoder goes on with the next */
            continue;
        }
        if (d->flushed)
            return 0; /* a decoder that wants input after the flush has nothing more */
        ret = next_packet(d, err);
        if (ret < 0)
            return ret;
        if (ret == 0) {
            avcodec_send_packet(d->codec, NULL);
            d->flushed = 1;
            continue;
        }
        ret = avcodec_send_packet(d->codec, d->packet);
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            d->lost_frames++;
        av_packet_unref(d->packet);
    }
}

/* True when every plane of frame holds `height` rows of its linesize inside its buffer,
 * so converting the coded size (as OpenCV does) reads only decoder-owned memory. */
static int planes_cover(const AVFrame *frame, int height)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
    if (!desc || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return 0;
    int planes = av_pix_fmt_count_planes(frame->format);
    for (int i = 0; i < planes; i++) {
        int rows = (i == 1 || i == 2) ? AV_CEIL_RSHIFT(height, desc->log2_chroma_h) : height;
        AVBufferRef *buf = av_frame_get_plane_buffer((AVFrame *)frame, i);
        if (!buf || !frame->data[i] || frame->linesize[i] <= 0)
            return 0;
        const uint8_t *end = frame->data[i] + (size_t)frame->linesize[i] * rows;
        if (frame->data[i] < buf->data || end > buf->data + buf->size)
            return 0;
    }
    return 1;
}

int decoder_bgr(video_decoder *d, const uint8_t **bgr, int *width, int *height, size_t *stride,
                   vb_error *err)
{
    AVFrame *f = d->frame;
    /* OpenCV converts the coded size (e.g. 352x256 for a 340x256 H.264 clip): swscale's x86
     * paths round the width to blocks, so the visible pixels depend on it. */
    int cw = d->codec->coded_width, ch = d->codec->coded_height;
    if (cw < f->width || ch < f->height || cw > f->width + 64 || ch > f->height + 64 ||
        !planes_cover(f, ch)) {
        cw = f->width;
        ch = f->height;
    }
    if (!d->sws || cw != d->sws_width || ch != d->sws_height || f->format != d->sws_format) {
        d->sws = sws_getCachedContext(d->sws, cw, ch, f->format, cw, ch, AV_PIX_FMT_BGR24, SWS_BICUBIC,
                                      NULL, NULL, NULL);
        av_frame_unref(d->bgr);
        d->bgr->format = AV_PIX_FMT_BGR24;
        d->bgr->width = cw;
        d->bgr->height = ch;
        if (!d->sws || av_frame_get_buffer(d->bgr, 32) < 0) {
            d->sws_width = 0;
            return vb_error_set(err, d->sws ? VB_ENOMEM : VB_EUNSUPPORTED,
                                "%s: cannot convert %s frames to BGR24", d->path,
                                av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
        }
        d->sws_width = cw;
        d->sws_height = ch;
        d->sws_format = f->format;
    }
    sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, ch, d->bgr->data, d->bgr->linesize);

    int w = f->width, h = f->height;
    if (d->rotation_degrees == 0) {
        *bgr = d->bgr->data[0];
        *width = w;
        *height = h;
        *stride = (size_t)d->bgr->linesize[0];
        return VB_OK;
    }
    size_t bytes = (size_t)w * h * 3;
    if (bytes > d->rotated_bytes) {
        free(d->rotated);
        d->rotated = malloc(bytes);
        d->rotated_bytes = d->rotated ? bytes : 0;
        if (!d->rotated)
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", d->path);
    }
    rotate_bgr(d->bgr->data[0], w, h, (size_t)d->bgr->linesize[0], d->rotation_degrees, d->rotated);
    int swap = d->rotation_degrees != 180;
    *bgr = d->rotated;
    *width = swap ? h : w;
    *height = swap ? w : h;
    *stride = (size_t)*width * 3;
    return VB_OK;
}

void decoder_close(video_decoder *d)
{
    if (!d)
        return;
    avcodec_free_context(&d->codec);
    avformat_close_input(&d->format);
    av_packet_free(&d->packet);
    av_frame_free(&d->frame);
    av_frame_free(&d->bgr);
    sws_freeContext(d->sws);
    free(d->rotated);
    for (int k = d->queue_next; k < d->queue_count; k++)
        av_packet_free(&d->queue[k]);
    free(d->queue);
    free(d->queue_display_index);
    free(d->display_pts);
    memset(d, 0, sizeof *d);
}
