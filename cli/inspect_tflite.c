/* `vidbench model inspect FILE.tflite`: lists a TFLite model's inputs, outputs (with their
 * signature names), an operator count by type and, with --ops, every operator. */
#include "inspect_tflite.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "vidbench/tflite.h"

static void print_shape(const vb_tflite_tensor *t)
{
    printf("[");
    for (int d = 0; d < t->rank; d++)
        printf("%s%d", d ? "," : "", t->shape[d]);
    printf("]");
}

static void print_tensor(const vb_tflite_model *m, int index, const char *signature_name)
{
    const vb_tflite_tensor *t = &m->tensors[index];
    printf("  %-4d %-8s ", index, vb_tflite_type_name(t->type));
    print_shape(t);
    if (t->num_scales == 1)
        printf(" q(scale=%g, zero=%d)", (double)t->scales[0], t->zero_points[0]);
    else if (t->num_scales > 1)
        printf(" q(per-axis %d, %d scales)", t->quantized_dimension, t->num_scales);
    printf("  %s", cli_safe(signature_name ? signature_name : t->name));
    if (signature_name && t->name)
        printf("  (%s)", cli_safe(t->name));
    printf("\n");
}

static const char *signature_name(const vb_tflite_model *m, int tensor, int output)
{
    for (int s = 0; s < m->num_signatures; s++) {
        const vb_tflite_signature *sig = &m->signatures[s];
        if (sig->subgraph != 0)
            continue;
        int n = output ? sig->num_outputs : sig->num_inputs;
        const vb_tflite_signature_entry *e = output ? sig->outputs : sig->inputs;
        for (int k = 0; k < n; k++)
            if (e[k].tensor == tensor)
                return e[k].name;
    }
    return NULL;
}

static void print_operator(const vb_tflite_model *m, int i)
{
    const vb_tflite_operator *o = &m->operators[i];
    const vb_tflite_options *p = &o->options;
    printf("  %-4d %-18s", i, o->custom_code ? cli_safe(o->custom_code) : vb_tflite_op_name(o->builtin_code));
    for (int k = 0; k < o->num_inputs; k++) {
        if (o->inputs[k] < 0) {
            printf(" -");
            continue;
        }
        const vb_tflite_tensor *t = &m->tensors[o->inputs[k]];
        printf(" %s", vb_tflite_type_name(t->type));
        print_shape(t);
    }
    printf(" ->");
    for (int k = 0; k < o->num_outputs; k++) {
        const vb_tflite_tensor *t = &m->tensors[o->outputs[k]];
        printf(" %s", vb_tflite_type_name(t->type));
        print_shape(t);
    }
    switch (o->builtin_code) {
    case VB_TFLITE_OP_CONV_2D:
    case VB_TFLITE_OP_DEPTHWISE_CONV_2D:
    case VB_TFLITE_OP_AVERAGE_POOL_2D:
        printf("  %s stride %dx%d", p->padding == VB_TFLITE_PAD_SAME ? "SAME" : "VALID", p->stride_h, p->stride_w);
        if (o->builtin_code == VB_TFLITE_OP_AVERAGE_POOL_2D)
            printf(" filter %dx%d", p->filter_h, p->filter_w);
        else if (p->dilation_h != 1 || p->dilation_w != 1)
            printf(" dilation %dx%d", p->dilation_h, p->dilation_w);
        printf(" %s", vb_tflite_activation_name(p->activation));
        break;
    case VB_TFLITE_OP_ADD:
    case VB_TFLITE_OP_MUL:
    case VB_TFLITE_OP_DIV:
        if (p->activation)
            printf("  %s", vb_tflite_activation_name(p->activation));
        break;
    case VB_TFLITE_OP_CONCATENATION:
        printf("  axis %d", p->axis);
        break;
    case VB_TFLITE_OP_SUM:
        printf("  keep_dims %d", p->keep_dims);
        break;
    default:
        break;
    }
    printf("\n");
}

int cli_inspect_tflite(const char *path, int argc, char **argv)
{
    int list_ops = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], path))
            continue;   /* callers may pass the path along with the options */
        if (!strcmp(argv[i], "--ops"))
            list_ops = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vidbench model inspect FILE.tflite [--ops]\n"
                   "Lists the inputs and outputs (type, shape, quantization, signature name), and\n"
                   "the operators by type; --ops lists every operator with its tensors and options.\n");
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-')
            return cli_usage_error("model inspect", "unknown option %s", argv[i]);
    }
    vb_error err = {0};
    vb_tflite_model *m = NULL;
    if (vb_tflite_open(path, &m, &err))
        return cli_fail(&err);

    printf("%s: TFLite schema version %d, %d subgraph%s, %d tensors, %d operators\n", path, m->version,
           m->num_subgraphs, m->num_subgraphs == 1 ? "" : "s", m->num_tensors, m->num_operators);
    for (int s = 0; s < m->num_signatures; s++)
        printf("signature \"%s\" (subgraph %d): %d inputs, %d outputs\n",
               cli_safe(m->signatures[s].key), m->signatures[s].subgraph,
               m->signatures[s].num_inputs, m->signatures[s].num_outputs);
    printf("inputs (%d):\n", m->num_inputs);
    for (int i = 0; i < m->num_inputs; i++)
        print_tensor(m, m->inputs[i], signature_name(m, m->inputs[i], 0));
    printf("outputs (%d):\n", m->num_outputs);
    for (int i = 0; i < m->num_outputs; i++)
        print_tensor(m, m->outputs[i], signature_name(m, m->outputs[i], 1));

    /* Count by operator type and by the type of the operator's first input. */
    printf("operators (%d):\n", m->num_operators);
    int counted[256] = {0};
    for (int i = 0; i < m->num_operators; i++) {
        const vb_tflite_operator *o = &m->operators[i];
        int code = o->builtin_code;
        if (code < 0 || code >= 256 || counted[code])
            continue;
        counted[code] = 1;
        int count = 0;
        char types[256] = "";
        for (int k = i; k < m->num_operators; k++) {
            const vb_tflite_operator *ok = &m->operators[k];
            if (ok->builtin_code != code)
                continue;
            count++;
            char sig[64];
            const char *in_type = ok->num_inputs > 0 && ok->inputs[0] >= 0
                ? vb_tflite_type_name(m->tensors[ok->inputs[0]].type) : "-";
            const char *out_type = ok->num_outputs > 0 ? vb_tflite_type_name(m->tensors[ok->outputs[0]].type) : "-";
            snprintf(sig, sizeof sig, "%s->%s", in_type, out_type);
            if (!strstr(types, sig) && strlen(types) + strlen(sig) + 3 < sizeof types) {
                if (types[0])
                    strcat(types, ", ");
                strcat(types, sig);
            }
        }
        printf("  %-18s %4d  %s\n", o->custom_code ? cli_safe(o->custom_code) : vb_tflite_op_name(code), count, types);
    }
    if (list_ops) {
        printf("operator list:\n");
        for (int i = 0; i < m->num_operators; i++)
            print_operator(m, i);
    }
    vb_tflite_free(&m);
    return CLI_EXIT_OK;
}
