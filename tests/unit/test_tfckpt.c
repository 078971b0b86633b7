/* TensorFlow checkpoint reader: the five real DeepMind index files list with the counts,
 * shard sizes and shapes the issue documents (from the kinetics-i3d checkpoints), the real
 * aind-intro checkpoints give their stored values, and corrupt bytes are errors that name
 * the file and tensor, never crashes. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "vidbench/tfckpt.h"

static vb_tfckpt *open_or_fail(const char *prefix)
{
    vb_tfckpt *ckpt = NULL;
    vb_error err = {0};
    int rc = vb_tfckpt_open(prefix, &ckpt, &err);
    if (rc)
        fail_msg("opening %s: %s", prefix, err.message);
    return ckpt;
}

static void expect_listing(const char *checkpoint, int tensors, int64_t shard_size)
{
    char relative[256];
    snprintf(relative, sizeof relative, "data/i3d/checkpoints/%s/model.ckpt", checkpoint);
    vb_tfckpt *ckpt = open_or_fail(shared_path(relative));
    vb_error err = {0};
    int64_t shard_bytes[1] = {0};
    assert_int_equal(vb_tfckpt_num_shards(ckpt), 1);
    if (vb_tfckpt_check_layout(ckpt, shard_bytes, &err))
        fail_msg("%s: layout: %s", checkpoint, err.message);
    if (vb_tfckpt_count(ckpt) != tensors || shard_bytes[0] != shard_size)
        fail_msg("%s: %d tensors tiling %lld bytes, expected %d and %lld", checkpoint, vb_tfckpt_count(ckpt),
                 (long long)shard_bytes[0], tensors, (long long)shard_size);
    for (int i = 0; i < vb_tfckpt_count(ckpt); i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(ckpt, i);
        assert_int_equal(e->tf_dtype, VB_TF_DT_FLOAT);
        assert_true(e->has_crc32c);
        assert_ptr_equal(vb_tfckpt_find(ckpt, e->name), e);
    }
    vb_tfckpt_free(&ckpt);
    assert_null(ckpt);
}

/* Counts and shard sizes: issue 4, acceptance 1. */
static void rgb_imagenet_lists_230_tensors_tiling_50818176_bytes(void **state)
{
    (void)state;
    expect_listing("rgb_imagenet", 230, 50818176);
}
static void rgb_scratch_lists_230_tensors_tiling_50818176_bytes(void **state)
{
    (void)state;
    expect_listing("rgb_scratch", 230, 50818176);
}
static void flow_imagenet_lists_230_tensors_tiling_50730368_bytes(void **state)
{
    (void)state;
    expect_listing("flow_imagenet", 230, 50730368);
}
static void flow_scratch_lists_230_tensors_tiling_50730368_bytes(void **state)
{
    (void)state;
    expect_listing("flow_scratch", 230, 50730368);
}
static void rgb_scratch_kin600_lists_346_tensors_tiling_103218112_bytes(void **state)
{
    (void)state;
    expect_listing("rgb_scratch_kin600", 346, 103218112);
}

static void expect_shape(const vb_tfckpt *ckpt, const char *name, int ndim, const int64_t *shape)
{
    const vb_tfckpt_entry *e = vb_tfckpt_find(ckpt, name);
    if (!e)
        fail_msg("tensor %s not listed", name);
    int same = e->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = e->shape[d] == shape[d];
    if (!same)
        fail_msg("%s: got %d dims [%lld,%lld,...], expected %d dims [%lld,%lld,...]", name, e->ndim,
                 (long long)e->shape[0], (long long)e->shape[1], ndim, (long long)shape[0], (long long)shape[1]);
}

/* Shapes from DeepMind's i3d.py: 7x7x7 stem over 3 RGB (2 flow) channels, 64 filters;
 * 1x1x1 logits conv 1024 -> classes; BN params 1-D in rgb_imagenet, 1x1x1x1xC in kin600. */
static void known_shapes_come_out_right(void **state)
{
    (void)state;
    vb_tfckpt *rgb = open_or_fail(shared_path("data/i3d/checkpoints/rgb_imagenet/model.ckpt"));
    expect_shape(rgb, "RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w", 5, (int64_t[]){7, 7, 7, 3, 64});
    expect_shape(rgb, "RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/w", 5, (int64_t[]){1, 1, 1, 1024, 400});
    expect_shape(rgb, "RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/moving_mean", 1, (int64_t[]){64});
    vb_tfckpt_free(&rgb);
    vb_tfckpt *flow = open_or_fail(shared_path("data/i3d/checkpoints/flow_imagenet/model.ckpt"));
    expect_shape(flow, "Flow/inception_i3d/Conv3d_1a_7x7/conv_3d/w", 5, (int64_t[]){7, 7, 7, 2, 64});
    vb_tfckpt_free(&flow);
    vb_tfckpt *k600 = open_or_fail(shared_path("data/i3d/checkpoints/rgb_scratch_kin600/model.ckpt"));
    expect_shape(k600, "Conv3d_1a_7x7/conv_3d/w", 5, (int64_t[]){7, 7, 7, 3, 64});
    expect_shape(k600, "Logits/Conv3d_0c_1x1/conv_3d/w", 5, (int64_t[]){1, 1, 1, 1024, 600});
    expect_shape(k600, "Conv3d_1a_7x7/batch_norm/beta", 5, (int64_t[]){1, 1, 1, 1, 64});
    expect_shape(k600, "Conv3d_1a_7x7/conv_3d/w/Momentum", 5, (int64_t[]){7, 7, 7, 3, 64});
    vb_tfckpt_free(&k600);
}

static void read_floats(vb_tfckpt *ckpt, const char *name, float *out, size_t n)
{
    const vb_tfckpt_entry *e = vb_tfckpt_find(ckpt, name);
    if (!e)
        fail_msg("tensor %s not listed", name);
    assert_int_equal(e->size_bytes, (int64_t)(n * sizeof(float)));
    vb_error err = {0};
    if (vb_tfckpt_read(ckpt, e, out, n * sizeof(float), &err))
        fail_msg("reading %s: %s", name, err.message);
}

/* Values from the issue (printed by TensorFlow when the checkpoint was written). */
static void aind_model_values_are_read_with_crc_verified(void **state)
{
    (void)state;
    vb_tfckpt *ckpt = open_or_fail(shared_path("data/tf-checkpoints/aind-intro/model.ckpt"));
    float bias[3], weights[6];
    read_floats(ckpt, "bias_0", bias, 3);
    read_floats(ckpt, "weights_0", weights, 6);
    const float expected_bias[3] = {-0.50538915f, 0.34474477f, -1.5139692f};
    const float expected_weights[6] = {0.44076926f, -0.53422976f, 0.8830951f, 0.7231282f, 0.84455484f, 0.20906763f};
    for (int i = 0; i < 3; i++)
        if (bias[i] != expected_bias[i])
            fail_msg("bias_0[%d] = %.9g, expected %.9g", i, bias[i], expected_bias[i]);
    for (int i = 0; i < 6; i++)
        if (weights[i] != expected_weights[i])
            fail_msg("weights_0[%d] = %.9g, expected %.9g", i, weights[i], expected_weights[i]);
    const vb_tfckpt_entry *w = vb_tfckpt_find(ckpt, "weights_0");
    assert_int_equal(w->ndim, 2);
    assert_int_equal(w->shape[0], 2);
    assert_int_equal(w->shape[1], 3);
    vb_tfckpt_free(&ckpt);
}

static void aind_train_model_has_784x10_variable(void **state)
{
    (void)state;
    vb_tfckpt *ckpt = open_or_fail(shared_path("data/tf-checkpoints/aind-intro/train_model.ckpt"));
    expect_shape(ckpt, "Variable", 2, (int64_t[]){784, 10});
    expect_shape(ckpt, "Variable_1", 1, (int64_t[]){10});
    vb_error err = {0};
    if (vb_tfckpt_verify_all(ckpt, &err))
        fail_msg("verify: %s", err.message);
    vb_tfckpt_free(&ckpt);
}

static void copy_to_temp(const char *from_relative, const char *to_name)
{
    char *bytes = NULL;
    size_t size = 0;
    vb_error err = {0};
    if (fs_read_file(shared_path(from_relative), 1 << 26, &bytes, &size, &err) ||
        fs_write_file_atomic(temp_path(to_name), bytes, size, &err))
        fail_msg("copy %s: %s", from_relative, err.message);
    free(bytes);
}

static void flip_byte(const char *path, long offset)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    fputc(c ^ 0x01, fp);
    fclose(fp);
}

static void flipped_data_byte_names_the_tensor(void **state)
{
    (void)state;
    copy_to_temp("data/tf-checkpoints/aind-intro/model.ckpt.index", "flip.ckpt.index");
    copy_to_temp("data/tf-checkpoints/aind-intro/model.ckpt.data-00000-of-00001", "flip.ckpt.data-00000-of-00001");
    /* weights_0 occupies bytes 12..36 of the shard (listed above); flip one in the middle. */
    flip_byte(temp_path("flip.ckpt.data-00000-of-00001"), 20);
    vb_tfckpt *ckpt = open_or_fail(temp_path("flip.ckpt"));
    float values[6];
    vb_error err = {0};
    assert_int_equal(vb_tfckpt_read(ckpt, vb_tfckpt_find(ckpt, "bias_0"), values, sizeof values, &err), VB_OK);
    int rc = vb_tfckpt_read(ckpt, vb_tfckpt_find(ckpt, "weights_0"), values, sizeof values, &err);
    assert_int_equal(rc, VB_ECHECKSUM);
    if (!strstr(err.message, "'weights_0'") || !strstr(err.message, "flip.ckpt.data-00000-of-00001"))
        fail_msg("message does not name tensor and shard: %s", err.message);
    rc = vb_tfckpt_verify_all(ckpt, &err);
    assert_int_equal(rc, VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "weights_0"));
    vb_tfckpt_free(&ckpt);
}

static void truncated_data_shard_is_an_error(void **state)
{
    (void)state;
    copy_to_temp("data/tf-checkpoints/aind-intro/model.ckpt.index", "short.ckpt.index");
    vb_error err = {0};
    assert_int_equal(fs_write_file_atomic(temp_path("short.ckpt.data-00000-of-00001"), "0123456789abcdef", 16, &err), VB_OK);
    vb_tfckpt *ckpt = open_or_fail(temp_path("short.ckpt"));
    float values[6];
    int rc = vb_tfckpt_read(ckpt, vb_tfckpt_find(ckpt, "weights_0"), values, sizeof values, &err);
    assert_int_equal(rc, VB_EFORMAT);
    assert_non_null(strstr(err.message, "truncated"));
    vb_tfckpt_free(&ckpt);
}

static void missing_data_shard_is_not_found(void **state)
{
    (void)state;
    /* The real DeepMind indexes come without their shards in ../shared. */
    vb_tfckpt *ckpt = open_or_fail(shared_path("data/i3d/checkpoints/rgb_imagenet/model.ckpt"));
    float value[64];
    vb_error err = {0};
    int rc = vb_tfckpt_read(ckpt, vb_tfckpt_at(ckpt, 0), value, sizeof value, &err);
    assert_int_equal(rc, VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "model.ckpt.data-00000-of-00001"));
    vb_tfckpt_free(&ckpt);
}

static uint8_t *load_index(const char *relative, size_t *size)
{
    char *bytes = NULL;
    vb_error err = {0};
    if (fs_read_file(shared_path(relative), 1 << 20, &bytes, size, &err))
        fail_msg("%s", err.message);
    return (uint8_t *)bytes;
}

/* Every prefix of a real multi-block index is refused cleanly (the footer moves). */
static void every_truncation_of_a_real_index_is_refused(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = load_index("data/i3d/checkpoints/rgb_scratch_kin600/model.ckpt.index", &size);
    size_t step = test_sanitized() ? 7 : 1;
    for (size_t n = 0; n < size; n += step) {
        /* A fresh copy so ASan sees reads past n. */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, bytes, n);
        vb_tfckpt *ckpt = NULL;
        vb_error err = {0};
        int rc = vb_tfckpt_parse_index(copy, n, "truncated", &ckpt, &err);
        if (rc == VB_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte index parsed", n, size);
        assert_null(ckpt);
        assert_true(err.message[0] != '\0');
        free(copy);
    }
    free(bytes);
}

/* Any single flipped byte is caught: by a block crc, the footer magic, or the handles. */
static void every_flipped_byte_of_a_small_index_is_caught(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = load_index("data/tf-checkpoints/aind-intro/model.ckpt.index", &size);
    for (size_t i = 0; i < size; i++) {
        bytes[i] ^= 0x10;
        vb_tfckpt *ckpt = NULL;
        vb_error err = {0};
        int rc = vb_tfckpt_parse_index(bytes, size, "flipped", &ckpt, &err);
        /* Only the footer's zero padding (after the two handles, before the magic) is not
         * covered by a crc or a check: here the handles take the footer's first 4 bytes. */
        if (rc == VB_OK && !(i >= size - 48 + 4 && i < size - 8))
            fail_msg("flipping byte %zu of %zu went unnoticed", i, size);
        vb_tfckpt_free(&ckpt);
        bytes[i] ^= 0x10;
    }
    free(bytes);
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void store_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* aind-intro's index has one data block at offset 0; its size is the first handle in the
 * index block (found through the footer). */
static void snappy_block_is_refused_clearly(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = load_index("data/tf-checkpoints/aind-intro/model.ckpt.index", &size);
    const uint8_t *footer = bytes + size - 48;
    /* Footer: metaindex handle (offset, size), index handle (offset, size), one-byte varints here. */
    assert_true(footer[0] < 128 && footer[1] < 128 && footer[2] < 128 && footer[3] < 128);
    const uint8_t *index_block = bytes + footer[2];
    /* First index entry: shared=0, non_shared, value_len, key, then the handle (offset, size). */
    const uint8_t *handle = index_block + 3 + index_block[1];
    uint64_t offset = handle[0], block_size = handle[1];
    assert_true(handle[0] < 128 && handle[1] < 128);
    uint8_t *trailer = bytes + offset + block_size;
    trailer[0] = 1;   /* kSnappyCompression */
    uint32_t crc = vb_crc32c_extend(vb_crc32c_extend(0, bytes + offset, block_size), trailer, 1);
    store_le32(trailer + 1, vb_crc32c_mask(crc));
    vb_tfckpt *ckpt = NULL;
    vb_error err = {0};
    assert_int_equal(vb_tfckpt_parse_index(bytes, size, "snappy", &ckpt, &err), VB_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "snappy"));
    (void)load_le32;
    free(bytes);
}

static void wrong_magic_is_not_an_index(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = load_index("data/tf-checkpoints/aind-intro/model.ckpt.index", &size);
    bytes[size - 1] ^= 0xff;
    vb_tfckpt *ckpt = NULL;
    vb_error err = {0};
    assert_int_equal(vb_tfckpt_parse_index(bytes, size, "x", &ckpt, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "magic"));
    free(bytes);
}

/* RFC 3720 B.4 test vectors and the classic "123456789" check value. */
static void crc32c_matches_published_vectors(void **state)
{
    (void)state;
    uint8_t zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(vb_crc32c_extend(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(vb_crc32c_extend(0, zeros, 32), 0x8a9136aau);
    assert_int_equal(vb_crc32c_extend(0, ones, 32), 0x62a8ab43u);
    /* Extending in pieces equals one pass. */
    assert_int_equal(vb_crc32c_extend(vb_crc32c_extend(0, "1234", 4), "56789", 5), 0xe3069283u);
    for (uint32_t v = 0; v < 100000; v += 977)
        assert_int_equal(vb_crc32c_unmask(vb_crc32c_mask(v * 2654435761u)), v * 2654435761u);
    assert_int_not_equal(vb_crc32c_mask(0xe3069283u), 0xe3069283u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rgb_imagenet_lists_230_tensors_tiling_50818176_bytes),
        cmocka_unit_test(rgb_scratch_lists_230_tensors_tiling_50818176_bytes),
        cmocka_unit_test(flow_imagenet_lists_230_tensors_tiling_50730368_bytes),
        cmocka_unit_test(flow_scratch_lists_230_tensors_tiling_50730368_bytes),
        cmocka_unit_test(rgb_scratch_kin600_lists_346_tensors_tiling_103218112_bytes),
        cmocka_unit_test(known_shapes_come_out_right),
        cmocka_unit_test(aind_model_values_are_read_with_crc_verified),
        cmocka_unit_test(aind_train_model_has_784x10_variable),
        cmocka_unit_test(flipped_data_byte_names_the_tensor),
        cmocka_unit_test(truncated_data_shard_is_an_error),
        cmocka_unit_test(missing_data_shard_is_not_found),
        cmocka_unit_test(every_truncation_of_a_real_index_is_refused),
        cmocka_unit_test(every_flipped_byte_of_a_small_index_is_caught),
        cmocka_unit_test(snappy_block_is_refused_clearly),
        cmocka_unit_test(wrong_magic_is_not_an_index),
        cmocka_unit_test(crc32c_matches_published_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
