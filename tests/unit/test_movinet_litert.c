/* MoViNet-A0-Stream against a real TFLite runtime: ../shared/golden/movinet-litert/ holds what
 * LiteRT (XNNPACK, 1 thread) computes on four shared clips, every frame streamed with state
 * feedback. Our interpreter follows TFLite's reference int8 kernels, which round differently
 * from XNNPACK in three places; the golden README's operator-by-operator analysis bounds the
 * outcome: the same top-1 on all four clips, single probabilities within ~0.045, logits within
 * 3 quantization steps. Those are the checks here; the measured agreement is printed (and
 * recorded in docs/movinet.md). */
#include "testlib.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "vidbench/movinet.h"
#include "vidbench/video.h"

#define MOVINET "models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite"
#define GOLDEN "golden/movinet-litert/"

/* From the golden README's rounding analysis (a reference-rounding interpreter against
 * XNNPACK): "single probabilities differ by up to ~0.045 and logits by up to 3 steps". */
#define MAX_PROBABILITY_DIFF 0.045
#define MAX_LOGIT_STEPS 3

enum { CLASSES = 600 };

typedef struct golden_clip {
    char clip[256];
    int frames;
    int top1;
    float logits[CLASSES];
} golden_clip;

static void load_golden(const char *name, golden_clip *g)
{
    char *text = NULL;
    size_t size = 0;
    vb_error err = {0};
    if (fs_read_file(shared_path(name), 1 << 20, &text, &size, &err))
        fail_msg("%s", err.message);
    cJSON *root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root)
        fail_msg("%s: not JSON", name);
    const cJSON *clip = cJSON_GetObjectItem(root, "clip"), *frames = cJSON_GetObjectItem(root, "frames");
    const cJSON *top5 = cJSON_GetObjectItem(root, "top5"), *logits = cJSON_GetObjectItem(root, "logits");
    assert_true(cJSON_IsString(clip) && cJSON_IsNumber(frames) && cJSON_IsArray(top5) && cJSON_IsArray(logits));
    assert_int_equal(cJSON_GetArraySize(logits), CLASSES);
    snprintf(g->clip, sizeof g->clip, "%s", clip->valuestring);
    g->frames = frames->valueint;
    g->top1 = cJSON_GetObjectItem(cJSON_GetArrayItem(top5, 0), "class")->valueint;
    for (int i = 0; i < CLASSES; i++)
        g->logits[i] = (float)cJSON_GetArrayItem(logits, i)->valuedouble;
    cJSON_Delete(root);
}

static int argmax(const float *x)
{
    int best = 0;
    for (int i = 1; i < CLASSES; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static void softmax(const float *logits, double *p)
{
    const double top = logits[argmax(logits)];
    double sum = 0;
    for (int i = 0; i < CLASSES; i++)
        sum += p[i] = exp((double)logits[i] - top);
    for (int i = 0; i < CLASSES; i++)
        p[i] /= sum;
}

/* The dequantized logits sit on a grid: its step is the smallest gap between two values. */
static double logit_step(const float *logits)
{
    double step = INFINITY;
    for (int i = 0; i < CLASSES; i++)
        for (int j = 0; j < CLASSES; j++) {
            double d = fabs((double)logits[i] - logits[j]);
            if (d > 1e-6 && d < step)
                step = d;
        }
    return step;
}

static void check_clip(const char *json)
{
    golden_clip g;
    load_golden(json, &g);
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 172;
    options.resize = VB_RESIZE_STRETCH;
    options.num_frames = 0;
    vb_frames clip;
    vb_error err = {0};
    if (vb_video_decode_clip(shared_path(g.clip), &options, &clip, &err))
        fail_msg("%s", err.message);
    if (clip.num_frames != g.frames)
        fail_msg("%s: %d frames decoded, LiteRT was fed %d", g.clip, clip.num_frames, g.frames);
    vb_movinet *m = NULL;
    if (vb_movinet_open(shared_path(MOVINET), 2, &m, &err))
        fail_msg("%s", err.message);
    float logits[CLASSES];
    assert_int_equal(vb_movinet_classify_frames(m, clip.frames, clip.num_frames, logits, &err), VB_OK);
    vb_movinet_free(&m);
    vb_frames_free(&clip);

    double ours[CLASSES], theirs[CLASSES];
    softmax(logits, ours);
    softmax(g.logits, theirs);
    const double step = logit_step(g.logits);
    double max_p = 0, max_logit = 0;
    int differing = 0;
    for (int i = 0; i < CLASSES; i++) {
        double dp = fabs(ours[i] - theirs[i]), dl = fabs((double)logits[i] - g.logits[i]);
        if (!(dp <= max_p))
            max_p = dp;   /* a NaN sticks */
        if (!(dl <= max_logit))
            max_logit = dl;
        differing += !(dl <= 1e-6);
    }
    const int top = argmax(logits);
    print_message("%s: %d frames, top-1 %d (p=%.4f) vs LiteRT %d (p=%.4f); max |p diff| %.4f; "
                  "logits: %d of %d differ, max %.0f steps of %.4f\n",
                  g.clip, g.frames, top, ours[top], g.top1, theirs[g.top1], max_p, differing, CLASSES,
                  max_logit / step, step);
    if (top != g.top1)
        fail_msg("%s: top-1 class %d, LiteRT's is %d", g.clip, top, g.top1);
    if (!(max_p <= MAX_PROBABILITY_DIFF))
        fail_msg("%s: a probability differs by %.4f from LiteRT's (bound %.3f)", g.clip, max_p,
                 MAX_PROBABILITY_DIFF);
    /* both sides are dequantized int8: differences are whole steps up to float rounding */
    if (!(max_logit <= (MAX_LOGIT_STEPS + 0.5) * step))
        fail_msg("%s: a logit differs by %.4f (%.1f steps) from LiteRT's (bound %d steps)", g.clip, max_logit,
                 max_logit / step, MAX_LOGIT_STEPS);
}

static void carving_ice_agrees_with_litert(void **state) { (void)state; check_clip(GOLDEN "carving_ice_rpi.json"); }
static void segway_agrees_with_litert(void **state) { (void)state; check_clip(GOLDEN "R6llTwEh07w.json"); }
static void abseiling_agrees_with_litert(void **state) { (void)state; check_clip(GOLDEN "abseiling_k400.json"); }
static void basketball_agrees_with_litert(void **state)
{
    (void)state;
    check_clip(GOLDEN "v_Basketball_g01_c01.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(carving_ice_agrees_with_litert),
        cmocka_unit_test(segway_agrees_with_litert),
        cmocka_unit_test(abseiling_agrees_with_litert),
        cmocka_unit_test(basketball_agrees_with_litert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
