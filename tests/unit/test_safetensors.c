/* safetensors reader/writer: the golden I3D files parse with the shapes the golden README
 * documents, a round trip preserves everything, and lying headers are refused. */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#include "vidbench/safetensors.h"
#include "common/fsutil.h"

static void golden_weights_parse(void **state)
{
    (void)state;
    vb_safetensors *file = NULL;
    vb_error err = {0};
    int rc = vb_safetensors_open(shared_path("golden/i3d-tiny-k400/weights.safetensors"), &file, &err);
    assert_int_equal(rc, VB_OK);
    /* Conv3d_1a_7x7 of the 1/8-width net: [7,7,7,3,8] per the golden README's scaling. */
    const vb_tensor_view *w = vb_safetensors_find(file, "RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w");
    assert_non_null(w);
    assert_int_equal(w->dtype, VB_DTYPE_F32);
    assert_int_equal(w->ndim, 5);
    assert_int_equal(w->shape[0], 7);
    assert_int_equal(w->shape[3], 3);
    assert_int_equal(w->shape[4], 8);
    const vb_tensor_view *b = vb_safetensors_find(file, "RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/b");
    assert_non_null(b);
    assert_int_equal(b->shape[0], 400);
    vb_safetensors_free(&file);
    assert_null(file);
}

static void golden_input_is_uint8_video(void **state)
{
    (void)state;
    vb_safetensors *file = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/input.safetensors"), &file, &err), VB_OK);
    const vb_tensor_view *video = vb_safetensors_find(file, "video");
    assert_non_null(video);
    assert_int_equal(video->dtype, VB_DTYPE_U8);
    assert_int_equal(video->ndim, 5);
    assert_int_equal(video->shape[1], 9);   /* 9 input frames per the golden README */
    assert_int_equal(video->shape[2], 224);
    assert_int_equal(video->shape[4], 3);
    vb_safetensors_free(&file);
}

static void round_trip_keeps_values_and_metadata(void **state)
{
    (void)state;
    float values[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-7f, -1e7f};
    uint8_t bytes[3] = {0, 127, 255};
    vb_tensor_view tensors[2] = {
        {.name = "a/w", .dtype = VB_DTYPE_F32, .ndim = 2, .shape = {2, 3}, .data = values, .size_bytes = sizeof values},
        {.name = "b", .dtype = VB_DTYPE_U8, .ndim = 1, .shape = {3}, .data = bytes, .size_bytes = 3},
    };
    const char *meta[] = {"architecture", "i3d", "classes", "400"};
    vb_error err = {0};
    const char *path = temp_path("round_trip.safetensors");
    assert_int_equal(vb_safetensors_write(path, tensors, 2, meta, 2, &err), VB_OK);
    vb_safetensors *file = NULL;
    assert_int_equal(vb_safetensors_open(path, &file, &err), VB_OK);
    assert_int_equal(vb_safetensors_count(file), 2);
    const vb_tensor_view *a = vb_safetensors_find(file, "a/w");
    assert_non_null(a);
    assert_memory_equal(a->data, values, sizeof values);
    assert_string_equal(vb_safetensors_metadata(file, "classes"), "400");
    assert_null(vb_safetensors_metadata(file, "missing"));
    vb_safetensors_free(&file);
}

static int write_raw(const char *path, const char *header, size_t data_bytes)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++)
        fputc((int)(n >> (8 * i)) & 0xff, fp);
    fputs(header, fp);
    for (size_t i = 0; i < data_bytes; i++)
        fputc(0, fp);
    fclose(fp);
    return 0;
}

static void hostile_headers_are_refused(void **state)
{
    (void)state;
    const struct {
        const char *header;
        size_t data_bytes;
        int expected;
        const char *needle;
    } cases[] = {
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, VB_EFORMAT, "outside"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16, VB_EFORMAT, "needs"},
        {"{\"x\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, VB_EUNSUPPORTED, "dtype"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,16]}}", 16, VB_EFORMAT, "dimension"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}", 16, VB_EFORMAT, "outside"},
        /* A second __metadata__ once re-sized the array while the count kept climbing (heap
         * overflow); repeated names are refused, whatever kind. */
        {"{\"__metadata__\":{\"a\":\"1\"},\"__metadata__\":{\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}}", 0,
         VB_EFORMAT, "__metadata__ appears twice"},
        {"{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0, VB_EFORMAT, "metadata key 'a' appears twice"},
        {"{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
         "\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}", 8, VB_EFORMAT, "tensor 'x' appears twice"},
        /* 2^40 * 2^23 * 0 elements: zero bytes, but the partial product overflows int64_t in
         * vb_tensor_numel(). */
        {"{\"x\":{\"dtype\":\"U8\",\"shape\":[1099511627776,8388608,0],\"data_offsets\":[0,0]}}", 0,
         VB_EFORMAT, "impossibly large"},
        {"[1,2,3]", 0, VB_EFORMAT, "JSON object"},
        {"{\"x\":", 0, VB_EFORMAT, "JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = temp_path("hostile.safetensors");
        assert_int_equal(write_raw(path, cases[i].header, cases[i].data_bytes), 0);
        vb_safetensors *file = NULL;
        vb_error err = {0};
        int rc = vb_safetensors_open(path, &file, &err);
        if (rc != cases[i].expected || !strstr(err.message, cases[i].needle))
            fail_msg("case %zu: got %d '%s', expected %d containing '%s'", i, rc, err.message,
                     cases[i].expected, cases[i].needle);
        assert_null(file);
        assert_non_null(strstr(err.message, "hostile.safetensors"));
    }
}

static void truncated_and_missing_files_are_errors(void **state)
{
    (void)state;
    vb_safetensors *file = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(temp_path("does-not-exist.safetensors"), &file, &err), VB_ENOTFOUND);
    const char *path = temp_path("short.safetensors");
    assert_int_equal(fs_write_file_atomic(path, "\x10\0\0", 3, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(path, &file, &err), VB_EFORMAT);
    /* Header length larger than the file. */
    assert_int_equal(fs_write_file_atomic(path, "\xff\xff\0\0\0\0\0\0{}", 10, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(path, &file, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "header length"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_weights_parse),
        cmocka_unit_test(golden_input_is_uint8_video),
        cmocka_unit_test(round_trip_keeps_values_and_metadata),
        cmocka_unit_test(hostile_headers_are_refused),
        cmocka_unit_test(truncated_and_missing_files_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
