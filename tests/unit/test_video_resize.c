/* The OpenCV-exact bilinear resize: the SSE2 vertical pass equals the plain reference on
 * random rows, and the whole resize has OpenCV's values on inputs worked by hand (the
 * comparison with cv2.resize itself is tests/ref/video_resize_opencv.py). */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "video/video_internal.h"

static void sse2_vertical_pass_equals_reference(void **state)
{
    (void)state;
    srand(7);
    enum { N = 1000 };
    int32_t row0[N], row1[N];
    uint8_t fast[N], ref[N];
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < N; i++) { /* horizontal-pass range: 0 .. 255 * 2048 */
            row0[i] = rand() % (255 * 2048 + 1);
            row1[i] = rand() % (255 * 2048 + 1);
        }
        int16_t b1 = (int16_t)(rand() % 2049), b0 = (int16_t)(2048 - b1);
        int n = 1 + rand() % N;
        vb_resize_vertical(row0, row1, b0, b1, n, fast);
        vb_resize_vertical_reference(row0, row1, b0, b1, n, ref);
        assert_memory_equal(fast, ref, (size_t)n);
    }
}

static void vertical_rounding_is_opencvs_16_bit_one(void **state)
{
    (void)state;
    /* rows 100*2048 and 101*2048 with weights 1024/1024: ((1024*12800)>>16) +
     * ((1024*12928)>>16) = 200 + 202 = 402 -> (402 + 2) >> 2 = 101 (exact math: 100.5 -> 101) */
    int32_t r0[1] = {100 * 2048}, r1[1] = {101 * 2048};
    uint8_t out[1];
    vb_resize_vertical_reference(r0, r1, 1024, 1024, 1, out);
    assert_int_equal(out[0], 101);
    /* a value where the 16-bit path loses the low bits: 77 and 78 with 1/4 weights:
     * ((1536*9856)>>16) + ((512*9984)>>16) = 230 + 78 = 308 -> 77; exact 77.25 -> 77 */
    int32_t s0[1] = {77 * 2048}, s1[1] = {78 * 2048};
    vb_resize_vertical_reference(s0, s1, 1536, 512, 1, out);
    assert_int_equal(out[0], 77);
}

static void same_size_is_identity_and_constant_stays_constant(void **state)
{
    (void)state;
    enum { W = 37, H = 23 };
    uint8_t src[H * W * 3], dst[H * W * 3];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    vb_resize_plan plan;
    assert_int_equal(vb_resize_plan_init(&plan, W, H, W, H, 3), VB_OK);
    vb_resize_run(&plan, src, W * 3, dst, W * 3);
    assert_memory_equal(src, dst, sizeof src);
    vb_resize_plan_free(&plan);

    memset(src, 200, sizeof src);
    uint8_t small[10 * 10 * 3];
    assert_int_equal(vb_resize_plan_init(&plan, W, H, 10, 10, 3), VB_OK);
    vb_resize_run(&plan, src, W * 3, small, 30);
    for (size_t i = 0; i < sizeof small; i++)
        assert_int_equal(small[i], 200);
    vb_resize_plan_free(&plan);
}

static void exact_half_uses_area_average(void **state)
{
    (void)state;
    /* cv::resize switches INTER_LINEAR to INTER_AREA for an exact 2x reduction:
     * (1 + 2 + 3 + 5 + 2) >> 2 = 13 >> 2 = 3 */
    uint8_t src[2 * 2] = {1, 2, 3, 5}, dst[1];
    vb_resize_plan plan;
    assert_int_equal(vb_resize_plan_init(&plan, 2, 2, 1, 1, 1), VB_OK);
    assert_true(plan.area_fast_2x);
    vb_resize_run(&plan, src, 2, dst, 1);
    assert_int_equal(dst[0], 3);
    vb_resize_plan_free(&plan);
}

static void upscale_interpolates_between_pixels(void **state)
{
    (void)state;
    /* 1x2 -> 1x4 (one channel): fx = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
     * clamped at the edges: 0, then 0*0.75+100*0.25 = 25, 75, then 100 */
    uint8_t src[2] = {0, 100}, dst[4];
    vb_resize_plan plan;
    assert_int_equal(vb_resize_plan_init(&plan, 2, 1, 4, 1, 1), VB_OK);
    vb_resize_run(&plan, src, 2, dst, 4);
    assert_int_equal(dst[0], 0);
    assert_int_equal(dst[1], 25);
    assert_int_equal(dst[2], 75);
    assert_int_equal(dst[3], 100);
    vb_resize_plan_free(&plan);
}

static void crop_transform_takes_the_seeds_center_square(void **state)
{
    (void)state;
    /* 6x2 frame, crop: min 2, start_x = 6/2 - 2/2 = 2; to size 2 = the 2x2 block at x=2 */
    uint8_t frame[2 * 6 * 3];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 6; x++) {
            uint8_t *p = frame + (y * 6 + x) * 3;
            p[0] = (uint8_t)(10 * x);      /* B */
            p[1] = (uint8_t)(100 + y);     /* G */
            p[2] = (uint8_t)(200 + x);     /* R */
        }
    vb_frame_transform t;
    assert_int_equal(vb_frame_transform_init(&t, VB_RESIZE_CROP, 2, 6, 2), VB_OK);
    uint8_t out[2 * 2 * 3];
    vb_frame_transform_run(&t, frame, 6 * 3, out);
    /* RGB out: pixel (0,0) is frame (0,2): R 202, G 100, B 20 */
    assert_int_equal(out[0], 202);
    assert_int_equal(out[1], 100);
    assert_int_equal(out[2], 20);
    assert_int_equal(out[3 * 3 + 0], 203); /* pixel (1,1) = frame (1,3) */
    assert_int_equal(out[3 * 3 + 1], 101);
    vb_frame_transform_free(&t);
}

static void rotation_turns_like_cv_rotate(void **state)
{
    (void)state;
    /* 3x2 image, pixel value = its index; cv::ROTATE_90_CLOCKWISE gives 2x3 whose first row
     * is the first column read bottom-up */
    uint8_t src[2 * 3 * 3], dst[2 * 3 * 3];
    for (int i = 0; i < 6; i++)
        memset(src + 3 * i, i, 3);
    vb_rotate_bgr(src, 3, 2, 9, 90, dst);
    const int cw[6] = {3, 0, 4, 1, 5, 2};
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], cw[i]);
    vb_rotate_bgr(src, 3, 2, 9, 270, dst);
    const int ccw[6] = {2, 5, 1, 4, 0, 3};
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], ccw[i]);
    vb_rotate_bgr(src, 3, 2, 9, 180, dst);
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], 5 - i);
}

static void resize_mode_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"crop", "pad", "shortside", "stretch"};
    for (int i = 0; i < 4; i++) {
        vb_resize_mode mode;
        assert_int_equal(vb_resize_mode_parse(names[i], &mode), VB_OK);
        assert_string_equal(vb_resize_mode_name(mode), names[i]);
    }
    vb_resize_mode mode = VB_RESIZE_PAD;
    assert_int_equal(vb_resize_mode_parse("Crop", &mode), VB_EINVAL);
    assert_int_equal(vb_resize_mode_parse(NULL, &mode), VB_EINVAL);
    assert_int_equal(mode, VB_RESIZE_PAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sse2_vertical_pass_equals_reference),
        cmocka_unit_test(vertical_rounding_is_opencvs_16_bit_one),
        cmocka_unit_test(same_size_is_identity_and_constant_stays_constant),
        cmocka_unit_test(exact_half_uses_area_average),
        cmocka_unit_test(upscale_interpolates_between_pixels),
        cmocka_unit_test(crop_transform_takes_the_seeds_center_square),
        cmocka_unit_test(rotation_turns_like_cv_rotate),
        cmocka_unit_test(resize_mode_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
