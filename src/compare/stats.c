/* The two statistics of the comparison: Wilson score intervals for accuracies and McNemar's
 * exact test for paired correct/incorrect outcomes. Plain formulas, checked against exact
 * rational arithmetic in tests/unit/test_compare.c. */
#include "vidbench/compare.h"

#include <math.h>

void vb_wilson_interval(double successes, double n, double z, double *low, double *high)
{
    if (!(n > 0)) {
        *low = 0;
        *high = 1;
        return;
    }
    /* Wilson (1927): the p whose normal test against p_hat sits exactly at z; unlike the
     * Wald interval it stays inside [0,1] and is sensible at 0 or n successes. */
    double p = successes / n, z2 = z * z;
    double denominator = 1 + z2 / n;
    double centre = (p + z2 / (2 * n)) / denominator;
    double half = z / denominator * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    *low = fmax(0, centre - half);
    *high = fmin(1, centre + half);
    /* At 0 or n successes the bound is exactly 0 or 1; the formula only rounds to it. */
    if (successes <= 0)
        *low = 0;
    if (successes >= n)
        *high = 1;
}

double vb_mcnemar_exact_p(long b, long c)
{
    long n = b + c, k = b < c ? b : c;
    if (n <= 0)
        return 1;
    /* Sum of C(n,i) / 2^n for i <= k, each term in log space so large n neither overflows
     * the binomial coefficient nor underflows 2^-n before the product is formed. */
    double tail = 0;
    const double log_half_n = -(double)n * log(2.0);
    for (long i = 0; i <= k; i++)
        tail += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + log_half_n);
    double p = 2 * tail;
    return p < 1 ? p : 1;
}
