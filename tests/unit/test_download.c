/* Downloads against the local mirror (tests/tools/mirror_server.py on 127.0.0.1): complete
 * files, resume after a dropped connection (the server logs the Range request), retries on
 * 5xx, final 4xx, size/hash verification, a server that ignores Range, cancellation. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/download.h"
#include "common/fsutil.h"

#define PAYLOAD_BYTES 300000

static test_mirror mirror;
static char root[4096];
static unsigned char payload[PAYLOAD_BYTES];
static char payload_sha[65];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "%s", temp_path("download-root"));
    vb_error err = {0};
    if (fs_mkdir_p(root, &err) || fs_mkdir_p(temp_path("download-root/dir with space"), &err))
        return -1;
    unsigned x = 12345;
    for (size_t i = 0; i < PAYLOAD_BYTES; i++) {
        x = x * 1103515245u + 12345u;
        payload[i] = (unsigned char)(x >> 16);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/dir with space/file.bin", root);
    if (fs_write_file_atomic(path, payload, sizeof payload, &err))
        return -1;
    if (vb_sha256_file(path, payload_sha, &err))
        return -1;
    test_mirror_start(&mirror, root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_mirror_stop(&mirror);
    return 0;
}

static const char *file_url(void)
{
    static char url[256];
    snprintf(url, sizeof url, "%s/dir%%20with%%20space/file.bin", mirror.base_url);
    return url;
}

static void fast_options(vb_download_options *o)
{
    vb_download_options_init(o);
    o->initial_backoff_ms = 10;
    o->max_attempts = 4;
}

static void assert_file_is_payload(const char *path)
{
    char *data = NULL;
    size_t size = 0;
    vb_error err = {0};
    assert_int_equal(fs_read_file(path, 1 << 24, &data, &size, &err), VB_OK);
    assert_int_equal(size, PAYLOAD_BYTES);
    assert_memory_equal(data, payload, PAYLOAD_BYTES);
    free(data);
}

static const char *dest(const char *name)
{
    const char *path = temp_path(name);
    unlink(path);
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    unlink(part);
    return path;
}

static int part_exists(const char *path)
{
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    return fs_path_exists(part);
}

static void complete_download_verified(void **state)
{
    (void)state;
    vb_download_options o;
    fast_options(&o);
    o.expected_sha256 = payload_sha;
    o.expected_size_bytes = PAYLOAD_BYTES;
    vb_error err = {0};
    const char *path = dest("plain.bin");
    int rc = vb_download_file(file_url(), path, &o, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
    assert_false(part_exists(path));
}

static void dropped_connection_resumes_with_range(void **state)
{
    (void)state;
    test_mirror_set_faults(&mirror, "[{\"path\": \"/dir%20with%20space/file.bin\", \"drop_after\": 100000, \"times\": 1}]");
    vb_download_options o;
    fast_options(&o);
    o.expected_sha256 = payload_sha;
    vb_error err = {0};
    const char *path = dest("dropped.bin");
    int rc = vb_download_file(file_url(), path, &o, &err);
    test_mirror_set_faults(&mirror, "[]");
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
    /* The second request asked only for the bytes after the ones already on disk. */
    assert_int_equal(test_mirror_count_requests(&mirror, "bytes=100000-", "\"status\": 206", NULL), 1);
}

static void server_errors_are_retried(void **state)
{
    (void)state;
    test_mirror_set_faults(&mirror, "[{\"path\": \"/dir%20with%20space/file.bin\", \"status\": 503, \"times\": 2}]");
    int before = test_mirror_count_requests(&mirror, "\"status\": 503", NULL);
    vb_download_options o;
    fast_options(&o);
    vb_error err = {0};
    const char *path = dest("retried.bin");
    int rc = vb_download_file(file_url(), path, &o, &err);
    test_mirror_set_faults(&mirror, "[]");
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
    assert_int_equal(test_mirror_count_requests(&mirror, "\"status\": 503", NULL) - before, 2);
}

static void not_found_is_final_and_leaves_nothing(void **state)
{
    (void)state;
    vb_download_options o;
    fast_options(&o);
    vb_error err = {0};
    char url[256];
    snprintf(url, sizeof url, "%s/missing.bin", mirror.base_url);
    int before = test_mirror_count_requests(&mirror, "missing.bin", NULL);
    const char *path = dest("missing.bin");
    assert_int_equal(vb_download_file(url, path, &o, &err), VB_EHTTP);
    assert_non_null(strstr(err.message, "404"));
    assert_non_null(strstr(err.message, "missing.bin"));
    assert_false(fs_path_exists(path));
    assert_false(part_exists(path));
    assert_int_equal(test_mirror_count_requests(&mirror, "missing.bin", NULL) - before, 1);
}

static void truncated_body_fails_size_check(void **state)
{
    (void)state;
    test_mirror_set_faults(&mirror, "[{\"path\": \"/dir%20with%20space/file.bin\", \"truncate\": 1000}]");
    vb_download_options o;
    fast_options(&o);
    o.expected_size_bytes = PAYLOAD_BYTES;
    vb_error err = {0};
    const char *path = dest("truncated.bin");
    int rc = vb_download_file(file_url(), path, &o, &err);
    test_mirror_set_faults(&mirror, "[]");
    assert_int_equal(rc, VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "1000 bytes"));
    assert_false(fs_path_exists(path));
    assert_false(part_exists(path));
}

static void corrupted_byte_fails_hash_check(void **state)
{
    (void)state;
    test_mirror_set_faults(&mirror, "[{\"path\": \"/dir%20with%20space/file.bin\", \"corrupt_offset\": 777}]");
    vb_download_options o;
    fast_options(&o);
    o.expected_sha256 = payload_sha;
    vb_error err = {0};
    const char *path = dest("corrupt.bin");
    int rc = vb_download_file(file_url(), path, &o, &err);
    test_mirror_set_faults(&mirror, "[]");
    assert_int_equal(rc, VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "sha256"));
    assert_false(fs_path_exists(path));
    assert_false(part_exists(path));
}

static void server_ignoring_range_restarts_cleanly(void **state)
{
    (void)state;
    const char *path = dest("ignored-range.bin");
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    vb_error err = {0};
    /* A stale partial file whose bytes are wrong: a 200 answer must replace, not append. */
    assert_int_equal(fs_write_file_atomic(part, "garbage-garbage", 15, &err), VB_OK);
    test_mirror_set_faults(&mirror, "[{\"path\": \"/dir%20with%20space/file.bin\", \"ignore_range\": true}]");
    vb_download_options o;
    fast_options(&o);
    o.expected_sha256 = payload_sha;
    int rc = vb_download_file(file_url(), path, &o, &err);
    test_mirror_set_faults(&mirror, "[]");
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
}

static int cancel_after_first_bytes(void *user, int64_t done, int64_t total)
{
    (void)total;
    int *calls = user;
    ++*calls;
    return done > 0;
}

static void canceled_download_keeps_part_and_resumes(void **state)
{
    (void)state;
    test_mirror_set_faults(&mirror, "[]");
    const char *path = dest("canceled.bin");
    vb_download_options o;
    fast_options(&o);
    int calls = 0;
    o.progress = cancel_after_first_bytes;
    o.progress_user = &calls;
    vb_error err = {0};
    assert_int_equal(vb_download_file(file_url(), path, &o, &err), VB_ECANCELED);
    assert_false(fs_path_exists(path));
    assert_true(part_exists(path));
    fast_options(&o);
    o.expected_sha256 = payload_sha;
    int rc = vb_download_file(file_url(), path, &o, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
}

static void refused_connection_is_a_network_error(void **state)
{
    (void)state;
    vb_download_options o;
    fast_options(&o);
    o.max_attempts = 2;
    vb_error err = {0};
    /* Port 9 (discard) on loopback: nothing listens there in the test environment. */
    int rc = vb_download_file("http://127.0.0.1:9/x.bin", dest("refused.bin"), &o, &err);
    assert_int_equal(rc, VB_ENETWORK);
    assert_non_null(strstr(err.message, "127.0.0.1:9"));
}

static void small_resource_to_memory(void **state)
{
    (void)state;
    vb_download_options o;
    fast_options(&o);
    char *data = NULL;
    size_t size = 0;
    vb_error err = {0};
    assert_int_equal(vb_download_to_memory(file_url(), PAYLOAD_BYTES, &data, &size, &o, &err), VB_OK);
    assert_int_equal(size, PAYLOAD_BYTES);
    assert_memory_equal(data, payload, PAYLOAD_BYTES);
    free(data);
    assert_int_equal(vb_download_to_memory(file_url(), 1000, &data, &size, &o, &err), VB_ELIMIT);
    assert_null(data);
}

/* Bytes the server sent for the endless answer (its log line is written once it ended). */
static long endless_bytes_sent(const char *mode)
{
    (void)mode;
    long sent = -1;
    for (int tries = 0; tries < 200 && sent < 0; tries++) {
        FILE *fp = fopen(mirror.log_path, "r");
        char line[1024];
        while (fp && fgets(line, sizeof line, fp))
            if (strstr(line, "/endless.bin")) {
                const char *s = strstr(line, "\"sent\": ");
                if (s)
                    sent = strtol(s + 8, NULL, 10);
            }
        if (fp)
            fclose(fp);
        if (sent < 0)
            usleep(20000);
    }
    return sent;
}

/* A server that streams without end (no length, chunked, or a 1 TiB length) against a
 * pinned size or a cap: the transfer stops at the limit with VB_ELIMIT, nothing is kept, and
 * the server saw the client hang up long before its own 1 GiB safety bound. */
static void endless_stream_stops_at_the_limit(const char *mode, int pinned)
{
    char faults[256];
    snprintf(faults, sizeof faults, "[{\"path\": \"/endless.bin\", \"endless\": \"%s\"}]", mode);
    test_mirror_set_faults(&mirror, faults);
    truncate(mirror.log_path, 0);
    vb_download_options o;
    fast_options(&o);
    if (pinned)
        o.expected_size_bytes = PAYLOAD_BYTES;
    else
        o.max_size_bytes = 1 << 20;
    char url[256];
    snprintf(url, sizeof url, "%s/endless.bin", mirror.base_url);
    vb_error err = {0};
    const char *path = dest("endless.bin");
    int rc = vb_download_file(url, path, &o, &err);
    long sent = endless_bytes_sent(mode);
    test_mirror_set_faults(&mirror, "[]");
    assert_int_equal(rc, VB_ELIMIT);
    assert_non_null(strstr(err.message, "endless.bin"));
    assert_non_null(strstr(err.message, pinned ? "300000 bytes" : "1048576 bytes"));
    if (!strcmp(mode, "huge_length")) /* refused on the header, not after 1 MiB of body */
        assert_non_null(strstr(err.message, "announces 1099511627776 bytes"));
    assert_false(fs_path_exists(path));
    assert_false(part_exists(path));
    assert_true(sent >= 0);
    if (sent > (64L << 20))
        fail_msg("%s: the server sent %ld bytes before the client stopped", mode, sent);
    /* exactly one request: an over-long body is not retried */
    assert_int_equal(test_mirror_count_requests(&mirror, "/endless.bin", NULL), 1);
}

static void endless_body_without_length_stops_at_pinned_size(void **state)
{
    (void)state;
    endless_stream_stops_at_the_limit("close", 1);
}

static void endless_chunked_body_stops_at_cap(void **state)
{
    (void)state;
    endless_stream_stops_at_the_limit("chunked", 0);
}

static void declared_length_over_cap_is_refused_before_writing(void **state)
{
    (void)state;
    endless_stream_stops_at_the_limit("huge_length", 0);
}

static void part_longer_than_cap_is_discarded(void **state)
{
    (void)state;
    const char *path = dest("overlong-part.bin");
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    static unsigned char junk[PAYLOAD_BYTES + 10];
    vb_error err = {0};
    assert_int_equal(fs_write_file_atomic(part, junk, sizeof junk, &err), VB_OK);
    vb_download_options o;
    fast_options(&o);
    o.max_size_bytes = PAYLOAD_BYTES; /* the .part already holds more than the file can */
    o.expected_sha256 = payload_sha;
    int rc = vb_download_file(file_url(), path, &o, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_file_is_payload(path);
    assert_false(part_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_download_verified),
        cmocka_unit_test(dropped_connection_resumes_with_range),
        cmocka_unit_test(server_errors_are_retried),
        cmocka_unit_test(not_found_is_final_and_leaves_nothing),
        cmocka_unit_test(truncated_body_fails_size_check),
        cmocka_unit_test(corrupted_byte_fails_hash_check),
        cmocka_unit_test(server_ignoring_range_restarts_cleanly),
        cmocka_unit_test(canceled_download_keeps_part_and_resumes),
        cmocka_unit_test(refused_connection_is_a_network_error),
        cmocka_unit_test(small_resource_to_memory),
        cmocka_unit_test(endless_body_without_length_stops_at_pinned_size),
        cmocka_unit_test(endless_chunked_body_stops_at_cap),
        cmocka_unit_test(declared_length_over_cap_is_refused_before_writing),
        cmocka_unit_test(part_longer_than_cap_is_discarded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
