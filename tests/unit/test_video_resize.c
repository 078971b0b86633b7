/* The OpenCV-exact bilinear resize: the AVX2/SSE2 vertical and the AVX-512 VBMI/SSSE3
 * horizontal passes equal the plain reference on random rows and images, and the whole
 * resize has OpenCV's values on inputs worked by hand (the comparison with cv2.resize
 * itself is tests/ref/video_resize_opencv.py). */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "video/video_internal.h"

static void simd_vertical_pass_equals_reference(void **state)
{
    (void)state;
#if defined(__x86_64__)
    /* AVX2 takes 32 elements at a time, SSE2 the 16s left over, plain C the rest: random
     * lengths reach all three; without AVX2, SSE2 does it all */
    if (__builtin_cpu_supports("avx2"))
        print_message("ISA tested: avx2 (vertical pass)\n");
    else
        print_message("ISA skipped: avx2 (this CPU lacks it; SSE2 did the whole pass)\n");
    print_message("ISA tested: sse2 (vertical pass, 16-element remainders)\n");
#endif
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
        resize_vertical(row0, row1, b0, b1, n, fast);
        resize_vertical_reference(row0, row1, b0, b1, n, ref);
        assert_memory_equal(fast, ref, (size_t)n);
    }
}

/* Resizes src three ways -- every SIMD pass the CPU has (AVX-512 VBMI, then SSSE3), SSSE3
 * alone, and plain C -- and compares. */
static void check_simd_resize(const uint8_t *src, int sw, int sh, int dw, int dh, int channels, int reverse)
{
    resize_plan fast, narrow, plain;
    assert_int_equal(resize_plan_init(&fast, sw, sh, dw, dh, channels), VB_OK);
    assert_int_equal(resize_plan_init(&narrow, sw, sh, dw, dh, channels), VB_OK);
    assert_int_equal(resize_plan_init(&plain, sw, sh, dw, dh, channels), VB_OK);
    narrow.wide_elements = 0;
    plain.simd = 0;
    if (reverse) {
        resize_plan_reverse_channels(&fast);
        resize_plan_reverse_channels(&narrow);
        narrow.wide_elements = 0; /* reversing rebuilds the wide tables */
        resize_plan_reverse_channels(&plain);
    }
    size_t bytes = (size_t)dw * dh * channels;
    uint8_t *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    resize_run(&fast, src, (size_t)sw * channels, a, (size_t)dw * channels);
    resize_run(&narrow, src, (size_t)sw * channels, b, (size_t)dw * channels);
    resize_run(&plain, src, (size_t)sw * channels, c, (size_t)dw * channels);
    if (memcmp(a, c, bytes))
        fail_msg("SIMD resize (wide %d of %d elements) %dx%dx%d -> %dx%d (reverse %d) differs from plain C",
                 fast.wide_elements, dw * channels, sw, sh, channels, dw, dh, reverse);
    if (memcmp(b, c, bytes))
        fail_msg("SSSE3 resize %dx%dx%d -> %dx%d (reverse %d) differs from plain C", sw, sh, channels, dw, dh,
                 reverse);
    free(a);
    free(b);
    free(c);
    resize_plan_free(&fast);
    resize_plan_free(&narrow);
    resize_plan_free(&plain);
}

/* Random sizes and the Kinetics shapes, each resized by every SIMD pass the CPU has and by
 * plain C. */
static void compare_resizes_with_plain(void)
{
    srand(11);
    enum { MAX_W = 480, MAX_H = 64 };
    /* exactly sized: a load past the last pixel would be an ASan report */
    uint8_t *src = malloc((size_t)MAX_W * MAX_H * 3);
    assert_non_null(src);
    for (int trial = 0; trial < 300; trial++) {
        int sw = 1 + rand() % MAX_W, sh = 1 + rand() % MAX_H;
        int dw = 1 + rand() % 300, dh = 1 + rand() % 40;
        uint8_t *img = src + ((size_t)MAX_W * MAX_H - (size_t)sw * sh) * 3; /* ends where src ends */
        for (size_t i = 0; i < (size_t)sw * sh * 3; i++)
            img[i] = (uint8_t)(rand() & 255);
        check_simd_resize(img, sw, sh, dw, dh, 3, trial & 1);
        if (trial % 10 == 0 && sw >= 4) /* the wide pass takes any channel count */
            check_simd_resize(img, sw * 3 / 4, sh, dw, dh, 4, 0);
    }
    free(src);
    /* the Kinetics crop, 256x256 to 224, and a 2x upscale */
    src = malloc(256 * 256 * 3);
    assert_non_null(src);
    for (int i = 0; i < 256 * 256 * 3; i++)
        src[i] = (uint8_t)(rand() & 255);
    check_simd_resize(src, 256, 256, 224, 224, 3, 1);
    check_simd_resize(src, 256, 64, 224, 56, 3, 0);
    check_simd_resize(src, 128, 128, 256, 256, 3, 1);
    check_simd_resize(src, 256, 85, 40, 30, 3, 1); /* taps too far apart for the wide pass */
    free(src);
}

static void ssse3_horizontal_pass_equals_reference(void **state)
{
    (void)state;
#if defined(__x86_64__)
    test_require_isa("ssse3", __builtin_cpu_supports("ssse3"));
    resize_plan plan;
    assert_int_equal(resize_plan_init(&plan, 256, 256, 224, 224, 3), VB_OK);
    assert_true(plan.simd && plan.simd_pixels > 200); /* the fast paths are what runs */
    resize_plan_free(&plan);
#endif
    compare_resizes_with_plain();
}

/* Its own case so that a CPU without VBMI (AVX2-only Zen 3, say) counts a skip. */
static void avx512vbmi_wide_pass_equals_reference(void **state)
{
    (void)state;
#if defined(__x86_64__)
    test_require_isa("avx512vbmi", __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi"));
    resize_plan plan;
    assert_int_equal(resize_plan_init(&plan, 256, 256, 224, 224, 3), VB_OK);
    assert_int_equal(plan.wide_elements, 224 * 3); /* the wide pass is what runs */
    resize_plan_free(&plan);
    compare_resizes_with_plain();
#else
    test_require_isa("avx512vbmi", 0);
#endif
}

/* Reversing the plan's channels equals resizing and then swapping channels (BGR->RGB). */
static void reversed_channels_equal_swap_after_resize(void **state)
{
    (void)state;
    srand(5);
    enum { SW = 91, SH = 37, DW = 50, DH = 20 };
    uint8_t src[SW * SH * 3], plain[DW * DH * 3], reversed[DW * DH * 3];
    for (int i = 0; i < SW * SH * 3; i++)
        src[i] = (uint8_t)(rand() & 255);
    for (int area = 0; area < 2; area++) { /* area: the exact-2x INTER_AREA path */
        int dw = area ? 45 : DW, dh = area ? 18 : DH, sw = area ? 90 : SW, sh = area ? 36 : SH;
        resize_plan a, b;
        assert_int_equal(resize_plan_init(&a, sw, sh, dw, dh, 3), VB_OK);
        assert_int_equal(resize_plan_init(&b, sw, sh, dw, dh, 3), VB_OK);
        resize_plan_reverse_channels(&b);
        resize_run(&a, src, SW * 3, plain, (size_t)dw * 3);
        resize_run(&b, src, SW * 3, reversed, (size_t)dw * 3);
        for (int p = 0; p < dw * dh; p++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(reversed[3 * p + c], plain[3 * p + 2 - c]);
        resize_plan_free(&a);
        resize_plan_free(&b);
    }
}

static void vertical_rounding_is_opencvs_16_bit_one(void **state)
{
    (void)state;
    /* rows 100*2048 and 101*2048 with weights 1024/1024: ((1024*12800)>>16) +
     * ((1024*12928)>>16) = 200 + 202 = 402 -> (402 + 2) >> 2 = 101 (exact math: 100.5 -> 101) */
    int32_t r0[1] = {100 * 2048}, r1[1] = {101 * 2048};
    uint8_t out[1];
    resize_vertical_reference(r0, r1, 1024, 1024, 1, out);
    assert_int_equal(out[0], 101);
    /* a value where the 16-bit path loses the low bits: 77 and 78 with 1/4 weights:
     * ((1536*9856)>>16) + ((512*9984)>>16) = 230 + 78 = 308 -> 77; exact 77.25 -> 77 */
    int32_t s0[1] = {77 * 2048}, s1[1] = {78 * 2048};
    resize_vertical_reference(s0, s1, 1536, 512, 1, out);
    assert_int_equal(out[0], 77);
}

static void same_size_is_identity_and_constant_stays_constant(void **state)
{
    (void)state;
    enum { W = 37, H = 23 };
    uint8_t src[H * W * 3], dst[H * W * 3];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    resize_plan plan;
    assert_int_equal(resize_plan_init(&plan, W, H, W, H, 3), VB_OK);
    resize_run(&plan, src, W * 3, dst, W * 3);
    assert_memory_equal(src, dst, sizeof src);
    resize_plan_free(&plan);

    memset(src, 200, sizeof src);
    uint8_t small[10 * 10 * 3];
    assert_int_equal(resize_plan_init(&plan, W, H, 10, 10, 3), VB_OK);
    resize_run(&plan, src, W * 3, small, 30);
    for (size_t i = 0; i < sizeof small; i++)
        assert_int_equal(small[i], 200);
    resize_plan_free(&plan);
}

static void exact_half_uses_area_average(void **state)
{
    (void)state;
    /* cv::resize switches INTER_LINEAR to INTER_AREA for an exact 2x reduction:
     * (1 + 2 + 3 + 5 + 2) >> 2 = 13 >> 2 = 3 */
    uint8_t src[2 * 2] = {1, 2, 3, 5}, dst[1];
    resize_plan plan;
    assert_int_equal(resize_plan_init(&plan, 2, 2, 1, 1, 1), VB_OK);
    assert_true(plan.area_fast_2x);
    resize_run(&plan, src, 2, dst, 1);
    assert_int_equal(dst[0], 3);
    resize_plan_free(&plan);
}

static void upscale_interpolates_between_pixels(void **state)
{
    (void)state;
    /* 1x2 -> 1x4 (one channel): fx = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
     * clamped at the edges: 0, then 0*0.75+100*0.25 = 25, 75, then 100 */
    uint8_t src[2] = {0, 100}, dst[4];
    resize_plan plan;
    assert_int_equal(resize_plan_init(&plan, 2, 1, 4, 1, 1), VB_OK);
    resize_run(&plan, src, 2, dst, 4);
    assert_int_equal(dst[0], 0);
    assert_int_equal(dst[1], 25);
    assert_int_equal(dst[2], 75);
    assert_int_equal(dst[3], 100);
    resize_plan_free(&plan);
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
    frame_transform t;
    assert_int_equal(frame_transform_init(&t, VB_RESIZE_CROP, 2, 6, 2), VB_OK);
    uint8_t out[2 * 2 * 3];
    frame_transform_run(&t, frame, 6 * 3, out);
    /* RGB out: pixel (0,0) is frame (0,2): R 202, G 100, B 20 */
    assert_int_equal(out[0], 202);
    assert_int_equal(out[1], 100);
    assert_int_equal(out[2], 20);
    assert_int_equal(out[3 * 3 + 0], 203); /* pixel (1,1) = frame (1,3) */
    assert_int_equal(out[3 * 3 + 1], 101);
    frame_transform_free(&t);
}

static void rotation_turns_like_cv_rotate(void **state)
{
    (void)state;
    /* 3x2 image, pixel value = its index; cv::ROTATE_90_CLOCKWISE gives 2x3 whose first row
     * is the first column read bottom-up */
    uint8_t src[2 * 3 * 3], dst[2 * 3 * 3];
    for (int i = 0; i < 6; i++)
        memset(src + 3 * i, i, 3);
    rotate_bgr(src, 3, 2, 9, 90, dst);
    const int cw[6] = {3, 0, 4, 1, 5, 2};
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], cw[i]);
    rotate_bgr(src, 3, 2, 9, 270, dst);
    const int ccw[6] = {2, 5, 1, 4, 0, 3};
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], ccw[i]);
    rotate_bgr(src, 3, 2, 9, 180, dst);
    for (int i = 0; i < 6; i++)
        assert_int_equal(dst[3 * i], 5 - i);
}

/* Padding a tall, thin frame to a square must not allocate the square blindly: 64x65016
 * (a fuzzer's find, within the decoder's pixel limit) would need 12.7 GB. */
static void pad_refuses_a_square_beyond_the_limit(void **state)
{
    (void)state;
    frame_transform t;
    assert_int_equal(frame_transform_init(&t, VB_RESIZE_PAD, 16, 64, 65016), VB_ELIMIT);
    assert_int_equal(frame_transform_init(&t, VB_RESIZE_PAD, 16, 8192, 100), VB_OK);
    frame_transform_free(&t);
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
        cmocka_unit_test(ssse3_horizontal_pass_equals_reference),
        cmocka_unit_test(avx512vbmi_wide_pass_equals_reference),
        cmocka_unit_test(reversed_channels_equal_swap_after_resize),
        cmocka_unit_test(pad_refuses_a_square_beyond_the_limit),
        cmocka_unit_test(simd_vertical_pass_equals_reference),
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
