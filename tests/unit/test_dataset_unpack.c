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
    assert_int_equal(vb_mkdir_p(target, NULL), VB_OK);
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
    assert_int_equal(vb_read_file(clip, 100, &data, &size, NULL), VB_OK);
    assert_memory_equal(data, "clip", 4);
    free(data);
}

static void truncated_archive_is_format_error_without_leftovers(void **state)
{
    (void)state;
    char dir[1024], archive[2048], cut[2048], target[2048];
    snprintf(dir, sizeof dir, "%s", temp_path("unpack_trunc"));
    assert_int_equal(vb_mkdir_p(dir, NULL), VB_OK);
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
    assert_int_equal(vb_read_file(archive, 64u << 20, &bytes, &size, NULL), VB_OK);
    assert_int_equal(vb_write_file_atomic(cut, bytes, size / 2, NULL), VB_OK);
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
    vb_clip_list list;
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, NULL, &list, &err), VB_OK);
    assert_int_equal(list.count, 0);
    vb_clip_list_free(&list);
    vb_video_options o;
    vb_video_options_init(&o);
    vb_clip clip;
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, "R6llTwEh07w_000000_000010", &o, &clip, &err),
                     VB_ENOTFOUND);
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, "../x", &o, &clip, &err), VB_EINVAL);
    vb_split_status *st;
    size_t n;
    assert_int_equal(vb_dataset_status(ds, &st, &n, &err), VB_OK);
    assert_int_equal(n, 0);
    free(st);
    vb_dataset_close(&ds);
    assert_null(ds);
    vb_dataset_close(&ds); /* NULL is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_entries_write_nothing_outside),
        cmocka_unit_test(truncated_archive_is_format_error_without_leftovers),
        cmocka_unit_test(plain_tar_is_accepted),
        cmocka_unit_test(prepare_keys_differ_by_every_parameter),
        cmocka_unit_test(empty_dataset_lists_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
