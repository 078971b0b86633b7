/* Comparing runs: the two statistics against independently computed values, class names
 * across the real Kinetics-400/600 label maps, and which clips a comparison keeps, drops
 * and why (synthetic CSVs and summaries written here, label maps from ../shared). */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/compare.h"
#include "vidbench/labels.h"

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Runs a Python script (Debian's /usr/bin/python3) written to the scratch folder; the caller
 * reads its output and pcloses the pipe. */
static FILE *run_python(const char *name, const char *script)
{
    const char *path = temp_path(name);
    write_text(path, script);
    char command[4200];
    snprintf(command, sizeof command, "/usr/bin/python3 %s", path);
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    return pipe;
}

/* ---- Wilson ---- */

static void wilson_matches_hand_computed_cases(void **state)
{
    (void)state;
    double low, high;
    const double z = VB_COMPARE_Z95;
    /* 5 of 10: p = 1/2, z^2/n = 0.384146; centre (p + z^2/2n)/(1 + z^2/n) = 1/2 exactly,
     * half width z/(1 + z^2/n) sqrt(p(1-p)/n + z^2/4n^2) = 1.416010 x 0.186020 = 0.263407. */
    vb_wilson_interval(5, 10, z, &low, &high);
    assert_true(fabs(low - 0.236593090512564) < 1e-12);
    assert_true(fabs(high - 0.763406909487436) < 1e-12);
    /* 0 of 10: low is 0, high = (z^2/n)/(1 + z^2/n) = 0.384146/1.384146 = 0.277533. */
    vb_wilson_interval(0, 10, z, &low, &high);
    assert_true(low == 0);
    assert_true(fabs(high - 0.2775327998628892) < 1e-12);
    /* n successes mirrors 0: [1 - 0.277533, 1]. */
    vb_wilson_interval(10, 10, z, &low, &high);
    assert_true(fabs(low - (1 - 0.2775327998628892)) < 1e-12);
    assert_true(high == 1);
    /* No trials: nothing is known. */
    vb_wilson_interval(0, 0, z, &low, &high);
    assert_true(low == 0 && high == 1);
}

/* The Wilson bounds are the two p where the score test sits exactly at z:
 * (p_hat - p)^2 = z^2 p (1 - p) / n. Python finds them by bisection (no closed form shared
 * with the C code) and prints "x n low high" lines. */
static void wilson_matches_bisection_in_python(void **state)
{
    (void)state;
    static const char script[] =
        "z = 1.959963984540054\n"
        "def root(f, a, b):\n"
        "    for _ in range(200):\n"
        "        m = (a + b) / 2\n"
        "        if (f(a) > 0) == (f(m) > 0): a = m\n"
        "        else: b = m\n"
        "    return (a + b) / 2\n"
        "for x, n in [(1, 3), (7, 19), (81, 100), (250, 1000), (3, 4), (999, 1000), (12, 4096)]:\n"
        "    ph = x / n\n"
        "    f = lambda p: (ph - p) ** 2 - z * z * p * (1 - p) / n\n"
        "    print(x, n, repr(root(f, 0.0, ph)), repr(root(f, ph, 1.0)))\n";
    FILE *pipe = run_python("wilson_bisect.py", script);
    int checked = 0;
    double x, n, low_ref, high_ref;
    while (fscanf(pipe, "%lf %lf %lf %lf", &x, &n, &low_ref, &high_ref) == 4) {
        double low, high;
        vb_wilson_interval(x, n, VB_COMPARE_Z95, &low, &high);
        if (fabs(low - low_ref) > 1e-9 || fabs(high - high_ref) > 1e-9)
            fail_msg("Wilson %g/%g: C [%.12f, %.12f], bisection [%.12f, %.12f]", x, n, low, high, low_ref, high_ref);
        checked++;
    }
    assert_int_equal(pclose(pipe), 0);
    assert_int_equal(checked, 7);
}

/* ---- McNemar ---- */

static void mcnemar_matches_hand_computed_cases(void **state)
{
    (void)state;
    /* b=0, c=5: 2 P(X <= 0) = 2 / 2^5 = 0.0625. */
    assert_true(fabs(vb_mcnemar_exact_p(0, 5) - 0.0625) < 1e-12);
    /* b=1, c=9: 2 (C(10,0) + C(10,1)) / 2^10 = 22/1024. */
    assert_true(fabs(vb_mcnemar_exact_p(1, 9) - 22.0 / 1024) < 1e-12);
    /* symmetric in b and c: 2 (1 + 10 + 45) / 1024 = 112/1024. */
    assert_true(fabs(vb_mcnemar_exact_p(8, 2) - 112.0 / 1024) < 1e-12);
    /* b = c: 2 P(X <= 3 | n=6) = 2 x 42/64 > 1, capped at 1. */
    assert_true(vb_mcnemar_exact_p(3, 3) == 1);
    /* no discordant clips: no evidence either way. */
    assert_true(vb_mcnemar_exact_p(0, 0) == 1);
}

/* Exact rational tail sums (Python's fractions and math.comb) for small and large n,
 * printed as "b c p" with p rounded to 17 significant digits. */
static void mcnemar_matches_exact_fractions_in_python(void **state)
{
    (void)state;
    static const char script[] =
        "from fractions import Fraction\n"
        "from math import comb\n"
        "for b, c in [(0, 1), (2, 13), (17, 30), (45, 45), (120, 160), (400, 500), (1, 2000)]:\n"
        "    n, k = b + c, min(b, c)\n"
        "    p = min(Fraction(1), 2 * Fraction(sum(comb(n, i) for i in range(k + 1)), 2 ** n))\n"
        "    print(b, c, '%.17g' % float(p))\n";
    FILE *pipe = run_python("mcnemar_exact.py", script);
    long b, c;
    double expected;
    int checked = 0;
    while (fscanf(pipe, "%ld %ld %lf", &b, &c, &expected) == 3) {
        double p = vb_mcnemar_exact_p(b, c);
        /* relative: the (1, 2000) tail is about 1e-599... below double range, so both are 0 */
        double scale = fmax(fabs(expected), 1e-300);
        if (fabs(p - expected) / scale > 1e-9 && !(expected == 0 && p < 1e-300))
            fail_msg("McNemar b=%ld c=%ld: C %.17g, exact %.17g", b, c, p, expected);
        checked++;
    }
    assert_int_equal(pclose(pipe), 0);
    assert_int_equal(checked, 7);
}

/* ---- label spaces ---- */

static void kinetics_400_names_map_into_600(void **state)
{
    (void)state;
    vb_labels k400, k600, movinet;
    vb_error err = {0};
    assert_int_equal(vb_labels_load(shared_path("data/labelmaps/kinetics400_label_map.txt"), &k400, &err), 0);
    assert_int_equal(vb_labels_load(shared_path("data/labelmaps/kinetics600_label_map.txt"), &k600, &err), 0);
    assert_int_equal(
        vb_labels_load(shared_path("models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt"), &movinet, &err), 0);
    int *index = malloc(600 * sizeof *index);
    assert_non_null(index);
    /* 368 names are in both maps verbatim (comm -12 of the two sorted maps), 1 differs in
     * case, 4 are renames: 373 of 400 map, 27 K400 classes have no K600 class. */
    assert_int_equal(vb_label_space_map(&k400, &k600, index, &err), 373);
    assert_int_equal(index[vb_labels_find(&k400, "using segway")], vb_labels_find(&k600, "using segway"));
    assert_int_equal(index[vb_labels_find(&k400, "dying hair")], vb_labels_find(&k600, "dyeing hair"));
    assert_int_equal(index[vb_labels_find(&k400, "garbage collecting")],
                     vb_labels_find(&k600, "person collecting garbage"));
    assert_int_equal(index[vb_labels_find(&k400, "passing American football (not in game)")],
                     vb_labels_find(&k600, "passing american football (not in game)"));
    /* split by Kinetics-600 into "hugging baby" and "hugging (not baby)": deliberately unmapped */
    assert_int_equal(index[vb_labels_find(&k400, "hugging")], -1);
    assert_int_equal(index[vb_labels_find(&k400, "drinking")], -1);
    /* and back: the same 373 pairs */
    assert_int_equal(vb_label_space_map(&k600, &k400, index, &err), 373);
    assert_int_equal(index[vb_labels_find(&k600, "dyeing hair")], vb_labels_find(&k400, "dying hair"));
    assert_int_equal(index[vb_labels_find(&k600, "hugging baby")], -1);
    /* the model's own label map is the 600 one, class for class */
    assert_int_equal(vb_label_space_map(&movinet, &k600, index, &err), 600);
    for (int i = 0; i < 600; i++)
        assert_int_equal(index[i], i);
    free(index);
    vb_labels_free(&k400);
    vb_labels_free(&k600);
    vb_labels_free(&movinet);
}

static void class_keys_ignore_case_and_punctuation_only(void **state)
{
    (void)state;
    char a[VB_CLASS_KEY_BYTES], b[VB_CLASS_KEY_BYTES];
    vb_class_key("Passing American Football (not in game)", a);
    vb_class_key("passing american football not in game", b);
    assert_string_equal(a, b);
    vb_class_key("making bed", a);
    vb_class_key("making the bed", b);
    assert_string_equal(a, b);
    vb_class_key("hugging", a);
    vb_class_key("hugging baby", b);
    assert_string_not_equal(a, b);
}

/* ---- a comparison of synthetic runs ---- */

static const char csv_header[] =
    "video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5\n";

/* Run A (400 classes): c1 right, c2 wrong, c3 unlabelled, c4 "hugging" (no K600 class),
 * c5 only here, c7 labelled "abseiling". Run B (600 classes, same rows as C): c1 right by
 * the renamed class, c2 right, c6 only in B/C, c7 labelled "arm wrestling", c5 skipped per
 * B's summary. Kept: c1, c2. Dropped: c5 and c6 absent from a CSV, c3 no truth, c7 truths
 * differ, c4 not a class of the 600 models. */
static void write_runs(char *a_csv, char *b_csv, char *c_csv)
{
    char path[4200];
    strcpy(a_csv, temp_path("cmp_a.csv"));
    strcpy(b_csv, temp_path("cmp_b.csv"));
    strcpy(c_csv, temp_path("cmp_c.csv"));
    char text[8192];
    snprintf(text, sizeof text, "%s"
             "c1,,dying hair,dying hair,x,y,z,w,0.9,0.04,0.03,0.02,0.01\n"
             "c2,,abseiling,rock climbing,abseiling,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c3,,,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c4,,hugging,hugging,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c5,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c7,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n", csv_header);
    write_text(a_csv, text);
    snprintf(text, sizeof text, "%s"
             "c1,,dying hair,dyeing hair,x,y,z,w,0.9,0.04,0.03,0.02,0.01\n"
             "c2,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c3,,,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c4,,hugging,hugging baby,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c6,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n"
             "c7,,arm wrestling,arm wrestling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n", csv_header);
    write_text(b_csv, text);
    write_text(c_csv, text);
    snprintf(text, sizeof text,
             "{\"parameters\": {\"model\": \"i3d.safetensors\", \"classes\": 400, \"frames\": 64, \"clips\": 1, "
             "\"crops\": 1}, \"resize\": \"crop\", \"precision\": \"fp32\", \"gflop_per_clip\": 220.5, "
             "\"peak_rss_bytes\": 1048576000, \"label_map\": \"%s\", "
             "\"timing\": {\"clips_per_s_this_run\": 10, \"model_ms_per_clip\": 90}}",
             shared_path("data/labelmaps/kinetics400_label_map.txt"));
    snprintf(path, sizeof path, "%s", temp_path("cmp_a.summary.json"));
    write_text(path, text);
    snprintf(text, sizeof text,
             "{\"parameters\": {\"model\": \"movinet.tflite\", \"classes\": 600, \"frames\": 0}, \"precision\": \"int8\", "
             "\"label_map\": \"%s\", \"skipped\": [{\"clip_id\": \"c5\", \"reason\": \"fewer than 128 frames\"}], "
             "\"timing\": {\"clips_per_s_this_run\": 2, \"model_ms_per_clip\": 400}}",
             shared_path("data/labelmaps/kinetics600_label_map.txt"));
    snprintf(path, sizeof path, "%s", temp_path("cmp_b.summary.json"));
    write_text(path, text);
    snprintf(text, sizeof text,
             "{\"label_map\": \"%s\", \"timing\": {\"clips_per_s_this_run\": 1}}",
             shared_path("data/labelmaps/kinetics600_label_map.txt"));
    snprintf(path, sizeof path, "%s", temp_path("cmp_c.summary.json"));
    write_text(path, text);
}

/* The three runs above, compared. */
static void load_three_runs(vb_compare *cmp)
{
    char a[4200], b[4200], c[4200];
    write_runs(a, b, c);
    vb_compare_input inputs[3] = {{.csv_path = a}, {.csv_path = b}, {.csv_path = c}};
    vb_error err = {0};
    if (vb_compare_load(cmp, inputs, 3, &err))
        fail_msg("vb_compare_load: %s", err.message);
}

static void clips_not_in_every_run_are_dropped_and_counted(void **state)
{
    (void)state;
    vb_compare cmp;
    load_three_runs(&cmp);
    assert_int_equal(cmp.clips_union, 7);
    assert_int_equal(cmp.clips_common, 2);
    assert_int_equal(cmp.dropped_absent, 2);          /* c5, c6 */
    assert_int_equal(cmp.dropped_no_truth, 1);        /* c3 */
    assert_int_equal(cmp.dropped_truth_differs, 1);   /* c7 */
    assert_int_equal(cmp.dropped_unmapped, 1);        /* c4 */
    assert_string_equal(cmp.clips[0].video_id, "c1");
    assert_string_equal(cmp.clips[1].video_id, "c2");
    /* who missed what: c6 is absent from A; c5 from B (skipped per its summary) and C */
    assert_int_equal(cmp.runs[0].absent, 1);
    assert_int_equal(cmp.runs[0].absent_skipped, 0);
    assert_int_equal(cmp.runs[1].absent, 1);
    assert_int_equal(cmp.runs[1].absent_skipped, 1);
    assert_int_equal(cmp.runs[2].absent, 1);
    assert_int_equal(cmp.runs[2].absent_skipped, 0);
    /* "hugging" is a K400 class, not a K600 one */
    assert_int_equal(cmp.runs[0].truth_unmapped_clips, 0);
    assert_int_equal(cmp.runs[1].truth_unmapped_clips, 1);
    assert_int_equal(cmp.runs[1].truth_unmapped_classes, 1);
    vb_compare_free(&cmp);
}

static void runs_are_scored_on_the_same_ground_truth(void **state)
{
    (void)state;
    vb_compare cmp;
    load_three_runs(&cmp);
    /* A: c1 right, c2 wrong at top-1 but right at top-5; B and C: both right ("dyeing hair"
     * is the 600 name of "dying hair"). */
    assert_int_equal(cmp.runs[0].top1.count, 1);
    assert_true(cmp.runs[0].top1.n == 2);
    assert_int_equal(cmp.runs[0].topk.count, 2);
    assert_int_equal(cmp.runs[1].top1.count, 2);
    /* mean class: classes "dying hair" (1 clip) and "abseiling" (1): A (1 + 0)/2; Kish n_eff
     * = C^2 / sum(1/n_c) = 4 / 2 = 2 */
    assert_true(fabs(cmp.runs[0].mean_class.value - 0.5) < 1e-12);
    assert_true(fabs(cmp.runs[0].mean_class.n - 2) < 1e-12);
    /* pair A-B: c1 agrees by key, c2 differs; only B right on c2 -> McNemar p = 2 x 1/2 = 1 */
    const vb_compare_pair *ab = &cmp.pairs[0];
    assert_int_equal(ab->a, 0);
    assert_int_equal(ab->b, 1);
    assert_int_equal(ab->agree, 1);
    assert_int_equal(ab->num_disagree, 1);
    assert_string_equal(cmp.clips[ab->disagree[0]].video_id, "c2");
    assert_int_equal(ab->a_only, 0);
    assert_int_equal(ab->b_only, 1);
    assert_true(ab->mcnemar_p == 1);
    /* Pareto: A fastest (10 clips/s), B most accurate (2 clips/s); C as accurate as B but
     * slower (1 clip/s): dominated. */
    assert_int_equal(cmp.runs[0].pareto, 1);
    assert_int_equal(cmp.runs[1].pareto, 1);
    assert_int_equal(cmp.runs[2].pareto, 0);
    /* labels and costs from the summaries */
    assert_string_equal(cmp.runs[0].label, "i3d.safetensors, fp32, 400 classes, 64 frames, crop, 1x1 views");
    assert_string_equal(cmp.runs[1].label, "movinet.tflite, int8, 600 classes, every frame");
    assert_true(cmp.runs[0].gflop_per_clip == 220.5);
    assert_true(cmp.runs[1].gflop_per_clip < 0);
    assert_true(cmp.runs[0].peak_rss_bytes == 1048576000);
    /* per class: abseiling differs most (A 0%, B 100%) */
    assert_string_equal(cmp.classes[0].label, "abseiling");
    assert_true(cmp.classes[0].spread == 1);
    vb_compare_free(&cmp);
}

static void bad_inputs_fail_with_the_file_named(void **state)
{
    (void)state;
    char a[4200], b[4200], c[4200];
    write_runs(a, b, c);
    vb_compare cmp;
    vb_error err = {0};
    const char *missing = temp_path("cmp_missing.csv");
    vb_compare_input inputs[2] = {{.csv_path = a}, {.csv_path = missing}};
    assert_int_not_equal(vb_compare_load(&cmp, inputs, 2, &err), 0);
    assert_non_null(strstr(err.message, "cmp_missing.csv"));
    /* a malformed summary beside a CSV */
    const char *bad_csv = temp_path("cmp_bad.csv");
    char text[1024];
    snprintf(text, sizeof text, "%sc1,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n", csv_header);
    write_text(bad_csv, text);
    write_text(temp_path("cmp_bad.summary.json"), "{\"peak_rss_bytes\": \"lots\"}");
    inputs[1].csv_path = bad_csv;
    memset(&err, 0, sizeof err);
    assert_int_not_equal(vb_compare_load(&cmp, inputs, 2, &err), 0);
    assert_non_null(strstr(err.message, "cmp_bad.summary.json"));
    assert_non_null(strstr(err.message, "peak_rss_bytes"));
    /* no clip in common */
    write_text(temp_path("cmp_bad.summary.json"), "{}");
    snprintf(text, sizeof text, "%sother,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n", csv_header);
    write_text(bad_csv, text);
    memset(&err, 0, sizeof err);
    assert_int_equal(vb_compare_load(&cmp, inputs, 2, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "no clip is in every CSV"));
    /* one run is not a comparison */
    assert_int_equal(vb_compare_load(&cmp, inputs, 1, &err), VB_EINVAL);
}

static void a_summary_label_map_that_is_not_a_file_is_ignored(void **state)
{
    (void)state;
    /* /dev/zero would be read up to the label-map size limit, a FIFO would block forever:
     * an untrusted summary's label_map is followed only to a regular file. */
    char text[1024];
    snprintf(text, sizeof text, "%sc1,,abseiling,abseiling,x,y,z,w,0.5,0.4,0.05,0.03,0.02\n", csv_header);
    write_text(temp_path("cmp_dev_a.csv"), text);
    write_text(temp_path("cmp_dev_b.csv"), text);
    write_text(temp_path("cmp_dev_a.summary.json"), "{\"label_map\": \"/dev/zero\"}");
    const char *fifo = temp_path("cmp_label_fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(text, sizeof text, "{\"label_map\": \"%s\"}", fifo);
    write_text(temp_path("cmp_dev_b.summary.json"), text);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s", temp_path("cmp_dev_a.csv"));
    snprintf(b, sizeof b, "%s", temp_path("cmp_dev_b.csv"));
    vb_compare_input inputs[2] = {{.csv_path = a}, {.csv_path = b}};
    vb_compare cmp;
    vb_error err = {0};
    alarm(30); /* opening the FIFO would block: SIGALRM ends the test as a failure instead */
    int rc = vb_compare_load(&cmp, inputs, 2, &err);
    alarm(0);
    if (rc)
        fail_msg("vb_compare_load: %s", err.message);
    assert_int_equal(cmp.runs[0].truth_unmapped_classes, -1);   /* label map unknown */
    assert_null(cmp.runs[0].label_map);
    assert_int_equal(cmp.runs[1].truth_unmapped_classes, -1);
    assert_int_equal(cmp.clips_common, 1);
    vb_compare_free(&cmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wilson_matches_hand_computed_cases),
        cmocka_unit_test(wilson_matches_bisection_in_python),
        cmocka_unit_test(mcnemar_matches_hand_computed_cases),
        cmocka_unit_test(mcnemar_matches_exact_fractions_in_python),
        cmocka_unit_test(kinetics_400_names_map_into_600),
        cmocka_unit_test(class_keys_ignore_case_and_punctuation_only),
        cmocka_unit_test(clips_not_in_every_run_are_dropped_and_counted),
        cmocka_unit_test(runs_are_scored_on_the_same_ground_truth),
        cmocka_unit_test(bad_inputs_fail_with_the_file_named),
        cmocka_unit_test(a_summary_label_map_that_is_not_a_file_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
