/* libFuzzer target for the int8 I3D reader (src/model/i3d/quant.c): the safetensors header,
 * then i3d_quant_load's checks (format version, s8 weights and f32 scales per conv, shapes
 * chained from layer to layer, the fan-in limit, finite positive scales, extra tensors) and
 * i3d_quant_prepare (scales folded into output scales and accumulator biases). No forward pass:
 * the plain int8 loops take seconds per clip. A file that loads must report sane shapes.
 * Seeds in fuzz/corpus/i3d_int8: width-1/16 random nets quantized by tests/tools/int8_seeds.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "vidbench/i3d.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("i3d-int8.safetensors", data, size);
    if (!path)
        return 0;
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = VB_I3D_BACKEND_REFERENCE;   /* starts instantly; i3d_quant_prepare runs at open */
    options.precision = VB_I3D_PRECISION_INT8;
    vb_i3d *model = NULL;
    vb_error err;
    if (vb_i3d_open(path, &options, &model, &err) == VB_OK) {
        int64_t shape[5];
        if (vb_i3d_get_precision(model) != VB_I3D_PRECISION_INT8 || vb_i3d_num_classes(model) < 1)
            __builtin_trap();
        for (int e = 0; e < VB_I3D_LOGITS; e++)
            if (vb_i3d_endpoint_shape(model, (vb_i3d_endpoint)e, 1, VB_I3D_MIN_FRAMES, shape, &err) != 5 ||
                shape[0] != 1 || shape[1] < 1 || shape[2] < 7 || shape[3] != shape[2] || shape[4] < 1)
                __builtin_trap();
        if (vb_i3d_endpoint_shape(model, VB_I3D_LOGITS, 2, VB_I3D_MIN_FRAMES, shape, &err) != 2 || shape[0] != 2 ||
            shape[1] != vb_i3d_num_classes(model) || vb_i3d_embedding_size(model) < 1)
            __builtin_trap();
        (void)vb_i3d_flops_per_clip(model, 64);
        vb_i3d_free(&model);
    }
    return 0;
}
