/* The clip cache end to end through the library: a file:// mirror holding the two real K400
 * val clips (labels from the real val.csv) and a deliberately broken file is downloaded,
 * prepared and read back. Cached frames must equal a direct vb_video_decode_clip byte for
 * byte; the broken file is recorded with its reason; other parameters never hit the cache. */
#include "testlib.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/dataset.h"
#include "common/fsutil.h"

static const char *const segway_clips[2][2] = {
    {"data/videos/kinetics400/R6llTwEh07w.mp4", "R6llTwEh07w_000000_000010"},
    {"data/videos/kinetics400/SOX5yA1l24A.mp4", "SOX5yA1l24A_000299_000309"},
};
/* not a video: the label map's text under a clip name that no annotation row has */
static const char broken_clip_id[] = "vbbroken000_000000_000010";

static void add_file_entry(struct archive *a, const char *name, const char *src)
{
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(src, 64u << 20, &data, &size, NULL), VB_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, data, size);
    archive_entry_free(e);
    free(data);
}

/* mirror/400/val/{k400_val_path.txt, part_0.tar.gz}, mirror/400/annotations/val.csv */
static void build_mirror(const char *mirror)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/400/val", mirror);
    assert_int_equal(fs_mkdir_p(path, NULL), VB_OK);
    snprintf(path, sizeof path, "%s/400/annotations", mirror);
    assert_int_equal(fs_mkdir_p(path, NULL), VB_OK);
    char *csv = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(shared_path("data/annotations/kinetics400/val.csv"), 8u << 20, &csv, &size, NULL), VB_OK);
    snprintf(path, sizeof path, "%s/400/annotations/val.csv", mirror);
    assert_int_equal(fs_write_file_atomic(path, csv, size, NULL), VB_OK);
    free(csv);
    const char list[] = "https://s3.amazonaws.com/kinetics/400/val/part_0.tar.gz\n";
    snprintf(path, sizeof path, "%s/400/val/k400_val_path.txt", mirror);
    assert_int_equal(fs_write_file_atomic(path, list, strlen(list), NULL), VB_OK);
    snprintf(path, sizeof path, "%s/400/val/part_0.tar.gz", mirror);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < 2; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.mp4", segway_clips[i][1]);
        add_file_entry(a, name, shared_path(segway_clips[i][0]));
    }
    char name[128];
    snprintf(name, sizeof name, "%s.mp4", broken_clip_id);
    add_file_entry(a, name, shared_path("data/labelmaps/kinetics400_label_map.txt"));
    archive_write_close(a);
    archive_write_free(a);
}

static int count_clip_events(void *user, const vb_dataset_progress *p)
{
    if (p->event == VB_EVENT_CLIP_DONE || p->event == VB_EVENT_CLIP_BAD)
        (*(int *)user)++;
    return 0;
}

/* A mirror built by `build` under temp stem `name`_mirror, a dataset opened on `name`_data, and a
 * download request of K400 val from that mirror (file://). */
typedef struct mirrored {
    char mirror[1024], mirror_url[1100], data_dir[1024];
    vb_dataset *ds;
    vb_download_request dr;
} mirrored;

static void open_mirrored(mirrored *m, const char *name, void (*build)(const char *))
{
    char stem[128];
    snprintf(stem, sizeof stem, "%s_mirror", name);
    snprintf(m->mirror, sizeof m->mirror, "%s", temp_path(stem));
    snprintf(m->mirror_url, sizeof m->mirror_url, "file://%s/", m->mirror);
    snprintf(stem, sizeof stem, "%s_data", name);
    snprintf(m->data_dir, sizeof m->data_dir, "%s", temp_path(stem));
    build(m->mirror);
    vb_error err = {0};
    if (vb_dataset_open(m->data_dir, &m->ds, &err))
        fail_msg("%s: %s", m->data_dir, err.message);
    vb_download_request_init(&m->dr);
    m->dr.version = 400;
    m->dr.split = VB_SPLIT_VAL;
    m->dr.mirror = m->mirror_url;
    m->dr.min_free_bytes = 1;
}

static void prepared_clips_match_direct_decode(void **state)
{
    (void)state;
    static mirrored m;
    open_mirrored(&m, "prep", build_mirror);
    vb_dataset *ds = m.ds;
    vb_error err = {0};
    vb_download_request dr = m.dr;
    const char *mirror_url = m.mirror_url, *data_dir = m.data_dir;
    vb_download_result dres;
    if (vb_dataset_download(ds, &dr, &dres, &err))
        fail_msg("download from %s: %s", mirror_url, err.message);
    assert_int_equal(dres.clips_on_disk, 3);

    /* the downloaded annotation file through the public accessor: the real val.csv */
    vb_annotations annotations;
    assert_int_equal(vb_dataset_load_annotations(ds, 400, VB_SPLIT_VAL, &annotations, &err), VB_OK);
    assert_int_equal(annotations.count, 19906);
    assert_int_equal(annotations.label_count, 400);
    assert_true(annotations.has_labels);
    vb_annotations_free(&annotations);
    assert_int_equal(vb_dataset_load_annotations(ds, 400, VB_SPLIT_TRAIN, &annotations, &err), VB_ENOTFOUND);

    vb_dataset_clip_list list;
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, NULL, &list, &err), VB_OK);
    assert_int_equal(list.count, 3);
    for (size_t i = 0; i < list.count; i++) {
        /* labels: both real rows say 'using segway'; the broken file has no row */
        if (!strcmp(list.clips[i].clip_id, broken_clip_id))
            assert_null(list.clips[i].label);
        else
            assert_string_equal(list.clips[i].label, "using segway");
    }
    vb_dataset_clip_list_free(&list);

    vb_prepare_request pr;
    vb_prepare_request_init(&pr);
    pr.version = 400;
    pr.split = VB_SPLIT_VAL;
    pr.video.size = 64;
    pr.video.num_frames = 8;
    pr.jobs = 2;
    vb_prepare_result pres;
    if (vb_dataset_prepare(ds, &pr, &pres, &err))
        fail_msg("prepare: %s", err.message);
    assert_int_equal(pres.clips_considered, 3);
    assert_int_equal(pres.clips_cached, 2);
    assert_int_equal(pres.clips_bad, 1);

    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, &pr.video, &list, &err), VB_OK);
    for (size_t i = 0; i < list.count; i++) {
        const vb_dataset_clip *c = &list.clips[i];
        if (!strcmp(c->clip_id, broken_clip_id)) {
            assert_int_equal(c->status, VB_CLIP_BAD);
            assert_non_null(c->bad_reason);
            /* the reason names the file */
            if (!strstr(c->bad_reason, broken_clip_id))
                fail_msg("bad reason does not name the clip: %s", c->bad_reason);
            continue;
        }
        assert_int_equal(c->status, VB_CLIP_PREPARED);
        vb_frames cached, direct;
        assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, c->clip_id, &pr.video, &cached, &err), VB_OK);
        assert_int_equal(vb_video_decode_clip(c->path, &pr.video, &direct, &err), VB_OK);
        assert_int_equal(cached.num_frames, 8);
        assert_int_equal(cached.height, 64);
        assert_int_equal(cached.width, 64);
        assert_int_equal(cached.decoded_frames, direct.decoded_frames);
        assert_memory_equal(cached.frames, direct.frames, (size_t)8 * 64 * 64 * 3);
        vb_frames_free(&cached);
        vb_frames_free(&direct);
    }
    /* other parameters: nothing cached, status not PREPARED */
    vb_video_options other = pr.video;
    other.resize = VB_RESIZE_PAD;
    vb_frames clip;
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, segway_clips[0][1], &other, &clip, &err),
                     VB_ENOTFOUND);
    vb_dataset_clip_list_free(&list);

    /* a second run does no work: everything is cached or known bad */
    int events = 0;
    pr.progress = count_clip_events;
    pr.progress_user = &events;
    assert_int_equal(vb_dataset_prepare(ds, &pr, &pres, &err), VB_OK);
    assert_int_equal(pres.clips_cached, 2);
    assert_int_equal(pres.clips_bad, 1);
    assert_int_equal(events, 0);

    /* overwrite (the seed's --overwrite_cache): a tampered cache file stays without it and is
     * decoded again with it; the broken clip is tried again and stays bad */
    char key[64], cache_file[2048];
    vb_prepare_key(&pr.video, key);
    snprintf(cache_file, sizeof cache_file, "%s/cache/kinetics/400/val/%s/%s.vbclip", data_dir, key,
             segway_clips[0][1]);
    char *bytes = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(cache_file, 64u << 20, &bytes, &size, &err), VB_OK);
    bytes[size - 1] ^= 0x55; /* the last pixel byte */
    assert_int_equal(fs_write_file_atomic(cache_file, bytes, size, &err), VB_OK);
    free(bytes);
    vb_frames direct, cached;
    assert_int_equal(vb_video_decode_clip(shared_path(segway_clips[0][0]), &pr.video, &direct, &err), VB_OK);
    size_t clip_bytes = (size_t)8 * 64 * 64 * 3;
    assert_int_equal(vb_dataset_prepare(ds, &pr, &pres, &err), VB_OK);
    assert_int_equal(events, 0);
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, segway_clips[0][1], &pr.video, &cached, &err),
                     VB_OK);
    assert_int_not_equal(memcmp(cached.frames, direct.frames, clip_bytes), 0);
    vb_frames_free(&cached);
    pr.overwrite = 1;
    if (vb_dataset_prepare(ds, &pr, &pres, &err))
        fail_msg("prepare --overwrite: %s", err.message);
    assert_int_equal(events, 3);
    assert_int_equal(pres.clips_cached, 2);
    assert_int_equal(pres.clips_bad, 1);
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, segway_clips[0][1], &pr.video, &cached, &err),
                     VB_OK);
    assert_memory_equal(cached.frames, direct.frames, clip_bytes);
    vb_frames_free(&cached);
    vb_frames_free(&direct);
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, &pr.video, &list, &err), VB_OK);
    char second_path[2048] = "";
    for (size_t i = 0; i < list.count; i++) {
        assert_int_equal(list.clips[i].status,
                         strcmp(list.clips[i].clip_id, broken_clip_id) ? VB_CLIP_PREPARED : VB_CLIP_BAD);
        if (!strcmp(list.clips[i].clip_id, segway_clips[1][1]))
            snprintf(second_path, sizeof second_path, "%s", list.clips[i].path);
    }
    vb_dataset_clip_list_free(&list);

    /* a clip whose file went bad since: overwrite records it bad and removes its cache file */
    assert_true(second_path[0] != 0);
    assert_int_equal(fs_write_file_atomic(second_path, "not a video", 11, &err), VB_OK);
    assert_int_equal(vb_dataset_prepare(ds, &pr, &pres, &err), VB_OK);
    assert_int_equal(pres.clips_cached, 1);
    assert_int_equal(pres.clips_bad, 2);
    assert_int_equal(vb_dataset_load_prepared(ds, 400, VB_SPLIT_VAL, segway_clips[1][1], &pr.video, &cached, &err),
                     VB_ENOTFOUND);
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, &pr.video, &list, &err), VB_OK);
    for (size_t i = 0; i < list.count; i++)
        if (!strcmp(list.clips[i].clip_id, segway_clips[1][1]))
            assert_int_equal(list.clips[i].status, VB_CLIP_BAD);
    vb_dataset_clip_list_free(&list);
    vb_dataset_free(&ds);
}

static void partition_shards_split_every_partition_once(void **state)
{
    (void)state;
    for (int shards = 1; shards <= 7; shards++)
        for (size_t partitions = 0; partitions <= 25; partitions++) {
            int per_shard[7] = {0};
            for (size_t p = 0; p < partitions; p++) {
                const int s = vb_partition_shard(p, shards);
                assert_in_range(s, 0, shards - 1);
                assert_int_equal(s, (int)(p % (size_t)shards));   /* the documented rule */
                per_shard[s]++;
            }
            int lo = per_shard[0], hi = per_shard[0];
            for (int s = 1; s < shards; s++) {
                lo = per_shard[s] < lo ? per_shard[s] : lo;
                hi = per_shard[s] > hi ? per_shard[s] : hi;
            }
            assert_true(hi - lo <= 1);   /* balanced to within one partition */
        }
    assert_int_equal(vb_partition_shard(12, 0), 0);
}

/* Five one-file partitions; the files are text under clip names (prepare records them bad
 * quickly, which is all this test needs from it). */
static void build_partitioned_mirror(const char *mirror)
{
    char path[2048], list[1024] = "";
    snprintf(path, sizeof path, "%s/400/val", mirror);
    assert_int_equal(fs_mkdir_p(path, NULL), VB_OK);
    snprintf(path, sizeof path, "%s/400/annotations", mirror);
    assert_int_equal(fs_mkdir_p(path, NULL), VB_OK);
    const char csv[] = "label,youtube_id,time_start,time_end,split,is_cc\n";
    snprintf(path, sizeof path, "%s/400/annotations/val.csv", mirror);
    assert_int_equal(fs_write_file_atomic(path, csv, strlen(csv), NULL), VB_OK);
    for (int p = 0; p < 5; p++) {
        snprintf(list + strlen(list), sizeof list - strlen(list),
                 "https://s3.amazonaws.com/kinetics/400/val/part_%d.tar.gz\n", p);
        snprintf(path, sizeof path, "%s/400/val/part_%d.tar.gz", mirror, p);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        char name[128];
        snprintf(name, sizeof name, "vbpart%05d_000000_000010.mp4", p);
        add_file_entry(a, name, shared_path("data/labelmaps/kinetics400_label_map.txt"));
        archive_write_close(a);
        archive_write_free(a);
    }
    snprintf(path, sizeof path, "%s/400/val/k400_val_path.txt", mirror);
    assert_int_equal(fs_write_file_atomic(path, list, strlen(list), NULL), VB_OK);
}

static void partition_shard_downloads_and_prepares_only_its_partitions(void **state)
{
    (void)state;
    static mirrored m;
    open_mirrored(&m, "part", build_partitioned_mirror);
    vb_dataset *ds = m.ds;
    vb_error err = {0};
    vb_download_request dr = m.dr;
    const char *data_dir = m.data_dir;
    dr.shard_index = 3;
    dr.shard_count = 3;
    vb_download_result dres;
    assert_int_equal(vb_dataset_download(ds, &dr, &dres, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "shard 3/3"));

    /* shard 1 of 3 owns partitions 1 and 4 */
    dr.shard_index = 1;
    if (vb_dataset_download(ds, &dr, &dres, &err))
        fail_msg("download shard 1/3: %s", err.message);
    assert_int_equal(dres.partitions_total, 2);
    assert_int_equal(dres.partitions_done, 2);
    assert_int_equal(dres.clips_on_disk, 2);
    char raw[2048];
    for (int p = 0; p < 5; p++) {
        snprintf(raw, sizeof raw, "%s/raw/kinetics/400/val/vbpart%05d_000000_000010.mp4", data_dir, p);
        if (fs_path_exists(raw) != (p == 1 || p == 4))
            fail_msg("partition %d: on disk %d after shard 1/3's download", p, fs_path_exists(raw));
    }
    vb_dataset_clip_list list;
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, NULL, &list, &err), VB_OK);
    assert_int_equal(list.count, 2);
    assert_int_equal(list.clips[0].partition, 1);
    assert_int_equal(list.clips[1].partition, 4);
    vb_dataset_clip_list_free(&list);

    /* shard 0 in the same data dir: its partitions 0 and 3 join; the listing keeps partition order */
    dr.shard_index = 0;
    if (vb_dataset_download(ds, &dr, &dres, &err))
        fail_msg("download shard 0/3: %s", err.message);
    assert_int_equal(dres.partitions_total, 2);
    assert_int_equal(dres.clips_on_disk, 2);   /* its own, not shard 1's */
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, NULL, &list, &err), VB_OK);
    assert_int_equal(list.count, 4);
    const size_t expected[4] = {0, 1, 3, 4};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(list.clips[i].partition, expected[i]);
    vb_dataset_clip_list_free(&list);

    /* prepare of shard 1 considers its two clips only */
    vb_prepare_request pr;
    vb_prepare_request_init(&pr);
    pr.video.size = 32;
    pr.video.num_frames = 4;
    pr.shard_index = 1;
    pr.shard_count = 3;
    vb_prepare_result pres;
    if (vb_dataset_prepare(ds, &pr, &pres, &err))
        fail_msg("prepare shard 1/3: %s", err.message);
    assert_int_equal(pres.clips_considered, 2);
    assert_int_equal(pres.clips_bad, 2);
    assert_int_equal(vb_dataset_clips(ds, 400, VB_SPLIT_VAL, &pr.video, &list, &err), VB_OK);
    for (size_t i = 0; i < list.count; i++)   /* shard 0's clips were not touched */
        assert_int_equal(list.clips[i].status, list.clips[i].partition % 3 == 1 ? VB_CLIP_BAD : VB_CLIP_UNPACKED);
    vb_dataset_clip_list_free(&list);
    vb_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepared_clips_match_direct_decode),
        cmocka_unit_test(partition_shards_split_every_partition_once),
        cmocka_unit_test(partition_shard_downloads_and_prepares_only_its_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
