/* NumPy's .npy format (npy.h), the one place it is read and written: the header writer for
 * uint8 and float32 tensors, and the reader of float32/float64 samples. The file is untrusted:
 * its header is parsed as a Python dict literal, every size checked against the file. */
#include "vidbench/npy.h"
#include "common/fsutil.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The .npy header is a Python dict literal, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 79, 224, 224, 3), }
 * parsed as one: every key once, values of the right kind, nothing else. */
typedef struct npy_header {
    char descr[8];
    int fortran_order;        /* -1 until seen */
    int have_shape;
    int ndim;
    int64_t shape[8];
} npy_header;

static const char *npy_skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    return p;
}

/* 'text' (no escapes: none of the keys or dtype strings has one); *p past the closing quote. */
static int npy_quoted(const char **p, char *out, size_t out_bytes)
{
    if (**p != '\'' && **p != '"')
        return -1;
    const char quote = *(*p)++;
    size_t n = 0;
    while (**p && **p != quote) {
        if (n + 1 >= out_bytes)
            return -1;
        out[n++] = *(*p)++;
    }
    if (**p != quote)
        return -1;
    (*p)++;
    out[n] = '\0';
    return 0;
}

/* Python's "a, b, c," item lists: 1 while another item follows (spaces skipped), 0 at close. */
static int npy_list_next(const char **p, char close)
{
    *p = npy_skip_spaces(*p);
    return **p != close;
}

/* After an item: a comma (consumed) or the closing bracket (left for npy_list_next). */
static int npy_list_separator(const char **p, char close)
{
    *p = npy_skip_spaces(*p);
    if (**p == ',') {
        (*p)++;
        return 0;
    }
    return **p == close ? 0 : -1;
}

static int npy_parse_header(const char *text, npy_header *h)
{
    memset(h, 0, sizeof *h);
    h->fortran_order = -1;
    const char *p = npy_skip_spaces(text);
    if (*p++ != '{')
        return -1;
    while (npy_list_next(&p, '}')) {
        char key[16];
        if (npy_quoted(&p, key, sizeof key))
            return -1;
        p = npy_skip_spaces(p);
        if (*p++ != ':')
            return -1;
        p = npy_skip_spaces(p);
        if (!strcmp(key, "descr") && !h->descr[0]) {
            if (npy_quoted(&p, h->descr, sizeof h->descr) || !h->descr[0])
                return -1;
        } else if (!strcmp(key, "fortran_order") && h->fortran_order < 0) {
            if (!strncmp(p, "False", 5))
                h->fortran_order = 0, p += 5;
            else if (!strncmp(p, "True", 4))
                h->fortran_order = 1, p += 4;
            else
                return -1;
        } else if (!strcmp(key, "shape") && !h->have_shape) {
            if (*p++ != '(')
                return -1;
            while (npy_list_next(&p, ')')) {
                if (*p < '0' || *p > '9' || h->ndim == 8)
                    return -1;
                char *end;
                errno = 0;
                long long dim = strtoll(p, &end, 10);
                if (errno || dim > (1ll << 40))
                    return -1;
                h->shape[h->ndim++] = dim;
                p = end;
                if (npy_list_separator(&p, ')'))
                    return -1;
            }
            p++;
            h->have_shape = 1;
        } else {
            return -1;   /* unknown or repeated key */
        }
        if (npy_list_separator(&p, '}'))
            return -1;
    }
    p = npy_skip_spaces(p + 1);
    return *p == '\0' && h->descr[0] && h->fortran_order >= 0 && h->have_shape ? 0 : -1;
}

/* .npy v1/v2/v3: magic, version, header length, a Python dict literal, then the data.
 * float32 and float64 in either byte order are read (float64 rounded to float32); every
 * value must be finite. */
int vb_npy_read_float32(const char *path, float **data, int *ndim, int64_t shape[8], vb_error *err)
{
    *data = NULL;
    *ndim = 0;
    FILE *fp;
    int64_t file_bytes = 0;
    int rc = fs_fopen_regular(path, &fp, &file_bytes, err);
    if (rc)
        return rc;
    char *header = NULL;
    unsigned char *raw = NULL;
    unsigned char prelude[12];
    if (fread(prelude, 1, 10, fp) != 10 || memcmp(prelude, "\x93NUMPY", 6) != 0 || prelude[6] < 1 || prelude[6] > 3) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: not a .npy file (version 1 to 3)", path);
        goto done;
    }
    size_t header_size = (size_t)prelude[8] | (size_t)prelude[9] << 8;
    size_t prelude_size = 10;
    if (prelude[6] >= 2) {
        if (fread(prelude + 10, 1, 2, fp) != 2) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: truncated .npy header", path);
            goto done;
        }
        header_size |= (size_t)prelude[10] << 16 | (size_t)prelude[11] << 24;
        prelude_size = 12;
    }
    if (header_size > 65536 || !(header = calloc(1, header_size + 1)) ||
        fread(header, 1, header_size, fp) != header_size || memchr(header, '\0', header_size)) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: bad .npy header (%zu bytes claimed)", path, header_size);
        goto done;
    }
    npy_header h;
    if (npy_parse_header(header, &h)) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: .npy header is not a dict of descr, fortran_order and shape", path);
        goto done;
    }
    /* '<' little-endian, '>' big-endian, '=' native (little here); '|' only means "no order"
     * for one-byte types, none of which is read. */
    const char order = h.descr[0];
    const size_t element = !strcmp(h.descr + 1, "f4") ? 4 : !strcmp(h.descr + 1, "f8") ? 8 : 0;
    if (!element || (order != '<' && order != '>' && order != '=')) {
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: dtype '%.7s' is not float32 or float64 with a byte order",
                          path, h.descr);
        goto done;
    }
    if (h.fortran_order) {
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: Fortran-order arrays are not read (save in C order)", path);
        goto done;
    }
    uint64_t count = 1;
    for (int d = 0; d < h.ndim; d++)
        if (__builtin_mul_overflow(count, (uint64_t)h.shape[d], &count) || count > ((uint64_t)1 << 31)) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: shape of more than 2^31 elements", path);
            goto done;
        }
    /* The header is untrusted: the file must hold exactly the data it promises before we
     * allocate for it. */
    const uint64_t data_bytes = count * element;
    if ((uint64_t)file_bytes != prelude_size + header_size + data_bytes) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: %lld bytes, but the header promises %llu elements of %zu bytes "
                          "after a %zu-byte header", path, (long long)file_bytes, (unsigned long long)count,
                          element, prelude_size + header_size);
        goto done;
    }
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof h.shape);
    raw = malloc(data_bytes ? data_bytes : 1);
    *data = malloc(count ? count * sizeof(float) : 1);
    if (!raw || !*data) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(raw, 1, data_bytes, fp) != data_bytes) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: truncated .npy data (expected %llu elements)", path,
                          (unsigned long long)count);
        goto done;
    }
    const int swap = order == '>';   /* this build is little-endian (x86-64) */
    for (uint64_t i = 0; i < count; i++) {
        unsigned char b[8];
        memcpy(b, raw + i * element, element);
        if (swap)
            for (size_t k = 0; k < element / 2; k++) {
                unsigned char t = b[k];
                b[k] = b[element - 1 - k];
                b[element - 1 - k] = t;
            }
        double v;
        if (element == 4) {
            float f;
            memcpy(&f, b, 4);
            v = f;
        } else {
            memcpy(&v, b, 8);
        }
        /* A NaN would flow through max-pooling and ReLU as if it were a number and still
         * give finite logits: refuse it here rather than pass a meaningless check. */
        if (!isfinite(v) || (element == 8 && fabs(v) > FLT_MAX)) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: element %llu is %g; samples must be finite float32 values",
                              path, (unsigned long long)i, v);
            goto done;
        }
        (*data)[i] = (float)v;
    }
done:
    if (rc) {
        free(*data);
        *data = NULL;
        *ndim = 0;
    }
    free(raw);
    free(header);
    fclose(fp);
    return rc;
}

int vb_npy_header(const char *descr, const int64_t *shape, int ndim, char *out, size_t out_size)
{
    /* magic (6) + version 1.0 (2) + header length (2) + dict + padding + '\n', a multiple of 64 */
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim && len > 0 && (size_t)len < sizeof dict; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, ndim == 1 ? "%lld,), }" : d + 1 < ndim ? "%lld, " : "%lld), }",
                        (long long)shape[d]);
    if (ndim == 0 && len > 0 && (size_t)len < sizeof dict)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    if (len <= 0 || (size_t)len >= sizeof dict || ndim < 0 || ndim > 8)
        return -1;
    const int total = 10 + len + 1, padded = (total + 63) / 64 * 64, header_len = padded - 10;
    if ((size_t)padded > out_size)
        return -1;
    const unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(header_len & 0xff),
                                        (unsigned char)(header_len >> 8)};
    memcpy(out, preamble, 10);
    memcpy(out + 10, dict, (size_t)len);
    memset(out + 10 + len, ' ', (size_t)(padded - total));
    out[padded - 1] = '\n';
    return padded;
}
