/* Evaluation flags and the seed's argument files (argparse fromfile_prefix_chars='@' with
 * one or more "--flag value" per line). Argument files are untrusted text: size, token
 * length, line count and nesting are bounded; every error names FILE:LINE and the flag. */
#include "vidbench/eval.h"
#include "vidbench/parse.h"
#include "common/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARG_FILE_BYTES (1u << 20)
#define MAX_TOKEN_BYTES 4095
#define MAX_NESTING 4

void vb_eval_config_init(vb_eval_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model_type, sizeof c->model_type, "i3d");
    c->model_trained_on = 400;
    c->kinetics_version = 400;
    snprintf(c->kinetics_split, sizeof c->kinetics_split, "val");
    c->num_videos = 16;
    c->num_frames = 100;
    snprintf(c->results_dir, sizeof c->results_dir, "results");
    c->batch_size = 8;
    c->top_n = 5;
    c->min_frames = 128;   /* the seed's video_acceptable() minimum */
    c->resize = -1;
    c->num_clips = 1;
    c->num_crops = 1;
    c->shard_index = 0;
    c->shard_count = 1;
    c->shard_by = VB_SHARD_BY_PARTITION;
}

typedef enum { ARG_NONE, ARG_VALUE } arg_kind;

typedef int (*apply_fn)(vb_eval_config *c, const char *value, const char *where,
                        const char *flag, vb_error *err);

typedef struct {
    const char *name;
    arg_kind kind;
    apply_fn apply;
} flag_entry;

static int bad_value(vb_error *err, const char *where, const char *flag, const char *value,
                     const char *expected)
{
    return vb_error_set(err, VB_EINVAL, "%s%s: invalid value '%s' (expected %s)", where, flag,
                        value, expected);
}

static int copy_string(char *dst, size_t dst_bytes, const char *value, const char *where,
                       const char *flag, vb_error *err)
{
    size_t n = strlen(value);
    if (n == 0)
        return bad_value(err, where, flag, value, "a non-empty value");
    if (n >= dst_bytes)
        return vb_error_set(err, VB_ELIMIT, "%s%s: value of %zu bytes is too long (limit %zu)",
                            where, flag, n, dst_bytes - 1);
    memcpy(dst, value, n + 1);
    return 0;
}

#define INT_FLAG(fn, field, lo, hi, expect)                                                    \
    static int fn(vb_eval_config *c, const char *v, const char *where, const char *flag,     \
                  vb_error *err)                                                              \
    {                                                                                         \
        long x;                                                                               \
        if (vb_parse_long(v, lo, hi, &x))                                                        \
            return bad_value(err, where, flag, v, expect);                                    \
        c->field = (int)x;                                                                    \
        return 0;                                                                             \
    }

#define STRING_FLAG(fn, field)                                                                \
    static int fn(vb_eval_config *c, const char *v, const char *where, const char *flag,     \
                  vb_error *err)                                                              \
    {                                                                                         \
        return copy_string(c->field, sizeof c->field, v, where, flag, err);                   \
    }

#define BOOL_FLAG(fn, field)                                                                  \
    static int fn(vb_eval_config *c, const char *v, const char *where, const char *flag,     \
                  vb_error *err)                                                              \
    {                                                                                         \
        (void)v; (void)where; (void)flag; (void)err;                                          \
        c->field = 1;                                                                         \
        return 0;                                                                             \
    }

INT_FLAG(apply_num_frames, num_frames, 0, 100000, "an integer 0..100000 (0 = every frame)")
INT_FLAG(apply_batch_size, batch_size, 1, 4096, "an integer 1..4096")
INT_FLAG(apply_top_n, top_n, 1, 1000, "an integer 1..1000")
INT_FLAG(apply_num_clips, num_clips, 1, 100, "an integer 1..100")
INT_FLAG(apply_min_frames, min_frames, 0, 100000, "an integer 0..100000 (0 = no minimum)")
INT_FLAG(apply_threads, threads, 0, 1024, "an integer 0..1024 (0 = all cores)")
STRING_FLAG(apply_results_dir, results_dir)
STRING_FLAG(apply_data_dir, data_dir)
STRING_FLAG(apply_mirror, mirror)
STRING_FLAG(apply_model, model)
STRING_FLAG(apply_weights, weights)
STRING_FLAG(apply_labels, labels)
STRING_FLAG(apply_clips_file, clips_file)
BOOL_FLAG(apply_verbose_logging, verbose_logging)
BOOL_FLAG(apply_no_cuda, no_cuda)
BOOL_FLAG(apply_overwrite_output_dir, overwrite_output_dir)
BOOL_FLAG(apply_overwrite_cache, overwrite_cache)

static int apply_model_type(vb_eval_config *c, const char *v, const char *where,
                            const char *flag, vb_error *err)
{
    if (strcmp(v, "i3d") && strcmp(v, "movinet"))
        return bad_value(err, where, flag, v, "i3d or movinet");
    snprintf(c->model_type, sizeof c->model_type, "%s", v);
    return 0;
}

static int apply_trained_on(vb_eval_config *c, const char *v, const char *where,
                            const char *flag, vb_error *err)
{
    if (!strcmp(v, "kinetics-400"))
        c->model_trained_on = 400;
    else if (!strcmp(v, "kinetics-600"))
        c->model_trained_on = 600;
    else
        return bad_value(err, where, flag, v, "kinetics-400 or kinetics-600");
    return 0;
}

static int apply_version(vb_eval_config *c, const char *v, const char *where,
                         const char *flag, vb_error *err)
{
    long x;
    if (vb_parse_long(v, 400, 700, &x) || (x != 400 && x != 600 && x != 700))
        return bad_value(err, where, flag, v, "400, 600 or 700");
    c->kinetics_version = (int)x;
    return 0;
}

static int apply_split(vb_eval_config *c, const char *v, const char *where, const char *flag,
                       vb_error *err)
{
    if (!strcmp(v, "validate"))
        v = "val";
    if (strcmp(v, "train") && strcmp(v, "val") && strcmp(v, "test"))
        return bad_value(err, where, flag, v, "train, val or test");
    snprintf(c->kinetics_split, sizeof c->kinetics_split, "%s", v);
    return 0;
}

static int apply_num_videos(vb_eval_config *c, const char *v, const char *where,
                            const char *flag, vb_error *err)
{
    long x;
    if (!strcmp(v, "all"))
        x = 0;
    else if (vb_parse_long(v, 1, 100000000, &x))
        return bad_value(err, where, flag, v, "a positive integer or 'all'");
    c->num_videos = x;
    return 0;
}

static int apply_resize(vb_eval_config *c, const char *v, const char *where, const char *flag,
                        vb_error *err)
{
    vb_resize_mode mode;
    if (vb_resize_mode_parse(v, &mode))
        return bad_value(err, where, flag, v, "crop, pad, shortside, stretch or aspect");
    c->resize = (int)mode;
    return 0;
}

static int apply_num_crops(vb_eval_config *c, const char *v, const char *where,
                           const char *flag, vb_error *err)
{
    if (strcmp(v, "1") && strcmp(v, "3"))
        return bad_value(err, where, flag, v, "1 or 3");
    c->num_crops = v[0] - '0';
    return 0;
}

static int apply_shard(vb_eval_config *c, const char *v, const char *where, const char *flag,
                       vb_error *err)
{
    const char *slash = strchr(v, '/');
    char index_text[32];
    long index, count;
    if (!slash || (size_t)(slash - v) >= sizeof index_text)
        return bad_value(err, where, flag, v, "i/N with 0 <= i < N, e.g. 0/2");
    memcpy(index_text, v, (size_t)(slash - v));
    index_text[slash - v] = '\0';
    if (vb_parse_long(index_text, 0, 1000000, &index) || vb_parse_long(slash + 1, 1, 1000000, &count) ||
        index >= count)
        return bad_value(err, where, flag, v, "i/N with 0 <= i < N, e.g. 0/2");
    c->shard_index = (int)index;
    c->shard_count = (int)count;
    return 0;
}

static int apply_precision(vb_eval_config *c, const char *v, const char *where, const char *flag,
                           vb_error *err)
{
    int precision = vb_i3d_precision_from_name(v);
    if (precision < 0)
        return bad_value(err, where, flag, v, "auto, fp32, bf16 or int8");
    c->precision = precision;
    return 0;
}

static int apply_shard_by(vb_eval_config *c, const char *v, const char *where, const char *flag,
                          vb_error *err)
{
    if (!strcmp(v, "partition"))
        c->shard_by = VB_SHARD_BY_PARTITION;
    else if (!strcmp(v, "clip"))
        c->shard_by = VB_SHARD_BY_CLIP;
    else
        return bad_value(err, where, flag, v, "partition or clip");
    return 0;
}

static const flag_entry flags[] = {
    {"model_type", ARG_VALUE, apply_model_type},
    {"model_trained_on", ARG_VALUE, apply_trained_on},
    {"kinetics_version", ARG_VALUE, apply_version},
    {"kinetics_split", ARG_VALUE, apply_split},
    {"num_videos", ARG_VALUE, apply_num_videos},
    {"num_frames", ARG_VALUE, apply_num_frames},
    {"results_dir", ARG_VALUE, apply_results_dir},
    {"batch_size", ARG_VALUE, apply_batch_size},
    {"top_n", ARG_VALUE, apply_top_n},
    {"verbose_logging", ARG_NONE, apply_verbose_logging},
    {"no_cuda", ARG_NONE, apply_no_cuda},
    {"overwrite_output_dir", ARG_NONE, apply_overwrite_output_dir},
    {"overwrite_cache", ARG_NONE, apply_overwrite_cache},
    {"data_dir", ARG_VALUE, apply_data_dir},
    {"mirror", ARG_VALUE, apply_mirror},
    {"resize", ARG_VALUE, apply_resize},
    {"num_clips", ARG_VALUE, apply_num_clips},
    {"num_crops", ARG_VALUE, apply_num_crops},
    {"shard", ARG_VALUE, apply_shard},
    {"shard_by", ARG_VALUE, apply_shard_by},
    {"threads", ARG_VALUE, apply_threads},
    {"precision", ARG_VALUE, apply_precision},
    {"min_frames", ARG_VALUE, apply_min_frames},
    {"model", ARG_VALUE, apply_model},
    {"weights", ARG_VALUE, apply_weights},
    {"labels", ARG_VALUE, apply_labels},
    {"clips", ARG_VALUE, apply_clips_file},
};

/* A token stream: argv entries, or the tokens of one argument file. "where" is the prefix
 * of error messages ("config.txt:3: " or ""). */
typedef struct token_source {
    int (*next)(struct token_source *src, const char **token, vb_error *err); /* 1 token, 0 end */
    char where[VB_EVAL_PATH_BYTES + 32];
    int depth;
} token_source;

typedef struct {
    token_source base;
    char *const *argv;
    int argc, pos;
} argv_source;

static int argv_next(token_source *src, const char **token, vb_error *err)
{
    (void)err;
    argv_source *s = (argv_source *)src;
    if (s->pos >= s->argc)
        return 0;
    *token = s->argv[s->pos++];
    return 1;
}

typedef struct {
    token_source base;
    const char *name;
    const char *text;
    size_t size, pos;
    int line;
    char token[MAX_TOKEN_BYTES + 1];
} text_source;

static int text_next(token_source *src, const char **token, vb_error *err)
{
    text_source *s = (text_source *)src;
    for (;;) {
        while (s->pos < s->size && (s->text[s->pos] == ' ' || s->text[s->pos] == '\t' ||
                                    s->text[s->pos] == '\r' || s->text[s->pos] == '\n')) {
            if (s->text[s->pos] == '\n')
                s->line++;
            s->pos++;
        }
        if (s->pos >= s->size)
            return 0;
        if (s->text[s->pos] != '#')
            break;
        while (s->pos < s->size && s->text[s->pos] != '\n')
            s->pos++;   /* comment to the end of the line */
    }
    snprintf(s->base.where, sizeof s->base.where, "%s:%d: ", s->name, s->line);
    size_t n = 0;
    char quote = 0;
    int quoted = 0;
    while (s->pos < s->size) {
        char ch = s->text[s->pos];
        if (ch == '\0')
            return vb_error_set(err, VB_EFORMAT, "%snul byte in argument file", s->base.where);
        if (quote) {
            if (ch == '\n')
                return vb_error_set(err, VB_EFORMAT, "%sunterminated %c quote", s->base.where,
                                    quote);
            s->pos++;
            if (ch == quote) {
                quote = 0;
                continue;
            }
        } else {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                break;
            s->pos++;
            if (ch == '"' || ch == '\'') {
                quote = ch;
                quoted = 1;
                continue;
            }
        }
        if (n >= MAX_TOKEN_BYTES)
            return vb_error_set(err, VB_ELIMIT, "%sargument longer than %d bytes",
                                s->base.where, MAX_TOKEN_BYTES);
        s->token[n++] = ch;
    }
    if (quote)
        return vb_error_set(err, VB_EFORMAT, "%sunterminated %c quote", s->base.where, quote);
    s->token[n] = '\0';
    (void)quoted;
    *token = s->token;
    return 1;
}

static int parse_source(vb_eval_config *c, token_source *src, vb_error *err);

static int parse_file(vb_eval_config *c, const char *path, const char *where, int depth,
                      vb_error *err)
{
    if (depth > MAX_NESTING)
        return vb_error_set(err, VB_ELIMIT, "%s@%s: argument files nested deeper than %d",
                            where, path, MAX_NESTING);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_ARG_FILE_BYTES, &text, &size, err);
    if (rc) {
        if (where[0])
            vb_error_prefix(err, "%s", where);
        return rc;
    }
    text_source s = {.base = {.next = text_next, .depth = depth}, .name = path, .text = text,
                     .size = size, .line = 1, .pos = fs_utf8_bom_bytes(text, size)};
    rc = parse_source(c, &s.base, err);
    free(text);
    return rc;
}

static int parse_source(vb_eval_config *c, token_source *src, vb_error *err)
{
    const char *token;
    int got;
    /* The value of a flag may come from the same source only; copy the flag name because
     * the text source reuses its token buffer. */
    while ((got = src->next(src, &token, err)) == 1) {
        if (token[0] == '@') {
            char where[sizeof src->where];
            snprintf(where, sizeof where, "%s", src->where);
            char path[VB_EVAL_PATH_BYTES];
            if (!token[1])
                return vb_error_set(err, VB_EINVAL, "%s'@' without a file name", src->where);
            if (strlen(token + 1) >= sizeof path)
                return vb_error_set(err, VB_ELIMIT, "%sargument file name too long", src->where);
            snprintf(path, sizeof path, "%s", token + 1);
            int rc = parse_file(c, path, where, src->depth + 1, err);
            if (rc)
                return rc;
            continue;
        }
        if (strncmp(token, "--", 2) || !token[2])
            return vb_error_set(err, VB_EINVAL, "%sunexpected argument '%.200s' (flags start with --)",
                                src->where, token);
        char flag[128];
        const char *inline_value = NULL;
        const char *eq = strchr(token, '=');
        size_t name_len = eq ? (size_t)(eq - token) : strlen(token);
        if (name_len >= sizeof flag)
            return vb_error_set(err, VB_EINVAL, "%sunknown flag '%.120s...'", src->where, token);
        memcpy(flag, token, name_len);
        flag[name_len] = '\0';
        char inline_copy[MAX_TOKEN_BYTES + 1];
        if (eq) {
            snprintf(inline_copy, sizeof inline_copy, "%s", eq + 1);
            inline_value = inline_copy;
        }
        const flag_entry *entry = NULL;
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if (!strcmp(flag + 2, flags[i].name))
                entry = &flags[i];
        /* The seed spells them with underscores; accept dashes too (--num-videos). */
        if (!entry) {
            char underscored[128];
            snprintf(underscored, sizeof underscored, "%s", flag + 2);
            for (char *p = underscored; *p; p++)
                if (*p == '-')
                    *p = '_';
            for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
                if (!strcmp(underscored, flags[i].name))
                    entry = &flags[i];
        }
        if (!entry)
            return vb_error_set(err, VB_EINVAL, "%sunknown flag '%s'", src->where, flag);
        char where[sizeof src->where];
        snprintf(where, sizeof where, "%s", src->where);
        if (entry->kind == ARG_NONE) {
            if (inline_value)
                return vb_error_set(err, VB_EINVAL, "%s%s takes no value (got '%.200s')", where,
                                    flag, inline_value);
            int rc = entry->apply(c, NULL, where, flag, err);
            if (rc)
                return rc;
            continue;
        }
        const char *value = inline_value;
        if (!value) {
            int more = src->next(src, &value, err);
            if (more < 0)
                return more;
            if (more == 0 || (!strncmp(value, "--", 2) && value[2]))
                return vb_error_set(err, VB_EINVAL, "%s%s: missing value", where, flag);
        }
        int rc = entry->apply(c, value, where, flag, err);
        if (rc)
            return rc;
    }
    return got;
}

int vb_eval_config_parse_args(vb_eval_config *config, int argc, char *const argv[],
                              vb_error *err)
{
    argv_source s = {.base = {.next = argv_next}, .argv = argv, .argc = argc};
    return parse_source(config, &s.base, err);
}

int vb_eval_config_parse_text(vb_eval_config *config, const char *text, size_t size_bytes,
                              const char *name, vb_error *err)
{
    if (size_bytes > MAX_ARG_FILE_BYTES)
        return vb_error_set(err, VB_ELIMIT, "%s: argument file larger than %u bytes", name,
                            MAX_ARG_FILE_BYTES);
    text_source s = {.base = {.next = text_next, .depth = 1}, .name = name, .text = text,
                     .size = size_bytes, .line = 1};
    return parse_source(config, &s.base, err);
}

int vb_eval_config_validate(const vb_eval_config *c, vb_error *err)
{
    int movinet = !strcmp(c->model_type, "movinet");
    if (c->num_frames == 0 && !movinet)
        return vb_error_set(err, VB_EINVAL, "--num_frames 0 (every frame) needs --model_type movinet; "
                            "I3D takes a fixed number of frames");
    if (c->num_frames == 0 && c->num_clips > 1)
        return vb_error_set(err, VB_EINVAL, "--num_clips %d needs --num_frames > 0 (frames per clip)",
                            c->num_clips);
    if (c->weights[0] && !c->labels[0])
        return vb_error_set(err, VB_EINVAL, "--weights needs --labels (the label map)");
    if (c->labels[0] && !c->weights[0])
        return vb_error_set(err, VB_EINVAL, "--labels needs --weights");
    if (c->model[0] && c->weights[0])
        return vb_error_set(err, VB_EINVAL, "--model and --weights both given; use one");
    if (c->shard_count > 1 && c->shard_by == VB_SHARD_BY_PARTITION && !c->clips_file[0] && c->num_videos > 0)
        return vb_error_set(err, VB_EINVAL,
                            "--num_videos %ld with --shard %d/%d by partition: which clips are the first %ld of "
                            "the whole listing is known only with every partition on disk; use --num_videos all "
                            "(each shard takes all of its partitions), or --shard_by clip",
                            c->num_videos, c->shard_index, c->shard_count, c->num_videos);
    return 0;
}

void vb_eval_model_tag(const vb_eval_config *c, char *out, size_t out_bytes)
{
    snprintf(out, out_bytes, "%s_k%d", c->model_type, c->model_trained_on);
}

int vb_eval_output_path(const vb_eval_config *c, const char *ext, char *out, size_t out_bytes,
                        vb_error *err)
{
    char tag[64];
    vb_eval_model_tag(c, tag, sizeof tag);
    char shard[64] = "";
    if (c->shard_count > 1)
        snprintf(shard, sizeof shard, ".shard%dof%d", c->shard_index, c->shard_count);
    int n = snprintf(out, out_bytes, "%s/%s_%s%d%s.%s", c->results_dir, tag, c->kinetics_split,
                     c->kinetics_version, shard, ext);
    if (n < 0 || (size_t)n >= out_bytes)
        return vb_error_set(err, VB_ELIMIT, "%s: results path too long", c->results_dir);
    return 0;
}
