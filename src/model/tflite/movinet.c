/* Placeholder until the MoViNet interpreter lands: refuses every model. */
#include "vidbench/movinet.h"

#include <stddef.h>

int vb_movinet_open(const char *tflite_path, int threads, vb_movinet **out, vb_error *err)
{
    (void)threads;
    *out = NULL;
    return vb_error_set(err, VB_EUNSUPPORTED, "%s: MoViNet models are not supported yet", tflite_path);
}
void vb_movinet_free(vb_movinet **model) { if (model) *model = NULL; }
int vb_movinet_num_classes(const vb_movinet *model) { (void)model; return 0; }
int vb_movinet_input_size(const vb_movinet *model) { (void)model; return 0; }
int vb_movinet_classify_frames(vb_movinet *model, const uint8_t *frames, int count, float *logits,
                               vb_error *err)
{
    (void)model; (void)frames; (void)count; (void)logits;
    return vb_error_set(err, VB_EUNSUPPORTED, "MoViNet models are not supported yet");
}
