/* Checkpoint -> safetensors conversion: each golden checkpoint converts to exactly the tensors
 * of the weights.safetensors beside it (golden/README.md: same names, BN parameters 1-D,
 * optimizer slots dropped), with metadata describing the model; corrupt data writes nothing. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "vidbench/labels.h"
#include "vidbench/tfckpt.h"

static void expect_equal_to_golden(const char *golden, const char *labels, int expected_classes,
                                   int expected_dropped)
{
    char prefix[4096], expected_path[4200], out[4096];
    snprintf(prefix, sizeof prefix, "%s", shared_path(golden));
    snprintf(expected_path, sizeof expected_path, "%s/weights.safetensors", prefix);
    strcat(prefix, "/model.ckpt");
    snprintf(out, sizeof out, "%s", temp_path("converted.safetensors"));
    vb_convert_options options = {.labels_path = shared_path(labels)};
    vb_convert_report report;
    vb_error err = {0};
    if (vb_tfckpt_convert(prefix, out, &options, &report, &err))
        fail_msg("convert %s: %s", golden, err.message);
    assert_int_equal(report.classes, expected_classes);
    assert_int_equal(report.tensors_dropped, expected_dropped);

    vb_safetensors *actual = NULL, *expected = NULL;
    assert_int_equal(vb_safetensors_open(out, &actual, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(expected_path, &expected, &err), VB_OK);
    if (vb_safetensors_count(actual) != vb_safetensors_count(expected))
        fail_msg("%s: %d tensors converted, weights.safetensors has %d", golden, vb_safetensors_count(actual),
                 vb_safetensors_count(expected));
    for (int i = 0; i < vb_safetensors_count(expected); i++) {
        const vb_tensor_view *e = vb_safetensors_at(expected, i);
        const vb_tensor_view *a = vb_safetensors_find(actual, e->name);
        if (!a)
            fail_msg("%s: tensor %s missing after conversion", golden, e->name);
        if (a->dtype != e->dtype || a->ndim != e->ndim || memcmp(a->shape, e->shape, sizeof(int64_t) * (size_t)e->ndim))
            fail_msg("%s: %s: dtype/shape differ (%d dims vs %d)", golden, e->name, a->ndim, e->ndim);
        if (a->size_bytes != e->size_bytes || memcmp(a->data, e->data, e->size_bytes))
            fail_msg("%s: %s: values differ", golden, e->name);
    }
    /* Metadata the engine and the registry rely on. */
    char classes[16];
    snprintf(classes, sizeof classes, "%d", expected_classes);
    assert_string_equal(vb_safetensors_metadata(actual, "classes"), classes);
    assert_string_equal(vb_safetensors_metadata(actual, "architecture"), "i3d");
    assert_string_equal(vb_safetensors_metadata(actual, "input_range"), "[-1,1]");
    assert_string_equal(vb_safetensors_metadata(actual, "source_index_sha256"), report.index_sha256);
    char *label_text = NULL;
    size_t label_size;
    assert_int_equal(fs_read_file(shared_path(labels), 1 << 20, &label_text, &label_size, &err), VB_OK);
    assert_string_equal(vb_safetensors_metadata(actual, "labels"), label_text);
    free(label_text);
    vb_safetensors_free(&actual);
    vb_safetensors_free(&expected);
}

/* k400 layout: names prefixed RGB/inception_i3d/, 1-D BatchNorm parameters, nothing to drop. */
static void golden_k400_converts_to_its_weights(void **state)
{
    (void)state;
    expect_equal_to_golden("golden/i3d-tiny-k400", "data/labelmaps/kinetics400_label_map.txt", 400, 0);
}

/* k600 layout: no prefix, 1x1x1x1xC BatchNorm parameters, /Momentum slots to drop
 * (346 - 230 = 116 entries, like the real rgb_scratch_kin600 index). */
static void golden_k600_converts_to_its_weights(void **state)
{
    (void)state;
    expect_equal_to_golden("golden/i3d-tiny-k600", "data/labelmaps/kinetics600_label_map.txt", 600, 116);
}

static void wrong_label_count_is_refused(void **state)
{
    (void)state;
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", shared_path("golden/i3d-tiny-k400"));
    vb_convert_options options = {.labels_path = shared_path("data/labelmaps/kinetics600_label_map.txt")};
    vb_error err = {0};
    const char *out = temp_path("wrong_labels.safetensors");
    assert_int_equal(vb_tfckpt_convert(prefix, out, &options, NULL, &err), VB_ESHAPE);
    assert_non_null(strstr(err.message, "600 labels"));
    assert_false(fs_path_exists(out));
}

static void corrupt_data_writes_nothing(void **state)
{
    (void)state;
    char *bytes = NULL;
    size_t size = 0;
    vb_error err = {0};
    char source[4096];
    snprintf(source, sizeof source, "%s", shared_path("golden/i3d-tiny-k400/model.ckpt.index"));
    assert_int_equal(fs_read_file(source, 1 << 20, &bytes, &size, &err), VB_OK);
    assert_int_equal(fs_write_file_atomic(temp_path("bad.ckpt.index"), bytes, size, &err), VB_OK);
    free(bytes);
    snprintf(source, sizeof source, "%s", shared_path("golden/i3d-tiny-k400/model.ckpt.data-00000-of-00001"));
    assert_int_equal(fs_read_file(source, 1 << 24, &bytes, &size, &err), VB_OK);
    bytes[size / 2] ^= 0x40;
    assert_int_equal(fs_write_file_atomic(temp_path("bad.ckpt.data-00000-of-00001"), bytes, size, &err), VB_OK);
    free(bytes);
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s", temp_path("bad.ckpt"));
    const char *out = temp_path("bad.safetensors");
    assert_int_equal(vb_tfckpt_convert(prefix, out, NULL, NULL, &err), VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "tensor '"));
    assert_false(fs_path_exists(out));
}

static void optimizer_slots_and_bookkeeping_are_not_model_tensors(void **state)
{
    (void)state;
    assert_true(vb_tfckpt_is_model_tensor("Conv3d_1a_7x7/conv_3d/w"));
    assert_true(vb_tfckpt_is_model_tensor("RGB/inception_i3d/Mixed_3b/Branch_0/Conv3d_0a_1x1/batch_norm/beta"));
    assert_false(vb_tfckpt_is_model_tensor("Conv3d_1a_7x7/conv_3d/w/Momentum"));
    assert_false(vb_tfckpt_is_model_tensor("Logits/Conv3d_0c_1x1/conv_3d/b/Adam_1"));
    assert_false(vb_tfckpt_is_model_tensor("global_step"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_k400_converts_to_its_weights),
        cmocka_unit_test(golden_k600_converts_to_its_weights),
        cmocka_unit_test(wrong_label_count_is_refused),
        cmocka_unit_test(corrupt_data_writes_nothing),
        cmocka_unit_test(optimizer_slots_and_bookkeeping_are_not_model_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
