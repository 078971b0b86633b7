/* The streaming decoder under the video ingest: FFmpeg demux + send/receive decode of the
 * best video stream with frame threading, a wall-clock deadline that also interrupts
 * blocking reads, and counting of frames lost to corrupt data. Optionally it reads the
 * whole stream first, so that it knows every frame's display position and can leave
 * undecoded the H.264 frames the caller drops and no other frame references. Internal. */
#ifndef VB_VIDEO_DECODER_H
#define VB_VIDEO_DECODER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "vidbench/error.h"

typedef struct video_decoder {
    const char *path;
    AVFormatContext *format;
    AVCodecContext *codec;
    AVStream *stream;
    int stream_index;
    AVPacket *packet;
    AVFrame *frame;                 /* the frame decoder_next returned */
    int rotation_degrees;           /* clockwise rotation to apply: 0, 90, 180, 270 */
    int64_t deadline_us;            /* av_gettime_relative() limit */
    int input_done, flushed;
    int decoded_frames, lost_frames;
    int read_error;                 /* the demuxer stopped on an error (truncated file) */
    /* BGR24 conversion the way OpenCV's CvCapture_FFMPEG::retrieveFrame does it */
    struct SwsContext *sws;
    AVFrame *bgr;                   /* coded_width x coded_height BGR24 */
    int sws_width, sws_height, sws_format;
    uint8_t *rotated;               /* rotated copy when rotation_degrees != 0 */
    size_t rotated_bytes;
    /* decoder_prefetch: the stream's packets in decode order, read before decoding */
    AVPacket **queue;
    int queue_count, queue_next;
    int *queue_display_index;       /* [queue_count] display position of each packet */
    int64_t *display_pts;           /* [queue_count] the packets' pts in display order */
    int nal_length_size;            /* H.264 avcC length prefix, 0 when not avcC */
    const uint8_t *droppable;       /* by display index: the caller drops that frame */
    int skipped_frames;             /* droppable frames not decoded at all */
    int frame_display_index;        /* of decoder->frame, when display_pts is known */
    int order_broken;               /* an output frame's pts was unknown or out of order */
    int flagged_frames;             /* frames the decoder marked corrupt (concealed errors) */
} video_decoder;

/* Opens path and its best video stream. threads: 0 = all cores; max_seconds bounds the
 * whole life of the decoder (open included). */
int decoder_open(video_decoder *decoder, const char *path, int threads, double max_seconds,
                    vb_error *err);
/* Reads the stream's packets ahead of decoding (at most max_bytes of them) and works out
 * each one's display position. Returns 1 when skipping is possible: the whole stream is
 * queued, it is H.264 in avcC form, every packet has its own pts, and the decoder's
 * reorder delay covers the stream's (so decoding the full stream would output every frame
 * in pts order); decoder->queue_count is then the frame count. 0: not possible (what was
 * read is decoded normally). < 0: error (deadline). */
int decoder_prefetch(video_decoder *decoder, size_t max_bytes, vb_error *err);
/* droppable[display index] != 0 marks frames the caller will not use; after a successful
 * prefetch, those whose packets are disposable (h264_packet_disposable) are not decoded.
 * decoder->frame_display_index then tells each output frame's display position. The
 * array must outlive the decoding. */
void decoder_set_droppable(video_decoder *decoder, const uint8_t *droppable);
/* 1: a frame is in decoder->frame; 0: end of stream; < 0: error (deadline, I/O). */
int decoder_next(video_decoder *decoder, vb_error *err);
/* Converts decoder->frame to BGR24 and applies the rotation: *bgr points at
 * (*height, *width, 3) rows *stride bytes apart, valid until the next call. */
int decoder_bgr(video_decoder *decoder, const uint8_t **bgr, int *width, int *height,
                   size_t *stride, vb_error *err);
void decoder_close(video_decoder *decoder);

/* Display rotation of a stream (clockwise degrees, 0/90/180/270) from its display matrix. */
int stream_rotation(const AVStream *stream);
/* Average frame rate of the stream (r_frame_rate if unknown), 0 when neither is known. */
double stream_fps(const AVStream *stream);

#endif
