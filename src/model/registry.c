/* Placeholder until the model registry lands: knows no models. */
#include "vidbench/models.h"

int vb_model_resolve(const char *name, vb_model_paths *paths, vb_error *err)
{
    (void)paths;
    return vb_error_set(err, VB_ENOTFOUND, "model '%s': the model registry is not implemented yet", name);
}
