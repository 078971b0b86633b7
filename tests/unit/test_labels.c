/* Label maps: the real Kinetics maps in ../shared load with their documented sizes. */
#include "testlib.h"

#include <string.h>

#include "vidbench/labels.h"
#include "common/fsutil.h"

static void kinetics_maps_have_documented_counts(void **state)
{
    (void)state;
    const struct { const char *path; int count; const char *first; } maps[] = {
        {"data/labelmaps/kinetics400_label_map.txt", 400, "abseiling"},
        {"data/labelmaps/kinetics600_label_map.txt", 600, "abseiling"},
        {"data/labelmaps/kinetics700_label_map.txt", 700, "abseiling"},
        {"models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt", 600, "abseiling"},
    };
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        vb_labels labels;
        vb_error err = {0};
        int rc = vb_labels_load(shared_path(maps[i].path), &labels, &err);
        if (rc)
            fail_msg("%s: %s", maps[i].path, err.message);
        assert_int_equal(labels.count, maps[i].count);
        assert_string_equal(labels.names[0], maps[i].first);
        vb_labels_free(&labels);
    }
}

static void k400_contains_seed_classes(void **state)
{
    (void)state;
    vb_labels labels;
    assert_int_equal(vb_labels_load(shared_path("data/labelmaps/kinetics400_label_map.txt"), &labels, NULL), VB_OK);
    assert_true(vb_labels_find(&labels, "using segway") >= 0);
    assert_true(vb_labels_find(&labels, "playing cricket") >= 0);
    assert_int_equal(vb_labels_find(&labels, "not a class"), -1);
    vb_labels_free(&labels);
}

static void crlf_and_bad_maps(void **state)
{
    (void)state;
    vb_error err = {0};
    vb_labels labels;
    const char *path = temp_path("crlf_labels.txt");
    assert_int_equal(fs_write_file_atomic(path, "a b\r\nc\r\n", 8, &err), VB_OK);
    assert_int_equal(vb_labels_load(path, &labels, &err), VB_OK);
    assert_int_equal(labels.count, 2);
    assert_string_equal(labels.names[0], "a b");
    vb_labels_free(&labels);
    assert_int_equal(fs_write_file_atomic(path, "a\n\nb\n", 5, &err), VB_OK);
    assert_int_equal(vb_labels_load(path, &labels, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "line 2"));
    assert_int_equal(fs_write_file_atomic(path, "", 0, &err), VB_OK);
    assert_int_equal(vb_labels_load(path, &labels, &err), VB_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinetics_maps_have_documented_counts),
        cmocka_unit_test(k400_contains_seed_classes),
        cmocka_unit_test(crlf_and_bad_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
