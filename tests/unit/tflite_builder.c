/* Test helper: a front-to-back FlatBuffer writer for the TFLite schema fields vidbench reads.
 * Each table is written as its vtable followed by the table; offset fields are patched once
 * the object they point to (always later in the file) is written. */
#include "tflite_builder.h"

#include <stdlib.h>
#include <string.h>

typedef struct fbw {
    uint8_t *buf;
    size_t len, cap;
} fbw;

static void reserve(fbw *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + n)
        cap *= 2;
    w->buf = realloc(w->buf, cap);
    memset(w->buf + w->cap, 0, cap - w->cap);
    w->cap = cap;
}

static size_t put(fbw *w, const void *data, size_t n)
{
    reserve(w, n);
    size_t at = w->len;
    if (data)
        memcpy(w->buf + at, data, n);
    else
        memset(w->buf + at, 0, n);
    w->len += n;
    return at;
}

static void align(fbw *w, size_t a)
{
    while (w->len % a)
        put(w, NULL, 1);
}

static void patch(fbw *w, size_t field, size_t target)
{
    uint32_t off = (uint32_t)(target - field);
    memcpy(w->buf + field, &off, 4);
}

/* A field: kind 0 absent, 1 scalar (width 1/2/4/8), 2 offset (patched later). */
typedef struct field {
    int kind, width;
    int64_t value;
} field;

/* Writes vtable + table; pos[i] receives each field's byte position. */
static size_t put_table(fbw *w, int n, const field *f, size_t *pos)
{
    align(w, 4);
    uint16_t vt[2 + 16] = {0};
    uint16_t offset = 4;
    uint16_t field_off[16] = {0};
    for (int i = 0; i < n; i++) {
        if (!f[i].kind)
            continue;
        int width = f[i].kind == 2 ? 4 : f[i].width;
        while (offset % width)
            offset++;
        field_off[i] = offset;
        offset += (uint16_t)width;
    }
    while (offset % 4)
        offset++;
    vt[0] = (uint16_t)(4 + 2 * n);
    vt[1] = offset;
    for (int i = 0; i < n; i++)
        vt[2 + i] = field_off[i];
    size_t vt_pos = put(w, vt, (size_t)vt[0]);
    align(w, 4);
    size_t table = put(w, NULL, offset);
    int32_t soff = (int32_t)(table - vt_pos);
    memcpy(w->buf + table, &soff, 4);
    for (int i = 0; i < n; i++) {
        pos[i] = 0;
        if (!f[i].kind)
            continue;
        pos[i] = table + field_off[i];
        if (f[i].kind == 1)
            memcpy(w->buf + pos[i], &f[i].value, (size_t)f[i].width);   /* little endian */
    }
    return table;
}

static size_t put_vector(fbw *w, const void *elems, size_t n, size_t elem_size)
{
    align(w, elem_size > 4 ? 8 : 4);
    if (elem_size > 4 && (w->len + 4) % 8)
        put(w, NULL, 4);
    uint32_t len = (uint32_t)n;
    size_t at = put(w, &len, 4);
    put(w, elems, n * elem_size);
    return at;
}

static size_t put_string(fbw *w, const char *s)
{
    size_t at = put_vector(w, s, strlen(s), 1);
    put(w, NULL, 1);
    return at;
}

static size_t put_int_vector(fbw *w, const int *v, int n)
{
    int32_t tmp[16];
    for (int i = 0; i < n; i++)
        tmp[i] = v[i];
    return put_vector(w, tmp, (size_t)n, 4);
}

static void put_offset_vector(fbw *w, size_t field_pos, size_t n, size_t *elem_pos)
{
    size_t vec = put_vector(w, NULL, n, 4);
    patch(w, field_pos, vec);
    for (size_t i = 0; i < n; i++)
        elem_pos[i] = vec + 4 + 4 * i;
}

uint8_t *tb_build(const tb_model *m, size_t *size_bytes)
{
    fbw w = {0};
    put(&w, NULL, 4);
    put(&w, "TFL3", 4);
    /* Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers, 7 signature_defs */
    const int has_sig = m->input_names[0] != NULL;
    field model_fields[8] = {{1, 4, 3}, {2, 4, 0}, {2, 4, 0}, {0}, {2, 4, 0}, {0}, {0}, {has_sig ? 2 : 0, 4, 0}};
    size_t mp[8];
    size_t model = put_table(&w, 8, model_fields, mp);
    patch(&w, 0, model);

    /* Operator codes: one per operator (duplicates are allowed). */
    size_t code_pos[8];
    put_offset_vector(&w, mp[1], (size_t)m->num_operators, code_pos);
    for (int i = 0; i < m->num_operators; i++) {
        const int code = m->operators[i].code;
        field f[4] = {{1, 1, code < 127 ? code : 127}, {0}, {1, 4, 1}, {1, 4, code}};
        size_t p[4];
        patch(&w, code_pos[i], put_table(&w, 4, f, p));
    }

    /* Buffers: 0 is the empty buffer; tensor t with data uses buffer t + 1. */
    size_t buf_pos[17];
    put_offset_vector(&w, mp[4], (size_t)m->num_tensors + 1, buf_pos);
    for (int t = 0; t <= m->num_tensors; t++) {
        const tb_tensor *tt = t ? &m->tensors[t - 1] : NULL;
        field f[1] = {{tt && tt->data ? 2 : 0, 4, 0}};
        size_t p[1];
        patch(&w, buf_pos[t], put_table(&w, 1, f, p));
        if (tt && tt->data) {
            align(&w, 16);
            patch(&w, p[0], put_vector(&w, tt->data, tt->data_bytes, 1));
        }
    }

    /* Subgraph: 0 tensors, 1 inputs, 2 outputs, 3 operators */
    size_t sg_pos[1];
    put_offset_vector(&w, mp[2], 1, sg_pos);
    field sgf[4] = {{2, 4, 0}, {2, 4, 0}, {2, 4, 0}, {2, 4, 0}};
    size_t sp[4];
    patch(&w, sg_pos[0], put_table(&w, 4, sgf, sp));
    size_t tensor_pos[16];
    put_offset_vector(&w, sp[0], (size_t)m->num_tensors, tensor_pos);
    for (int t = 0; t < m->num_tensors; t++) {
        const tb_tensor *tt = &m->tensors[t];
        /* Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization */
        field f[5] = {{2, 4, 0}, {1, 1, tt->type}, {1, 4, tt->data ? t + 1 : 0}, {2, 4, 0}, {tt->num_scales ? 2 : 0, 4, 0}};
        size_t p[5];
        patch(&w, tensor_pos[t], put_table(&w, 5, f, p));
        patch(&w, p[0], put_int_vector(&w, tt->shape, tt->rank));
        patch(&w, p[3], put_string(&w, tt->name ? tt->name : ""));
        if (tt->num_scales) {
            /* QuantizationParameters: 2 scale, 3 zero_point, 6 quantized_dimension */
            field q[7] = {{0}, {0}, {2, 4, 0}, {2, 4, 0}, {0}, {0}, {1, 4, tt->quantized_dimension}};
            size_t qp[7];
            patch(&w, p[4], put_table(&w, 7, q, qp));
            patch(&w, qp[2], put_vector(&w, tt->scales, (size_t)tt->num_scales, 4));
            patch(&w, qp[3], put_vector(&w, tt->zero_points, (size_t)tt->num_scales, 8));
        }
    }
    patch(&w, sp[1], put_int_vector(&w, m->inputs, m->num_inputs));
    patch(&w, sp[2], put_int_vector(&w, m->outputs, m->num_outputs));
    size_t op_pos[8];
    put_offset_vector(&w, sp[3], (size_t)m->num_operators, op_pos);
    for (int i = 0; i < m->num_operators; i++) {
        const tb_operator *o = &m->operators[i];
        /* Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 options type, 4 options */
        field f[5] = {{1, 4, i}, {2, 4, 0}, {2, 4, 0}, {1, 1, o->options_type}, {o->options_type ? 2 : 0, 4, 0}};
        size_t p[5];
        patch(&w, op_pos[i], put_table(&w, 5, f, p));
        patch(&w, p[1], put_int_vector(&w, o->inputs, o->num_inputs));
        patch(&w, p[2], put_int_vector(&w, o->outputs, o->num_outputs));
        if (o->options_type) {
            field of[8] = {{0}};
            int n = 0;
            for (int k = 0; k < o->num_options; k++) {
                of[o->options[k].field] = (field){1, o->options[k].width, o->options[k].value};
                if (o->options[k].field + 1 > n)
                    n = o->options[k].field + 1;
            }
            size_t opp[8];
            patch(&w, p[4], put_table(&w, n, of, opp));
        }
    }
    if (has_sig) {
        /* SignatureDef: 0 inputs, 1 outputs, 2 signature_key, 4 subgraph_index */
        size_t sig_pos[1];
        put_offset_vector(&w, mp[7], 1, sig_pos);
        field sf[5] = {{2, 4, 0}, {2, 4, 0}, {2, 4, 0}, {0}, {1, 4, 0}};
        size_t ssp[5];
        patch(&w, sig_pos[0], put_table(&w, 5, sf, ssp));
        patch(&w, ssp[2], put_string(&w, "serving_default"));
        for (int side = 0; side < 2; side++) {
            const int n = side ? m->num_outputs : m->signature_inputs ? m->signature_inputs : m->num_inputs;
            size_t map_pos[8];
            put_offset_vector(&w, ssp[side], (size_t)n, map_pos);
            for (int k = 0; k < n; k++) {
                field mf[2] = {{2, 4, 0}, {1, 4, side ? m->outputs[k] : m->inputs[k]}};
                size_t mfp[2];
                patch(&w, map_pos[k], put_table(&w, 2, mf, mfp));
                patch(&w, mfp[0], put_string(&w, side ? m->output_names[k] : m->input_names[k]));
            }
        }
    }
    *size_bytes = w.len;
    return w.buf;
}
