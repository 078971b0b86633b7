/* Writes the seed corpus of fuzz/fuzz_i3d_int8.c: width-1/16 random I3Ds (a few classes)
 * calibrated on one random 9-frame clip and quantized, each a valid int8 file of ~77 KB.
 * Not part of `make`; after `make`:
 *   cc -std=gnu11 -Iinclude tests/tools/int8_seeds.c build/libvidbench.a $(pkg-config --libs libavformat \
 *      libavcodec libavutil libswscale libavfilter libcurl libarchive sqlite3 libcjson) -ldnnl -lcrypto -lm \
 *      -lpthread -o build/int8_seeds && build/int8_seeds fuzz/corpus/i3d_int8 */
#include <stdio.h>
#include <stdlib.h>

#include "vidbench/i3d.h"

static int write_seed(const char *dir, int classes, uint64_t seed, vb_i3d_calibration method)
{
    char fp32[4096], int8[4096];
    snprintf(fp32, sizeof fp32, "%s/.fp32-%llu.safetensors", dir, (unsigned long long)seed);
    snprintf(int8, sizeof int8, "%s/w16-c%d-s%llu-%s.safetensors", dir, classes, (unsigned long long)seed,
             vb_i3d_calibration_name(method));
    vb_error err = {0};
    vb_i3d *model = NULL;
    vb_i3d_calibrator *cal = NULL;
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.threads = 1;
    const int frames = VB_I3D_MIN_FRAMES;
    const size_t n = (size_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    float *clip = malloc(n * sizeof(float));
    int rc = clip ? 0 : -1;
    uint64_t state = seed;
    for (size_t i = 0; clip && i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        clip[i] = (float)((state >> 56) & 255) / 255.0f;
    }
    if (rc || (rc = vb_i3d_write_random_weights(fp32, 16, classes, seed, &err)) ||
        (rc = vb_i3d_open(fp32, &options, &model, &err)) || (rc = vb_i3d_calibrator_new(model, &cal, &err)) ||
        (rc = vb_i3d_calibrator_add(cal, clip, 1, frames, &err)) ||
        (rc = vb_i3d_calibrator_write(cal, int8, method, NULL, 0, &err)))
        fprintf(stderr, "int8_seeds: %s\n", err.message);
    else
        printf("%s\n", int8);
    vb_i3d_calibrator_free(&cal);
    vb_i3d_free(&model);
    remove(fp32);
    free(clip);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: int8_seeds DIR\n");
        return 2;
    }
    if (write_seed(argv[1], 5, 1, VB_I3D_CALIBRATE_MINMAX) || write_seed(argv[1], 1, 2, VB_I3D_CALIBRATE_PERCENTILE) ||
        write_seed(argv[1], 3, 3, VB_I3D_CALIBRATE_ENTROPY))
        return 1;
    return 0;
}
