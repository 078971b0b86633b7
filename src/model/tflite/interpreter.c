/* TFLite interpreter for subgraph 0: checks every operator (types, shapes, quantization,
 * order) once at creation, then runs the operators in file order through the operator table
 * (ops.c). int8 arithmetic follows TFLite's reference kernels; level 0 runs only the plain C
 * code, higher levels use the vector kernels and exact lookup tables, which equal the plain code
 * bit for bit. This file: creation, invoke, SIMD level and the streaming states. */
#include "interpreter_internal.h"
#include "vidbench/threads.h"

#include <stdlib.h>
#include <string.h>

static int prepare_node(vb_error *err, const vb_tflite_model *m, node *n)
{
    n->kind = tfl_operator_find(n->code);
    if (!n->kind)
        return OPFAIL(VB_EUNSUPPORTED, "operator %s is not implemented",
                      n->op->custom_code ? n->op->custom_code : vb_tflite_op_name(n->code));
    return n->kind->prepare(err, m, n);
}

static void free_nodes(vb_tflite_interpreter *it)
{
    for (int i = 0; it->nodes && i < it->num_nodes; i++) {
        free(it->nodes[i].multiplier);
        free(it->nodes[i].shift);
        free(it->nodes[i].lut);
        free(it->nodes[i].dequant_lut);
        tfl_packed_conv_free(&it->nodes[i].packed);
    }
    free(it->nodes);
    it->nodes = NULL;
}

int vb_tflite_interpreter_threads(const vb_tflite_interpreter *it)
{
    return it->workers.threads;
}

int vb_tflite_interpreter_create(const vb_tflite_model *m, int threads, vb_tflite_interpreter **out, vb_error *err)
{
    *out = NULL;
    threads = vb_threads_resolve(threads);
    if (threads > 64)
        threads = 64;
    vb_tflite_interpreter *it = calloc(1, sizeof *it);
    if (!it)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    it->model = m;
    it->buffers = calloc((size_t)m->num_tensors + 1, sizeof(void *));
    it->owned = calloc((size_t)m->num_tensors + 1, sizeof(void *));
    it->nodes = calloc((size_t)m->num_operators + 1, sizeof(node));
    it->scratch = calloc((size_t)threads, sizeof(void *));
    it->num_nodes = m->num_operators;
    it->workers.threads = threads;
    char *ready = calloc((size_t)m->num_tensors + 1, 1);
    int rc = 0;
    if (!it->buffers || !it->owned || !it->nodes || !it->scratch || !ready) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
        goto fail;
    }
    /* Tensors available before the first operator: constants and the graph inputs. */
    for (int t = 0; t < m->num_tensors; t++)
        if (m->tensors[t].data) {
            it->buffers[t] = (void *)m->tensors[t].data;
            ready[t] = 1;
        }
    size_t total_bytes = 0;
    for (int k = 0; k < m->num_inputs; k++) {
        int t = m->inputs[k];
        const vb_tflite_tensor *tensor = &m->tensors[t];
        if (tensor->data || ready[t] == 2) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: graph input %d (tensor %d) is a constant or listed twice", m->path, k, t);
            goto fail;
        }
        if (vb_tflite_type_size(tensor->type) == 0) {
            rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: graph input \"%s\" has type %s", m->path,
                              tensor->name ? tensor->name : "", vb_tflite_type_name(tensor->type));
            goto fail;
        }
        total_bytes += tensor->num_bytes;
        it->owned[t] = calloc(1, (tensor->num_bytes + 63) / 64 * 64 + 64);
        if (!it->owned[t] || total_bytes > MAX_TOTAL_ACTIVATION_BYTES) {
            rc = vb_error_set(err, it->owned[t] ? VB_ELIMIT : VB_ENOMEM, "%s: activations need too much memory", m->path);
            goto fail;
        }
        it->buffers[t] = it->owned[t];
        ready[t] = 2;
    }
    for (int i = 0; i < m->num_operators; i++) {
        node *n = &it->nodes[i];
        n->op = &m->operators[i];
        n->index = i;
        n->code = n->op->builtin_code;
        for (int k = 0; k < n->op->num_inputs; k++) {
            int t = n->op->inputs[k];
            if (t >= 0 && !ready[t]) {
                rc = OPFAIL(VB_EFORMAT, "input %d (tensor %d \"%s\") is not computed before it is used", k, t,
                            m->tensors[t].name ? m->tensors[t].name : "");
                goto fail;
            }
        }
        for (int k = 0; k < n->op->num_outputs; k++) {
            int t = n->op->outputs[k];
            if (ready[t]) {
                rc = OPFAIL(VB_EFORMAT, "output %d (tensor %d) is a constant, a graph input or written twice", k, t);
                goto fail;
            }
            if (vb_tflite_type_size(m->tensors[t].type) == 0) {
                rc = OPFAIL(VB_EUNSUPPORTED, "output type %s is not implemented", vb_tflite_type_name(m->tensors[t].type));
                goto fail;
            }
        }
        if ((rc = prepare_node(err, m, n)))
            goto fail;
        for (int k = 0; k < n->op->num_outputs; k++) {
            int t = n->op->outputs[k];
            ready[t] = 1;
            if (n->alias) {
                it->buffers[t] = it->buffers[n->op->inputs[0]];
                continue;
            }
            total_bytes += m->tensors[t].num_bytes;
            if (total_bytes > MAX_TOTAL_ACTIVATION_BYTES) {
                rc = OPFAIL(VB_ELIMIT, "activations exceed %zu bytes", MAX_TOTAL_ACTIVATION_BYTES);
                goto fail;
            }
            it->owned[t] = aligned_alloc(64, (m->tensors[t].num_bytes + 63) / 64 * 64 + 64);
            if (!it->owned[t]) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for tensor %d", m->path, t);
                goto fail;
            }
            memset(it->owned[t], 0, m->tensors[t].num_bytes);
            it->buffers[t] = it->owned[t];
        }
    }
    for (int k = 0; k < m->num_outputs; k++)
        if (!ready[m->outputs[k]]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: graph output %d (tensor %d) is never computed", m->path, k, m->outputs[k]);
            goto fail;
        }
    free(ready);
    ready = NULL;
    if (tfl_pool_start(&it->workers, threads)) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: could not start %d threads", m->path, threads);
        goto fail;
    }
    it->level = tfl_cpu_level();
    if ((rc = tfl_pack_convs(it, err)))
        goto fail;
    *out = it;
    return 0;
fail:
    free(ready);
    vb_tflite_interpreter_free(&it);
    return rc;
}

void vb_tflite_interpreter_free(vb_tflite_interpreter **interpreter)
{
    if (!interpreter || !*interpreter)
        return;
    vb_tflite_interpreter *it = *interpreter;
    tfl_pool_stop(&it->workers);
    free_nodes(it);
    for (int t = 0; it->owned && t < it->model->num_tensors; t++)
        free(it->owned[t]);
    for (int t = 0; it->scratch && t < it->workers.threads; t++)
        free(it->scratch[t]);
    free(it->scratch);
    free(it->links);
    free(it->owned);
    free(it->buffers);
    free(it);
    *interpreter = NULL;
}

void *vb_tflite_tensor_buffer(vb_tflite_interpreter *it, int tensor)
{
    if (!it || tensor < 0 || tensor >= it->model->num_tensors)
        return NULL;
    return it->buffers[tensor];
}

int vb_tflite_cpu_simd_level(void) { return tfl_cpu_level(); }

int vb_tflite_set_simd_level(vb_tflite_interpreter *it, int level)
{
    int cpu = tfl_cpu_level();
    if (level < 0)
        level = 0;
    if (level > cpu)
        level = cpu;
    int previous = it->level;
    it->level = level;
    if (tfl_pack_convs(it, NULL)) {
        it->level = 0;
        tfl_pack_convs(it, NULL);
        (void)previous;
    }
    return it->level;
}

int vb_tflite_invoke(vb_tflite_interpreter *it, vb_error *err)
{
    (void)err;
    const double invoke_start = it->workers.threads > 1 ? tfl_monotonic_seconds() : 0.0;
    for (int i = 0; i < it->num_nodes; i++) {
        node *n = &it->nodes[i];
        if (n->skip && it->skip_fused)
            continue;
        it->current = n;
        if (n->kind->eval)
            n->kind->eval(it, n);
    }
    if (it->workers.threads > 1)
        tfl_pool_account_invoke(&it->workers, tfl_monotonic_seconds() - invoke_start);
    return 0;
}

/* ---------------------------------------------------------------- streaming states */

static int consumers(const vb_tflite_model *m, int tensor, int *only)
{
    int count = 0;
    for (int i = 0; i < m->num_operators; i++)
        for (int k = 0; k < m->operators[i].num_inputs; k++)
            if (m->operators[i].inputs[k] == tensor) {
                count++;
                *only = i;
            }
    return count;
}

static int producer(const vb_tflite_model *m, int tensor)
{
    for (int i = 0; i < m->num_operators; i++)
        for (int k = 0; k < m->operators[i].num_outputs; k++)
            if (m->operators[i].outputs[k] == tensor)
                return i;
    return -1;
}

int vb_tflite_link_state(vb_tflite_interpreter *it, int input, int output, vb_error *err)
{
    const vb_tflite_model *m = it->model;
    if (input < 0 || input >= m->num_tensors || output < 0 || output >= m->num_tensors ||
        m->tensors[input].num_bytes != m->tensors[output].num_bytes || m->tensors[input].type != m->tensors[output].type)
        return vb_error_set(err, VB_EINVAL, "%s: state tensors %d -> %d do not match", m->path, output, input);
    state_link *links = realloc(it->links, (size_t)(it->num_links + 1) * sizeof *links);
    if (!links)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    it->links = links;
    state_link *l = &links[it->num_links++];
    memset(l, 0, sizeof *l);
    l->input = input;
    l->output = output;
    l->bytes = m->tensors[input].num_bytes;
    if (input == output)
        return 0;
    int qn = -1, unused = -1;
    const int dn = producer(m, output);
    if (consumers(m, input, &qn) != 1 || dn < 0 || consumers(m, output, &unused) != 0)
        return 0;
    const node *q = &it->nodes[qn], *d = &it->nodes[dn];
    if (q->code != VB_TFLITE_OP_QUANTIZE || q->in_type != VB_TFLITE_FLOAT32 || d->code != VB_TFLITE_OP_DEQUANTIZE)
        return 0;
    const int qt = q->op->outputs[0], st = d->op->inputs[0];
    if (m->tensors[qt].num_elements != m->tensors[st].num_elements || m->tensors[qt].num_elements == 0)
        return 0;
    for (int x = -128; x < 128; x++) {
        const float f = (float)((double)d->scale * (double)(x - d->zero_point));
        tfl_quantize_ref(&f, &l->table[(uint8_t)x], 1, q->scale, q->zero_point);
    }
    l->identity = 1;
    for (int x = -128; x < 128; x++)
        l->identity &= l->table[(uint8_t)x] == x;
    const float zero = 0.0f;
    tfl_quantize_ref(&zero, &l->quantized_zero, 1, q->scale, q->zero_point);
    l->fused = 1;
    l->quantize_node = qn;
    l->dequantize_node = dn;
    l->quantized_tensor = qt;
    l->source_tensor = st;
    l->elements = m->tensors[qt].num_elements;
    it->nodes[qn].skip = 1;
    it->nodes[dn].skip = 1;
    return 0;
}

void vb_tflite_reset_states(vb_tflite_interpreter *it)
{
    it->skip_fused = it->level > 0;
    for (int i = 0; i < it->num_links; i++) {
        const state_link *l = &it->links[i];
        memset(it->buffers[l->input], 0, l->bytes);
        if (l->fused)
            memset(it->buffers[l->quantized_tensor], (uint8_t)l->quantized_zero, l->elements);
    }
}

void vb_tflite_carry_states(vb_tflite_interpreter *it)
{
    for (int i = 0; i < it->num_links; i++) {
        const state_link *l = &it->links[i];
        if (l->fused && it->skip_fused) {
            const int8_t *src = it->buffers[l->source_tensor];
            int8_t *dst = it->buffers[l->quantized_tensor];
            if (l->identity)
                memcpy(dst, src, l->elements);
            else
                for (size_t k = 0; k < l->elements; k++)
                    dst[k] = l->table[(uint8_t)src[k]];
        } else if (it->buffers[l->input] != it->buffers[l->output]) {
            memmove(it->buffers[l->input], it->buffers[l->output], l->bytes);
        }
    }
}
