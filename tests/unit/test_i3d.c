/* I3D engine behaviour apart from numerics: shapes and endpoint names, the FLOP count the issue
 * quotes, embeddings, clips too short, and weights files that are malformed or do not match
 * the network (each error names the file and the tensor). */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/i3d.h"
#include "vidbench/safetensors.h"
#include "vidbench/tfckpt.h"
#include "common/fsutil.h"

#define K400 "golden/i3d-tiny-k400/weights.safetensors"

static vb_i3d *open_reference(const char *path, vb_error *err, int *rc)
{
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = VB_I3D_BACKEND_REFERENCE;
    vb_i3d *model = NULL;
    *rc = vb_i3d_open(path, &options, &model, err);
    return model;
}

/* Rewrites the golden k400 weights into `out` through edit(), which may change views in place,
 * drop one (return count-1 after moving) or append one; returns the new count. */
typedef int (*edit_fn)(vb_tensor_view *views, int count, void *arg);

static const char *rewrite_weights(const char *name, edit_fn edit, void *arg)
{
    vb_safetensors *file = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(shared_path(K400), &file, &err), VB_OK);
    int n = vb_safetensors_count(file);
    vb_tensor_view *views = calloc((size_t)n + 4, sizeof *views);
    assert_non_null(views);
    for (int i = 0; i < n; i++)
        views[i] = *vb_safetensors_at(file, i);
    n = edit(views, n, arg);
    const char *path = temp_path(name);
    if (vb_safetensors_write(path, views, n, NULL, 0, &err))
        fail_msg("write %s: %s", path, err.message);
    free(views);
    vb_safetensors_free(&file);
    return path;
}

static int find_view(vb_tensor_view *views, int n, const char *suffix)
{
    size_t ls = strlen(suffix);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(views[i].name);
        if (l >= ls && !strcmp(views[i].name + l - ls, suffix))
            return i;
    }
    fail_msg("no tensor ending in %s", suffix);
    return -1;
}

static void expect_open_error(const char *path, int code, const char *fragment1, const char *fragment2)
{
    vb_error err = {0};
    int rc;
    vb_i3d *model = open_reference(path, &err, &rc);
    assert_null(model);
    if (rc != code)
        fail_msg("expected code %d (%s), got %d: %s", code, vb_strerror(code), rc, err.message);
    if (!strstr(err.message, fragment1) || (fragment2 && !strstr(err.message, fragment2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.message, fragment1, fragment2 ? fragment2 : "");
}

static void endpoint_names_round_trip(void **state)
{
    (void)state;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++)
        assert_int_equal(vb_i3d_endpoint_from_name(vb_i3d_endpoint_name((vb_i3d_endpoint)e)), e);
    assert_string_equal(vb_i3d_endpoint_name(VB_I3D_MIXED_4F), "Mixed_4f");   /* i3d.py spelling */
    assert_int_equal(vb_i3d_endpoint_from_name("Mixed_9z"), -1);
    assert_null(vb_i3d_endpoint_name(VB_I3D_ENDPOINT_COUNT));
}

static void shapes_follow_tf_same_rules(void **state)
{
    (void)state;
    vb_error err = {0};
    int rc;
    vb_i3d *model = open_reference(shared_path(K400), &err, &rc);
    assert_int_equal(rc, VB_OK);
    int64_t shape[5];
    /* golden README / expected.safetensors: T=9 -> Conv3d_1a [1,5,112,112,8], Mixed_5c [1,2,7,7,128] */
    assert_int_equal(vb_i3d_endpoint_shape(model, VB_I3D_CONV3D_1A_7X7, 1, 9, shape, &err), 5);
    assert_true(shape[1] == 5 && shape[2] == 112 && shape[3] == 112 && shape[4] == 8);
    assert_int_equal(vb_i3d_endpoint_shape(model, VB_I3D_MIXED_5C, 2, 9, shape, &err), 5);
    assert_true(shape[0] == 2 && shape[1] == 2 && shape[2] == 7 && shape[4] == 128);
    assert_int_equal(vb_i3d_endpoint_shape(model, VB_I3D_LOGITS, 3, 9, shape, &err), 2);
    assert_true(shape[0] == 3 && shape[1] == 400);
    assert_int_equal(vb_i3d_embedding_size(model), 128);
    vb_i3d_free(&model);
}

static void too_few_frames_is_a_clear_error(void **state)
{
    (void)state;
    vb_error err = {0};
    int rc;
    vb_i3d *model = open_reference(shared_path(K400), &err, &rc);
    assert_int_equal(rc, VB_OK);
    float *input = calloc((size_t)8 * 224 * 224 * 3, sizeof(float));
    float logits[400];
    rc = vb_i3d_forward(model, input, 1, 8, logits, &err);
    assert_int_equal(rc, VB_ETOOSHORT);
    assert_non_null(strstr(err.message, "at least 9 frames"));
    int64_t shape[5];
    assert_int_equal(vb_i3d_endpoint_shape(model, VB_I3D_MIXED_5C, 1, 8, shape, &err), VB_ETOOSHORT);
    free(input);
    vb_i3d_free(&model);
}

/* The issue quotes 222.3 / 277.9 / 347.6 GFLOP for T = 64 / 79 / 100 at full width, 400 classes. */
static void flop_count_matches_the_issue(void **state)
{
    (void)state;
    vb_error err = {0};
    const char *path = temp_path("i3d-full-flops.safetensors");
    assert_int_equal(vb_i3d_write_random_weights(path, 1, 400, 7, &err), VB_OK);
    int rc;
    vb_i3d *model = open_reference(path, &err, &rc);
    if (rc)
        fail_msg("%s", err.message);
    assert_int_equal(vb_i3d_num_classes(model), 400);
    assert_int_equal(vb_i3d_embedding_size(model), 1024);
    assert_true(fabs(vb_i3d_flops_per_clip(model, 64) * 1e-9 - 222.3) < 0.05);
    assert_true(fabs(vb_i3d_flops_per_clip(model, 79) * 1e-9 - 277.9) < 0.05);
    assert_true(fabs(vb_i3d_flops_per_clip(model, 100) * 1e-9 - 347.6) < 0.05);
    vb_i3d_free(&model);
}

/* The random full-width weights used by the agreement test and the benchmark have exactly the
 * tensors of DeepMind's real rgb_imagenet checkpoint (its index is in ../shared). */
static void random_weights_match_real_checkpoint(void **state)
{
    (void)state;
    vb_error err = {0};
    const char *path = temp_path("i3d-full-shapes.safetensors");
    assert_int_equal(vb_i3d_write_random_weights(path, 1, 400, 3, &err), VB_OK);
    vb_safetensors *mine = NULL;
    vb_tfckpt *real = NULL;
    assert_int_equal(vb_safetensors_open(path, &mine, &err), VB_OK);
    if (vb_tfckpt_open(shared_path("data/i3d/checkpoints/rgb_imagenet/model.ckpt"), &real, &err))
        fail_msg("%s", err.message);
    int model_tensors = 0;
    for (int i = 0; i < vb_tfckpt_count(real); i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(real, i);
        if (!vb_tfckpt_is_model_tensor(e->name))
            continue;
        model_tensors++;
        const vb_tensor_view *t = vb_safetensors_find(mine, e->name);
        if (!t)
            fail_msg("random weights lack %s", e->name);
        int same = t->ndim == e->ndim;
        for (int d = 0; same && d < e->ndim; d++)
            same = t->shape[d] == e->shape[d];
        if (!same)
            fail_msg("%s: random weights shape differs from rgb_imagenet", e->name);
    }
    assert_int_equal(model_tensors, vb_safetensors_count(mine));   /* 230: nothing extra */
    vb_tfckpt_free(&real);
    vb_safetensors_free(&mine);
}

static void embedding_is_mixed_5c_mean(void **state)
{
    (void)state;
    vb_error err = {0};
    int rc;
    vb_i3d *model = open_reference(shared_path(K400), &err, &rc);
    assert_int_equal(rc, VB_OK);
    const size_t n_in = (size_t)9 * 224 * 224 * 3;
    float *input = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_in; i++)
        input[i] = (float)((i * 2654435761u) % 1000) / 999.0f;
    float *outputs[VB_I3D_ENDPOINT_COUNT] = {0};
    outputs[VB_I3D_MIXED_5C] = malloc((size_t)2 * 7 * 7 * 128 * sizeof(float));
    assert_int_equal(vb_i3d_forward_endpoints(model, input, 1, 9, outputs, &err), VB_OK);
    float embedding[128];
    assert_int_equal(vb_i3d_embed(model, input, 1, 9, embedding, &err), VB_OK);
    for (int c = 0; c < 128; c++) {
        double sum = 0;
        for (int p = 0; p < 2 * 7 * 7; p++)
            sum += outputs[VB_I3D_MIXED_5C][p * 128 + c];
        assert_float_equal(embedding[c], sum / 98.0, 1e-5);
    }
    free(outputs[VB_I3D_MIXED_5C]);
    free(input);
    vb_i3d_free(&model);
}

static void truncated_file_is_refused(void **state)
{
    (void)state;
    char *data = NULL;
    size_t size = 0;
    vb_error err = {0};
    assert_int_equal(fs_read_file(shared_path(K400), 1 << 24, &data, &size, &err), VB_OK);
    const char *path = temp_path("truncated.safetensors");
    assert_int_equal(fs_write_file_atomic(path, data, size / 2, &err), VB_OK);
    free(data);
    vb_error e2 = {0};
    int rc;
    vb_i3d *model = open_reference(path, &e2, &rc);
    assert_null(model);
    assert_int_equal(rc, VB_EFORMAT);
    assert_non_null(strstr(e2.message, "truncated.safetensors"));
}

static void lying_header_offsets_are_refused(void **state)
{
    (void)state;
    /* A header whose data_offsets point past the end of the file. */
    const char header[] = "{\"RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w\":{\"dtype\":\"F32\",\"shape\":[7,7,7,3,8],"
                          "\"data_offsets\":[0,32928]}}";
    unsigned char bytes[8 + sizeof header + 16];
    uint64_t len = sizeof header - 1;
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(len >> (8 * i));
    memcpy(bytes + 8, header, len);
    memset(bytes + 8 + len, 0, 16);
    vb_error err = {0};
    const char *path = temp_path("lying.safetensors");
    assert_int_equal(fs_write_file_atomic(path, bytes, 8 + len + 16, &err), VB_OK);
    int rc;
    vb_i3d *model = open_reference(path, &err, &rc);
    assert_null(model);
    assert_int_equal(rc, VB_EFORMAT);
    assert_non_null(strstr(err.message, "lying.safetensors"));
}

static int edit_f16(vb_tensor_view *v, int n, void *arg)
{
    (void)arg;
    int i = find_view(v, n, "Mixed_4c/Branch_1/Conv3d_0b_3x3/conv_3d/w");
    v[i].dtype = VB_DTYPE_F16;
    v[i].size_bytes /= 2;
    return n;
}

static void wrong_dtype_names_the_tensor(void **state)
{
    (void)state;
    expect_open_error(rewrite_weights("f16.safetensors", edit_f16, NULL), VB_EUNSUPPORTED,
                      "Mixed_4c/Branch_1/Conv3d_0b_3x3/conv_3d/w", "F16");
}

static int edit_drop(vb_tensor_view *v, int n, void *arg)
{
    int i = find_view(v, n, (const char *)arg);
    v[i] = v[n - 1];
    return n - 1;
}

static void missing_tensor_names_it(void **state)
{
    (void)state;
    expect_open_error(rewrite_weights("missing.safetensors", edit_drop, "Mixed_5b/Branch_2/Conv3d_0a_3x3/batch_norm/beta"),
                      VB_ENOTFOUND, "RGB/inception_i3d/Mixed_5b/Branch_2/Conv3d_0a_3x3/batch_norm/beta", "missing");
}

static float extra_values[4] = {1, 2, 3, 4};

static int edit_extra(vb_tensor_view *v, int n, void *arg)
{
    (void)arg;
    v[n] = (vb_tensor_view){.name = "RGB/inception_i3d/Mixed_6a/Branch_0/Conv3d_0a_1x1/conv_3d/w", .dtype = VB_DTYPE_F32,
                            .ndim = 1, .shape = {4}, .data = extra_values, .size_bytes = sizeof extra_values};
    return n + 1;
}

static void extra_tensor_names_it(void **state)
{
    (void)state;
    expect_open_error(rewrite_weights("extra.safetensors", edit_extra, NULL), VB_EFORMAT, "Mixed_6a", "unexpected");
}

static int edit_shape(vb_tensor_view *v, int n, void *arg)
{
    (void)arg;
    /* [3,3,3,12,16] relabelled [3,3,3,16,12]: same bytes, wrong cin for Mixed_3b branch 1 */
    int i = find_view(v, n, "Mixed_3b/Branch_1/Conv3d_0b_3x3/conv_3d/w");
    v[i].shape[3] = 16;
    v[i].shape[4] = 12;
    return n;
}

static void misshaped_tensor_names_it(void **state)
{
    (void)state;
    expect_open_error(rewrite_weights("shape.safetensors", edit_shape, NULL), VB_ESHAPE,
                      "Mixed_3b/Branch_1/Conv3d_0b_3x3/conv_3d/w", "[3,3,3,16,12]");
}

static float negative_variance[8];

static int edit_variance(vb_tensor_view *v, int n, void *arg)
{
    (void)arg;
    int i = find_view(v, n, "Conv3d_2b_1x1/batch_norm/moving_variance");
    memcpy(negative_variance, v[i].data, sizeof negative_variance);
    negative_variance[3] = -1.0f;
    v[i].data = negative_variance;
    return n;
}

static void negative_variance_is_refused(void **state)
{
    (void)state;
    expect_open_error(rewrite_weights("variance.safetensors", edit_variance, NULL), VB_EFORMAT,
                      "Conv3d_2b_1x1/batch_norm/moving_variance", "variance");
}

/* rgb_scratch_kin600 stores BN parameters as [1,1,1,1,C]; a checkpoint with gamma gets it applied. */
static float gamma_values[8], doubled_beta[8];

static int edit_bn_5d_and_gamma(vb_tensor_view *v, int n, void *arg)
{
    (void)arg;
    for (int i = 0; i < n; i++) {
        if (strstr(v[i].name, "batch_norm/") && v[i].ndim == 1) {
            int64_t c = v[i].shape[0];
            v[i].ndim = 5;
            v[i].shape[0] = v[i].shape[1] = v[i].shape[2] = v[i].shape[3] = 1;
            v[i].shape[4] = c;
        }
    }
    /* gamma = 2 with beta doubled on Conv3d_1a: its BN output doubles, so (ReLU being
     * positively homogeneous) the Conv3d_1a_7x7 endpoint doubles exactly. */
    int b = find_view(v, n, "Conv3d_1a_7x7/batch_norm/beta");
    memcpy(doubled_beta, v[b].data, sizeof doubled_beta);
    for (int k = 0; k < 8; k++) {
        doubled_beta[k] *= 2;
        gamma_values[k] = 2;
    }
    v[b].data = doubled_beta;
    v[n] = (vb_tensor_view){.name = "RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/gamma", .dtype = VB_DTYPE_F32, .ndim = 1,
                            .shape = {8}, .data = gamma_values, .size_bytes = sizeof gamma_values};
    return n + 1;
}

static void bn_5d_shapes_and_gamma_are_handled(void **state)
{
    (void)state;
    vb_error err = {0};
    int rc;
    vb_i3d *plain = open_reference(shared_path(K400), &err, &rc);
    assert_int_equal(rc, VB_OK);
    vb_i3d *edited = open_reference(rewrite_weights("bn5d.safetensors", edit_bn_5d_and_gamma, NULL), &err, &rc);
    if (rc)
        fail_msg("%s", err.message);
    const size_t n_in = (size_t)9 * 224 * 224 * 3, n_out = (size_t)5 * 112 * 112 * 8;
    float *input = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_in; i++)
        input[i] = (float)((i * 40503u) % 256) / 255.0f;
    float *a[VB_I3D_ENDPOINT_COUNT] = {0}, *b[VB_I3D_ENDPOINT_COUNT] = {0};
    a[VB_I3D_CONV3D_1A_7X7] = malloc(n_out * sizeof(float));
    b[VB_I3D_CONV3D_1A_7X7] = malloc(n_out * sizeof(float));
    assert_int_equal(vb_i3d_forward_endpoints(plain, input, 1, 9, a, &err), VB_OK);
    assert_int_equal(vb_i3d_forward_endpoints(edited, input, 1, 9, b, &err), VB_OK);
    for (size_t i = 0; i < n_out; i++)
        a[VB_I3D_CONV3D_1A_7X7][i] *= 2;
    double rel = relative_error(b[VB_I3D_CONV3D_1A_7X7], a[VB_I3D_CONV3D_1A_7X7], n_out, NULL);
    if (!(rel <= 1e-6))
        fail_msg("gamma=2 should double Conv3d_1a_7x7; relative error %g", rel);
    free(a[VB_I3D_CONV3D_1A_7X7]);
    free(b[VB_I3D_CONV3D_1A_7X7]);
    free(input);
    vb_i3d_free(&plain);
    vb_i3d_free(&edited);
}

/* --threads / VIDBENCH_THREADS only change how oneDNN splits the work, not the answer: the
 * logits of 1, 2 and VIDBENCH_THREADS=1 threads are compared with each other bit for bit (the
 * oneDNN backend gave identical logits for 1, 2, 3 and 4 threads on the Zen 3 CI machine, so
 * exact is the justified bound), and the first with golden within the backend tolerance. */
static void thread_counts_agree(void **state)
{
    (void)state;
    vb_safetensors *input_file = NULL, *expected_file = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/input.safetensors"), &input_file, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/expected.safetensors"), &expected_file, &err),
                     VB_OK);
    const vb_tensor_view *video = vb_safetensors_find(input_file, "video");
    const size_t n_in = (size_t)vb_tensor_numel(video);
    float *input = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_in; i++)
        input[i] = ((const uint8_t *)video->data)[i] / 255.0f;
    float golden[400];
    memcpy(golden, vb_safetensors_find(expected_file, "Logits")->data, sizeof golden);
    const int threads[3] = {1, 2, 0};   /* 0: from VIDBENCH_THREADS, set to 1 below */
    float logits[3][400];
    setenv("VIDBENCH_THREADS", "1", 1);
    for (int i = 0; i < 3; i++) {
        vb_i3d_options options;
        vb_i3d_options_init(&options);
        options.threads = threads[i];
        vb_i3d *model = NULL;
        assert_int_equal(vb_i3d_open(shared_path(K400), &options, &model, &err), VB_OK);
        assert_int_equal(vb_i3d_forward(model, input, 1, 9, logits[i], &err), VB_OK);
        vb_i3d_free(&model);
    }
    unsetenv("VIDBENCH_THREADS");
    double rel = relative_error(logits[0], golden, 400, NULL);
    if (!(rel <= 1e-4))
        fail_msg("threads=1: logits %g relative from golden", rel);
    for (int i = 1; i < 3; i++)
        for (int k = 0; k < 400; k++)
            if (memcmp(&logits[i][k], &logits[0][k], sizeof(float)))
                fail_msg("threads=%d: logit %d is %.9g, 1 thread gives %.9g", threads[i], k, (double)logits[i][k],
                         (double)logits[0][k]);
    free(input);
    vb_safetensors_free(&input_file);
    vb_safetensors_free(&expected_file);
}

static void missing_file_names_it(void **state)
{
    (void)state;
    expect_open_error(temp_path("no-such-weights.safetensors"), VB_ENOTFOUND, "no-such-weights.safetensors", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoint_names_round_trip),
        cmocka_unit_test(shapes_follow_tf_same_rules),
        cmocka_unit_test(too_few_frames_is_a_clear_error),
        cmocka_unit_test(flop_count_matches_the_issue),
        cmocka_unit_test(random_weights_match_real_checkpoint),
        cmocka_unit_test(embedding_is_mixed_5c_mean),
        cmocka_unit_test(truncated_file_is_refused),
        cmocka_unit_test(lying_header_offsets_are_refused),
        cmocka_unit_test(wrong_dtype_names_the_tensor),
        cmocka_unit_test(missing_tensor_names_it),
        cmocka_unit_test(extra_tensor_names_it),
        cmocka_unit_test(misshaped_tensor_names_it),
        cmocka_unit_test(negative_variance_is_refused),
        cmocka_unit_test(bn_5d_shapes_and_gamma_are_handled),
        cmocka_unit_test(thread_counts_agree),
        cmocka_unit_test(missing_file_names_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
