/* Safe unpacking: archives written here with libarchive hold the entries an attacker would use
 * (absolute paths, "..", symlinks and hard links out of the target); none may write outside
 * the target. Truncated archives fail with VB_EFORMAT and leave no half-written file. */
#include "testlib.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/dataset.h"
#include "common/fsutil.h"

typedef struct test_entry {
    const char *name;
    const char *data;       /* regular file content, or NULL */
    const char *symlink;    /* symlink target */
    const char *hardlink;   /* hard-link target */
    int is_dir;
} test_entry;

static void write_archive(const char *path, const test_entry *entries, size_t n, int gzip)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, entries[i].name);
        archive_entry_set_perm(e, 0644);
        if (entries[i].symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, entries[i].symlink);
        } else if (entries[i].hardlink) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, entries[i].hardlink);
        } else if (entries[i].is_dir) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)strlen(entries[i].data));
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (entries[i].data)
            archive_write_data(a, entries[i].data, strlen(entries[i].data));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* Number of entries (files, dirs, links) below dir, recursively. */
static int count_tree(const char *dir, int *links)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        lstat(path, &st);
        n++;
        if (S_ISLNK(st.st_mode))
            (*links)++;
        else if (S_ISDIR(st.st_mode))
            n += count_tree(path, links);
    }
    closedir(d);
    return n;
}

static void hostile_entries_write_nothing_outside(void **state)
{
    (void)state;
    char box[1024], target[2048], archive[2048], abs_name[2048];
    snprintf(box, sizeof box, "%s", temp_path("unpack_box"));
    snprintf(target, sizeof target, "%s/a/b/target", box);
    snprintf(archive, sizeof archive, "%s/hostile.tar.gz", box);
    snprintf(abs_name, sizeof abs_name, "%s/absolute.txt", box);
    assert_int_equal(fs_mkdir_p(target, NULL), VB_OK);
    const test_entry entries[] = {
        {.name = "../dotdot.txt", .data = "x"},
        {.name = "ok/../../nested.txt", .data = "x"},
        {.name = abs_name, .data = "x"},
        {.name = "up_link", .symlink = "../../.."},
        {.name = "root_link", .symlink = "/"},
        {.name = "root_link/through.txt", .data = "x"},
        {.name = "up_link/through.txt", .data = "x"},
        {.name = "inside_link", .symlink = "ok"},
        {.name = "hard", .hardlink = "/etc/passwd"},
        {.name = "class dir", .is_dir = 1},
        {.name = "./class dir/R6llTwEh07w_000000_000010.mp4", .data = "clip"},
    };
    write_archive(archive, entries, sizeof entries / sizeof entries[0], 1);
    vb_unpack_result r;
    vb_error err = {0};
    int rc = vb_unpack_archive(archive, target, NULL, NULL, &r, &err);
    if (rc)
        fail_msg("unpack failed: %s", err.message);
    /* refused: ../, nested .., absolute, two escaping symlinks, escaping hard link */
    assert_int_equal(r.entries_refused, 6);
    assert_int_equal(r.entries_skipped, 1); /* the link that stays inside is not created */
    /* written: root_link/through.txt and up_link/through.txt become real directories inside
     * (the links were never created), plus the clip */
    assert_int_equal(r.files_written, 3);
    int links = 0;
    /* box holds: hostile.tar.gz and a/ (a/b/target/...) and nothing else */
    int outside_entries = count_tree(box, &links) - count_tree(target, &links);
    assert_int_equal(outside_entries, 1 + 3); /* hostile.tar.gz, a, a/b, a/b/target */
    assert_int_equal(links, 0);
    char clip[4096];
    snprintf(clip, sizeof clip, "%s/class dir/R6llTwEh07w_000000_000010.mp4", target);
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(clip, 100, &data, &size, NULL), VB_OK);
    assert_memory_equal(data, "clip", 4);
    free(data);
}

static void truncated_archive_is_format_error_without_leftovers(void **state)
{
    (void)state;
    char dir[1024], archive[2048], cut[2048], target[2048];
    snprintf(dir, sizeof dir, "%s", temp_path("unpack_trunc"));
    assert_int_equal(fs_mkdir_p(dir, NULL), VB_OK);
    snprintf(archive, sizeof archive, "%s/full.tar.gz", dir);
    snprintf(cut, sizeof cut, "%s/cut.tar.gz", dir);
    snprintf(target, sizeof target, "%s/out", dir);
    /* incompressible content so that half the archive is half a file */
    size_t big = 1 << 20;
    char *noise = malloc(big + 1);
    unsigned x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (char)('a' + (x >> 16) % 26);
    }
    noise[big] = '\0';
    const test_entry entries[] = {{.name = "first.txt", .data = "small"}, {.name = "big.txt", .data = noise}};
    write_archive(archive, entries, 2, 1);
    free(noise);
    char *bytes = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(archive, 64u << 20, &bytes, &size, NULL), VB_OK);
    assert_int_equal(fs_write_file_atomic(cut, bytes, size / 2, NULL), VB_OK);
    free(bytes);
    vb_unpack_result r;
    vb_error err = {0};
    int rc = vb_unpack_archive(cut, target, NULL, NULL, &r, &err);
    assert_int_equal(rc, VB_EFORMAT);
    assert_non_null(strstr(err.message, "cut.tar.gz"));
    assert_int_equal(r.files_written, 1); /* first.txt complete; big.txt never appears */
    int links = 0;
    assert_int_equal(count_tree(target, &links), 1);
    /* not an archive at all */
    rc = vb_unpack_archive(shared_path("data/labelmaps/kinetics400_label_map.txt"), target, NULL, NULL, &r, &err);
    assert_int_equal(rc, VB_EFORMAT);
}

static void plain_tar_is_accepted(void **state)
{
    (void)state;
    char archive[4096], target[4096];
    snprintf(archive, sizeof archive, "%s", temp_path("plain.tar.gz")); /* named .gz, is plain */
    snprintf(target, sizeof target, "%s", temp_path("plain_out"));
    const test_entry entries[] = {{.name = "val/x/R6llTwEh07w_000000_000010.mp4", .data = "clip"}};
    write_archive(archive, entries, 1, 0);
    vb_unpack_result r;
    vb_error err = {0};
    assert_int_equal(vb_unpack_archive(archive, target, NULL, NULL, &r, &err), VB_OK);
    assert_int_equal(r.files_written, 1);
}

/* One entry `name` of `bytes` bytes (a repeated byte, or noise when noisy), written in blocks;
 * with sparse_at >= 0 the entry is sparse: `bytes` declared, 16 real bytes at sparse_at. */
static void write_big_entry(const char *path, const char *name, int64_t bytes, int gzip, int noisy,
                            int64_t sparse_at)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, bytes);
    if (sparse_at >= 0)
        archive_entry_sparse_add_entry(e, sparse_at, 16);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    static char block[1 << 16];
    unsigned x = 777;
    int64_t left = sparse_at >= 0 ? 16 : bytes;
    while (left > 0) {
        size_t n = left < (int64_t)sizeof block ? (size_t)left : sizeof block;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            block[i] = noisy ? (char)(x >> 16) : 'z';
        }
        assert_true(archive_write_data(a, block, n) == (la_ssize_t)n);
        left -= (int64_t)n;
    }
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

/* Issue 13: a 64 MiB entry of one byte gzips to ~64 KB; ratio 50 of that is 3.2 MB, so the
 * 16 MiB floor is the cap and the unpack stops there, with nothing left behind. */
static void gzip_bomb_is_refused_by_ratio(void **state)
{
    (void)state;
    char archive[4096], target[4096];
    snprintf(archive, sizeof archive, "%s", temp_path("bomb.tar.gz"));
    snprintf(target, sizeof target, "%s", temp_path("bomb_out"));
    write_big_entry(archive, "zeros.mp4", (int64_t)64 << 20, 1, 0, -1);
    struct stat st;
    assert_int_equal(stat(archive, &st), 0);
    assert_true(st.st_size < (1 << 20)); /* the bomb is real: < 1 MiB packed, 64 MiB unpacked */
    vb_unpack_result r;
    vb_error err = {0};
    assert_int_equal(vb_unpack_archive(archive, target, NULL, NULL, &r, &err), VB_ELIMIT);
    assert_non_null(strstr(err.message, "bomb.tar.gz: unpacks to more than 16777216 bytes"));
    assert_non_null(strstr(err.message, "zeros.mp4"));
    int links = 0;
    assert_int_equal(count_tree(target, &links), 0); /* the temporary is gone */
}

/* The absolute cap, and the count of bytes written before it. */
static void absolute_cap_stops_the_unpack(void **state)
{
    (void)state;
    char archive[4096], target[4096];
    snprintf(archive, sizeof archive, "%s", temp_path("capped.tar"));
    snprintf(target, sizeof target, "%s", temp_path("capped_out"));
    write_big_entry(archive, "noise.bin", 5000, 0, 1, -1);
    vb_unpack_limits limits;
    vb_unpack_limits_init(&limits);
    limits.max_total_bytes = 4999;
    vb_unpack_result r;
    vb_error err = {0};
    assert_int_equal(vb_unpack_archive_limited(archive, target, &limits, NULL, NULL, &r, &err), VB_ELIMIT);
    assert_non_null(strstr(err.message, "more than 4999 bytes (the absolute cap"));
    limits.max_total_bytes = 5000;
    assert_int_equal(vb_unpack_archive_limited(archive, target, &limits, NULL, NULL, &r, &err), VB_OK);
    assert_int_equal(r.files_written, 1);
    assert_int_equal(r.bytes_written, 5000);
}

/* Issue 13: a sparse entry declaring 1 TiB became a 1 TiB file; it is refused like an unsafe
 * entry and the archive's other files still arrive. */
static void sparse_entry_is_refused(void **state)
{
    (void)state;
    char archive[4096], target[4096], path[8192];
    snprintf(archive, sizeof archive, "%s", temp_path("sparse.tar"));
    snprintf(target, sizeof target, "%s", temp_path("sparse_out"));
    write_big_entry(archive, "huge.mp4", (int64_t)1 << 40, 0, 1, ((int64_t)1 << 40) - 16);
    struct stat st;
    assert_int_equal(stat(archive, &st), 0);
    assert_true(st.st_size < (1 << 20)); /* the entry really is sparse in the archive */
    vb_unpack_result r;
    vb_error err = {0};
    int rc = vb_unpack_archive(archive, target, NULL, NULL, &r, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_int_equal(r.entries_refused, 1);
    assert_non_null(strstr(r.first_refused, "huge.mp4 (sparse)"));
    assert_int_equal(r.files_written, 0);
    snprintf(path, sizeof path, "%s/huge.mp4", target);
    assert_false(fs_path_exists(path));
}

/* Issue 13: one entry with a 300-byte name component failed the whole partition on every
 * retry; it is skipped as refused, the other entries are written. */
static void overlong_name_component_is_skipped(void **state)
{
    (void)state;
    char archive[4096], target[4096], long300[400], long245[400], ok241[400];
    snprintf(archive, sizeof archive, "%s", temp_path("longname.tar.gz"));
    snprintf(target, sizeof target, "%s", temp_path("longname_out"));
    memset(long300, 'a', 300);
    strcpy(long300 + 300, ".mp4");
    memset(long245, 'b', 241);
    strcpy(long245 + 241, ".mp4"); /* 245 bytes: fits NAME_MAX, not with the temp suffix */
    memset(ok241, 'c', 237);
    strcpy(ok241 + 237, ".mp4"); /* 241 bytes: the longest we can write */
    char in_dir[600];
    snprintf(in_dir, sizeof in_dir, "%s/x.mp4", long300);
    const test_entry entries[] = {
        {.name = long300, .data = "x"},
        {.name = in_dir, .data = "x"},
        {.name = long245, .data = "x"},
        {.name = ok241, .data = "ok"},
        {.name = "R6llTwEh07w_000000_000010.mp4", .data = "clip"},
    };
    write_archive(archive, entries, sizeof entries / sizeof entries[0], 1);
    vb_unpack_result r;
    vb_error err = {0};
    int rc = vb_unpack_archive(archive, target, NULL, NULL, &r, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_int_equal(r.entries_refused, 3);
    assert_int_equal(r.files_written, 2);
}

/* Issue 13: archive_read_support_filter_all let an archive run external programs (lrzip -d,
 * lzop -d) found on PATH. A fake lrzip/lzop that leaves a marker proves whether one ran. */
static void external_decompressors_never_run(void **state)
{
    (void)state;
    char bin[4096], marker[4096], script[8192], archive[8192], target[4096];
    snprintf(bin, sizeof bin, "%s", temp_path("fake_bin"));
    snprintf(marker, sizeof marker, "%s", temp_path("external_program_ran"));
    snprintf(target, sizeof target, "%s", temp_path("external_out"));
    assert_int_equal(fs_mkdir_p(bin, NULL), VB_OK);
    unlink(marker);
    static const char *const programs[] = {"lrzip", "lzop"};
    for (int i = 0; i < 2; i++) {
        snprintf(script, sizeof script, "%s/%s", bin, programs[i]);
        FILE *fp = fopen(script, "w");
        assert_non_null(fp);
        fprintf(fp, "#!/bin/sh\necho %s >> '%s'\ncat >/dev/null\nexit 1\n", programs[i], marker);
        fclose(fp);
        assert_int_equal(chmod(script, 0755), 0);
    }
    const char *old_path = getenv("PATH");
    char *saved = old_path ? strdup(old_path) : NULL;
    char path_env[8192];
    snprintf(path_env, sizeof path_env, "%s:%s", bin, old_path ? old_path : "/usr/bin:/bin");
    setenv("PATH", path_env, 1);
    /* lrzip: "LRZI", major 0, minor 6; lzop: its 9-byte magic. Padding after both. */
    static const unsigned char lrzip_head[] = {'L', 'R', 'Z', 'I', 0, 6};
    static const unsigned char lzop_head[] = {0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n'};
    const struct { const unsigned char *head; size_t n; const char *name; } inputs[] = {
        {lrzip_head, sizeof lrzip_head, "x.tar.lrz"}, {lzop_head, sizeof lzop_head, "x.tar.lzo"}};
    for (int i = 0; i < 2; i++) {
        snprintf(archive, sizeof archive, "%s/%s", bin, inputs[i].name);
        unsigned char bytes[4096] = {0};
        memcpy(bytes, inputs[i].head, inputs[i].n);
        assert_int_equal(fs_write_file_atomic(archive, bytes, sizeof bytes, NULL), VB_OK);
        vb_unpack_result r;
        vb_error err = {0};
        int rc = vb_unpack_archive(archive, target, NULL, NULL, &r, &err);
        assert_int_equal(rc, VB_EFORMAT);
    }
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
    if (fs_path_exists(marker)) {
        char *ran = NULL;
        fs_read_file(marker, 1000, &ran, NULL, NULL);
        fail_msg("an external decompressor ran: %s", ran ? ran : "?");
    }
}

static void prepare_keys_differ_by_every_parameter(void **state)
{
    (void)state;
    vb_video_options base;
    vb_video_options_init(&base);
    char k0[64], k[64];
    vb_prepare_key(&base, k0);
    assert_string_equal(k0, "s224-crop-t0-m0-fps0");
    vb_video_options o = base;
    o.size = 256;
    vb_prepare_key(&o, k);
    assert_string_not_equal(k, k0);
    o = base;
    o.resize = VB_RESIZE_PAD;
    vb_prepare_key(&o, k);
    assert_string_not_equal(k, k0);
    o = base;
    o.num_frames = 64;
    vb_prepare_key(&o, k);
    assert_string_not_equal(k, k0);
    o = base;
    o.min_frames = 128;
    vb_prepare_key(&o, k);
    assert_string_not_equal(k, k0);
    o = base;
    o.target_fps = 25;
    vb_prepare_key(&o, k);
    assert_string_not_equal(k, k0);
    o = base;
    o.threads = 7; /* does not change pixels: same key */
    vb_prepare_key(&o, k);
    assert_string_equal(k, k0);
}

static void empty_dataset_lists_nothing(void **state)
{
    (void)state;
    vb_dataset *ds = NULL;
    vb_error err = {0};
    assert_int_equal(vb_dataset_open(temp_path("empty_data"), &ds, &err), VB_OK);
    vb_dataset_clip_list list;
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, NULL, &list, &err), VB_OK);
    assert_int_equal(list.count, 0);
    vb_dataset_clip_list_free(&list);
    vb_video_options o;
    vb_video_options_init(&o);
    vb_frames clip;
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, "R6llTwEh07w_000000_000010", &o, &clip, &err),
                     VB_ENOTFOUND);
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, "../x", &o, &clip, &err), VB_EINVAL);
    vb_split_status *st;
    size_t n;
    assert_int_equal(vb_dataset_status(ds, &st, &n, &err), VB_OK);
    assert_int_equal(n, 0);
    free(st);
    vb_dataset_free(&ds);
    assert_null(ds);
    vb_dataset_free(&ds); /* NULL is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_entries_write_nothing_outside),
        cmocka_unit_test(truncated_archive_is_format_error_without_leftovers),
        cmocka_unit_test(plain_tar_is_accepted),
        cmocka_unit_test(gzip_bomb_is_refused_by_ratio),
        cmocka_unit_test(absolute_cap_stops_the_unpack),
        cmocka_unit_test(sparse_entry_is_refused),
        cmocka_unit_test(overlong_name_component_is_skipped),
        cmocka_unit_test(external_decompressors_never_run),
        cmocka_unit_test(prepare_keys_differ_by_every_parameter),
        cmocka_unit_test(empty_dataset_lists_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
