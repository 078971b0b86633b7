#include "model/i3d/net.h"
static int c(const i3d_net *n, int t, void **s, vb_error *err) { (void)n; (void)t; *s = 0; return vb_error_set(err, VB_EUNSUPPORTED, "todo"); }
static void d(void *s) { (void)s; }
const i3d_backend_ops i3d_onednn_ops = {.create = c, .destroy = d};
