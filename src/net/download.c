/* HTTP(S)/file downloads with libcurl (see download.h). A download writes to DEST.part and
 * resumes it with a Range request; the final name appears only after the whole body arrived
 * and matched the expected size/sha256. Network errors and 5xx are retried with backoff. */
#define _GNU_SOURCE
#include "vidbench/download.h"
#include "common/fsutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { ERROR_BODY_MAX_BYTES = 1 << 20 };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void init_curl(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vb_download_options_init(vb_download_options *options)
{
    memset(options, 0, sizeof *options);
    options->max_attempts = 5;
    options->initial_backoff_ms = 500;
    options->connect_timeout_s = 20;
    options->low_speed_timeout_s = 60;
    options->expected_size_bytes = -1;
    options->max_size_bytes = 0;
}

/* The most bytes the finished file may have: the expected size or the cap, whichever is
 * smaller; 0 when neither is set. */
static int64_t size_limit(const vb_download_options *o)
{
    int64_t limit = o->expected_size_bytes > 0 ? o->expected_size_bytes : 0;
    if (o->max_size_bytes > 0 && (limit == 0 || o->max_size_bytes < limit))
        limit = o->max_size_bytes;
    return limit;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One transfer's state, shared by the write and progress callbacks. */
typedef struct transfer {
    CURL *curl;
    FILE *fp;                 /* file sink, or NULL for memory */
    char *memory;             /* memory sink */
    size_t memory_used, memory_limit;
    int64_t resume_from;      /* bytes already in the .part file when the try began */
    int64_t written;          /* bytes written in this try */
    int64_t size_limit;       /* > 0: resume_from + written may not pass it (file sink) */
    int64_t declared_bytes;   /* resume_from + Content-Length when it exceeded size_limit */
    int over_limit;
    int write_errno;          /* errno of a failed fwrite */
    int64_t error_body_bytes; /* body of a >= 400 answer, read and dropped */
    int error_body_cut;
    const vb_download_options *options;
} transfer;

static long response_code(CURL *curl)
{
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    transfer *t = user;
    size_t n = size * count;
    long code = response_code(t->curl);
    if (code >= 400) {
        /* Error pages are not file content; the status decides what happens. One that never
         * ends is cut off rather than read forever. */
        t->error_body_bytes += (int64_t)n;
        if (t->error_body_bytes > ERROR_BODY_MAX_BYTES) {
            t->error_body_cut = 1;
            return 0;
        }
        return n;
    }
    if (t->fp) {
        if (t->size_limit > 0) {
            /* Refuse a declared length over the limit before writing a byte, and stop a body
             * without (or beyond) a length at the limit: never more than it reaches the disk. */
            curl_off_t declared = -1;
            if (t->written == 0 &&
                curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared) == CURLE_OK &&
                declared > 0 && t->resume_from + (int64_t)declared > t->size_limit) {
                t->declared_bytes = t->resume_from + (int64_t)declared;
                t->over_limit = 1;
                return 0;
            }
            if ((int64_t)n > t->size_limit - t->resume_from - t->written) {
                t->over_limit = 1;
                return 0;
            }
        }
        if (fwrite(data, 1, n, t->fp) != n) {
            t->write_errno = errno;
            return 0;
        }
    } else {
        if (t->memory_used + n > t->memory_limit) {
            t->over_limit = 1;
            return 0;
        }
        memcpy(t->memory + t->memory_used, data, n);
        t->memory_used += n;
    }
    t->written += (int64_t)n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    transfer *t = user;
    if (!t->options->progress)
        return 0;
    int64_t base = t->resume_from;
    int64_t total = dltotal > 0 ? base + (int64_t)dltotal : -1;
    return t->options->progress(t->options->progress_user, base + (int64_t)dlnow, total);
}

static int retryable_curl_error(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Sets up the options every transfer shares. */
static void configure(CURL *curl, const char *url, transfer *t, char *error_buffer)
{
    const vb_download_options *o = t->options;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "vidbench/0.1 (libcurl)");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)(o->connect_timeout_s > 0 ? o->connect_timeout_s : 20));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)(o->low_speed_timeout_s > 0 ? o->low_speed_timeout_s : 60));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
}

static int64_t file_size_or_zero(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

int vb_sha256_file(const char *path, char hex[65], vb_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return vb_error_set(err, VB_EIO, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = VB_OK;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: cannot start sha256", path);
        goto done;
    }
    unsigned char buffer[1 << 16];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, fp)) > 0)
        EVP_DigestUpdate(ctx, buffer, got);
    if (ferror(fp)) {
        rc = vb_error_set(err, VB_EIO, "%s: read failed: %s", path, strerror(errno));
        goto done;
    }
    unsigned char digest[32];
    unsigned int digest_len = 0;
    EVP_DigestFinal_ex(ctx, digest, &digest_len);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", digest[i]);
    hex[64] = '\0';
done:
    EVP_MD_CTX_free(ctx);
    fclose(fp);
    return rc;
}

/* Checks a complete .part against the expected size and hash; removes it if it is wrong,
 * since resuming a corrupt file can never succeed. */
static int verify_part(const char *url, const char *part_path, const vb_download_options *o,
                       vb_error *err)
{
    if (o->expected_size_bytes > 0) {
        int64_t size = file_size_or_zero(part_path);
        if (size != o->expected_size_bytes) {
            unlink(part_path);
            return vb_error_set(err, VB_ECHECKSUM, "%s: got %lld bytes, expected %lld", url,
                                (long long)size, (long long)o->expected_size_bytes);
        }
    }
    if (o->expected_sha256) {
        char hex[65];
        int rc = vb_sha256_file(part_path, hex, err);
        if (rc)
            return rc;
        if (strcmp(hex, o->expected_sha256) != 0) {
            unlink(part_path);
            return vb_error_set(err, VB_ECHECKSUM, "%s: sha256 %s does not match the expected %s",
                                url, hex, o->expected_sha256);
        }
    }
    return VB_OK;
}

int vb_download_file(const char *url, const char *dest_path, const vb_download_options *options,
                     vb_error *err)
{
    vb_download_options defaults;
    if (!options) {
        vb_download_options_init(&defaults);
        options = &defaults;
    }
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return vb_error_set(err, VB_ENETWORK, "libcurl failed to initialise: %s",
                            curl_easy_strerror(curl_init_result));
    char *part_path = NULL;
    if (asprintf(&part_path, "%s.part", dest_path) < 0)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", dest_path);
    int attempts = options->max_attempts > 0 ? options->max_attempts : 5;
    int backoff_ms = options->initial_backoff_ms > 0 ? options->initial_backoff_ms : 500;
    int rc = VB_ENETWORK;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) {
            sleep_ms(backoff_ms);
            backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
        }
        transfer t = {.options = options, .size_limit = size_limit(options)};
        t.resume_from = file_size_or_zero(part_path);
        if (t.size_limit > 0 && t.resume_from > t.size_limit) {
            unlink(part_path);   /* longer than the file can be: not a prefix of it */
            t.resume_from = 0;
        }
        t.fp = fopen(part_path, "ab");
        if (!t.fp) {
            rc = vb_error_set(err, VB_EIO, "%s: cannot open: %s", part_path, strerror(errno));
            break;
        }
        t.curl = curl_easy_init();
        if (!t.curl) {
            fclose(t.fp);
            rc = vb_error_set(err, VB_ENOMEM, "%s: cannot create a libcurl handle", url);
            break;
        }
        char curl_error[CURL_ERROR_SIZE] = "";
        configure(t.curl, url, &t, curl_error);
        if (t.resume_from > 0)
            curl_easy_setopt(t.curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t.resume_from);
        CURLcode result = curl_easy_perform(t.curl);
        long code = response_code(t.curl);
        int close_failed = fclose(t.fp) != 0;
        curl_easy_cleanup(t.curl);
        if (t.over_limit) {
            /* Not retried: a server that sent too much once will again, and the bytes on
             * disk are not a prefix of the file we expect. */
            unlink(part_path);
            if (t.declared_bytes > 0)
                rc = vb_error_set(err, VB_ELIMIT, "%s: the server announces %lld bytes, more than the %lld bytes "
                                  "expected; nothing kept", url, (long long)t.declared_bytes,
                                  (long long)t.size_limit);
            else
                rc = vb_error_set(err, VB_ELIMIT, "%s: the server sent more than the %lld bytes expected; "
                                  "stopped there, partial file removed", url, (long long)t.size_limit);
            break;
        }
        if (result == CURLE_ABORTED_BY_CALLBACK) {
            rc = vb_error_set(err, VB_ECANCELED, "%s: download canceled (partial file kept for resume)", url);
            break;
        }
        if ((result == CURLE_WRITE_ERROR && !t.error_body_cut) || close_failed) {
            int saved = t.write_errno ? t.write_errno : errno;
            rc = vb_error_set(err, fs_write_error_code(saved), "%s: cannot write %s: %s", url, part_path,
                              strerror(saved));
            break;
        }
        if (result == CURLE_RANGE_ERROR) {
            /* The server answered a Range request with the whole file (no resume support):
             * drop the partial bytes and fetch from the start on the next try. */
            unlink(part_path);
            rc = vb_error_set(err, VB_ENETWORK, "%s: server does not support resuming; restarting", url);
            attempt--;   /* not a failure of the link: do not spend a try on it */
            if (t.resume_from == 0)
                break;   /* cannot happen without a Range request; never loop */
            continue;
        }
        if (code == 416 && t.resume_from > 0) {
            /* Our .part is not a prefix the server recognises (file changed or complete and
             * unverifiable): start over once rather than trust it. */
            unlink(part_path);
            rc = vb_error_set(err, VB_EHTTP, "%s: HTTP 416 for a resume at byte %lld", url, (long long)t.resume_from);
            continue;
        }
        if (code >= 400 && code < 500) {
            rc = vb_error_set(err, VB_EHTTP, "%s: HTTP %ld", url, code);
            if (t.resume_from == 0)
                unlink(part_path);
            break;
        }
        if (code >= 500) {
            rc = vb_error_set(err, VB_EHTTP, "%s: HTTP %ld (try %d of %d)", url, code, attempt, attempts);
            continue;
        }
        if (result != CURLE_OK) {
            rc = vb_error_set(err, VB_ENETWORK, "%s: %s (try %d of %d, %lld bytes kept for resume)", url,
                              curl_error[0] ? curl_error : curl_easy_strerror(result), attempt,
                              attempts, (long long)file_size_or_zero(part_path));
            if (retryable_curl_error(result))
                continue;
            break;
        }
        if ((rc = verify_part(url, part_path, options, err)))
            break;
        if (rename(part_path, dest_path) != 0) {
            rc = vb_error_set(err, VB_EIO, "%s: cannot rename into place: %s", dest_path, strerror(errno));
            break;
        }
        rc = VB_OK;
        break;
    }
    free(part_path);
    return rc;
}

int vb_download_to_memory(const char *url, size_t max_bytes, char **data, size_t *size_bytes,
                          const vb_download_options *options, vb_error *err)
{
    vb_download_options defaults;
    if (!options) {
        vb_download_options_init(&defaults);
        options = &defaults;
    }
    *data = NULL;
    if (size_bytes)
        *size_bytes = 0;
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return vb_error_set(err, VB_ENETWORK, "libcurl failed to initialise");
    char *buffer = malloc(max_bytes + 1);
    if (!buffer)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", url);
    int attempts = options->max_attempts > 0 ? options->max_attempts : 5;
    int backoff_ms = options->initial_backoff_ms > 0 ? options->initial_backoff_ms : 500;
    int rc = VB_ENETWORK;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) {
            sleep_ms(backoff_ms);
            backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
        }
        transfer t = {.options = options, .memory = buffer, .memory_limit = max_bytes};
        t.curl = curl_easy_init();
        if (!t.curl) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: cannot create a libcurl handle", url);
            break;
        }
        char curl_error[CURL_ERROR_SIZE] = "";
        configure(t.curl, url, &t, curl_error);
        CURLcode result = curl_easy_perform(t.curl);
        long code = response_code(t.curl);
        curl_easy_cleanup(t.curl);
        if (t.over_limit) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: response larger than %zu bytes", url, max_bytes);
            break;
        }
        if (result == CURLE_ABORTED_BY_CALLBACK) {
            rc = vb_error_set(err, VB_ECANCELED, "%s: download canceled", url);
            break;
        }
        if (code >= 400) {
            rc = vb_error_set(err, VB_EHTTP, "%s: HTTP %ld", url, code);
            if (code < 500)
                break;
            continue;
        }
        if (result != CURLE_OK) {
            rc = vb_error_set(err, VB_ENETWORK, "%s: %s (try %d of %d)", url,
                              curl_error[0] ? curl_error : curl_easy_strerror(result), attempt, attempts);
            if (retryable_curl_error(result))
                continue;
            break;
        }
        buffer[t.memory_used] = '\0';
        *data = buffer;
        if (size_bytes)
            *size_bytes = t.memory_used;
        return VB_OK;
    }
    free(buffer);
    return rc;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vb_url_escapes_root(const char *url)
{
    if (!url)
        return 0;
    /* The path starts after "scheme://authority"; a URL without "://" is all path. */
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        return 0;
    /* Decode first (a server or file:// decodes %2e%2e and %2f too), then look at segments. */
    size_t segment_length = 0;
    int segment_dots = 1; /* segment so far holds dots only */
    for (;; p++) {
        char c = *p;
        int end = c == '\0' || c == '?' || c == '#'; /* raw only: a decoded %3F is a name byte */
        if (c == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0) {
            c = (char)(hex_value(p[1]) * 16 + hex_value(p[2]));
            p += 2;
        }
        if (end || c == '/' || c == '\\') {
            if (segment_dots && (segment_length == 1 || segment_length == 2))
                return 1;
            if (end)
                return 0;
            segment_length = 0;
            segment_dots = 1;
            continue;
        }
        segment_length++;
        segment_dots = segment_dots && c == '.';
    }
}
