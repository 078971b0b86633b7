/* Evaluation flags and the seed's argument files: defaults are the seed's config.txt,
 * files splice in where @FILE stands, later flags win, malformed input is a clear error. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/eval.h"
#include "common/fsutil.h"

static int parse_text(vb_eval_config *c, const char *text, vb_error *err)
{
    vb_eval_config_init(c);
    return vb_eval_config_parse_text(c, text, strlen(text), "cfg.txt", err);
}

static void defaults_are_the_seed_config(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_eval_config_init(&c);
    /* scripts/config.txt of the seed kit */
    assert_string_equal(c.model_type, "i3d");
    assert_int_equal(c.model_trained_on, 400);
    assert_int_equal(c.kinetics_version, 400);
    assert_string_equal(c.kinetics_split, "val");
    assert_string_equal(c.results_dir, "results");
    assert_int_equal(c.batch_size, 8);
    assert_int_equal(c.num_videos, 16);
    assert_int_equal(c.top_n, 5);
    assert_int_equal(c.num_frames, 100);
    assert_int_equal(c.shard_count, 1);
    assert_int_equal(c.num_crops, 1);
}

static void shipped_config_file_parses(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_eval_config_init(&c);
    vb_error err = {0};
    char root_config[4200];
    const char *root = getenv("VB_ROOT");
    snprintf(root_config, sizeof root_config, "@%s/scripts/config.txt", root ? root : ".");
    char *argv[] = {root_config, "--model_type", "movinet", "--num_videos", "all"};
    int rc = vb_eval_config_parse_args(&c, 5, argv, &err);
    if (rc)
        fail_msg("%s", err.message);
    /* the command line after @file overrides it */
    assert_string_equal(c.model_type, "movinet");
    assert_int_equal(c.num_videos, 0);
    assert_int_equal(c.num_frames, 100);
    assert_int_equal(c.batch_size, 8);
}

static void several_flags_per_line_comments_and_blank_lines(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_error err = {0};
    const char *text = "# the seed's config\n"
                       "--model_type i3d --model_trained_on kinetics-600\n"
                       "\n"
                       "   --kinetics_version 600 --kinetics_split test  # trailing comment\n"
                       "--results_dir \"my results\" --batch_size=3\r\n"
                       "--top_n 2 --verbose_logging --no_cuda\n"
                       "--resize shortside --num_clips 10 --num_crops 3 --shard 1/4\n";
    int rc = parse_text(&c, text, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_int_equal(c.model_trained_on, 600);
    assert_int_equal(c.kinetics_version, 600);
    assert_string_equal(c.kinetics_split, "test");
    assert_string_equal(c.results_dir, "my results");
    assert_int_equal(c.batch_size, 3);
    assert_int_equal(c.top_n, 2);
    assert_int_equal(c.verbose_logging, 1);
    assert_int_equal(c.no_cuda, 1);
    assert_int_equal(c.resize, VB_RESIZE_SHORTSIDE);
    assert_int_equal(c.num_clips, 10);
    assert_int_equal(c.num_crops, 3);
    assert_int_equal(c.shard_index, 1);
    assert_int_equal(c.shard_count, 4);
}

static void later_flags_override_earlier(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_error err = {0};
    assert_int_equal(parse_text(&c, "--batch_size 4\n--batch_size 2 --num_videos 7 --num_videos 9\n", &err), 0);
    assert_int_equal(c.batch_size, 2);
    assert_int_equal(c.num_videos, 9);

    /* flags before @file are overridden by the file, flags after override it */
    const char *path = temp_path("override.txt");
    assert_int_equal(fs_write_file_atomic(path, "--top_n 3\n", 10, &err), 0);
    char at[4200];
    snprintf(at, sizeof at, "@%s", path);
    char *argv[] = {"--top_n", "1", at, "--batch_size", "5"};
    vb_eval_config_init(&c);
    assert_int_equal(vb_eval_config_parse_args(&c, 5, argv, &err), 0);
    assert_int_equal(c.top_n, 3);
    assert_int_equal(c.batch_size, 5);
    char *argv2[] = {at, "--top_n", "4"};
    vb_eval_config_init(&c);
    assert_int_equal(vb_eval_config_parse_args(&c, 3, argv2, &err), 0);
    assert_int_equal(c.top_n, 4);
}

static void expect_error(const char *text, int code, const char *fragment)
{
    vb_eval_config c;
    vb_error err = {0};
    int rc = parse_text(&c, text, &err);
    if (rc != code || !strstr(err.message, fragment))
        fail_msg("input %s: expected code %d with '%s', got %d '%s'", text, code, fragment, rc,
                 err.message);
}

static void malformed_files_are_clear_errors(void **state)
{
    (void)state;
    expect_error("--model_type resnet\n", VB_EINVAL, "cfg.txt:1: --model_type: invalid value 'resnet'");
    expect_error("\n\n--frobnicate 3\n", VB_EINVAL, "cfg.txt:3: unknown flag '--frobnicate'");
    expect_error("--batch_size\n", VB_EINVAL, "--batch_size: missing value");
    expect_error("--batch_size --top_n 3\n", VB_EINVAL, "--batch_size: missing value");
    expect_error("--batch_size 0\n", VB_EINVAL, "invalid value '0'");
    expect_error("--batch_size 8x\n", VB_EINVAL, "invalid value '8x'");
    expect_error("--num_videos -3\n", VB_EINVAL, "invalid value '-3'");
    expect_error("--top_n 99999999999999999999\n", VB_EINVAL, "invalid value");
    expect_error("--model_trained_on kinetics-700\n", VB_EINVAL, "kinetics-400 or kinetics-600");
    expect_error("--kinetics_version 500\n", VB_EINVAL, "400, 600 or 700");
    expect_error("--kinetics_split dev\n", VB_EINVAL, "train, val or test");
    expect_error("--num_crops 2\n", VB_EINVAL, "1 or 3");
    expect_error("--shard 2/2\n", VB_EINVAL, "i/N");
    expect_error("--shard 1\n", VB_EINVAL, "i/N");
    expect_error("--shard /3\n", VB_EINVAL, "i/N");
    expect_error("--shard_by video\n", VB_EINVAL, "partition or clip");
    expect_error("--resize zoom\n", VB_EINVAL, "crop, pad, shortside, stretch or aspect");
    expect_error("model_type i3d\n", VB_EINVAL, "unexpected argument 'model_type'");
    expect_error("--results_dir \"unterminated\n", VB_EFORMAT, "unterminated");
    expect_error("--verbose_logging=yes\n", VB_EINVAL, "takes no value");
    expect_error("--results_dir \"\"\n", VB_EINVAL, "non-empty");
    expect_error("@\n", VB_EINVAL, "'@' without a file name");
    expect_error("@/nonexistent/vidbench.cfg\n", VB_ENOTFOUND, "/nonexistent/vidbench.cfg");
    vb_eval_config c;
    vb_error err = {0};
    char with_nul[] = "--top_n 3\0--top_n 4";
    vb_eval_config_init(&c);
    assert_int_equal(vb_eval_config_parse_text(&c, with_nul, sizeof with_nul - 1, "nul.txt", &err),
                     VB_EFORMAT);
    assert_non_null(strstr(err.message, "nul.txt:1"));
}

static void nested_files_are_bounded(void **state)
{
    (void)state;
    /* a file that includes itself must stop with a clear error, not recurse forever */
    const char *path = temp_path("self.txt");
    char text[4300];
    int n = snprintf(text, sizeof text, "--top_n 2\n@%s\n", path);
    vb_error err = {0};
    assert_int_equal(fs_write_file_atomic(path, text, (size_t)n, &err), 0);
    char at[4200];
    snprintf(at, sizeof at, "@%s", path);
    char *argv[] = {at};
    vb_eval_config c;
    vb_eval_config_init(&c);
    assert_int_equal(vb_eval_config_parse_args(&c, 1, argv, &err), VB_ELIMIT);
    assert_non_null(strstr(err.message, "nested deeper"));
}

static void cross_flag_validation(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_error err = {0};
    assert_int_equal(parse_text(&c, "--num_frames 0\n", &err), 0);
    assert_int_equal(vb_eval_config_validate(&c, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "movinet"));
    assert_int_equal(parse_text(&c, "--num_frames 0 --model_type movinet\n", &err), 0);
    assert_int_equal(vb_eval_config_validate(&c, &err), 0);
    assert_int_equal(parse_text(&c, "--labels l.txt\n", &err), 0);
    assert_int_equal(vb_eval_config_validate(&c, &err), VB_EINVAL);
    /* partition shards take whole partitions: a clip count over the whole listing is refused */
    assert_int_equal(parse_text(&c, "--shard 1/3\n", &err), 0);
    assert_int_equal(c.shard_by, VB_SHARD_BY_PARTITION);   /* the default */
    assert_int_equal(vb_eval_config_validate(&c, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "--num_videos 16 with --shard 1/3 by partition"));
    assert_int_equal(parse_text(&c, "--shard 1/3 --num_videos all\n", &err), 0);
    assert_int_equal(vb_eval_config_validate(&c, &err), 0);
    assert_int_equal(parse_text(&c, "--shard 1/3 --shard_by clip\n", &err), 0);
    assert_int_equal(c.shard_by, VB_SHARD_BY_CLIP);
    assert_int_equal(vb_eval_config_validate(&c, &err), 0);
    assert_int_equal(parse_text(&c, "--shard 1/3 --clips list.csv\n", &err), 0);   /* a list has no partitions */
    assert_int_equal(vb_eval_config_validate(&c, &err), 0);
    assert_int_equal(parse_text(&c, "--num_videos 4\n", &err), 0);   /* unsharded: any count */
    assert_int_equal(vb_eval_config_validate(&c, &err), 0);
}

static void output_paths_follow_the_seed(void **state)
{
    (void)state;
    vb_eval_config c;
    vb_eval_config_init(&c);
    char path[4200];
    assert_int_equal(vb_eval_output_path(&c, "csv", path, sizeof path, NULL), 0);
    assert_string_equal(path, "results/i3d_k400_val400.csv");   /* the seed's example name */
    c.shard_index = 1;
    c.shard_count = 2;
    snprintf(c.model_type, sizeof c.model_type, "movinet");
    c.model_trained_on = 600;
    assert_int_equal(vb_eval_output_path(&c, "sqlite", path, sizeof path, NULL), 0);
    assert_string_equal(path, "results/movinet_k600_val400.shard1of2.sqlite");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_seed_config),
        cmocka_unit_test(shipped_config_file_parses),
        cmocka_unit_test(several_flags_per_line_comments_and_blank_lines),
        cmocka_unit_test(later_flags_override_earlier),
        cmocka_unit_test(malformed_files_are_clear_errors),
        cmocka_unit_test(nested_files_are_bounded),
        cmocka_unit_test(cross_flag_validation),
        cmocka_unit_test(output_paths_follow_the_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
