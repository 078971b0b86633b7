/* libFuzzer target for I3D weight loading: safetensors header and offsets, then the engine's
 * checks (names with/without prefix, dtypes, shapes chained from layer to layer, BN vectors,
 * variances, extra tensors) and BatchNorm folding. A file that loads must also report sane
 * shapes. Seeds: vb_i3d_write_random_weights output at width 1/16 and a few classes (see
 * docs/i3d.md), or ../shared/golden/i3d-tiny-k400/weights.safetensors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "vidbench/i3d.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("i3d.safetensors", data, size);
    if (!path)
        return 0;
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = VB_I3D_BACKEND_REFERENCE;   /* loading is shared; the reference backend starts instantly */
    vb_i3d *model = NULL;
    vb_error err;
    if (vb_i3d_open(path, &options, &model, &err) == VB_OK) {
        int64_t shape[5];
        if (vb_i3d_num_classes(model) < 1 ||
            vb_i3d_endpoint_shape(model, VB_I3D_MIXED_5C, 1, VB_I3D_MIN_FRAMES, shape, &err) != 5 || shape[2] != 7)
            __builtin_trap();
        (void)vb_i3d_flops_per_clip(model, 64);
        vb_i3d_free(&model);
    }
    return 0;
}
