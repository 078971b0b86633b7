/* I3D golden tests (acceptance 1): the golden tiny nets in ../shared/golden (see its README)
 * run through both backends; every stored endpoint and Logits must match the independent
 * PyTorch reference of i3d.py within 1e-4 relative (max abs diff / max abs value).
 * Prints the max diff per stage like llm.c's test_gpt2.c. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/i3d.h"
#include "vidbench/safetensors.h"

#define TOLERANCE 1e-4

static void run_golden(const char *name, vb_i3d_backend backend, int expected_classes)
{
    char rel[256];
    vb_error err = {0};
    vb_safetensors *input_file = NULL, *expected_file = NULL;
    snprintf(rel, sizeof rel, "golden/%s/input.safetensors", name);
    assert_int_equal(vb_safetensors_open(shared_path(rel), &input_file, &err), VB_OK);
    snprintf(rel, sizeof rel, "golden/%s/expected.safetensors", name);
    assert_int_equal(vb_safetensors_open(shared_path(rel), &expected_file, &err), VB_OK);

    const vb_tensor_view *video = vb_safetensors_find(input_file, "video");
    assert_non_null(video);
    const int batch = (int)video->shape[0], frames = (int)video->shape[1];
    const int64_t n_in = vb_tensor_numel(video);
    /* The golden input is u8/127.5 - 1; the engine takes [0,1] and maps 2x-1. */
    float *input = malloc((size_t)n_in * sizeof(float));
    assert_non_null(input);
    for (int64_t i = 0; i < n_in; i++)
        input[i] = ((const uint8_t *)video->data)[i] / 255.0f;

    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = backend;
    vb_i3d *model = NULL;
    snprintf(rel, sizeof rel, "golden/%s/weights.safetensors", name);
    int rc = vb_i3d_open(shared_path(rel), &options, &model, &err);
    if (rc)
        fail_msg("open %s: %s", rel, err.message);
    assert_int_equal(vb_i3d_num_classes(model), expected_classes);

    float *outputs[VB_I3D_ENDPOINT_COUNT] = {0};
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        int64_t shape[5];
        int ndim = vb_i3d_endpoint_shape(model, (vb_i3d_endpoint)e, batch, frames, shape, &err);
        assert_true(ndim == 2 || ndim == 5);
        int64_t n = 1;
        for (int d = 0; d < ndim; d++)
            n *= shape[d];
        outputs[e] = malloc((size_t)n * sizeof(float));
        assert_non_null(outputs[e]);
    }
    rc = vb_i3d_forward_endpoints(model, input, batch, frames, outputs, &err);
    if (rc)
        fail_msg("forward: %s", err.message);

    int compared = 0, failures = 0;
    printf("%s, %s backend (T=%d):\n", name, vb_i3d_backend_name(backend), frames);
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const vb_tensor_view *want = vb_safetensors_find(expected_file, vb_i3d_endpoint_name((vb_i3d_endpoint)e));
        if (!want)
            continue;
        int64_t shape[5];
        int ndim = vb_i3d_endpoint_shape(model, (vb_i3d_endpoint)e, batch, frames, shape, &err);
        assert_int_equal(ndim, want->ndim);
        for (int d = 0; d < ndim; d++)
            if (shape[d] != want->shape[d])
                fail_msg("%s: dim %d is %lld, golden has %lld", want->name, d, (long long)shape[d],
                         (long long)want->shape[d]);
        size_t n = (size_t)vb_tensor_numel(want);
        float *expected = malloc(n * sizeof(float));
        assert_non_null(expected);
        memcpy(expected, want->data, n * sizeof(float));
        double max_diff;
        double rel_err = relative_error(outputs[e], expected, n, &max_diff);
        int ok = rel_err <= TOLERANCE;
        printf("  %-18s max diff %.3e  relative %.3e  %s\n", want->name, max_diff, rel_err, ok ? "OK" : "NOT OK");
        failures += !ok;
        compared++;
        free(expected);
    }
    assert_int_equal(compared, 9);   /* 8 endpoints + Logits per the golden README */
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++)
        free(outputs[e]);
    free(input);
    vb_i3d_free(&model);
    assert_null(model);
    vb_safetensors_free(&input_file);
    vb_safetensors_free(&expected_file);
    if (failures)
        fail_msg("%s/%s: %d stage(s) beyond %.0e relative", name, vb_i3d_backend_name(backend), failures, TOLERANCE);
}

static void k400_reference(void **state) { (void)state; run_golden("i3d-tiny-k400", VB_I3D_BACKEND_REFERENCE, 400); }
static void k600_reference(void **state) { (void)state; run_golden("i3d-tiny-k600", VB_I3D_BACKEND_REFERENCE, 600); }
static void k400_onednn(void **state) { (void)state; run_golden("i3d-tiny-k400", VB_I3D_BACKEND_ONEDNN, 400); }
static void k600_onednn(void **state) { (void)state; run_golden("i3d-tiny-k600", VB_I3D_BACKEND_ONEDNN, 600); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(k400_reference),
        cmocka_unit_test(k600_reference),
        cmocka_unit_test(k400_onednn),
        cmocka_unit_test(k600_onednn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
