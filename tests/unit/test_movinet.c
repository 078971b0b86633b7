/* MoViNet-A0-Stream end to end: the published reference clip decoded by vb_video_decode_clip
 * (whole frame stretched to 172x172, RGB) is "carving ice" with probability >= 0.5 (the
 * example apps' published result); every kernel level and thread count gives the same
 * logits bit for bit; the streaming API matches the one-call path; bad files are refused. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_builder.h"
#include "vidbench/labels.h"
#include "vidbench/movinet.h"
#include "vidbench/tflite.h"
#include "vidbench/video.h"

#define MODEL_DIR "models/movinet-a0-stream-int8-k600/"
#define MOVINET MODEL_DIR "movinet_a0_stream_int8.tflite"
#define CLIP "data/videos/reference/carving_ice_rpi.mp4"

static vb_movinet *open_model(int threads)
{
    vb_movinet *m = NULL;
    vb_error err = {0};
    if (vb_movinet_open(shared_path(MOVINET), threads, &m, &err))
        fail_msg("%s", err.message);
    return m;
}

static void decode_reference_clip(vb_frames *clip)
{
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 172;
    options.resize = VB_RESIZE_STRETCH;
    options.num_frames = 0;
    vb_error err = {0};
    if (vb_video_decode_clip(shared_path(CLIP), &options, clip, &err))
        fail_msg("%s", err.message);
}

static void reference_clip_is_carving_ice(void **state)
{
    (void)state;
    vb_movinet *m = open_model(2);
    assert_int_equal(vb_movinet_input_size(m), 172);
    assert_int_equal(vb_movinet_num_classes(m), 600);
    assert_int_equal(vb_movinet_num_states(m), 43);
    vb_frames clip;
    decode_reference_clip(&clip);
    float logits[600];
    vb_error err = {0};
    assert_int_equal(vb_movinet_classify_frames(m, clip.frames, clip.num_frames, logits, &err), VB_OK);
    vb_labels labels;
    assert_int_equal(vb_labels_load(shared_path(MODEL_DIR "kinetics600_label_map.txt"), &labels, NULL), VB_OK);
    int best = 0;
    for (int i = 1; i < 600; i++)
        if (logits[i] > logits[best])
            best = i;
    double sum = 0;
    for (int i = 0; i < 600; i++)
        sum += exp((double)logits[i] - logits[best]);
    const double probability = 1.0 / sum;
    print_message("%d frames: top-1 \"%s\" p=%.4f\n", clip.num_frames, labels.names[best], probability);
    if (strcmp(labels.names[best], "carving ice") != 0 || probability < 0.5)
        fail_msg("top-1 is \"%s\" with p=%.4f, the published result is \"carving ice\" with p >= 0.5",
                 labels.names[best], probability);
    vb_labels_free(&labels);
    vb_frames_free(&clip);
    vb_movinet_free(&m);
}

/* One case per vector level (1 AVX2, 2 AVX-512 VNNI): a CPU without that level skips the case,
 * counted by tests/run.sh, instead of running zero iterations and passing. */
static const int level_avx2 = 1, level_avx512vnni = 2;

static void levels_and_threads_agree_bit_for_bit(void **state)
{
    const int level = *(const int *)*state;
    test_require_isa(level == 1 ? "avx2" : "avx512vnni", vb_tflite_cpu_simd_level() >= level);
    vb_frames clip;
    decode_reference_clip(&clip);
    /* A few frames: the streaming states (int8 on the vector levels, float on level 0) are
     * carried over, so this also checks that keeping them in int8 changes nothing. */
    const int frames = test_sanitized() ? 2 : 4;
    float reference[600], logits[600];
    vb_error err = {0};
    vb_movinet *m = open_model(1);
    assert_int_equal(vb_movinet_set_simd_level(m, 0), 0);
    assert_int_equal(vb_movinet_classify_frames(m, clip.frames, frames, reference, &err), VB_OK);
    print_message("ISA tested: plain (MoViNet level 0, the reference here)\n");
    for (int threads = 1; threads <= 2; threads++) {
        vb_movinet *mt = threads == 1 ? m : open_model(threads);
        assert_int_equal(vb_movinet_set_simd_level(mt, level), level);
        assert_int_equal(vb_movinet_classify_frames(mt, clip.frames, frames, logits, &err), VB_OK);
        for (int i = 0; i < 600; i++)
            if (memcmp(&logits[i], &reference[i], sizeof(float)))
                fail_msg("level %d, %d threads: logit %d is %.9g, plain C gives %.9g", level, threads, i,
                         (double)logits[i], (double)reference[i]);
        if (mt != m)
            vb_movinet_free(&mt);
    }
    vb_movinet_free(&m);
    vb_frames_free(&clip);
}

static void streaming_matches_one_call(void **state)
{
    (void)state;
    vb_frames clip;
    decode_reference_clip(&clip);
    const int frames = 6;
    const size_t frame_bytes = 172 * 172 * 3;
    vb_movinet *m = open_model(1);
    vb_error err = {0};
    float once[600], stepped[600], again[600];
    assert_int_equal(vb_movinet_classify_frames(m, clip.frames, frames, once, &err), VB_OK);
    vb_movinet_reset(m);
    for (int f = 0; f < frames; f++)
        assert_int_equal(vb_movinet_step(m, clip.frames + f * frame_bytes, stepped, &err), VB_OK);
    assert_memory_equal(stepped, once, sizeof once);
    /* Without a reset the states carry on: a different answer; after a reset the same. */
    assert_int_equal(vb_movinet_step(m, clip.frames, again, &err), VB_OK);
    float first[600];
    vb_movinet_reset(m);
    assert_int_equal(vb_movinet_step(m, clip.frames, first, &err), VB_OK);
    assert_true(memcmp(again, first, sizeof first) != 0);
    vb_movinet_free(&m);
    vb_frames_free(&clip);
}

static void refuses_files_that_are_not_movinet(void **state)
{
    (void)state;
    vb_movinet *m = NULL;
    vb_error err = {0};
    assert_int_equal(vb_movinet_open(shared_path(CLIP), 1, &m, &err), VB_EFORMAT);
    assert_null(m);
    if (!strstr(err.message, "carving_ice_rpi.mp4"))
        fail_msg("message does not name the file: %s", err.message);

    /* A valid TFLite model without the image/logits signature. */
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "x", .type = VB_TFLITE_FLOAT32, .rank = 1, .shape = {4}},
                    {.name = "q", .type = VB_TFLITE_INT8, .rank = 1, .shape = {4}, .num_scales = 1, .scales = {1.0f}}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_QUANTIZE, .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
        .input_names = {"x"}, .output_names = {"q"},
    };
    size_t size;
    uint8_t *bytes = tb_build(&tm, &size);
    FILE *f = fopen(temp_path("plain.tflite"), "wb");
    assert_non_null(f);
    fwrite(bytes, 1, size, f);
    fclose(f);
    free(bytes);
    assert_int_equal(vb_movinet_open(temp_path("plain.tflite"), 1, &m, &err), VB_ENOTFOUND);
    if (!strstr(err.message, "image"))
        fail_msg("message does not say what is missing: %s", err.message);
}

static int open_built(const tb_model *tm, const char *name, vb_movinet **m, vb_error *err)
{
    size_t size;
    uint8_t *bytes = tb_build(tm, &size);
    FILE *f = fopen(temp_path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    fclose(f);
    free(bytes);
    return vb_movinet_open(temp_path(name), 1, m, err);
}

/* The state array was sized by the signature's 2 inputs but filled by a loop over the graph's
 * 8 (one state listed 7 times): a heap overflow. Now the repeated input is refused. */
static void graph_inputs_beyond_the_signature_are_refused(void **state)
{
    (void)state;
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "image", .type = VB_TFLITE_FLOAT32, .rank = 5, .shape = {1, 1, 2, 2, 3}},
                    {.name = "state", .type = VB_TFLITE_FLOAT32, .rank = 1, .shape = {4}},
                    {.name = "logits", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}}},
        .num_inputs = 8, .inputs = {0, 1, 1, 1, 1, 1, 1, 1},
        .num_outputs = 2, .outputs = {2, 1},
        .input_names = {"image", "state"}, .output_names = {"logits", "state"},
        .signature_inputs = 2,
    };
    vb_movinet *m = NULL;
    vb_error err = {0};
    /* The control: the same model with each input listed once opens, maps its one state and
     * steps (logits = state + state, state' = state + state, from zero). */
    tb_model valid = {
        .num_tensors = 4,
        .tensors = {{.name = "image", .type = VB_TFLITE_FLOAT32, .rank = 5, .shape = {1, 1, 2, 2, 3}},
                    {.name = "state", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}},
                    {.name = "logits", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}},
                    {.name = "state_out", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}}},
        .num_operators = 2,
        .operators = {{.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {1, 1}, .num_outputs = 1, .outputs = {2}},
                      {.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {1, 1}, .num_outputs = 1, .outputs = {3}}},
        .num_inputs = 2, .inputs = {0, 1},
        .num_outputs = 2, .outputs = {2, 3},
        .input_names = {"image", "state"}, .output_names = {"logits", "state"},
    };
    if (open_built(&valid, "valid_stream.tflite", &m, &err))
        fail_msg("the valid control model does not open: %s", err.message);
    assert_int_equal(vb_movinet_num_states(m), 1);
    assert_int_equal(vb_movinet_input_size(m), 2);
    uint8_t frame[12] = {0};
    float logits[3] = {1, 1, 1};
    assert_int_equal(vb_movinet_step(m, frame, logits, &err), VB_OK);
    assert_true(logits[0] == 0.0f && logits[2] == 0.0f);
    vb_movinet_free(&m);

    assert_int_equal(open_built(&tm, "repeated_state.tflite", &m, &err), VB_EFORMAT);
    assert_null(m);
    if (!strstr(err.message, "tensor 1 is listed twice") || !strstr(err.message, "repeated_state.tflite"))
        fail_msg("message does not name the file and the repeated input: %s", err.message);

    /* An "image" that is no graph input (and no operator's output) has no buffer: step()
     * would write through NULL. The logits here are computed (state + state). */
    tb_model no_input = {
        .num_tensors = 3,
        .tensors = {{.name = "image", .type = VB_TFLITE_FLOAT32, .rank = 5, .shape = {1, 1, 2, 2, 3}},
                    {.name = "state", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}},
                    {.name = "logits", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 3}}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {1, 1}, .num_outputs = 1, .outputs = {2}}},
        .num_inputs = 1, .inputs = {1, 0},
        .num_outputs = 2, .outputs = {2, 1},
        .input_names = {"state", "image"}, .output_names = {"logits", "state"},
        .signature_inputs = 2,
    };
    assert_int_equal(open_built(&no_input, "image_not_input.tflite", &m, &err), VB_EFORMAT);
    assert_null(m);
    if (!strstr(err.message, "not a graph input"))
        fail_msg("message does not say the image is no graph input: %s", err.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_clip_is_carving_ice),
        {"levels_and_threads_agree_bit_for_bit_avx2", levels_and_threads_agree_bit_for_bit, NULL, NULL,
         (void *)&level_avx2},
        {"levels_and_threads_agree_bit_for_bit_avx512vnni", levels_and_threads_agree_bit_for_bit, NULL, NULL,
         (void *)&level_avx512vnni},
        cmocka_unit_test(streaming_matches_one_call),
        cmocka_unit_test(refuses_files_that_are_not_movinet),
        cmocka_unit_test(graph_inputs_beyond_the_signature_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
