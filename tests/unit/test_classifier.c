/* The generic classifier: a decoded clip through I3D gives the golden logits, probabilities
 * are their softmax, top-k is ordered, inputs are chosen per model type, and mismatches
 * (label map size, clip size, unknown file type) are clear errors. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/classifier.h"
#include "vidbench/safetensors.h"

#define K400_WEIGHTS "golden/i3d-tiny-k400/weights.safetensors"
#define K400_LABELS "data/labelmaps/kinetics400_label_map.txt"

static vb_classifier *open_k400(vb_i3d_backend backend, int num_frames)
{
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.backend = backend;
    options.num_frames = num_frames;
    vb_classifier *c = NULL;
    vb_error err = {0};
    if (vb_classifier_open(shared_path(K400_WEIGHTS), shared_path(K400_LABELS), &options, &c, &err))
        fail_msg("open: %s", err.message);
    return c;
}

static void golden_clip_gives_golden_logits(vb_i3d_backend backend)
{
    vb_safetensors *input = NULL, *expected = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/input.safetensors"), &input, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/expected.safetensors"), &expected, &err), VB_OK);
    const vb_tensor_view *video = vb_safetensors_find(input, "video");
    const vb_tensor_view *want = vb_safetensors_find(expected, "Logits");
    assert_non_null(video);
    assert_non_null(want);
    vb_frames clip = {.num_frames = (int)video->shape[1], .height = 224, .width = 224,
                    .frames = (uint8_t *)video->data};
    vb_classifier *c = open_k400(backend, 0);
    assert_int_equal(vb_classifier_num_classes(c), 400);
    float logits[400], probabilities[400], golden[400];
    memcpy(golden, want->data, sizeof golden);
    assert_int_equal(vb_classifier_run(c, &clip, logits, probabilities, &err), VB_OK);
    double max_diff;
    double rel = relative_error(logits, golden, 400, &max_diff);
    printf("classifier (%s) logits vs golden: max diff %.3e relative %.3e\n", vb_i3d_backend_name(backend), max_diff, rel);
    assert_true(rel <= 1e-4);
    double sum = 0;
    for (int i = 0; i < 400; i++)
        sum += probabilities[i];
    assert_float_equal(sum, 1.0, 1e-5);
    vb_prediction top[3];
    assert_int_equal(vb_top_k(probabilities, 400, 3, top), 3);
    /* the top class is the argmax of the golden logits */
    int argmax = 0;
    for (int i = 1; i < 400; i++)
        if (golden[i] > golden[argmax])
            argmax = i;
    assert_int_equal(top[0].class_id, argmax);
    assert_non_null(vb_classifier_label(c, argmax));
    vb_classifier_free(&c);
    assert_null(c);
    vb_safetensors_free(&input);
    vb_safetensors_free(&expected);
}

static void golden_reference(void **state) { (void)state; golden_clip_gives_golden_logits(VB_I3D_BACKEND_REFERENCE); }
static void golden_onednn(void **state) { (void)state; golden_clip_gives_golden_logits(VB_I3D_BACKEND_ONEDNN); }

static void softmax_and_top_k(void **state)
{
    (void)state;
    const float logits[5] = {1.0f, 3.0f, 3.0f, -2.0f, 0.5f};
    float p[5];
    vb_softmax(logits, 5, p);
    /* p_i = e^{l_i} / sum e^{l_j}: e^3 / (e + 2e^3 + e^-2 + e^0.5) */
    double z = exp(1.0) + 2 * exp(3.0) + exp(-2.0) + exp(0.5);
    assert_float_equal(p[1], exp(3.0) / z, 1e-6);
    vb_prediction top[8];
    assert_int_equal(vb_top_k(p, 5, 8, top), 5);   /* k capped at n */
    assert_int_equal(top[0].class_id, 1);           /* tie 1/2: lower id first */
    assert_int_equal(top[1].class_id, 2);
    assert_int_equal(top[2].class_id, 0);
    assert_int_equal(top[3].class_id, 4);
    assert_int_equal(top[4].class_id, 3);
    const float big[3] = {1000.0f, 999.0f, -1000.0f};   /* no overflow */
    vb_softmax(big, 3, p);
    assert_float_equal(p[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
}

static void i3d_asks_for_seed_input(void **state)
{
    (void)state;
    vb_classifier *c = open_k400(VB_I3D_BACKEND_REFERENCE, 0);
    vb_video_options o;
    vb_classifier_video_options(c, &o);
    assert_int_equal(o.size, 224);
    assert_int_equal(o.resize, VB_RESIZE_CROP);
    assert_int_equal(o.num_frames, 100);   /* the seed resamples to 100 */
    assert_int_equal(vb_classifier_get_kind(c), VB_CLASSIFIER_I3D);
    vb_classifier_free(&c);
    c = open_k400(VB_I3D_BACKEND_REFERENCE, 64);
    vb_classifier_video_options(c, &o);
    assert_int_equal(o.num_frames, 64);
    vb_classifier_free(&c);
}

static void label_count_mismatch_is_an_error(void **state)
{
    (void)state;
    vb_classifier *c = NULL;
    vb_error err = {0};
    int rc = vb_classifier_open(shared_path(K400_WEIGHTS), shared_path("data/labelmaps/kinetics600_label_map.txt"), NULL,
                                &c, &err);
    assert_int_equal(rc, VB_ESHAPE);
    assert_null(c);
    assert_non_null(strstr(err.message, "kinetics600_label_map.txt"));
    assert_non_null(strstr(err.message, "600"));
}

static void unknown_model_type_is_an_error(void **state)
{
    (void)state;
    vb_classifier *c = NULL;
    vb_error err = {0};
    assert_int_equal(vb_classifier_open(shared_path(K400_LABELS), NULL, NULL, &c, &err), VB_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "kinetics400_label_map.txt"));
    assert_non_null(strstr(err.message, ".safetensors"));
}

static void too_few_frames_requested(void **state)
{
    (void)state;
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.num_frames = 8;
    vb_classifier *c = NULL;
    vb_error err = {0};
    assert_int_equal(vb_classifier_open(shared_path(K400_WEIGHTS), NULL, &options, &c, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "at least 9 frames"));
}

static void wrong_clip_size_is_an_error(void **state)
{
    (void)state;
    vb_classifier *c = open_k400(VB_I3D_BACKEND_REFERENCE, 0);
    uint8_t *frames = calloc((size_t)9 * 172 * 172 * 3, 1);
    vb_frames clip = {.num_frames = 9, .height = 172, .width = 172, .frames = frames};
    float logits[400];
    vb_error err = {0};
    assert_int_equal(vb_classifier_run(c, &clip, logits, NULL, &err), VB_ESHAPE);
    assert_non_null(strstr(err.message, "172x172"));
    assert_null(vb_classifier_label(c, 400));   /* out of range */
    free(frames);
    vb_classifier_free(&c);
}

/* .tflite goes to the MoViNet interpreter, which asks for its own square size stretched, all
 * frames, 600 classes. (A failed open is a failure: the placeholder that refused is gone.) */
static void tflite_goes_to_movinet(void **state)
{
    (void)state;
    const char *path = shared_path("models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite");
    vb_classifier *c = NULL;
    vb_error err = {0};
    if (vb_classifier_open(path, NULL, NULL, &c, &err) != VB_OK)
        fail_msg("MoViNet does not open through the classifier: %s", err.message);
    assert_int_equal(vb_classifier_get_kind(c), VB_CLASSIFIER_MOVINET);
    vb_video_options o;
    vb_classifier_video_options(c, &o);
    assert_int_equal(o.resize, VB_RESIZE_STRETCH);
    assert_int_equal(o.num_frames, 0);
    assert_int_equal(o.size, 172);
    assert_int_equal(vb_classifier_num_classes(c), 600);
    vb_classifier_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_reference),
        cmocka_unit_test(golden_onednn),
        cmocka_unit_test(softmax_and_top_k),
        cmocka_unit_test(i3d_asks_for_seed_input),
        cmocka_unit_test(label_count_mismatch_is_an_error),
        cmocka_unit_test(unknown_model_type_is_an_error),
        cmocka_unit_test(too_few_frames_requested),
        cmocka_unit_test(wrong_clip_size_is_an_error),
        cmocka_unit_test(tflite_goes_to_movinet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
