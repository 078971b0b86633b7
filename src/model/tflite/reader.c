/* TFLite FlatBuffer reader: walks the schema (Model, SubGraph, Tensor, Buffer, Operator,
 * SignatureDef) with every offset, vtable, vector length and index checked against the file,
 * and copies what the interpreter needs into plain structs. Subgraph 0 only. */
#include "vidbench/tflite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

#define MAX_MODEL_BYTES ((size_t)1 << 30)
#define MAX_TENSOR_ELEMENTS ((size_t)1 << 28)

typedef struct fb {
    const uint8_t *bytes;
    size_t size;
    const char *name;
    vb_error *err;
} fb;

static uint32_t rd_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static int32_t rd_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static int bad(fb *f, const char *what, size_t where)
{
    return vb_error_set(f->err, VB_EFORMAT, "%s: malformed TFLite file: %s (at byte %zu of %zu)",
                        f->name, what, where, f->size);
}

/* A table: its position and its vtable's field count. */
typedef struct fb_table {
    size_t pos;
    size_t vtable;
    unsigned num_fields;
    size_t table_size;
    int present;
} fb_table;

static int fb_table_at(fb *f, size_t pos, fb_table *t, const char *what)
{
    memset(t, 0, sizeof *t);
    if (pos > f->size || f->size - pos < 4)
        return bad(f, what, pos);
    int64_t vt = (int64_t)pos - (int64_t)rd_i32(f->bytes + pos);
    if (vt < 0 || (uint64_t)vt > f->size - 4)
        return bad(f, "vtable offset out of range", pos);
    uint16_t vt_size = rd_u16(f->bytes + vt);
    uint16_t tbl_size = rd_u16(f->bytes + vt + 2);
    if (vt_size < 4 || vt_size % 2 != 0 || (size_t)vt + vt_size > f->size)
        return bad(f, "vtable size out of range", (size_t)vt);
    if (tbl_size < 4 || tbl_size > f->size - pos)
        return bad(f, "table size out of range", pos);
    t->pos = pos;
    t->vtable = (size_t)vt;
    t->num_fields = (vt_size - 4u) / 2u;
    t->table_size = tbl_size;
    t->present = 1;
    return 0;
}

/* Byte position of a field, 0 when absent; checks that width bytes fit in the table. */
static int fb_field(fb *f, const fb_table *t, unsigned field, size_t width, size_t *pos)
{
    *pos = 0;
    if (!t->present || field >= t->num_fields)
        return 0;
    uint16_t off = rd_u16(f->bytes + t->vtable + 4 + 2 * field);
    if (off == 0)
        return 0;
    if (off < 4 || (size_t)off + width > t->table_size)
        return bad(f, "field outside its table", t->pos);
    *pos = t->pos + off;
    return 0;
}

static int fb_int(fb *f, const fb_table *t, unsigned field, size_t width, int64_t dflt, int64_t *v)
{
    size_t pos;
    *v = dflt;
    int rc = fb_field(f, t, field, width, &pos);
    if (rc || !pos)
        return rc;
    switch (width) {
    case 1: *v = (int8_t)f->bytes[pos]; break;
    case 2: *v = (int16_t)rd_u16(f->bytes + pos); break;
    case 4: *v = rd_i32(f->bytes + pos); break;
    default: { int64_t x; memcpy(&x, f->bytes + pos, 8); *v = x; }
    }
    return 0;
}

static int fb_uint(fb *f, const fb_table *t, unsigned field, size_t width, uint64_t dflt, uint64_t *v)
{
    size_t pos;
    *v = dflt;
    int rc = fb_field(f, t, field, width, &pos);
    if (rc || !pos)
        return rc;
    switch (width) {
    case 1: *v = f->bytes[pos]; break;
    case 2: *v = rd_u16(f->bytes + pos); break;
    case 4: *v = rd_u32(f->bytes + pos); break;
    default: memcpy(v, f->bytes + pos, 8);
    }
    return 0;
}

/* Follows an offset field: *target = 0 when absent. */
static int fb_deref(fb *f, const fb_table *t, unsigned field, size_t *target)
{
    size_t pos;
    *target = 0;
    int rc = fb_field(f, t, field, 4, &pos);
    if (rc || !pos)
        return rc;
    uint64_t tgt = (uint64_t)pos + rd_u32(f->bytes + pos);
    if (tgt > f->size - 4)
        return bad(f, "offset out of range", pos);
    *target = (size_t)tgt;
    return 0;
}

typedef struct fb_vector {
    size_t data;     /* position of element 0 */
    size_t length;
    int present;
} fb_vector;

static int fb_vector_field(fb *f, const fb_table *t, unsigned field, size_t elem_size, fb_vector *v)
{
    size_t target;
    memset(v, 0, sizeof *v);
    int rc = fb_deref(f, t, field, &target);
    if (rc || !target)
        return rc;
    uint32_t len = rd_u32(f->bytes + target);
    size_t avail = f->size - target - 4;
    if (len > avail / elem_size)
        return bad(f, "vector length runs past the end of the file", target);
    v->data = target + 4;
    v->length = len;
    v->present = 1;
    return 0;
}

/* Table element i of a vector of tables. */
static int fb_vector_table(fb *f, const fb_vector *v, size_t i, fb_table *t, const char *what)
{
    size_t pos = v->data + 4 * i;
    uint64_t tgt = (uint64_t)pos + rd_u32(f->bytes + pos);
    if (tgt > f->size)
        return bad(f, what, pos);
    return fb_table_at(f, (size_t)tgt, t, what);
}

/* Copies a string field (NULL when absent). */
static int fb_string(fb *f, const fb_table *t, unsigned field, char **out)
{
    fb_vector v;
    *out = NULL;
    int rc = fb_vector_field(f, t, field, 1, &v);
    if (rc || !v.present)
        return rc;
    char *s = malloc(v.length + 1);
    if (!s)
        return vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
    memcpy(s, f->bytes + v.data, v.length);
    s[v.length] = 0;
    for (size_t i = 0; i < v.length; i++)   /* names go to terminals: keep them printable */
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
    *out = s;
    return 0;
}

/* Copies an int32 vector (count may be 0). */
static int fb_int_vector(fb *f, const fb_table *t, unsigned field, int32_t **out, int *count)
{
    fb_vector v;
    *out = NULL;
    *count = 0;
    int rc = fb_vector_field(f, t, field, 4, &v);
    if (rc || !v.present)
        return rc;
    if (v.length > INT32_MAX / 4)
        return bad(f, "vector too long", v.data);
    int32_t *a = malloc(v.length ? v.length * 4 : 1);
    if (!a)
        return vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
    for (size_t i = 0; i < v.length; i++)
        a[i] = rd_i32(f->bytes + v.data + 4 * i);
    *out = a;
    *count = (int)v.length;
    return 0;
}

size_t vb_tflite_type_size(int type)
{
    switch (type) {
    case VB_TFLITE_FLOAT32: case VB_TFLITE_INT32: return 4;
    case VB_TFLITE_FLOAT16: case VB_TFLITE_INT16: return 2;
    case VB_TFLITE_UINT8: case VB_TFLITE_INT8: case VB_TFLITE_BOOL: return 1;
    case VB_TFLITE_INT64: case VB_TFLITE_FLOAT64: case VB_TFLITE_COMPLEX64: return 8;
    default: return 0;
    }
}

const char *vb_tflite_type_name(int type)
{
    static const char *names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING",
                                  "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64"};
    if (type >= 0 && type < (int)(sizeof names / sizeof names[0]))
        return names[type];
    return "UNKNOWN_TYPE";
}

const char *vb_tflite_activation_name(int activation)
{
    static const char *names[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};
    if (activation >= 0 && activation < 6)
        return names[activation];
    return "UNKNOWN_ACTIVATION";
}

const char *vb_tflite_op_name(int code)
{
    /* The schema's BuiltinOperator names, in order, up to the ones converters emit today. */
    static const char *names[] = {
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
        "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
        "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
        "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
        "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
        "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
        "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
        "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
        "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
        "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
        "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER",
        "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
        "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
        "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
        "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
        "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
        "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
        "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE",
        "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG",
        "ROUND", "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4",
        "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
        "BATCH_MATMUL"};
    static _Thread_local char unknown[32];
    if (code >= 0 && code < (int)(sizeof names / sizeof names[0]))
        return names[code];
    snprintf(unknown, sizeof unknown, "BUILTIN_%d", code);
    return unknown;
}

/* ---- model pieces ---- */

static int read_quantization(fb *f, const fb_table *tensor, vb_tflite_tensor *t, int index)
{
    size_t qpos;
    int rc = fb_deref(f, tensor, 4, &qpos);
    if (rc || !qpos)
        return rc;
    fb_table q;
    if ((rc = fb_table_at(f, qpos, &q, "bad quantization table")))
        return rc;
    fb_vector scales, zps;
    if ((rc = fb_vector_field(f, &q, 2, 4, &scales)) || (rc = fb_vector_field(f, &q, 3, 8, &zps)))
        return rc;
    if (!scales.present || scales.length == 0)
        return 0;   /* min/max only, or empty: treated as not quantized */
    if (zps.present && zps.length != scales.length)
        return vb_error_set(f->err, VB_EFORMAT,
                            "%s: tensor %d (%s): %zu quantization scales but %zu zero points",
                            f->name, index, t->name ? t->name : "?", scales.length, zps.length);
    if (scales.length > MAX_TENSOR_ELEMENTS)
        return bad(f, "too many quantization scales", scales.data);
    t->scales = malloc(scales.length * sizeof(float));
    t->zero_points = calloc(scales.length, sizeof(int32_t));
    if (!t->scales || !t->zero_points)
        return vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
    t->num_scales = (int)scales.length;
    for (size_t i = 0; i < scales.length; i++) {
        memcpy(&t->scales[i], f->bytes + scales.data + 4 * i, 4);
        if (!(t->scales[i] > 0.0f) || !isfinite(t->scales[i]))
            return vb_error_set(f->err, VB_EFORMAT, "%s: tensor %d (%s): quantization scale %g is not positive",
                                f->name, index, t->name ? t->name : "?", (double)t->scales[i]);
        if (zps.present) {
            int64_t zp;
            memcpy(&zp, f->bytes + zps.data + 8 * i, 8);
            if (zp < INT32_MIN || zp > INT32_MAX)
                return vb_error_set(f->err, VB_EFORMAT, "%s: tensor %d: zero point %lld out of range",
                                    f->name, index, (long long)zp);
            t->zero_points[i] = (int32_t)zp;
        }
    }
    int64_t qdim;
    if ((rc = fb_int(f, &q, 6, 4, 0, &qdim)))
        return rc;
    t->quantized_dimension = (int)qdim;
    return 0;
}

static int read_tensor(fb *f, const fb_table *tt, int index, const fb_vector *buffers,
                       vb_tflite_tensor *t)
{
    int rc;
    int32_t *shape = NULL;
    int rank = 0;
    if ((rc = fb_string(f, tt, 3, &t->name)))
        return rc;
    if ((rc = fb_int_vector(f, tt, 0, &shape, &rank)))
        return rc;
    if (rank > VB_TFLITE_MAX_RANK) {
        free(shape);
        return vb_error_set(f->err, VB_EUNSUPPORTED, "%s: tensor %d (%s) has rank %d (at most %d supported)",
                            f->name, index, t->name ? t->name : "?", rank, VB_TFLITE_MAX_RANK);
    }
    t->rank = rank;
    size_t elements = 1;
    for (int d = 0; d < rank; d++) {
        t->shape[d] = shape[d];
        if (shape[d] < 0 || (shape[d] > 0 && elements > MAX_TENSOR_ELEMENTS / (size_t)shape[d])) {
            const int code = shape[d] < 0 ? VB_EUNSUPPORTED : VB_ELIMIT;
            free(shape);
            return vb_error_set(f->err, code,
                                "%s: tensor %d (%s): dimension %d is %d (dynamic or too large)",
                                f->name, index, t->name ? t->name : "?", d, t->shape[d]);
        }
        elements *= (size_t)shape[d];
    }
    free(shape);
    t->num_elements = elements;
    int64_t type, is_var;
    uint64_t buffer;
    if ((rc = fb_int(f, tt, 1, 1, 0, &type)) || (rc = fb_uint(f, tt, 2, 4, 0, &buffer)) ||
        (rc = fb_int(f, tt, 5, 1, 0, &is_var)))
        return rc;
    t->type = (int)type;
    t->is_variable = is_var != 0;
    t->num_bytes = elements * vb_tflite_type_size(t->type);
    if ((rc = read_quantization(f, tt, t, index)))
        return rc;
    if (buffer >= (buffers->present ? buffers->length : 0))
        return vb_error_set(f->err, VB_EFORMAT, "%s: tensor %d (%s): buffer index %llu out of range (%zu buffers)",
                            f->name, index, t->name ? t->name : "?", (unsigned long long)buffer,
                            buffers->present ? buffers->length : (size_t)0);
    fb_table bt;
    if ((rc = fb_vector_table(f, buffers, (size_t)buffer, &bt, "bad buffer table")))
        return rc;
    fb_vector data;
    if ((rc = fb_vector_field(f, &bt, 0, 1, &data)))
        return rc;
    uint64_t ext_offset, ext_size;
    if ((rc = fb_uint(f, &bt, 1, 8, 0, &ext_offset)) || (rc = fb_uint(f, &bt, 2, 8, 0, &ext_size)))
        return rc;
    const uint8_t *src = NULL;
    size_t src_len = 0;
    if (data.present && data.length > 0) {
        src = f->bytes + data.data;
        src_len = data.length;
    } else if (ext_offset > 1) {   /* large models keep buffers after the FlatBuffer */
        if (ext_offset > f->size || ext_size > f->size - ext_offset)
            return vb_error_set(f->err, VB_EFORMAT, "%s: tensor %d (%s): buffer bytes %llu..+%llu outside the file",
                                f->name, index, t->name ? t->name : "?",
                                (unsigned long long)ext_offset, (unsigned long long)ext_size);
        src = f->bytes + ext_offset;
        src_len = (size_t)ext_size;
    }
    if (src) {
        if (vb_tflite_type_size(t->type) == 0)
            return vb_error_set(f->err, VB_EUNSUPPORTED, "%s: tensor %d (%s): constant of type %s",
                                f->name, index, t->name ? t->name : "?", vb_tflite_type_name(t->type));
        if (src_len != t->num_bytes)
            return vb_error_set(f->err, VB_ESHAPE,
                                "%s: tensor %d (%s): shape needs %zu bytes of %s but its buffer %llu has %zu",
                                f->name, index, t->name ? t->name : "?", t->num_bytes,
                                vb_tflite_type_name(t->type), (unsigned long long)buffer, src_len);
        void *copy = aligned_alloc(64, (src_len + 63) / 64 * 64);
        if (!copy)
            return vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
        memcpy(copy, src, src_len);
        t->data = copy;
    }
    return 0;
}

static int read_options(fb *f, const fb_table *op, vb_tflite_operator *o)
{
    vb_tflite_options *p = &o->options;
    memset(p, 0, sizeof *p);
    p->stride_w = p->stride_h = p->dilation_w = p->dilation_h = p->depth_multiplier = 1;
    uint64_t type;
    int rc = fb_uint(f, op, 3, 1, 0, &type);
    if (rc)
        return rc;
    o->options_type = (int)type;
    size_t pos;
    if ((rc = fb_deref(f, op, 4, &pos)))
        return rc;
    if (!pos)
        return 0;
    fb_table t;
    if ((rc = fb_table_at(f, pos, &t, "bad builtin options table")))
        return rc;
    int64_t v[1];
#define GET(field, width, dflt, dst) do { \
        if ((rc = fb_int(f, &t, field, width, dflt, &v[0]))) { return rc; } \
        if (v[0] < INT32_MIN || v[0] > INT32_MAX) { return bad(f, "option out of range", t.pos); } \
        dst = (int)v[0]; \
    } while (0)
    switch (o->options_type) {
    case 1:   /* Conv2DOptions */
        GET(0, 1, 0, p->padding); GET(1, 4, 1, p->stride_w); GET(2, 4, 1, p->stride_h);
        GET(3, 1, 0, p->activation); GET(4, 4, 1, p->dilation_w); GET(5, 4, 1, p->dilation_h);
        break;
    case 2:   /* DepthwiseConv2DOptions */
        GET(0, 1, 0, p->padding); GET(1, 4, 1, p->stride_w); GET(2, 4, 1, p->stride_h);
        GET(3, 4, 1, p->depth_multiplier); GET(4, 1, 0, p->activation);
        GET(5, 4, 1, p->dilation_w); GET(6, 4, 1, p->dilation_h);
        break;
    case 5:   /* Pool2DOptions */
        GET(0, 1, 0, p->padding); GET(1, 4, 1, p->stride_w); GET(2, 4, 1, p->stride_h);
        GET(3, 4, 0, p->filter_w); GET(4, 4, 0, p->filter_h); GET(5, 1, 0, p->activation);
        break;
    case 10:  /* ConcatenationOptions */
        GET(0, 4, 0, p->axis); GET(1, 1, 0, p->activation);
        break;
    case 11:  /* AddOptions */
    case 21:  /* MulOptions */
    case 29:  /* DivOptions */
        GET(0, 1, 0, p->activation);
        break;
    case 27:  /* ReducerOptions */
        GET(0, 1, 0, p->keep_dims);
        break;
    case 32:  /* StridedSliceOptions */
        GET(0, 4, 0, p->begin_mask); GET(1, 4, 0, p->end_mask); GET(2, 4, 0, p->ellipsis_mask);
        GET(3, 4, 0, p->new_axis_mask); GET(4, 4, 0, p->shrink_axis_mask); GET(5, 1, 0, p->offset);
        break;
    case 37:  /* CastOptions */
        GET(0, 1, 0, p->in_type); GET(1, 1, 0, p->out_type);
        break;
    default:  /* options we do not use (ReshapeOptions' new_shape duplicates the output shape) */
        break;
    }
#undef GET
    return 0;
}

static int check_index_list(fb *f, const int32_t *idx, int n, int num_tensors, int allow_absent,
                            const char *what, int op)
{
    for (int i = 0; i < n; i++)
        if (idx[i] >= num_tensors || idx[i] < (allow_absent ? -1 : 0))
            return vb_error_set(f->err, VB_EFORMAT, "%s: %s %d of operator %d is tensor %d, out of range (%d tensors)",
                                f->name, what, i, op, idx[i], num_tensors);
    return 0;
}

static int read_model(fb *f, vb_tflite_model *m)
{
    int rc;
    if (f->size < 8)
        return bad(f, "file too short", 0);
    if (f->size >= 8 && memcmp(f->bytes + 4, "TFL3", 4) != 0)
        return vb_error_set(f->err, VB_EFORMAT, "%s: not a TFLite model (file identifier is not \"TFL3\")", f->name);
    fb_table model;
    size_t root = rd_u32(f->bytes);
    if ((rc = fb_table_at(f, root, &model, "root table offset out of range")))
        return rc;
    uint64_t version;
    if ((rc = fb_uint(f, &model, 0, 4, 0, &version)))
        return rc;
    if (version > INT32_MAX)
        return bad(f, "schema version out of range", model.pos);
    m->version = (int)version;
    if ((rc = fb_string(f, &model, 3, &m->description)))
        return rc;

    fb_vector opcodes, subgraphs, buffers, sigs;
    if ((rc = fb_vector_field(f, &model, 1, 4, &opcodes)) || (rc = fb_vector_field(f, &model, 2, 4, &subgraphs)) ||
        (rc = fb_vector_field(f, &model, 4, 4, &buffers)) || (rc = fb_vector_field(f, &model, 7, 4, &sigs)))
        return rc;
    if (!subgraphs.present || subgraphs.length == 0)
        return vb_error_set(f->err, VB_EFORMAT, "%s: model has no subgraph", f->name);
    m->num_subgraphs = (int)subgraphs.length;

    /* Operator codes: builtin code is the larger of the deprecated byte and the int32 field. */
    size_t num_codes = opcodes.present ? opcodes.length : 0;
    int *codes = calloc(num_codes + 1, sizeof(int));
    int *code_versions = calloc(num_codes + 1, sizeof(int));
    char **custom = calloc(num_codes + 1, sizeof(char *));
    if (!codes || !code_versions || !custom) {
        rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
        goto done;
    }
    for (size_t i = 0; i < num_codes; i++) {
        fb_table oc;
        int64_t dep, code, ver;
        if ((rc = fb_vector_table(f, &opcodes, i, &oc, "bad operator code table")) ||
            (rc = fb_int(f, &oc, 0, 1, 0, &dep)) || (rc = fb_int(f, &oc, 3, 4, 0, &code)) ||
            (rc = fb_int(f, &oc, 2, 4, 1, &ver)) || (rc = fb_string(f, &oc, 1, &custom[i])))
            goto done;
        codes[i] = (int)(dep > code ? dep : code);
        code_versions[i] = (int)ver;
    }

    fb_table sg;
    if ((rc = fb_vector_table(f, &subgraphs, 0, &sg, "bad subgraph table")))
        goto done;
    fb_vector tensors, ops;
    if ((rc = fb_vector_field(f, &sg, 0, 4, &tensors)) || (rc = fb_vector_field(f, &sg, 3, 4, &ops)))
        goto done;
    m->num_tensors = tensors.present ? (int)tensors.length : 0;
    m->tensors = calloc((size_t)m->num_tensors + 1, sizeof *m->tensors);
    if (!m->tensors) {
        rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
        goto done;
    }
    for (int i = 0; i < m->num_tensors; i++) {
        fb_table tt;
        if ((rc = fb_vector_table(f, &tensors, (size_t)i, &tt, "bad tensor table")) ||
            (rc = read_tensor(f, &tt, i, &buffers, &m->tensors[i])))
            goto done;
    }
    if ((rc = fb_int_vector(f, &sg, 1, &m->inputs, &m->num_inputs)) ||
        (rc = fb_int_vector(f, &sg, 2, &m->outputs, &m->num_outputs)))
        goto done;
    if ((rc = check_index_list(f, m->inputs, m->num_inputs, m->num_tensors, 0, "subgraph input", -1)) ||
        (rc = check_index_list(f, m->outputs, m->num_outputs, m->num_tensors, 0, "subgraph output", -1)))
        goto done;

    m->num_operators = ops.present ? (int)ops.length : 0;
    m->operators = calloc((size_t)m->num_operators + 1, sizeof *m->operators);
    if (!m->operators) {
        rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
        goto done;
    }
    for (int i = 0; i < m->num_operators; i++) {
        vb_tflite_operator *o = &m->operators[i];
        fb_table ot;
        uint64_t opcode_index;
        if ((rc = fb_vector_table(f, &ops, (size_t)i, &ot, "bad operator table")) ||
            (rc = fb_uint(f, &ot, 0, 4, 0, &opcode_index)))
            goto done;
        if (opcode_index >= num_codes) {
            rc = vb_error_set(f->err, VB_EFORMAT, "%s: operator %d uses operator code %llu, out of range (%zu codes)",
                              f->name, i, (unsigned long long)opcode_index, num_codes);
            goto done;
        }
        o->builtin_code = codes[opcode_index];
        o->version = code_versions[opcode_index];
        if (o->builtin_code == 32 && custom[opcode_index]) {
            o->custom_code = strdup(custom[opcode_index]);
            if (!o->custom_code) {
                rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
                goto done;
            }
        }
        if ((rc = fb_int_vector(f, &ot, 1, &o->inputs, &o->num_inputs)) ||
            (rc = fb_int_vector(f, &ot, 2, &o->outputs, &o->num_outputs)) ||
            (rc = check_index_list(f, o->inputs, o->num_inputs, m->num_tensors, 1, "input", i)) ||
            (rc = check_index_list(f, o->outputs, o->num_outputs, m->num_tensors, 0, "output", i)) ||
            (rc = read_options(f, &ot, o)))
            goto done;
    }

    m->num_signatures = sigs.present ? (int)sigs.length : 0;
    m->signatures = calloc((size_t)m->num_signatures + 1, sizeof *m->signatures);
    if (!m->signatures) {
        rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
        goto done;
    }
    for (int i = 0; i < m->num_signatures; i++) {
        vb_tflite_signature *s = &m->signatures[i];
        fb_table st;
        uint64_t sub;
        if ((rc = fb_vector_table(f, &sigs, (size_t)i, &st, "bad signature table")) ||
            (rc = fb_string(f, &st, 2, &s->key)) || (rc = fb_uint(f, &st, 4, 4, 0, &sub)))
            goto done;
        s->subgraph = sub > INT32_MAX ? INT32_MAX : (int)sub;
        for (int side = 0; side < 2; side++) {
            fb_vector maps;
            if ((rc = fb_vector_field(f, &st, (unsigned)side, 4, &maps)))
                goto done;
            int n = maps.present ? (int)maps.length : 0;
            vb_tflite_signature_entry *e = calloc((size_t)n + 1, sizeof *e);
            if (!e) {
                rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
                goto done;
            }
            if (side == 0) { s->inputs = e; s->num_inputs = n; }
            else { s->outputs = e; s->num_outputs = n; }
            for (int k = 0; k < n; k++) {
                fb_table mt;
                uint64_t tensor;
                if ((rc = fb_vector_table(f, &maps, (size_t)k, &mt, "bad signature tensor map")) ||
                    (rc = fb_string(f, &mt, 0, &e[k].name)) || (rc = fb_uint(f, &mt, 1, 4, 0, &tensor)))
                    goto done;
                /* Other subgraphs' tensors are not read, but the index is still stored as an int. */
                if (tensor > INT32_MAX || (tensor >= (uint64_t)m->num_tensors && s->subgraph == 0)) {
                    rc = vb_error_set(f->err, VB_EFORMAT, "%s: signature \"%s\" names tensor %llu, out of range",
                                      f->name, s->key ? s->key : "", (unsigned long long)tensor);
                    goto done;
                }
                e[k].tensor = (int)tensor;
                if (!e[k].name && !(e[k].name = strdup(""))) {
                    rc = vb_error_set(f->err, VB_ENOMEM, "%s: out of memory", f->name);
                    goto done;
                }
            }
        }
    }
    rc = 0;
done:
    for (size_t i = 0; custom && i < num_codes; i++)
        free(custom[i]);
    free(custom);
    free(codes);
    free(code_versions);
    return rc;
}

int vb_tflite_open_memory(const uint8_t *bytes, size_t size_bytes, const char *name,
                          vb_tflite_model **out, vb_error *err)
{
    *out = NULL;
    vb_tflite_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(name ? name : "(memory)"))) {
        free(m);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name ? name : "(memory)");
    }
    fb f = {bytes, size_bytes, m->path, err};
    int rc = read_model(&f, m);
    if (rc) {
        vb_tflite_free(&m);
        return rc;
    }
    *out = m;
    return 0;
}

int vb_tflite_open(const char *path, vb_tflite_model **out, vb_error *err)
{
    char *bytes = NULL;
    size_t size = 0;
    *out = NULL;
    int rc = fs_read_file(path, MAX_MODEL_BYTES, &bytes, &size, err);
    if (rc)
        return rc;
    rc = vb_tflite_open_memory((const uint8_t *)bytes, size, path, out, err);
    free(bytes);
    return rc;
}

void vb_tflite_free(vb_tflite_model **model)
{
    if (!model || !*model)
        return;
    vb_tflite_model *m = *model;
    for (int i = 0; m->tensors && i < m->num_tensors; i++) {
        free(m->tensors[i].name);
        free((void *)m->tensors[i].data);
        free(m->tensors[i].scales);
        free(m->tensors[i].zero_points);
    }
    free(m->tensors);
    for (int i = 0; m->operators && i < m->num_operators; i++) {
        free(m->operators[i].inputs);
        free(m->operators[i].outputs);
        free(m->operators[i].custom_code);
    }
    free(m->operators);
    for (int i = 0; m->signatures && i < m->num_signatures; i++) {
        vb_tflite_signature *s = &m->signatures[i];
        for (int k = 0; s->inputs && k < s->num_inputs; k++)
            free(s->inputs[k].name);
        for (int k = 0; s->outputs && k < s->num_outputs; k++)
            free(s->outputs[k].name);
        free(s->inputs);
        free(s->outputs);
        free(s->key);
    }
    free(m->signatures);
    free(m->inputs);
    free(m->outputs);
    free(m->description);
    free(m->path);
    free(m);
    *model = NULL;
}
