/* Activation-range statistics for int8 (u8) quantization of I3D's post-ReLU tensors: a histogram
 * that follows the tensor's range, and the clipping threshold T that a u8 tensor with scale 255/T
 * represents as [0, T], chosen by exact max, percentile or KL divergence (TensorRT's entropy
 * calibration). Values are taken as non-negative: a negative value counts as 0. */
#ifndef VB_I3D_CALIBRATE_H
#define VB_I3D_CALIBRATE_H

#include <stdint.h>
#include "vidbench/error.h"

typedef enum i3d_calibration_method {
    I3D_CALIBRATE_MINMAX = 0,
    I3D_CALIBRATE_PERCENTILE,
    I3D_CALIBRATE_ENTROPY,
} i3d_calibration_method;

/* "minmax", "percentile", "entropy"; -1 for any other name (or NULL). */
int i3d_calibration_method_from_name(const char *name);
/* The name i3d_calibration_method_from_name takes; "unknown" for a value outside the enum. */
const char *i3d_calibration_method_name(i3d_calibration_method method);

/* Counts of one tensor's values over many clips: 2048 linear bins over [0, R), R a power of two
 * that doubles (merging bin pairs, exactly) when a value >= R arrives. The whole state depends
 * only on the multiset of values added, never on their order or on how they were split into calls.
 * Exact zeros (and negatives) are counted apart from the first bin. */
typedef struct i3d_histogram i3d_histogram;

int i3d_histogram_new(i3d_histogram **out, vb_error *err);
/* Accepts NULL and a pointer to NULL; clears the pointer. */
void i3d_histogram_free(i3d_histogram **histogram);

/* Adds count values. A negative value counts as 0 (and in i3d_histogram_negative_count); NaN and
 * +-Inf are skipped and counted in i3d_histogram_nonfinite_count. No allocation. */
void i3d_histogram_add(i3d_histogram *histogram, const float *values, int64_t count);

/* The exact largest value added (0 when empty or when every value was <= 0). */
float i3d_histogram_max(const i3d_histogram *histogram);
/* Finite values added (zeros and negatives included; NaN and Inf not). */
int64_t i3d_histogram_count(const i3d_histogram *histogram);
/* Negative finite values added (counted as 0): a post-ReLU tensor has none, so a non-zero count
 * says the histogram was fed the wrong tensor. */
int64_t i3d_histogram_negative_count(const i3d_histogram *histogram);
/* NaN and +-Inf values skipped. */
int64_t i3d_histogram_nonfinite_count(const i3d_histogram *histogram);

/* The clipping threshold T > 0, at most the exact max:
 *   minmax      the exact max.
 *   percentile  the value below which `percentile` percent (0 < percentile <= 100, e.g. 99.99) of
 *               the values fall, interpolated linearly inside its bin. When at least that share of
 *               the values is zero the percentile is 0, which is no scale: the exact max is
 *               returned, since the few non-zero values are all the tensor carries.
 *   entropy     TensorRT's KL-divergence minimisation for 256 u8 levels: for each candidate of i
 *               bins (256 up to the last non-empty bin + 1) the reference P is the first i bins
 *               with the values above them clipped into bin i-1, the candidate Q the first i bins
 *               merged into 256 levels and spread back over their non-empty bins; T is the upper
 *               edge of the i with the smallest KL(P || Q), the larger i on a tie. Where clipping
 *               fills an empty last bin, Q there is a ten-thousandth of one value (MXNet's and TVM's
 *               smoothing), not 0. Exact zeros are left out (u8 stores 0 exactly whatever T). The candidates start at 256 bins, so T >= R/8 where R, the
 *               histogram's range, is the power of two above the max: a handful of outliers 1000x
 *               the bulk keep T far above the bulk (use percentile there).
 * `percentile` is read by the percentile method only. An all-zero tensor gives T = 1.0f (scale
 * 255): every T represents 0 exactly, and a tiny T would give a huge scale that saturates any
 * value the calibration clips did not show and overflows a requantization multiplier.
 * Fails with VB_EINVAL on an empty histogram (no finite value added), an unknown method or a
 * percentile outside (0, 100]. */
int i3d_histogram_threshold(const i3d_histogram *histogram, i3d_calibration_method method, double percentile,
                            float *threshold, vb_error *err);

#endif
