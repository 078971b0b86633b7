/* Annotation, path-list and clip-name parsers: every real Kinetics file in ../shared parses
 * with the counts documented in ../shared/data/PROVENANCE.tsv, and malformed input is an
 * error naming the file and line, never a crash. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/dataset.h"
#include "vidbench/download.h"

static vb_annotations load_ok(const char *rel)
{
    vb_annotations a;
    vb_error err = {0};
    if (vb_annotations_load(shared_path(rel), &a, &err))
        fail_msg("%s: %s", rel, err.message);
    return a;
}

static void real_annotation_files_have_documented_counts(void **state)
{
    (void)state;
    /* counts from PROVENANCE.tsv (and issue 6) */
    const struct { const char *path; size_t rows; int labels; int has_labels; } files[] = {
        {"data/annotations/kinetics400/val.csv", 19906, 400, 1},
        {"data/annotations/kinetics400/test.csv", 38685, 0, 0},
        {"data/annotations/kinetics600/val.csv", 30000, 600, 1},
        {"data/annotations/kinetics600/val.txt", 29791, 600, 1},
        {"data/annotations/kinetics600/test.csv", 72924, 0, 0},
        {"data/annotations/kinetics700_2020/val.csv", 33966, 700, 1},
        {"data/annotations/kinetics700_2020/test.csv", 64535, 0, 0},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        vb_annotations a = load_ok(files[i].path);
        if (a.count != files[i].rows || a.label_count != files[i].labels || a.has_labels != files[i].has_labels)
            fail_msg("%s: %zu rows / %d labels / has_labels %d, expected %zu / %d / %d", files[i].path,
                     a.count, a.label_count, a.has_labels, files[i].rows, files[i].labels,
                     files[i].has_labels);
        vb_annotations_free(&a);
    }
}

static void k400_quoted_labels_and_lookup(void **state)
{
    (void)state;
    vb_annotations a = load_ok("data/annotations/kinetics400/val.csv");
    /* val.csv: "using segway",R6llTwEh07w,0,10,val,0 and ...,SOX5yA1l24A,299,309,... */
    long row = vb_annotations_find(&a, "R6llTwEh07w", 0);
    assert_true(row >= 0);
    assert_string_equal(vb_annotation_label(&a, (size_t)row), "using segway");
    assert_int_equal(a.rows[row].time_end, 10);
    row = vb_annotations_find(&a, "SOX5yA1l24A", -1);
    assert_true(row >= 0);
    assert_string_equal(vb_annotation_label(&a, (size_t)row), "using segway");
    assert_int_equal(a.rows[row].time_start, 299);
    /* first and last rows of the file */
    assert_string_equal(vb_annotation_label(&a, 0), "abseiling");
    assert_string_equal(a.rows[0].youtube_id, "0wR5jVB-WPk");
    assert_string_equal(vb_annotation_label(&a, a.count - 1), "zumba");
    assert_int_equal(vb_annotations_find(&a, "R6llTwEh07w", 5), -1);    /* wrong window */
    assert_int_equal(vb_annotations_find(&a, "notAnIdXXX_", -1), -1);   /* absent id */
    assert_int_equal(vb_annotations_find(&a, "short", -1), -1);
    vb_annotations_free(&a);
}

static void k700_crlf_repeated_ids_resolve_by_window(void **state)
{
    (void)state;
    vb_annotations a = load_ok("data/annotations/kinetics700_2020/val.csv");
    /* val.csv (CRLF, split 'validate'): V0Ls9oGswqA appears as 'assembling bicycle' 35-45
     * and 'fixing bicycle' 39-49 */
    long r1 = vb_annotations_find(&a, "V0Ls9oGswqA", 35);
    long r2 = vb_annotations_find(&a, "V0Ls9oGswqA", 39);
    assert_true(r1 >= 0 && r2 >= 0 && r1 != r2);
    assert_string_equal(vb_annotation_label(&a, (size_t)r1), "assembling bicycle");
    assert_string_equal(vb_annotation_label(&a, (size_t)r2), "fixing bicycle");
    /* no CR survives in labels */
    for (int i = 0; i < a.label_count; i++)
        if (strchr(a.labels[i], '\r'))
            fail_msg("label %d keeps a CR: '%s'", i, a.labels[i]);
    vb_annotations_free(&a);
}

static void k600_listing_labels_from_block_headers(void **state)
{
    (void)state;
    vb_annotations a = load_ok("data/annotations/kinetics600/val.txt");
    long row = vb_annotations_find(&a, "R6llTwEh07w", 0);
    assert_true(row >= 0);
    assert_string_equal(vb_annotation_label(&a, (size_t)row), "using segway");
    /* first block: "val/tying knot (not on a tie):" then OALI_5D8pV0_000174_000184.mp4 */
    assert_string_equal(a.rows[0].youtube_id, "OALI_5D8pV0");
    assert_int_equal(a.rows[0].time_start, 174);
    assert_string_equal(vb_annotation_label(&a, 0), "tying knot (not on a tie)");
    vb_annotations_free(&a);
}

static void test_csv_has_no_labels(void **state)
{
    (void)state;
    vb_annotations a = load_ok("data/annotations/kinetics400/test.csv");
    assert_int_equal(a.has_labels, 0);
    assert_null(vb_annotation_label(&a, 0));
    assert_string_equal(a.rows[0].youtube_id, "--6bJUbfpnQ");
    vb_annotations_free(&a);
}

static void csv_quoting_edge_cases(void **state)
{
    (void)state;
    const char text[] = "\xEF\xBB\xBFlabel,youtube_id,time_start,time_end,split\r\n"
                        "\"a, b \"\"c\"\"\",abcdefghijk,1,11,train\r\n"
                        "plain,ABCDEFGHIJK,0,10,train\r\n\r\n";
    vb_annotations a;
    vb_error err = {0};
    assert_int_equal(vb_annotations_parse(text, strlen(text), "mem", &a, &err), VB_OK);
    assert_int_equal(a.count, 2);
    assert_string_equal(vb_annotation_label(&a, 0), "a, b \"c\"");
    assert_string_equal(vb_annotation_label(&a, 1), "plain");
    vb_annotations_free(&a);
}

static void malformed_annotations_name_file_and_line(void **state)
{
    (void)state;
    const struct { const char *text; const char *expect; } bad[] = {
        {"", "empty"},
        {"foo,bar\n", "header lacks"},
        {"label,youtube_id,time_start,time_end\nx,short,1,2\n", "mem:2: youtube_id"},
        {"label,youtube_id,time_start,time_end\nx,abcdefghijk,5,2\n", "mem:2: time_start"},
        {"label,youtube_id,time_start,time_end\nx,abcdefghijk,-1,2\n", "mem:2"},
        {"label,youtube_id,time_start,time_end\n\"x,abcdefghijk,1,2\n", "mem:2: quoted field not closed"},
        {"label,youtube_id,time_start,time_end\nx,abcdefghijk,1\n", "mem:2: 3 fields"},
        {"label,youtube_id,time_start,time_end\n,abcdefghijk,1,2\n", "mem:2: empty"},
        {"val:\nval/a:\nnot_a_clip.mp4\n", "mem:3: not a clip file name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vb_annotations a;
        vb_error err = {0};
        int rc = vb_annotations_parse(bad[i].text, strlen(bad[i].text), "mem", &a, &err);
        if (rc != VB_EFORMAT || !strstr(err.message, bad[i].expect))
            fail_msg("case %zu: rc %d, message '%s', expected VB_EFORMAT with '%s'", i, rc, err.message,
                     bad[i].expect);
    }
    /* NUL bytes */
    vb_annotations a;
    vb_error err = {0};
    assert_int_equal(vb_annotations_parse("label\0,x\n", 9, "mem", &a, &err), VB_EFORMAT);
}

static void clip_names(void **state)
{
    (void)state;
    char id[12];
    int s, e;
    assert_int_equal(vb_clip_name_parse("R6llTwEh07w_000000_000010.mp4", id, &s, &e), VB_OK);
    assert_string_equal(id, "R6llTwEh07w");
    assert_int_equal(s, 0);
    assert_int_equal(e, 10);
    /* ids may begin with '-' or '_' and contain '_' (the id is the first 11 characters) */
    assert_int_equal(vb_clip_name_parse("dir/sub/__NrybzYzUg_000415_000425.mp4", id, &s, &e), VB_OK);
    assert_string_equal(id, "__NrybzYzUg");
    assert_int_equal(s, 415);
    assert_int_equal(vb_clip_name_parse("-_a_b_c_d_e_1234567_1234577.webm", id, &s, &e), VB_OK);
    assert_int_equal(s, 1234567);
    const char *bad[] = {"", "R6llTwEh07w.mp4", "R6llTwEh07w_0_10.mp4", "R6llTwEh07w_000010_000000.mp4",
                         "R6llTwEh07w_000000_000010", "R6llTwEh07w_000000_000010.", "R6ll!wEh07w_000000_000010.mp4",
                         "R6llTwEh07w_000000_000010.mp4/", "R6llTwEh07w-000000-000010.mp4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (vb_clip_name_parse(bad[i], id, &s, &e) != VB_EFORMAT)
            fail_msg("'%s' parsed as a clip name", bad[i]);
}

static void real_pathlists_have_documented_counts(void **state)
{
    (void)state;
    const struct { const char *name; size_t count; } lists[] = {
        {"k400_val_path.txt", 20},   {"k400_test_path.txt", 39}, {"k400_train_path.txt", 242},
        {"k600_train_path.txt", 600}, {"k600_val_path.txt", 600}, {"k600_test_path.txt", 60},
        {"k700_train_path.txt", 700}, {"k700_val_path.txt", 700}, {"k700_test_path.txt", 50},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "data/pathlists/%s", lists[i].name);
        vb_pathlist pl;
        vb_error err = {0};
        if (vb_pathlist_load(shared_path(rel), &pl, &err))
            fail_msg("%s: %s", rel, err.message);
        if (pl.count != lists[i].count)
            fail_msg("%s: %zu URLs, expected %zu", rel, pl.count, lists[i].count);
        vb_pathlist_free(&pl);
    }
}

static void k600_urls_keep_spaces_and_mirror_encodes_them(void **state)
{
    (void)state;
    vb_pathlist pl;
    vb_error err = {0};
    assert_int_equal(vb_pathlist_load(shared_path("data/pathlists/k600_val_path.txt"), &pl, &err), VB_OK);
    /* second line of the real list */
    assert_string_equal(pl.urls[1], "https://s3.amazonaws.com/kinetics/600/val/acting in play.tar.gz");
    char *m = vb_mirror_url(pl.urls[1], "http://127.0.0.1:8000/kin");
    assert_string_equal(m, "http://127.0.0.1:8000/kin/600/val/acting%20in%20play.tar.gz");
    free(m);
    m = vb_mirror_url(pl.urls[1], NULL); /* default mirror: only encoding */
    assert_string_equal(m, "https://s3.amazonaws.com/kinetics/600/val/acting%20in%20play.tar.gz");
    free(m);
    m = vb_mirror_url("https://elsewhere.org/x y", "http://m/"); /* other hosts are not rewritten */
    assert_string_equal(m, "https://elsewhere.org/x%20y");
    free(m);
    vb_pathlist_free(&pl);
}

static void malformed_pathlists(void **state)
{
    (void)state;
    vb_pathlist pl;
    vb_error err = {0};
    const char crlf[] = "https://a/b c.tar.gz \r\n\r\n  http://x/y\r\n";
    assert_int_equal(vb_pathlist_parse(crlf, strlen(crlf), "mem", &pl, &err), VB_OK);
    assert_int_equal(pl.count, 2);
    assert_string_equal(pl.urls[0], "https://a/b c.tar.gz");
    assert_string_equal(pl.urls[1], "http://x/y");
    vb_pathlist_free(&pl);
    /* A UTF-8 byte-order mark (Notepad) once made line 1 "not a URL". */
    const char bom[] = "\xEF\xBB\xBFhttps://a/b.tar.gz\nhttps://a/c.tar.gz\n";
    if (vb_pathlist_parse(bom, strlen(bom), "mem", &pl, &err) != VB_OK)
        fail_msg("BOM: %s", err.message);
    assert_int_equal(pl.count, 2);
    assert_string_equal(pl.urls[0], "https://a/b.tar.gz");
    vb_pathlist_free(&pl);
    const char *bad[] = {"ftp://x/y\n", "https://a/\x01\n", "not a url\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (vb_pathlist_parse(bad[i], strlen(bad[i]), "mem", &pl, &err) != VB_EFORMAT ||
            !strstr(err.message, "mem:1"))
            fail_msg("case %zu accepted or unnamed: %s", i, err.message);
    }
}

/* Issue 13: 500 repeats of one URL were fetched 500 times; the list keeps each URL once, in
 * first-seen order, and counts the repeats. */
static void pathlist_drops_repeated_urls(void **state)
{
    (void)state;
    size_t size = 0;
    char *text = malloc(600 * 64);
    assert_non_null(text);
    size += (size_t)sprintf(text + size, "https://a/first.tar.gz\n");
    for (int i = 0; i < 500; i++)
        size += (size_t)sprintf(text + size, "https://a/part_0.tar.gz\n");
    size += (size_t)sprintf(text + size, "https://a/first.tar.gz \r\nhttps://a/last.tar.gz\n");
    vb_pathlist pl;
    vb_error err = {0};
    assert_int_equal(vb_pathlist_parse(text, size, "mem", &pl, &err), VB_OK);
    assert_int_equal(pl.count, 3);
    assert_int_equal(pl.duplicates, 500);
    assert_string_equal(pl.urls[0], "https://a/first.tar.gz");
    assert_string_equal(pl.urls[1], "https://a/part_0.tar.gz");
    assert_string_equal(pl.urls[2], "https://a/last.tar.gz");
    vb_pathlist_free(&pl);
    free(text);
}

/* Issue 13: on a file:// mirror a "../" URL read local files into downloads/. */
static void urls_leaving_the_mirror_root_are_detected(void **state)
{
    (void)state;
    static const struct { const char *url; int escapes; } cases[] = {
        {"https://s3.amazonaws.com/kinetics/400/val/part_0.tar.gz", 0},
        {"https://s3.amazonaws.com/kinetics/400/val/../../../../etc/passwd", 1},
        {"https://s3.amazonaws.com/kinetics/400/val/%2e%2e/%2E%2e/secret", 1},
        {"https://s3.amazonaws.com/kinetics/400/val/..%2f..%2fsecret", 1},
        {"https://s3.amazonaws.com/kinetics/400/./val/x.tar.gz", 1},
        {"https://s3.amazonaws.com/kinetics/400/val/..", 1},
        {"https://s3.amazonaws.com/kinetics/400/val/x%3f/../y", 1},
        {"https://s3.amazonaws.com/kinetics/400/val/x.tar.gz?a=../b", 0},
        {"https://s3.amazonaws.com/kinetics/400/val/...tar.gz", 0},
        {"https://s3.amazonaws.com/kinetics/400/val/a..b/.hidden.tar.gz", 0},
        {"https://s3.amazonaws.com/kinetics/600/val/acting in play.tar.gz", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (vb_url_escapes_root(cases[i].url) != cases[i].escapes)
            fail_msg("%s: escapes %d, expected %d", cases[i].url, vb_url_escapes_root(cases[i].url),
                     cases[i].escapes);
}

static void splits_and_versions(void **state)
{
    (void)state;
    vb_split s;
    assert_int_equal(vb_split_parse("validate", &s), VB_OK);
    assert_int_equal(s, VB_SPLIT_VAL);
    assert_int_equal(vb_split_parse("Val", &s), VB_EINVAL);
    assert_string_equal(vb_split_name(VB_SPLIT_TEST), "test");
    assert_true(vb_kinetics_version_valid(700));
    assert_false(vb_kinetics_version_valid(710));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_annotation_files_have_documented_counts),
        cmocka_unit_test(k400_quoted_labels_and_lookup),
        cmocka_unit_test(k700_crlf_repeated_ids_resolve_by_window),
        cmocka_unit_test(k600_listing_labels_from_block_headers),
        cmocka_unit_test(test_csv_has_no_labels),
        cmocka_unit_test(csv_quoting_edge_cases),
        cmocka_unit_test(malformed_annotations_name_file_and_line),
        cmocka_unit_test(clip_names),
        cmocka_unit_test(real_pathlists_have_documented_counts),
        cmocka_unit_test(k600_urls_keep_spaces_and_mirror_encodes_them),
        cmocka_unit_test(malformed_pathlists),
        cmocka_unit_test(pathlist_drops_repeated_urls),
        cmocka_unit_test(urls_leaving_the_mirror_root_are_detected),
        cmocka_unit_test(splits_and_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
