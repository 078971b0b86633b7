/* Issue 13: a model whose input the video decoder cannot produce (a MoViNet .tflite asking
 * for 5000x5000 frames) is refused when it is opened, naming the model file, instead of
 * every clip failing with "output size 5000 outside 1..4096" as if the clip were at fault. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_builder.h"
#include "vidbench/movinet.h"
#include "vidbench/tflite.h"
#include "vidbench/video.h"

/* A MoViNet-shaped signature (image [1,1,S,S,3] -> logits [1,2]) around one operator; the
 * operator never runs, the check comes before the interpreter. */
static const char *write_movinet_shaped(const char *name, int size)
{
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "image", .type = VB_TFLITE_FLOAT32, .rank = 5, .shape = {1, 1, size, size, 3}},
                    {.name = "logits", .type = VB_TFLITE_FLOAT32, .rank = 2, .shape = {1, 2}}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_QUANTIZE, .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
        .input_names = {"image"}, .output_names = {"logits"},
    };
    size_t bytes_size;
    uint8_t *bytes = tb_build(&tm, &bytes_size);
    const char *path = temp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, bytes_size, f), bytes_size);
    fclose(f);
    free(bytes);
    return path;
}

static void movinet_input_beyond_the_decoder_is_the_models_fault(void **state)
{
    (void)state;
    const char *path = write_movinet_shaped("huge_input.tflite", 5000);
    vb_movinet *m = NULL;
    vb_error err = {0};
    assert_int_equal(vb_movinet_open(path, 1, &m, &err), VB_EUNSUPPORTED);
    assert_null(m);
    if (!strstr(err.message, "huge_input.tflite: input \"image\" is 5000x5000, larger than the 4096x4096"))
        fail_msg("message does not blame the model and its size: %s", err.message);
}

static void the_decoders_limit_is_the_published_one(void **state)
{
    (void)state;
    /* the decoder refuses one more than VB_VIDEO_MAX_SIZE and names the limit */
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = VB_VIDEO_MAX_SIZE + 1;
    vb_frames clip;
    vb_error err = {0};
    assert_int_equal(vb_video_decode_clip(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options,
                                          &clip, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "outside 1..4096"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(movinet_input_beyond_the_decoder_is_the_models_fault),
        cmocka_unit_test(the_decoders_limit_is_the_published_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
