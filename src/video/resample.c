/* Frame selection: the seed's resampling rule (output i = input floor(i * count / n)) and
 * the nearest-frame selection for a target frame rate (MoViNet's --fps). */
#include "video/video_internal.h"

#include <math.h>

void vb_resample_indices(int count, int n, int *indices)
{
    for (int i = 0; i < n; i++)
        indices[i] = (int)((long long)i * count / n);
}

void select_fps(int count, double source_fps, double target_fps, int *kept, int *kept_count)
{
    int n = 0;
    if (!(target_fps > 0) || !(source_fps > 0) || target_fps >= source_fps) {
        for (int i = 0; i < count; i++)
            kept[n++] = i;
        *kept_count = n;
        return;
    }
    /* frame nearest to time k / target_fps; the step exceeds one frame, so indices rise */
    for (long long k = 0;; k++) {
        double index = floor((double)k * source_fps / target_fps + 0.5);
        if (index >= count)
            break;
        kept[n++] = (int)index;
    }
    *kept_count = n;
}
