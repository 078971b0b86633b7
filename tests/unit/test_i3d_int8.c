/* int8 I3D (issue #15): the oneDNN int8 backend against the plain C int8 reference (acceptance 1)
 * and the int8 net against fp32 (acceptance 2, golden cases), plus the quantized file's checks.
 *
 * Reference vs oneDNN: both follow quant.h's scheme, so every u8 tensor up to Mixed_5c must be
 * identical (max difference 0). Only the fp32 tail (2x7x7 average pool and logits conv, summed
 * in a different order by oneDNN and by plain C) may differ, by float rounding: logits within
 * 1e-5 relative. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/agreement.h"
#include "vidbench/classifier.h"
#include "vidbench/i3d.h"
#include "vidbench/safetensors.h"

static const vb_i3d_endpoint u8_endpoints[] = {VB_I3D_CONV3D_1A_7X7, VB_I3D_MAXPOOL3D_2A_3X3, VB_I3D_CONV3D_2C_3X3,
                                               VB_I3D_MIXED_3B, VB_I3D_MIXED_4F, VB_I3D_MIXED_5C};
#define N_U8 (sizeof u8_endpoints / sizeof u8_endpoints[0])

static vb_i3d *open_model(const char *path, vb_i3d_backend backend, vb_i3d_precision precision)
{
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = backend;
    options.precision = precision;
    vb_i3d *model = NULL;
    vb_error err = {0};
    if (vb_i3d_open(path, &options, &model, &err))
        fail_msg("open %s (%s, %s): %s", path, vb_i3d_backend_name(backend), vb_i3d_precision_name(precision),
                 err.message);
    return model;
}

static float *random_clip(int frames, uint64_t seed)
{
    size_t n = (size_t)frames * 224 * 224 * 3;
    float *clip = malloc(n * sizeof(float));
    assert_non_null(clip);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        clip[i] = (float)((state >> 56) & 255) / 255.0f;   /* what a decoded frame holds: k/255 */
    }
    return clip;
}

/* Calibrates `fp32_path` on `n` clips of `frames` (minmax) and writes the int8 file. */
static void quantize(const char *fp32_path, const char *int8_path, int frames, int n, vb_i3d_calibration method)
{
    vb_i3d *model = open_model(fp32_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_FP32);
    vb_i3d_calibrator *cal = NULL;
    vb_error err = {0};
    if (vb_i3d_calibrator_new(model, &cal, &err))
        fail_msg("calibrator: %s", err.message);
    for (int i = 0; i < n; i++) {
        float *clip = random_clip(frames, 1000 + (uint64_t)i);
        if (vb_i3d_calibrator_add(cal, clip, 1, frames, &err))
            fail_msg("calibrate: %s", err.message);
        free(clip);
    }
    const char *meta[] = {"calibration_method", vb_i3d_calibration_name(method)};
    if (vb_i3d_calibrator_write(cal, int8_path, method, meta, 1, &err))
        fail_msg("write %s: %s", int8_path, err.message);
    vb_i3d_calibrator_free(&cal);
    vb_i3d_free(&model);
}

static size_t endpoint_count(vb_i3d *model, vb_i3d_endpoint e, int frames)
{
    int64_t shape[5];
    vb_error err = {0};
    int ndim = vb_i3d_endpoint_shape(model, e, 1, frames, shape, &err);
    assert_true(ndim > 0);
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= (size_t)shape[d];
    return n;
}

/* Runs both int8 backends on one clip (NULL: a random one) and compares every u8 endpoint bit
 * for bit. */
static void reference_vs_onednn(const char *int8_path, int frames, const float *input)
{
    vb_i3d *models[2] = {open_model(int8_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8),
                         open_model(int8_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_INT8)};
    printf("int8 reference vs oneDNN (ISA %s%s%s), T=%d\n", vb_i3d_isa(models[1]), *vb_i3d_note(models[1]) ? "; " : "",
           vb_i3d_note(models[1]), frames);
    float *outputs[2][VB_I3D_ENDPOINT_COUNT] = {{0}};
    for (int b = 0; b < 2; b++) {
        for (size_t i = 0; i < N_U8; i++)
            outputs[b][u8_endpoints[i]] = malloc(endpoint_count(models[0], u8_endpoints[i], frames) * sizeof(float));
        outputs[b][VB_I3D_LOGITS] = malloc(endpoint_count(models[0], VB_I3D_LOGITS, frames) * sizeof(float));
    }
    float *clip = input ? NULL : random_clip(frames, 7);
    vb_error err = {0};
    for (int b = 0; b < 2; b++)
        if (vb_i3d_forward_endpoints(models[b], input ? input : clip, 1, frames, outputs[b], &err))
            fail_msg("forward: %s", err.message);
    int failures = 0;
    for (size_t i = 0; i < N_U8; i++) {
        vb_i3d_endpoint e = u8_endpoints[i];
        size_t n = endpoint_count(models[0], e, frames), differ = 0;
        double max_diff = 0;
        for (size_t k = 0; k < n; k++) {
            double d = fabs((double)outputs[0][e][k] - (double)outputs[1][e][k]);
            differ += !(d == 0);
            max_diff = d > max_diff || d != d ? d : max_diff;
        }
        printf("  %-16s %zu values, %zu differ, max diff %.3e %s\n", vb_i3d_endpoint_name(e), n, differ, max_diff,
               differ ? "NOT OK" : "OK");
        failures += differ != 0;
    }
    double max_abs;
    size_t classes = endpoint_count(models[0], VB_I3D_LOGITS, frames);
    double rel = relative_error(outputs[1][VB_I3D_LOGITS], outputs[0][VB_I3D_LOGITS], classes, &max_abs);
    printf("  %-16s relative %.3e (fp32 tail summed in another order) %s\n", "Logits", rel, rel <= 1e-5 ? "OK" : "NOT OK");
    failures += !(rel <= 1e-5);
    for (int b = 0; b < 2; b++) {
        for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++)
            free(outputs[b][e]);
        vb_i3d_free(&models[b]);
    }
    free(clip);
    if (failures)
        fail_msg("%d endpoint(s) differ between the int8 reference and oneDNN", failures);
}


static void reference_matches_onednn_full_width(void **state)
{
    (void)state;
    /* full width (sanitizers: 1/4, the plain C int8 loops are slow there) at T=16, and at T=17:
     * odd, so Conv3d_1a's padding is uneven and the space-to-depth cells run past it */
    const int divisor = test_sanitized() ? 4 : 1;
    const char *fp32 = temp_path("i3d-int8-source.safetensors"), *int8 = temp_path("i3d-full-int8.safetensors");
    vb_error err = {0};
    if (vb_i3d_write_random_weights(fp32, divisor, 400, 42, &err))
        fail_msg("random weights: %s", err.message);
    quantize(fp32, int8, 16, 1, VB_I3D_CALIBRATE_PERCENTILE);
    reference_vs_onednn(int8, 16, NULL);
    reference_vs_onednn(int8, 17, NULL);
}

/* The golden input (uint8 [1,T,224,224,3]) as the [0,1] floats the classifier feeds. */
static float *golden_input(const char *dir, int *frames)
{
    char path[512];
    snprintf(path, sizeof path, "golden/%s/input.safetensors", dir);
    vb_safetensors *file = NULL;
    vb_error err = {0};
    if (vb_safetensors_open(shared_path(path), &file, &err))
        fail_msg("%s", err.message);
    const vb_tensor_view *video = vb_safetensors_find(file, "video");
    assert_non_null(video);
    assert_int_equal(video->dtype, VB_DTYPE_U8);
    *frames = (int)video->shape[1];
    size_t n = (size_t)vb_tensor_numel(video);
    float *input = malloc(n * sizeof(float));
    assert_non_null(input);
    for (size_t i = 0; i < n; i++)
        input[i] = (float)((const uint8_t *)video->data)[i] / 255.0f;
    vb_safetensors_free(&file);
    return input;
}

static float *golden_logits(const char *dir, int *classes)
{
    char path[512];
    snprintf(path, sizeof path, "golden/%s/expected.safetensors", dir);
    vb_safetensors *file = NULL;
    vb_error err = {0};
    if (vb_safetensors_open(shared_path(path), &file, &err))
        fail_msg("%s", err.message);
    const vb_tensor_view *logits = vb_safetensors_find(file, "Logits");
    assert_non_null(logits);
    *classes = (int)vb_tensor_numel(logits);
    float *out = malloc((size_t)*classes * sizeof(float));
    assert_non_null(out);
    memcpy(out, logits->data, (size_t)*classes * sizeof(float));
    vb_safetensors_free(&file);
    return out;
}

/* The golden cases' weights (calibrated on random clips) and inputs through both int8 backends. */
static void golden_oracle(const char *dir)
{
    char weights[512];
    snprintf(weights, sizeof weights, "golden/%s/weights.safetensors", dir);
    char int8[512];
    snprintf(int8, sizeof int8, "%s", temp_path("i3d-tiny-int8.safetensors"));
    quantize(shared_path(weights), int8, 16, 2, VB_I3D_CALIBRATE_MINMAX);
    int frames;
    float *input = golden_input(dir, &frames);
    reference_vs_onednn(int8, frames, input);
    free(input);
}

static void reference_matches_onednn_golden_k400(void **state) { (void)state; golden_oracle("i3d-tiny-k400"); }
static void reference_matches_onednn_golden_k600(void **state) { (void)state; golden_oracle("i3d-tiny-k600"); }

/* Bound on the int8 Logits error, as a fraction of the fp32 logits' range (max - min), for the
 * golden cases: 2%, the example. Why it holds: every quantized tensor adds uniform
 * rounding noise of RMS step/sqrt(12) (activations: 1/255 of the tensor's clipping range, 1/127
 * in the narrow arithmetic of CPUs without VNNI; weights: 1/127 of each channel's largest weight);
 * along I3D's deepest path (Conv3d_1a ... Mixed_5c, 11 convolutions, each adding its weight and
 * output noise) these add in quadrature to a few tenths of a percent of the range RMS, and the
 * largest error of 400-600 logits sits at 3-4 RMS. Measured (docs/i3d.md): 1.07-1.47% narrow,
 * 0.67-1.02% with VNNI's arithmetic. Broken arithmetic fails it: output scales 10% off gave
 * 112-171%, Conv3d_1a without its 127.5 offset 13-48%, truncating instead of rounding 2.12% on
 * k400 (1.04% on k600: rounding is the oracle test's to check). */
#define GOLDEN_INT8_BOUND 0.02

static void golden_case(const char *dir)
{
    char weights[512];
    snprintf(weights, sizeof weights, "golden/%s/weights.safetensors", dir);
    const char *fp32 = shared_path(weights);
    char int8[512];
    snprintf(int8, sizeof int8, "%s", temp_path("golden-int8.safetensors"));
    /* calibrated on the shared Kinetics clips, as `vidbench model quantize` would be */
    static const char *const clips[] = {"data/videos/kinetics400/R6llTwEh07w.mp4", "data/videos/kinetics400/SOX5yA1l24A.mp4",
                                        "data/videos/kinetics400/abseiling_k400.mp4",
                                        "data/videos/kinetics400/mmaction2_demo.mp4"};
    char paths[4][1024];
    const char *calibration[4];
    for (int i = 0; i < 4; i++) {
        snprintf(paths[i], sizeof paths[i], "%s", shared_path(clips[i]));
        calibration[i] = paths[i];
    }
    vb_quantize_request request = {.weights_path = fp32, .output_path = int8, .calibration = calibration,
                                   .n_calibration = 4, .method = VB_I3D_CALIBRATE_MINMAX, .num_frames = 32};
    vb_quantize_report report;
    vb_error err = {0};
    if (vb_quantize_i3d(&request, &report, &err))
        fail_msg("quantize %s: %s", dir, err.message);
    int frames, classes;
    float *input = golden_input(dir, &frames), *expected = golden_logits(dir, &classes);
    vb_i3d *model = open_model(int8, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_INT8);
    float *logits = malloc((size_t)classes * sizeof(float));
    assert_non_null(logits);
    if (vb_i3d_forward(model, input, 1, frames, logits, &err))
        fail_msg("int8 forward: %s", err.message);
    float lo = expected[0], hi = expected[0];
    double max_err = 0;
    for (int k = 0; k < classes; k++) {
        lo = expected[k] < lo ? expected[k] : lo;
        hi = expected[k] > hi ? expected[k] : hi;
        double d = fabs((double)logits[k] - (double)expected[k]);
        max_err = d > max_err || d != d ? d : max_err;
    }
    vb_agreement agreement;
    vb_agreement_init(&agreement);
    if (vb_agreement_add(&agreement, expected, logits, classes, &err))
        fail_msg("%s", err.message);
    const double fraction = max_err / (hi - lo);
    printf("%s (%s): int8 Logits max error %.4g = %.2f%% of the fp32 range %.4g (bound %.0f%%); top-1 %s, top-5 "
           "overlap %.0f%%, KL %.3g\n", dir, vb_i3d_note(model)[0] ? "narrow: 7-bit activations" : "8-bit", max_err,
           100 * fraction, hi - lo, 100 * GOLDEN_INT8_BOUND, agreement.top1_agree ? "same" : "DIFFERENT",
           100 * agreement.top5_overlap, agreement.mean_kl);
    vb_i3d_free(&model);
    /* what a VNNI machine runs (8-bit activations and weights), through the reference backend
     * (bit-identical to oneDNN's VNNI kernels by the scheme; those cannot run here) */
    setenv("VIDBENCH_INT8_VNNI", "1", 1);
    model = open_model(int8, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8);
    unsetenv("VIDBENCH_INT8_VNNI");
    if (vb_i3d_forward(model, input, 1, frames, logits, &err))
        fail_msg("int8 forward: %s", err.message);
    double max_err8 = 0;
    for (int k = 0; k < classes; k++) {
        double d = fabs((double)logits[k] - (double)expected[k]);
        max_err8 = d > max_err8 || d != d ? d : max_err8;
    }
    const double fraction8 = max_err8 / (hi - lo);
    printf("%s (VNNI's 8-bit arithmetic, reference backend): int8 Logits max error %.4g = %.2f%% of the fp32 range\n", dir, max_err8,
           100 * fraction8);
    vb_i3d_free(&model);
    free(input);
    free(expected);
    free(logits);
    if (!(fraction8 <= GOLDEN_INT8_BOUND))
        fail_msg("%s: int8 (VNNI's arithmetic) logits off by %.2f%% of the range, over the %.0f%% bound", dir,
                 100 * fraction8, 100 * GOLDEN_INT8_BOUND);
    if (!(fraction <= GOLDEN_INT8_BOUND))
        fail_msg("%s: int8 logits off by %.2f%% of the range, over the %.0f%% bound", dir, 100 * fraction,
                 100 * GOLDEN_INT8_BOUND);
}

static void int8_close_to_fp32_golden_k400(void **state) { (void)state; golden_case("i3d-tiny-k400"); }
static void int8_close_to_fp32_golden_k600(void **state) { (void)state; golden_case("i3d-tiny-k600"); }

/* bf16 (AMX machines): logits within 1e-2 relative of fp32 on the golden input and a full-width
 * net. Elsewhere bf16 falls back to fp32 (tested in test_i3d_int8_file) and this case skips. */
static void bf16_within_1e2_of_fp32(void **state)
{
    (void)state;
    const char *golden = shared_path("golden/i3d-tiny-k400/weights.safetensors");
    vb_i3d *probe = open_model(golden, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_BF16);
    const int ran_bf16 = vb_i3d_get_precision(probe) == VB_I3D_PRECISION_BF16;
    if (!ran_bf16)
        printf("bf16: %s\n", vb_i3d_note(probe));
    vb_i3d_free(&probe);
    test_require_isa("avx512_core_amx (bf16)", ran_bf16);
    char fp32[1024];
    snprintf(fp32, sizeof fp32, "%s", temp_path("i3d-bf16.safetensors"));
    vb_error err = {0};
    if (vb_i3d_write_random_weights(fp32, test_sanitized() ? 4 : 1, 400, 7, &err))
        fail_msg("random weights: %s", err.message);
    const char *paths[2] = {golden, fp32};
    for (int c = 0; c < 2; c++) {
        vb_i3d *models[2] = {open_model(paths[c], VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_FP32),
                             open_model(paths[c], VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_BF16)};
        int frames = 16;
        float *input = c == 0 ? golden_input("i3d-tiny-k400", &frames) : random_clip(frames, 3);
        const int classes = vb_i3d_num_classes(models[0]);
        float *logits[2] = {malloc((size_t)classes * sizeof(float)), malloc((size_t)classes * sizeof(float))};
        for (int m = 0; m < 2; m++)
            if (vb_i3d_forward(models[m], input, 1, frames, logits[m], &err))
                fail_msg("forward: %s", err.message);
        double max_abs;
        double rel = relative_error(logits[1], logits[0], (size_t)classes, &max_abs);
        printf("bf16 vs fp32 (%s, T=%d): Logits relative %.3e (bound 1e-2)\n", c ? "full width" : "golden k400", frames,
               rel);
        for (int m = 0; m < 2; m++) {
            free(logits[m]);
            vb_i3d_free(&models[m]);
        }
        free(input);
        assert_true(rel <= 1e-2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_matches_onednn_golden_k400),
        cmocka_unit_test(reference_matches_onednn_golden_k600),
        cmocka_unit_test(reference_matches_onednn_full_width),
        cmocka_unit_test(int8_close_to_fp32_golden_k400),
        cmocka_unit_test(int8_close_to_fp32_golden_k600),
        cmocka_unit_test(bf16_within_1e2_of_fp32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
