/* Activation histograms and clipping thresholds for u8 quantization of post-ReLU tensors
 * (calibrate.h). One histogram per tensor, owned by the caller; not thread-safe. */
#include "model/i3d/calibrate.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HISTOGRAM_BINS 2048
#define HISTOGRAM_BINS_LOG2 11
/* The smallest range R = 2^-32 keeps the bin scale 2048/R a normal float; values below
 * R/2048 = 2^-43 share the first bin, which for u8 levels is the same as zero. */
#define HISTOGRAM_MIN_RANGE_LOG2 (-32)
/* u8 levels the entropy method quantizes to. */
#define QUANTIZED_LEVELS 256
/* Q's probability where it has none and P has some (a bin emptied by clipping): a ten-thousandth
 * of one value, as MXNet's and TVM's entropy calibration smooth it. Without it KL is infinite for
 * every candidate whose last bin is empty, and an outlier separated from the bulk by empty bins
 * would always force T to the max. */
#define KL_EMPTY_BIN_VALUES 1e-4
/* Values <= 0 are spread over this many counters by position: post-ReLU tensors are about half
 * zeros, and one counter would chain every zero's increment through one memory address. */
#define ZERO_SLOTS 8
/* Values per pass of the fast add: big enough to amortise the range check, small enough that the
 * bin indices stay in L1. */
#define ADD_CHUNK 512

struct i3d_histogram {
    /* [0, ZERO_SLOTS): values <= 0 (exact zeros; negatives count as 0), summed when read;
     * [ZERO_SLOTS + k]: values in [k w, (k+1) w), w = R / 2048, R = 2^range_log2 the smallest power
     * of two above every value (at least 2^HISTOGRAM_MIN_RANGE_LOG2), so the bins do not depend on
     * the order of the values. */
    int64_t counts[ZERO_SLOTS + HISTOGRAM_BINS];
    int range_log2;
    float upper;              /* R as a float (+Inf for 2^128, above FLT_MAX) */
    float scale;              /* 2048 / R, a power of two: value * scale is exact, its floor the bin */
    float max;
    int64_t finite;
    int64_t negatives;
    int64_t nonfinite;
};

int i3d_calibration_method_from_name(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "minmax"))
        return I3D_CALIBRATE_MINMAX;
    if (!strcmp(name, "percentile"))
        return I3D_CALIBRATE_PERCENTILE;
    if (!strcmp(name, "entropy"))
        return I3D_CALIBRATE_ENTROPY;
    return -1;
}

const char *i3d_calibration_method_name(i3d_calibration_method method)
{
    switch (method) {
    case I3D_CALIBRATE_MINMAX: return "minmax";
    case I3D_CALIBRATE_PERCENTILE: return "percentile";
    case I3D_CALIBRATE_ENTROPY: return "entropy";
    }
    return "unknown";
}

static void set_range(i3d_histogram *h, int range_log2);

int i3d_histogram_new(i3d_histogram **out, vb_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return vb_error_set(err, VB_ENOMEM, "calibration histogram: out of memory");
    set_range(*out, HISTOGRAM_MIN_RANGE_LOG2);
    return 0;
}

void i3d_histogram_free(i3d_histogram **histogram)
{
    if (!histogram || !*histogram)
        return;
    free(*histogram);
    *histogram = NULL;
}

static void set_range(i3d_histogram *h, int range_log2)
{
    h->range_log2 = range_log2;
    h->upper = range_log2 >= 128 ? INFINITY : ldexpf(1.0f, range_log2);
    h->scale = ldexpf(1.0f, HISTOGRAM_BINS_LOG2 - range_log2);
}

/* Doubles R until it is above value (> 0, finite), merging bins 2^shift at a time. Exact:
 * floor(v / (w 2^s)) = floor(floor(v / w) / 2^s). */
static void histogram_grow(i3d_histogram *h, float value)
{
    int exponent;
    frexpf(value, &exponent);   /* 2^(exponent-1) <= value < 2^exponent */
    if (exponent <= h->range_log2)
        return;
    int shift = exponent - h->range_log2;
    if (shift > HISTOGRAM_BINS_LOG2)
        shift = HISTOGRAM_BINS_LOG2;   /* every old bin lands in bin 0 */
    int64_t *bins = h->counts + ZERO_SLOTS;
    /* In place, ascending: bin k >> shift <= k has already been emptied or merged into. */
    for (int k = 1; k < HISTOGRAM_BINS; k++) {
        int64_t c = bins[k];
        bins[k] = 0;
        bins[k >> shift] += c;
    }
    set_range(h, exponent);
}

/* The general path: any value, and the tail of a call. */
static void add_each(i3d_histogram *h, const float *values, int64_t count)
{
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < count; i++) {
        float v = values[i];
        if (!(fabsf(v) < h->upper)) {   /* NaN, +-Inf, a value past the range, a huge negative */
            if (!isfinite(v)) {
                nonfinite++;
                continue;
            }
            if (v > 0)
                histogram_grow(h, v);
        }
        if (v > 0) {
            h->counts[ZERO_SLOTS + (int)(v * h->scale)]++;
            if (v > h->max)
                h->max = v;
        } else {
            h->counts[i % ZERO_SLOTS]++;
            h->negatives += v < 0;
        }
    }
    h->finite += count - nonfinite;
    h->nonfinite += nonfinite;
}

/* ADD_CHUNK values, in two passes when all are finite and below R (nearly always): bin indices,
 * max and negatives first, a loop of branch-free arithmetic the compiler vectorizes; the
 * increments second. */
static void add_chunk(i3d_histogram *h, const float *values)
{
    const float upper = h->upper, scale = h->scale;
    /* Finite and below R; a negative of any size is fine (it counts as 0). NaN fails both. */
    int inside = 1;
    for (int j = 0; j < ADD_CHUNK; j++)
        inside &= (values[j] < upper) & (values[j] >= -FLT_MAX);
    if (!inside) {
        add_each(h, values, ADD_CHUNK);
        return;
    }
    int32_t index[ADD_CHUNK];
    /* The max as the bits of non-negative floats, which order as integers do: an integer max
     * vectorizes, a float one (NaN rules) does not without -ffast-math. */
    int32_t max_bits;
    memcpy(&max_bits, &h->max, sizeof max_bits);
    int32_t negatives = 0;
    for (int j = 0; j < ADD_CHUNK; j++) {
        float v = values[j];
        float positive = v > 0 ? v : 0.0f;
        int32_t bits;
        memcpy(&bits, &positive, sizeof bits);
        int32_t is_positive = -(int32_t)(v > 0);   /* all ones or zero: a mask, not a branch */
        index[j] = ((ZERO_SLOTS + (int32_t)(positive * scale)) & is_positive) | ((j % ZERO_SLOTS) & ~is_positive);
        max_bits = bits > max_bits ? bits : max_bits;
        negatives += v < 0;
    }
    float max;
    memcpy(&max, &max_bits, sizeof max);
    for (int j = 0; j < ADD_CHUNK; j++)
        h->counts[index[j]]++;
    h->max = max;
    h->negatives += negatives;
    h->finite += ADD_CHUNK;
}

/* Measured on AMD EPYC Zen 3 (family 25 model 1, AVX2; one core, -O2, a 50M-value tensor, best of
 * 12 adds): 1.0-1.06e9 values/s (47-50 ms) whether 0%, 50% or 90% of the values are zero (the rest
 * half-normal); the plain one-pass loop it replaced ran 5.6e8, and 3-4e8 with one zero counter at
 * 90% zeros. On a machine shared with a build, runs gave down to 5e8. */
void i3d_histogram_add(i3d_histogram *h, const float *values, int64_t count)
{
    int64_t done = 0;
    for (; count - done >= ADD_CHUNK; done += ADD_CHUNK)
        add_chunk(h, values + done);
    add_each(h, values + done, count - done);
}

float i3d_histogram_max(const i3d_histogram *h)
{
    return h->max;
}

int64_t i3d_histogram_count(const i3d_histogram *h)
{
    return h->finite;
}

int64_t i3d_histogram_negative_count(const i3d_histogram *h)
{
    return h->negatives;
}

int64_t i3d_histogram_nonfinite_count(const i3d_histogram *h)
{
    return h->nonfinite;
}

static double bin_width(const i3d_histogram *h)
{
    return ldexp(1.0, h->range_log2 - HISTOGRAM_BINS_LOG2);
}

/* Bins [0, n) with n the last non-empty bin + 1 (the max is > 0, so there is one). */
static int used_bins(const i3d_histogram *h)
{
    int n = HISTOGRAM_BINS;
    while (n > 0 && h->counts[ZERO_SLOTS + n - 1] == 0)
        n--;
    return n;
}

static int64_t zero_count(const i3d_histogram *h)
{
    int64_t zeros = 0;
    for (int slot = 0; slot < ZERO_SLOTS; slot++)
        zeros += h->counts[slot];
    return zeros;
}

static double percentile_threshold(const i3d_histogram *h, double percentile)
{
    const int64_t *bins = h->counts + ZERO_SLOTS;
    double target = percentile / 100.0 * (double)h->finite;
    double cumulative = (double)zero_count(h);
    if (target <= cumulative)
        return h->max;   /* the percentile is 0: see calibrate.h */
    double width = bin_width(h);
    int n = used_bins(h);
    for (int k = 0; k < n; k++) {
        double c = (double)bins[k];
        if (cumulative + c >= target)
            return k * width + width * (target - cumulative) / c;
        cumulative += c;
    }
    return h->max;   /* target rounded above the total */
}

/* KL(P || Q) for a candidate of i bins (calibrate.h), bins[0, n) the positive values. prefix[k]:
 * the count of bins [0, k). */
static double candidate_divergence(const int64_t *bins, const int64_t *prefix, int n, int i)
{
    double total = (double)prefix[n];
    double in_range = (double)prefix[i];
    double outliers = total - in_range;
    double q_empty = KL_EMPTY_BIN_VALUES / total;
    double divergence = 0;
    for (int level = 0; level < QUANTIZED_LEVELS; level++) {
        /* Even split of i bins into 256 levels (sizes differ by at most one), as
         * pytorch-quantization does; TensorRT's remainder-into-the-last-level would give one
         * level up to 255 extra bins. */
        int start = (int)((int64_t)level * i / QUANTIZED_LEVELS);
        int stop = (int)((int64_t)(level + 1) * i / QUANTIZED_LEVELS);
        int64_t sum = prefix[stop] - prefix[start];
        int nonempty = 0;
        for (int k = start; k < stop; k++)
            nonempty += bins[k] != 0;
        double q_bin = nonempty ? (double)sum / nonempty / in_range : 0;
        for (int k = start; k < stop; k++) {
            double p_count = (double)bins[k] + (k == i - 1 ? outliers : 0);
            if (p_count == 0)
                continue;
            double p = p_count / total;
            double q = bins[k] ? q_bin : q_empty;
            divergence += p * log(p / q);
        }
    }
    return divergence;
}

static double entropy_threshold(const i3d_histogram *h, int64_t *prefix)
{
    const int64_t *bins = h->counts + ZERO_SLOTS;
    int n = used_bins(h);
    if (n <= QUANTIZED_LEVELS)
        return h->max;   /* 256 levels resolve every bin: nothing to trade */
    prefix[0] = 0;
    for (int k = 0; k < n; k++)
        prefix[k + 1] = prefix[k] + bins[k];
    int best = n;
    double best_divergence = INFINITY;
    for (int i = QUANTIZED_LEVELS; i <= n; i++) {
        double divergence = candidate_divergence(bins, prefix, n, i);
        if (divergence <= best_divergence) {   /* ties: the larger T, clipping less */
            best_divergence = divergence;
            best = i;
        }
    }
    return best * bin_width(h);
}

int i3d_histogram_threshold(const i3d_histogram *h, i3d_calibration_method method, double percentile,
                            float *threshold, vb_error *err)
{
    if (h->finite == 0)
        return vb_error_set(err, VB_EINVAL, "calibration: empty histogram (no finite value; %lld NaN or Inf skipped)",
                            (long long)h->nonfinite);
    if (method != I3D_CALIBRATE_MINMAX && method != I3D_CALIBRATE_PERCENTILE && method != I3D_CALIBRATE_ENTROPY)
        return vb_error_set(err, VB_EINVAL, "calibration: unknown method %d", (int)method);
    if (method == I3D_CALIBRATE_PERCENTILE && !(percentile > 0 && percentile <= 100))
        return vb_error_set(err, VB_EINVAL, "calibration: percentile %g is outside (0, 100]", percentile);
    if (h->max == 0) {
        *threshold = 1.0f;   /* all zeros: see calibrate.h */
        return 0;
    }
    double t;
    switch (method) {
    case I3D_CALIBRATE_MINMAX:
        t = h->max;
        break;
    case I3D_CALIBRATE_PERCENTILE:
        t = percentile_threshold(h, percentile);
        break;
    case I3D_CALIBRATE_ENTROPY: {
        int64_t *prefix = malloc((HISTOGRAM_BINS + 1) * sizeof *prefix);
        if (!prefix)
            return vb_error_set(err, VB_ENOMEM, "calibration: out of memory");
        t = entropy_threshold(h, prefix);
        free(prefix);
        break;
    }
    default:
        t = h->max;   /* unreachable: the method was checked above */
        break;
    }
    float result = t < h->max ? (float)t : h->max;
    /* A percentile inside the first bin of a tiny range could round to 0 as a float. */
    *threshold = result > 0 ? result : h->max;
    return 0;
}
