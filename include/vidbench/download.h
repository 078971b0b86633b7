/* HTTP(S) downloads with libcurl, made for large files over flaky links: resume of a
 * partial file with a Range request, retries with exponential backoff on network errors
 * and 5xx, the file appears under its final name only once complete (and verified). */
#ifndef VIDBENCH_DOWNLOAD_H
#define VIDBENCH_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called as bytes arrive; total_bytes is -1 when the server did not say. Return non-zero to
 * abort the download (it stays resumable). */
typedef int (*vb_progress_fn)(void *user, int64_t done_bytes, int64_t total_bytes);

typedef struct vb_download_options {
    int max_attempts;          /* total tries; 0 = 5 */
    int initial_backoff_ms;    /* doubled after each failed try; 0 = 500 */
    int connect_timeout_s;     /* 0 = 20 */
    int low_speed_timeout_s;   /* abort a try that moves < 1 KiB/s this long; 0 = 60 */
    const char *expected_sha256;  /* lowercase hex; NULL = not checked */
    int64_t expected_size_bytes;  /* -1 or 0 = not checked */
    int64_t max_size_bytes;       /* > 0: a body (with what a resume already holds) longer than
                                     this is refused and its .part removed; 0 = no cap. The
                                     transfer also stops at expected_size_bytes when that is set,
                                     so a server that streams without end cannot fill the disk. */
    vb_progress_fn progress;
    void *progress_user;
} vb_download_options;

void vb_download_options_init(vb_download_options *options);

/* Downloads url to dest_path. Bytes go to dest_path + ".part", which a later call resumes
 * from; on success (and matching hash/size) it is renamed to dest_path. An HTTP 4xx is
 * final (VB_EHTTP, message with the status); network errors and 5xx are retried. A body
 * longer than the expected size or the cap (declared in Content-Length or sent) is VB_ELIMIT,
 * final, and leaves no .part: those bytes are not a prefix of the file. */
int vb_download_file(const char *url, const char *dest_path, const vb_download_options *options,
                     vb_error *err);

/* Downloads a small resource into memory (at most max_bytes). *data is NUL-terminated. */
int vb_download_to_memory(const char *url, size_t max_bytes, char **data, size_t *size_bytes,
                          const vb_download_options *options, vb_error *err);

/* 1 if the path of url (or of a bare relative path) has a "." or ".." segment, also
 * percent-encoded (%2e%2e, ..%2f): joined to a mirror root (a file:// one above all) it would
 * name something outside that root. */
int vb_url_escapes_root(const char *url);

/* sha256 of a file as 64 lowercase hex characters plus NUL. */
int vb_sha256_file(const char *path, char hex[65], vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
