/* DeepMind's published check for I3D (kinetics-i3d evaluate_sample.py): the reference output
 * text (logit norm, top-20 probability/logit/class) parsed and compared with computed logits,
 * and the float32 .npy sample read with its header checked. */
#include "vidbench/models.h"
#include "common/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFERENCE_BYTES (1u << 20)

int vb_reference_output_parse(const char *path, vb_reference_output *reference, vb_error *err)
{
    memset(reference, 0, sizeof *reference);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_REFERENCE_BYTES, &text, &size, err);
    if (rc)
        return rc;
    int have_norm = 0;
    int line_number = 0;
    char *save = NULL;
    for (char *line = strtok_r(text + fs_utf8_bom_bytes(text, size), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        line_number++;
        size_t len = strlen(line);
        while (len > 0 && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        if (len == 0 || !strcmp(line, "Top classes and probabilities"))
            continue;
        if (!strncmp(line, "Norm of logits:", 15)) {
            char *end;
            reference->logits_norm = strtod(line + 15, &end);
            if (end == line + 15 || *end || !(reference->logits_norm > 0)) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%d: bad logit norm", path, line_number);
                break;
            }
            have_norm = 1;
            continue;
        }
        /* "0.9999968 25.856646 playing cricket": two numbers, then the class name. */
        char *end1, *end2;
        double probability = strtod(line, &end1);
        double logit = end1 != line ? strtod(end1, &end2) : 0;
        if (end1 == line || end2 == end1 || *end2 != ' ' || !isfinite(probability) || !isfinite(logit)) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: expected 'probability logit class', got '%.60s'", path,
                              line_number, line);
            break;
        }
        if (reference->count == VB_REFERENCE_MAX_TOP) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: more than %d classes listed", path, VB_REFERENCE_MAX_TOP);
            break;
        }
        const char *name = end2 + 1;
        int control = 0;   /* names are printed: no escape sequences from a downloaded file */
        for (const char *c = name; *c; c++)
            control |= (unsigned char)*c < 0x20 || *c == 0x7f;
        if (strlen(name) >= sizeof reference->top[0].name || !*name || control) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: bad class name", path, line_number);
            break;
        }
        reference->top[reference->count].probability = probability;
        reference->top[reference->count].logit = logit;
        strcpy(reference->top[reference->count].name, name);
        reference->count++;
    }
    free(text);
    if (rc == VB_OK && (!have_norm || reference->count == 0))
        rc = vb_error_set(err, VB_EFORMAT, "%s: expected 'Norm of logits: N' and at least one class line", path);
    return rc;
}

int vb_reference_output_compare(const vb_reference_output *reference, const float *logits, int classes,
                                const vb_labels *labels, double tolerance, vb_reference_check *check,
                                vb_error *err)
{
    memset(check, 0, sizeof *check);
    if (classes <= 0 || labels->count != classes)
        return vb_error_set(err, VB_ESHAPE, "%d logits but %d labels", classes, labels->count);
    double sum_squares = 0;
    for (int i = 0; i < classes; i++) {
        sum_squares += (double)logits[i] * logits[i];
        if (logits[i] > logits[check->top1_index])
            check->top1_index = i;
    }
    check->logits_norm = sqrt(sum_squares);
    check->norm_relative_error = fabs(check->logits_norm - reference->logits_norm) / reference->logits_norm;
    double scale = 0;
    for (int k = 0; k < reference->count; k++)
        scale = fmax(scale, fabs(reference->top[k].logit));
    if (!(scale > 0))
        return vb_error_set(err, VB_EFORMAT, "reference lists no non-zero logit");
    for (int k = 0; k < reference->count; k++) {
        int index = vb_labels_find(labels, reference->top[k].name);
        if (index < 0)
            return vb_error_set(err, VB_ENOTFOUND, "reference class '%s' is not in the label map",
                                reference->top[k].name);
        double relative = fabs(logits[index] - reference->top[k].logit) / scale;
        if (relative > check->max_relative_error || !check->worst_class) {
            check->max_relative_error = relative;
            check->worst_class = reference->top[k].name;
        }
    }
    check->top1_matches = vb_labels_find(labels, reference->top[0].name) == check->top1_index;
    check->passed = check->top1_matches && check->norm_relative_error <= tolerance &&
                    check->max_relative_error <= tolerance;
    if (check->passed)
        return VB_OK;
    if (!check->top1_matches)
        return vb_error_set(err, VB_ECHECKSUM, "top class is '%s', the reference says '%s'",
                            labels->names[check->top1_index], reference->top[0].name);
    if (check->norm_relative_error > tolerance)
        return vb_error_set(err, VB_ECHECKSUM, "logit norm %.6f differs from the reference %.6f by %.2e "
                            "relative (tolerance %.0e)", check->logits_norm, reference->logits_norm,
                            check->norm_relative_error, tolerance);
    return vb_error_set(err, VB_ECHECKSUM, "logit of '%s' differs from the reference by %.2e relative "
                        "(tolerance %.0e)", check->worst_class, check->max_relative_error, tolerance);
}
