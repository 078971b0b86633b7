/* Report: escaping of untrusted text, relative links, the results CSV and summary.json
 * readers, metrics derived from predictions, and the page written from them. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/report.h"
#include "common/fsutil.h"
#include "report/report_internal.h"

static const char hostile_label[] = "<script>alert(\"x\")</script> & 'arm' wrestling";

static char *read_text(const char *path)
{
    char *data = NULL;
    size_t size = 0;
    vb_error err = {0};
    if (fs_read_file(path, 64u << 20, &data, &size, &err))
        fail_msg("%s", err.message);
    return data;
}

/* ---- escaping ---- */

static void escape_turns_markup_and_quotes_into_entities(void **state)
{
    (void)state;
    char out[256];
    size_t needed = vb_html_escape(hostile_label, out, sizeof out);
    const char *expected = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;arm&#39; wrestling";
    assert_string_equal(out, expected);
    assert_int_equal(needed, strlen(expected));
}

static void escape_replaces_invalid_utf8_and_controls(void **state)
{
    (void)state;
    char out[64];
    /* "é" (valid 2-byte), a lone continuation byte, an overlong "/" (C0 AF), ESC, tab kept. */
    vb_html_escape("\xC3\xA9|\x80|\xC0\xAF|\x1B|\t", out, sizeof out);
    assert_string_equal(out, "\xC3\xA9|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD|\t");
    /* A surrogate encoded in UTF-8 (ED A0 80) is not valid UTF-8 either. */
    vb_html_escape("\xED\xA0\x80", out, sizeof out);
    assert_string_equal(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void escape_never_cuts_an_entity(void **state)
{
    (void)state;
    char out[8];
    /* "a&lt;" needs 5 bytes and fits; the next "&gt;" would not fit whole in the 7 left. */
    size_t needed = vb_html_escape("a<<b", out, sizeof out);
    assert_int_equal(needed, strlen("a&lt;&lt;b"));
    assert_string_equal(out, "a&lt;");
}

/* ---- relative links ---- */

static void href_is_relative_and_percent_encoded(void **state)
{
    (void)state;
    vb_error err = {0};
    const char *root = temp_path("href");
    char site[512], clips[512], clip[600];
    snprintf(site, sizeof site, "%s/site/deep", root);
    snprintf(clips, sizeof clips, "%s/clips", root);
    assert_int_equal(fs_mkdir_p(site, &err), VB_OK);
    assert_int_equal(fs_mkdir_p(clips, &err), VB_OK);
    snprintf(clip, sizeof clip, "%s/a \"b\" <c>&#?%%.mp4", clips);
    char *href = NULL;
    assert_int_equal(report_relative_href(site, clip, &href, &err), VB_OK);
    assert_string_equal(href, "../../clips/a%20%22b%22%20%3Cc%3E%26%23%3F%25.mp4");
    free(href);
    /* A file inside the page's folder: no "../". */
    snprintf(clip, sizeof clip, "%s/site/deep/x.gif", root);
    assert_int_equal(report_relative_href(site, clip, &href, &err), VB_OK);
    assert_string_equal(href, "x.gif");
    free(href);
    /* A sibling whose name starts like the folder's ("deeper" vs "deep"). */
    snprintf(clip, sizeof clip, "%s/site/deeper", root);
    assert_int_equal(fs_mkdir_p(clip, &err), VB_OK);
    snprintf(clip, sizeof clip, "%s/site/deeper/y.mp4", root);
    assert_int_equal(report_relative_href(site, clip, &href, &err), VB_OK);
    assert_string_equal(href, "../deeper/y.mp4");
    free(href);
}

/* ---- results CSV ---- */

/* Two clips: one right (top-1), one wrong at top-1 but right at top-2. */
static const char two_rows_csv[] =
    "\xEF\xBB\xBF,video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,score_1,score_2\r\n"
    "0,clip_a,AAAAAAAAAAA,\"using segway\",using segway,\"a, b\",0.75,0.25\r\n"
    "1,clip_b,BBBBBBBBBBB,\"<script>alert(\"\"x\"\")</script> & 'arm' wrestling\",\"multi\nline\","
    "\"<script>alert(\"\"x\"\")</script> & 'arm' wrestling\",0.5,0.5\r\n";

static void csv_reads_quoting_crlf_bom_and_extra_columns(void **state)
{
    (void)state;
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    int rc = vb_report_parse_results_csv(&report, two_rows_csv, strlen(two_rows_csv), "two.csv", &err);
    if (rc)
        fail_msg("parse failed: %s", err.message);
    assert_int_equal(report.num_clips, 2);
    const vb_report_clip *a = vb_report_clip_find(&report, "clip_a");
    const vb_report_clip *b = vb_report_clip_find(&report, "clip_b");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->youtube_id, "AAAAAAAAAAA");
    assert_string_equal(a->label, "using segway");
    assert_int_equal(a->num_predictions, 2);
    assert_string_equal(a->pred_labels[1], "a, b");
    assert_true(a->pred_scores[0] == 0.75);
    assert_string_equal(b->label, hostile_label);
    assert_string_equal(b->pred_labels[0], "multi\nline");
    assert_string_equal(b->pred_labels[1], hostile_label);
    vb_report_free(&report);
}

static void expect_csv_error(const char *text, int code, const char *needle)
{
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    int rc = vb_report_parse_results_csv(&report, text, strlen(text), "bad.csv", &err);
    if (rc != code || !strstr(err.message, needle) || !strstr(err.message, "bad.csv"))
        fail_msg("input %.60s: got %d '%s', want %d with '%s'", text, rc, err.message, code, needle);
    vb_report_free(&report);
}

static void csv_rejects_malformed_input_with_line_numbers(void **state)
{
    (void)state;
    const char *header = "video_id,YouTube_Id,Ground_Truth,pred_1,score_1\n";
    char text[512];
    expect_csv_error("", VB_EFORMAT, "empty file");
    expect_csv_error("a,b,c\n1,2,3\n", VB_EFORMAT, "header lacks video_id");
    expect_csv_error("video_id,Ground_Truth\nx,y\n", VB_EFORMAT, "pred_1/score_1");
    expect_csv_error(header, VB_EFORMAT, "no result rows");
    snprintf(text, sizeof text, "%sx,,y,z,0.5\nw,,y,z\n", header);
    expect_csv_error(text, VB_EFORMAT, "bad.csv:3: 4 fields");
    snprintf(text, sizeof text, "%sx,,y,z,abc\n", header);
    expect_csv_error(text, VB_EFORMAT, "bad.csv:2: score_1 'abc'");
    snprintf(text, sizeof text, "%sx,,y,z,1.5\n", header);
    expect_csv_error(text, VB_EFORMAT, "not a probability");
    snprintf(text, sizeof text, "%sx,,y,z,nan\n", header);
    expect_csv_error(text, VB_EFORMAT, "not a probability");
    snprintf(text, sizeof text, "%sx,,y,z,0.5\nx,,y,z,0.5\n", header);
    expect_csv_error(text, VB_EFORMAT, "bad.csv:3: video_id appears twice");
    snprintf(text, sizeof text, "%sx,,\"y,z,0.5\n", header);
    expect_csv_error(text, VB_EFORMAT, "not closed");
    snprintf(text, sizeof text, "%sx,,\"y\"q,z,0.5\n", header);
    expect_csv_error(text, VB_EFORMAT, "stray quote");
    snprintf(text, sizeof text, "%sx,,y,,0.5\n", header);
    expect_csv_error(text, VB_EFORMAT, "pred_1 is empty");
    /* An embedded NUL byte. */
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    const char with_nul[] = "video_id,Ground_Truth,pred_1,score_1\nx,y\0,z,0.5\n";
    assert_int_equal(vb_report_parse_results_csv(&report, with_nul, sizeof with_nul - 1, "nul.csv", &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "NUL"));
    vb_report_free(&report);
}

/* ---- metrics ---- */

static void metrics_follow_the_seed_definitions(void **state)
{
    (void)state;
    /* 4 clips: a right; b wrong at top-1, right at top-2; c wrong (as a); d right.
     * top-1 = 2/4, top-2 = 3/4; classes: A 1/2, B 0/1, D 1/1 -> mean (0.5+0+1)/3 = 0.5;
     * confusions: B->A once, A->X once. */
    const char *csv = "video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,score_1,score_2\n"
                      "a,,A,A,X,0.9,0.1\n"
                      "b,,B,A,B,0.6,0.4\n"
                      "c,,A,X,Y,0.7,0.3\n"
                      "d,,D,D,A,0.8,0.2\n";
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    assert_int_equal(vb_report_parse_results_csv(&report, csv, strlen(csv), "m.csv", &err), VB_OK);
    assert_int_equal(vb_report_finish(&report, 3, &err), VB_OK);
    const vb_report_evaluation *ev = &report.evaluation;
    assert_true(ev->present);
    assert_int_equal(ev->evaluated, 4);
    assert_int_equal(ev->top_n, 2);
    assert_true(ev->top1 == 0.5);
    assert_true(ev->topn == 0.75);
    assert_true(ev->mean_class_accuracy == 0.5);
    assert_int_equal(ev->num_classes, 3);
    assert_string_equal(ev->classes[0].label, "A");
    assert_int_equal(ev->classes[0].total, 2);
    assert_int_equal(ev->classes[0].correct, 1);
    assert_int_equal(ev->num_confusions, 2);
    assert_int_equal(report.num_sample, 3);
    /* Class distribution from the CSV rows (no local files): A 2, B 1, D 1. */
    assert_int_equal(report.dataset.num_classes, 3);
    assert_string_equal(report.dataset.classes[0].label, "A");
    assert_int_equal(report.dataset.classes[0].count, 2);
    vb_report_free(&report);
}

/* ---- summary.json ---- */

/* The shape vidbench evaluate writes (src/eval/outputs.c on the eval branch). */
static const char eval_summary[] =
    "{\"configuration\": \"model=movinet.tflite input=172 resize=stretch frames=16\", \"num_classes\": 600,"
    " \"clips\": {\"selected\": 5, \"evaluated\": 4, \"skipped\": 1},"
    " \"top_n\": 5, \"top1_accuracy\": 0.5, \"topn_accuracy\": 0.75, \"mean_class_accuracy\": 0.4,"
    " \"timing\": {\"decode_ms\": 100.5, \"preprocess_ms\": 20, \"model_ms\": 300,"
    "   \"decode_ms_per_clip\": 20.1, \"wall_s_this_run\": 1.5},"
    " \"per_class\": [{\"class\": \"<b>bold</b>\", \"clips\": 2, \"top1_correct\": 1, \"in_model\": false}],"
    " \"most_confused\": [{\"true\": \"a\", \"predicted\": \"b\", \"count\": 2}],"
    " \"skipped\": [{\"clip_id\": \"broken_000000_000010\", \"reason\": \"decode: invalid data\"}]}";

static void summary_reads_the_evaluation_schema(void **state)
{
    (void)state;
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    int rc = vb_report_parse_summary(&report, eval_summary, strlen(eval_summary), "summary.json", &err);
    if (rc)
        fail_msg("%s", err.message);
    const vb_report_evaluation *ev = &report.evaluation;
    assert_true(ev->present);
    assert_string_equal(ev->model, "model=movinet.tflite input=172 resize=stretch frames=16");
    /* The frames and crop the model saw, for the previews. */
    assert_int_equal(ev->num_frames, 16);
    assert_int_equal(ev->resize, VB_RESIZE_STRETCH);
    assert_int_equal(ev->evaluated, 4);
    assert_int_equal(ev->skipped, 1);
    assert_true(ev->top1 == 0.5 && ev->topn == 0.75 && ev->mean_class_accuracy == 0.4);
    assert_int_equal(ev->num_stages, 3); /* decode, preprocess, model: per-clip and wall ignored */
    assert_string_equal(ev->stages[0].name, "decode");
    assert_true(ev->stages[0].ms == 100.5);
    assert_int_equal(ev->num_classes, 1);
    assert_string_equal(ev->classes[0].label, "<b>bold</b>");
    assert_int_equal(ev->classes[0].total, 2);
    assert_true(ev->classes[0].not_in_model);
    assert_int_equal(ev->num_confusions, 1);
    assert_string_equal(ev->confusions[0].truth, "a");
    assert_int_equal(ev->num_skipped_clips, 1);
    assert_string_equal(ev->skipped_clips[0].reason, "decode: invalid data");
    vb_report_free(&report);

    /* the plain fields of newer summaries win over the configuration string */
    const char *fields = "{\"configuration\": \"model=m resize=stretch frames=16\", \"num_frames\": 32,"
                         " \"resize\": \"pad\", \"top1_accuracy\": 0.5}";
    vb_report_init(&report);
    assert_int_equal(vb_report_parse_summary(&report, fields, strlen(fields), "summary.json", &err), VB_OK);
    assert_int_equal(report.evaluation.num_frames, 32);
    assert_int_equal(report.evaluation.resize, VB_RESIZE_PAD);
    vb_report_free(&report);
}

static void summary_rejects_bad_types_and_ranges(void **state)
{
    (void)state;
    const struct { const char *json, *needle; } cases[] = {
        {"not json", "not valid JSON"},
        {"[1,2]", "top level"},
        {"{\"top1_accuracy\": \"high\"}", "top1_accuracy"},
        {"{\"top1_accuracy\": 140}", "top1_accuracy"},
        {"{\"clips\": {\"evaluated\": -3}}", "evaluated"},
        {"{\"per_class\": [{\"class\": \"a\", \"clips\": 1, \"top1_correct\": 2}]}", "correct <= total"},
        {"{\"most_confused\": [{\"true\": \"a\"}]}", "confused_pairs"},
        {"{\"timing\": {\"model_ms\": -1}}", "non-negative"},
        {"{\"skipped\": [3]}", "clip_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vb_report report;
        vb_report_init(&report);
        vb_error err = {0};
        int rc = vb_report_parse_summary(&report, cases[i].json, strlen(cases[i].json), "s.json", &err);
        if (rc >= 0 || !strstr(err.message, cases[i].needle) || !strstr(err.message, "s.json"))
            fail_msg("%s: got %d '%s', want an error mentioning '%s'", cases[i].json, rc, err.message, cases[i].needle);
        vb_report_free(&report);
    }
    /* Percentages are accepted and read as fractions. */
    vb_report report;
    vb_report_init(&report);
    const char *percent = "{\"top1_accuracy\": 56.25}";
    assert_int_equal(vb_report_parse_summary(&report, percent, strlen(percent), "p.json", NULL), VB_OK);
    assert_true(report.evaluation.top1 == 0.5625);
    vb_report_free(&report);
}

/* Found by fuzz/fuzz_report.c: a summary without any CSV row leaves the clip list empty. */
static void summary_alone_makes_a_page(void **state)
{
    (void)state;
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    assert_int_equal(vb_report_parse_summary(&report, eval_summary, strlen(eval_summary), "s.json", &err), VB_OK);
    assert_int_equal(vb_report_finish(&report, 8, &err), VB_OK);
    assert_int_equal(report.num_sample, 0);
    const char *path = temp_path("summary_only.html");
    assert_int_equal(vb_report_write_html(&report, path, &err), VB_OK);
    char *page = read_text(path);
    assert_non_null(strstr(page, "id=\"top1-accuracy\">50.00%"));
    free(page);
    vb_report_free(&report);
}

/* ---- the page ---- */

static void page_shows_hostile_text_escaped(void **state)
{
    (void)state;
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    assert_int_equal(vb_report_parse_results_csv(&report, two_rows_csv, strlen(two_rows_csv), "two.csv", &err), VB_OK);
    report.title = hostile_label;
    assert_int_equal(vb_report_finish(&report, 8, &err), VB_OK);
    const char *path = temp_path("escape_page.html");
    assert_int_equal(vb_report_write_html(&report, path, &err), VB_OK);
    char *page = read_text(path);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "alert(\""));
    assert_null(strstr(page, "'arm'"));
    const char *escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;arm&#39; wrestling";
    /* In the <title>, the header, the class chart, the sample row and the per-class table. */
    int count = 0;
    for (const char *p = page; (p = strstr(p, escaped)); p++)
        count++;
    if (count < 5)
        fail_msg("escaped label found %d times, want >= 5", count);
    assert_non_null(strstr(page, "multi\nline"));
    assert_non_null(strstr(page, "Content-Security-Policy"));
    free(page);
    vb_report_free(&report);
}

static void local_videos_match_csv_rows_and_get_media(void **state)
{
    (void)state;
    vb_error err = {0};
    const char *site = temp_path("media_site");
    assert_int_equal(fs_mkdir_p(site, &err), VB_OK);
    /* The real K400 val clips; ground truth from ../shared/data/PROVENANCE.tsv. */
    const char *csv = "video_id,YouTube_Id,Ground_Truth,pred_1,score_1\n"
                      "R6llTwEh07w_000000_000010,R6llTwEh07w,using segway,using segway,0.9\n";
    vb_report report;
    vb_report_init(&report);
    assert_int_equal(vb_report_parse_results_csv(&report, csv, strlen(csv), "r.csv", &err), VB_OK);
    const char *videos[] = {shared_path("data/videos/kinetics400/R6llTwEh07w.mp4")};
    assert_int_equal(vb_report_add_videos(&report, videos, 1, site, &err), VB_OK);
    /* Matched by YouTube id: one clip, now with a local file. */
    assert_int_equal(report.num_clips, 1);
    assert_non_null(report.clips[0].video_href);
    assert_non_null(strstr(report.clips[0].video_href, "../"));
    assert_int_equal(vb_report_finish(&report, 4, &err), VB_OK);
    vb_report_media_options media;
    vb_report_media_options_init(&media);
    media.video.num_frames = test_sanitized() ? 4 : 16;
    media.preview_size = 64;
    char files[600];
    snprintf(files, sizeof files, "%s/page_files", site);
    int rc = vb_report_build_media(&report, site, files, &media, &err);
    if (rc)
        fail_msg("%s", err.message);
    const vb_report_clip *clip = &report.clips[0];
    if (!clip->has_info)
        fail_msg("probe failed: %s", clip->probe_note ? clip->probe_note : "?");
    /* 340x256 at 30 fps, 10.1 s: ../shared/data/PROVENANCE.tsv probe summary. */
    assert_int_equal(clip->info.width, 340);
    assert_int_equal(clip->info.height, 256);
    if (!clip->preview_href)
        fail_msg("no preview: %s", clip->preview_note ? clip->preview_note : "?");
    assert_string_equal(clip->preview_href, "page_files/preview_000.gif");
    char gif[700];
    snprintf(gif, sizeof gif, "%s/preview_000.gif", files);
    char *data = read_text(gif);
    assert_memory_equal(data, "GIF8", 4);
    free(data);
    /* The figure uses the seed's rule: 8 -> 5 keeps 0,1,3,4,6; 8 -> 12 repeats. */
    const vb_report_resampling *figure = &report.resampling;
    assert_true(figure->present);
    assert_int_equal(figure->source_count, 8);
    int want_down[] = {0, 1, 3, 4, 6};
    assert_memory_equal(figure->down_indices, want_down, sizeof want_down);
    int want_up[] = {0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7};
    assert_memory_equal(figure->up_indices, want_up, sizeof want_up);
    vb_report_free(&report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_turns_markup_and_quotes_into_entities),
        cmocka_unit_test(escape_replaces_invalid_utf8_and_controls),
        cmocka_unit_test(escape_never_cuts_an_entity),
        cmocka_unit_test(href_is_relative_and_percent_encoded),
        cmocka_unit_test(csv_reads_quoting_crlf_bom_and_extra_columns),
        cmocka_unit_test(csv_rejects_malformed_input_with_line_numbers),
        cmocka_unit_test(metrics_follow_the_seed_definitions),
        cmocka_unit_test(summary_reads_the_evaluation_schema),
        cmocka_unit_test(summary_rejects_bad_types_and_ranges),
        cmocka_unit_test(summary_alone_makes_a_page),
        cmocka_unit_test(page_shows_hostile_text_escaped),
        cmocka_unit_test(local_videos_match_csv_rows_and_get_media),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
