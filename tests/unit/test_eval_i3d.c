/* The evaluation loop with the real I3D engine (golden tiny I3D from ../shared/golden,
 * random weights, 400 classes) on real Kinetics clips decoded by the video ingest code:
 * every CSV score is the softmax of the engine's logits for that clip, computed here by
 * decoding the clip and calling vb_i3d_forward on it alone; the partial last batch is in
 * the CSV; a corrupted file and a too-short clip are skipped and counted. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/eval.h"
#include "vidbench/i3d.h"
#include "vidbench/labels.h"
#include "common/fsutil.h"

#define FRAMES 9   /* VB_I3D_MIN_FRAMES: keeps the test fast; the network is the real topology */

static void csv_scores_are_softmax_of_engine_logits(void **state)
{
    (void)state;
    char weights[4200];   /* shared_path's buffers rotate: keep a copy */
    snprintf(weights, sizeof weights, "%s", shared_path("golden/i3d-tiny-k400/weights.safetensors"));
    char labels_path[4200];
    snprintf(labels_path, sizeof labels_path, "%s", shared_path("data/labelmaps/kinetics400_label_map.txt"));
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.threads = 1;
    vb_classifier *classifier = NULL;
    vb_error err = {0};
    vb_eval_model eval_model;
    if (vb_classifier_open(weights, labels_path, &options, &classifier, &err) ||
        vb_eval_model_from_classifier(classifier, &eval_model, &err))
        fail_msg("%s", err.message);
    const vb_eval_model *model = &eval_model;
    assert_int_equal(model->num_classes, 400);
    assert_int_equal(model->input_size, 224);

    /* three good clips (batch 2 -> a full batch and a partial one), a file that is not a
     * video, and a 32-frame clip under the seed's 128-frame minimum */
    static char paths[5][4200];
    const char *rel[5] = {
        "data/videos/kinetics400/R6llTwEh07w.mp4",
        "data/robustness/decord/corrupted.mp4",
        "data/videos/kinetics400/SOX5yA1l24A.mp4",
        "data/videos/kinetics400_unverified/mmaction2_rawvideo_part_0.mp4",
        "data/videos/kinetics400/mmaction2_demo.mp4",
    };
    for (int i = 0; i < 5; i++)
        snprintf(paths[i], sizeof paths[i], "%s", shared_path(rel[i]));
    const int n = test_sanitized() ? 3 : 5;   /* sanitizers: one good clip fewer, same checks */
    vb_eval_clip clips[5] = {
        {"R6llTwEh07w", "R6llTwEh07w", "using segway", paths[0]},
        {"broken", "", "abseiling", paths[1]},
        {"SOX5yA1l24A", "SOX5yA1l24A", "using segway", paths[2]},
        {"too_short", "", "cleaning pool", paths[3]},
        {"arm_wrestling", "", "arm wrestling", paths[4]},
    };
    vb_eval_params p;
    vb_eval_params_init(&p);
    p.clips = clips;
    p.clip_count = (size_t)n;
    p.num_frames = FRAMES;
    p.batch_size = 2;
    p.top_n = 5;
    p.video.min_frames = 128;
    char store[4200], csv[4200];
    snprintf(store, sizeof store, "%s", temp_path("i3d_eval.sqlite"));
    snprintf(csv, sizeof csv, "%s", temp_path("i3d_eval.csv"));
    p.store_path = store;
    p.csv_path = csv;
    p.fingerprint = "golden-i3d-tiny-k400 T=9";
    p.overwrite = 1;
    vb_eval_summary s;
    if (vb_eval_run(&p, model, &vb_eval_file_loader, &s, &err))
        fail_msg("vb_eval_run: %s", err.message);
    const int good = n == 5 ? 3 : 2;
    assert_int_equal(s.clips_evaluated, good);
    assert_int_equal(s.clips_skipped, n - good);
    vb_eval_summary_free(&s);

    char *text = NULL;
    size_t size;
    assert_int_equal(fs_read_file(csv, 1 << 20, &text, &size, &err), 0);
    vb_i3d_options o;
    vb_i3d_options_init(&o);
    o.threads = 1;
    vb_i3d *engine = NULL;
    if (vb_i3d_open(weights, &o, &engine, &err))
        fail_msg("%s", err.message);
    vb_labels labels;
    assert_int_equal(vb_labels_load(labels_path, &labels, &err), 0);
    const size_t clip_floats = (size_t)FRAMES * 224 * 224 * 3;
    float *input = malloc(clip_floats * sizeof(float));
    double worst = 0;
    int rows = 0;
    for (int i = 0; i < n; i++) {
        const char *row = strstr(text, clips[i].clip_id);
        if (!strcmp(clips[i].clip_id, "broken") || !strcmp(clips[i].clip_id, "too_short")) {
            assert_null(row);
            continue;
        }
        assert_non_null(row);
        rows++;
        vb_video_options vo;
        vb_video_options_init(&vo);
        vo.size = 224;
        vo.num_frames = FRAMES;
        vo.min_frames = 128;
        vb_frames clip;
        assert_int_equal(vb_video_decode_clip(clips[i].path, &vo, &clip, &err), 0);
        for (size_t k = 0; k < clip_floats; k++)
            input[k] = clip.frames[k] / 255.0f;
        vb_frames_free(&clip);
        float logits[400], probs[400];
        assert_int_equal(vb_i3d_forward(engine, input, 1, FRAMES, logits, &err), 0);
        vb_softmax(logits, 400, probs);
        /* row: id,yt,truth,pred_1..5,score_1..5 */
        char line[4096];
        const char *end = strchr(row, '\n');
        size_t len = (size_t)(end - row);
        memcpy(line, row, len);
        line[len] = '\0';
        char *fields[13];
        int nf = 0;
        for (char *tok = strtok(line, ","); tok && nf < 13; tok = strtok(NULL, ","))
            fields[nf++] = tok;
        /* the empty YouTube id collapses under strtok; count from the end instead */
        for (int k = 0; k < 5; k++) {
            const char *name = fields[nf - 10 + k];
            float score = strtof(fields[nf - 5 + k], NULL);
            int cls = vb_labels_find(&labels, name);
            assert_true(cls >= 0);
            double d = fabs((double)score - (double)probs[cls]);
            if (d > worst)
                worst = d;
            if (!(d <= 1e-6))
                fail_msg("%s: pred_%d '%s' score %.9g, engine softmax %.9g", clips[i].clip_id,
                         k + 1, name, (double)score, (double)probs[cls]);
            /* ranks: no class outside the top 5 beats the 5th */
            if (k == 4)
                for (int c = 0; c < 400; c++) {
                    int listed = 0;
                    for (int j = 0; j < 5; j++)
                        listed |= vb_labels_find(&labels, fields[nf - 10 + j]) == c;
                    if (!listed && probs[c] > score + 1e-6f)
                        fail_msg("%s: class %s (%.9g) beats pred_5", clips[i].clip_id,
                                 labels.names[c], (double)probs[c]);
                }
        }
    }
    print_message("max |CSV score - softmax(engine logits)| = %.3g over %d clips\n", worst, rows);
    assert_int_equal(rows, good);
    free(input);
    free(text);
    vb_labels_free(&labels);
    vb_i3d_free(&engine);
    vb_classifier_free(&classifier);
}

static void three_crops_on_a_real_clip(void **state)
{
    (void)state;
    /* R6llTwEh07w is 340x256: short side to 224 keeps the aspect, 340*224/256 = 297.5 -> 298
     * (MMAction2's int(x + 0.5)); ThreeCrop then takes x = 0, 37, 74 */
    char path[4200];
    snprintf(path, sizeof path, "%s", shared_path("data/videos/kinetics400/R6llTwEh07w.mp4"));
    vb_eval_clip clip = {"R6llTwEh07w", "R6llTwEh07w", "using segway", path};
    vb_video_options vo;
    vb_video_options_init(&vo);
    vo.size = 224;
    vo.num_frames = FRAMES;
    vo.resize = VB_RESIZE_ASPECT;
    vb_frames frames;
    vb_error err = {0};
    if (vb_video_decode_clip(path, &vo, &frames, &err))
        fail_msg("%s", err.message);
    assert_int_equal(frames.width, 298);
    assert_int_equal(frames.height, 224);
    assert_int_equal(frames.num_frames, FRAMES);
    vb_frames_free(&frames);
    vo.min_frames = 1000;
    assert_int_equal(vb_video_decode_clip(path, &vo, &frames, &err), VB_ETOOSHORT);

    char weights[4200], labels_path[4200], store[4200], csv[4200];
    snprintf(weights, sizeof weights, "%s", shared_path("golden/i3d-tiny-k400/weights.safetensors"));
    snprintf(labels_path, sizeof labels_path, "%s", shared_path("data/labelmaps/kinetics400_label_map.txt"));
    snprintf(store, sizeof store, "%s", temp_path("three_crops.sqlite"));
    snprintf(csv, sizeof csv, "%s", temp_path("three_crops.csv"));
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.threads = 1;
    vb_classifier *classifier = NULL;
    vb_eval_model eval_model;
    assert_int_equal(vb_classifier_open(weights, labels_path, &options, &classifier, &err), 0);
    assert_int_equal(vb_eval_model_from_classifier(classifier, &eval_model, &err), 0);
    vb_eval_params p;
    vb_eval_params_init(&p);
    p.clips = &clip;
    p.clip_count = 1;
    p.num_frames = FRAMES;
    p.num_crops = 3;
    p.batch_size = 1;
    p.top_n = 1;
    p.store_path = store;
    p.csv_path = csv;
    p.fingerprint = "three crops";
    p.overwrite = 1;
    vb_eval_summary s;
    if (vb_eval_run(&p, &eval_model, &vb_eval_file_loader, &s, &err))   /* 3 crops: the loop asks for the aspect kept */
        fail_msg("%s", err.message);
    assert_int_equal(s.clips_evaluated, 1);
    vb_eval_summary_free(&s);
    /* expected: the three crops run alone, probabilities averaged */
    vo.min_frames = 0;
    assert_int_equal(vb_video_decode_clip(path, &vo, &frames, &err), 0);
    vb_i3d_options o;
    vb_i3d_options_init(&o);
    o.threads = 1;
    vb_i3d *engine = NULL;
    assert_int_equal(vb_i3d_open(weights, &o, &engine, &err), 0);
    const size_t view = (size_t)FRAMES * 224 * 224 * 3;
    float *input = malloc(view * sizeof(float));
    float avg[400] = {0};
    const int xs[3] = {0, 37, 74};
    for (int c = 0; c < 3; c++) {
        for (int f = 0; f < FRAMES; f++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224 * 3; x++)
                    input[((size_t)f * 224 + y) * 224 * 3 + x] =
                        frames.frames[((size_t)f * 224 + y) * 298 * 3 + xs[c] * 3 + x] / 255.0f;
        float logits[400], probs[400];
        assert_int_equal(vb_i3d_forward(engine, input, 1, FRAMES, logits, &err), 0);
        vb_softmax(logits, 400, probs);
        for (int k = 0; k < 400; k++)
            avg[k] += probs[k] / 3.0f;
    }
    int best = 0;
    for (int k = 1; k < 400; k++)
        if (avg[k] > avg[best])
            best = k;
    char *text = NULL;
    size_t size;
    assert_int_equal(fs_read_file(csv, 1 << 20, &text, &size, &err), 0);
    char *row = strstr(text, "\nR6llTwEh07w,");
    assert_non_null(row);
    float score = strtof(strrchr(row, ',') + 1, NULL);
    if (!(fabs((double)score - (double)avg[best]) <= 1e-6))
        fail_msg("three-crop score %.9g, expected the averaged %.9g", (double)score, (double)avg[best]);
    free(text);
    free(input);
    vb_frames_free(&frames);
    vb_i3d_free(&engine);
    vb_classifier_free(&classifier);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_scores_are_softmax_of_engine_logits),
        cmocka_unit_test(three_crops_on_a_real_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
