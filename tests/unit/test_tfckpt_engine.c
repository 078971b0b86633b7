/* Acceptance 3, second half: a golden checkpoint converted by vb_tfckpt_convert runs in the I3D
 * engine and reproduces the golden Logits (golden/README.md: ~1e-4 relative for float32). The
 * k600 case is the harder layout: no name prefix, 1x1x1x1xC BatchNorm, /Momentum slots. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/i3d.h"
#include "vidbench/safetensors.h"
#include "vidbench/tfckpt.h"

static void converted_checkpoint_reproduces_golden_logits(const char *golden, int classes)
{
    char prefix[4096], out[4096], input_path[4200], expected_path[4200];
    snprintf(prefix, sizeof prefix, "%s", shared_path(golden));
    snprintf(input_path, sizeof input_path, "%s/input.safetensors", prefix);
    snprintf(expected_path, sizeof expected_path, "%s/expected.safetensors", prefix);
    strcat(prefix, "/model.ckpt");
    snprintf(out, sizeof out, "%s", temp_path("engine.safetensors"));
    vb_error err = {0};
    if (vb_tfckpt_convert(prefix, out, NULL, NULL, &err))
        fail_msg("convert: %s", err.message);

    vb_safetensors *input_file = NULL, *expected_file = NULL;
    assert_int_equal(vb_safetensors_open(input_path, &input_file, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(expected_path, &expected_file, &err), VB_OK);
    const vb_tensor_view *video = vb_safetensors_find(input_file, "video");
    const vb_tensor_view *expected = vb_safetensors_find(expected_file, "Logits");
    assert_non_null(video);
    assert_non_null(expected);
    int frames = (int)video->shape[1];
    size_t n = (size_t)vb_tensor_numel(video);
    float *input = malloc(n * sizeof *input);
    const uint8_t *pixels = video->data;
    for (size_t i = 0; i < n; i++)
        input[i] = pixels[i] / 255.0f;   /* [0,1]; the engine maps 2x-1 = u8/127.5 - 1 */

    vb_i3d_options options;
    vb_i3d_options_init(&options);
    vb_i3d *model = NULL;
    if (vb_i3d_open(out, &options, &model, &err))
        fail_msg("engine cannot open the converted file: %s", err.message);
    assert_int_equal(vb_i3d_num_classes(model), classes);
    float *logits = calloc((size_t)classes, sizeof *logits);
    if (vb_i3d_forward(model, input, 1, frames, logits, &err))
        fail_msg("forward: %s", err.message);
    double max_abs_diff = 0;
    double relative = relative_error(logits, expected->data, (size_t)classes, &max_abs_diff);
    printf("%s: Logits max diff %.3g, relative %.3g\n", golden, max_abs_diff, relative);
    if (!(relative <= 1e-4))
        fail_msg("%s: Logits differ by %.3g relative (max abs %.3g), beyond 1e-4", golden, relative, max_abs_diff);
    free(logits);
    free(input);
    vb_i3d_free(&model);
    vb_safetensors_free(&input_file);
    vb_safetensors_free(&expected_file);
}

static void k600_checkpoint_converted_runs_in_the_engine(void **state)
{
    (void)state;
    converted_checkpoint_reproduces_golden_logits("golden/i3d-tiny-k600", 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(k600_checkpoint_converted_runs_in_the_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
