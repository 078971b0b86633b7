/* Kinetics annotation parsers: the CSV files (header-driven columns, RFC 4180 quoting, LF or
 * CRLF, no label column in test files) and the K600 `ls -R` listing, plus clip file names
 * and ground-truth lookup. Input is untrusted: every field is length- and charset-checked. */
#include "vidbench/dataset.h"
#include "common/csv.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ANNOTATION_FILE_BYTES (1u << 30)
#define MAX_ROWS 20000000u
#define MAX_LABEL_BYTES 256
#define MAX_TIME_SECONDS 100000000L

static int is_id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int valid_youtube_id(const char *s, size_t n)
{
    if (n != 11)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_id_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Non-negative decimal integer, at most 9 digits; -1 otherwise. */
static long parse_seconds(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Label names must be printable text without control bytes. */
static int valid_label(const char *s, size_t n)
{
    if (n == 0 || n >= MAX_LABEL_BYTES)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- label interning: open-addressing hash from name to a provisional id ---- */
typedef struct label_table {
    char **names;          /* by provisional id */
    int count, capacity;
    int *slots;            /* -1 empty, else provisional id */
    size_t slot_count;     /* power of two */
} label_table;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void label_table_free(label_table *t)
{
    for (int i = 0; i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int label_table_grow(label_table *t)
{
    size_t new_count = t->slot_count ? t->slot_count * 2 : 1024;
    int *slots = malloc(new_count * sizeof *slots);
    if (!slots)
        return VB_ENOMEM;
    for (size_t i = 0; i < new_count; i++)
        slots[i] = -1;
    for (int id = 0; id < t->count; id++) {
        size_t at = hash_bytes(t->names[id], strlen(t->names[id])) & (new_count - 1);
        while (slots[at] >= 0)
            at = (at + 1) & (new_count - 1);
        slots[at] = id;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_count = new_count;
    return 0;
}

/* Provisional id of name (added if new), or a negative VB_E* code. */
static int label_table_intern(label_table *t, const char *s, size_t n)
{
    if ((size_t)t->count * 2 >= t->slot_count && label_table_grow(t))
        return VB_ENOMEM;
    size_t at = hash_bytes(s, n) & (t->slot_count - 1);
    while (t->slots[at] >= 0) {
        const char *name = t->names[t->slots[at]];
        if (strlen(name) == n && !memcmp(name, s, n))
            return t->slots[at];
        at = (at + 1) & (t->slot_count - 1);
    }
    if (t->count == t->capacity) {
        int cap = t->capacity ? t->capacity * 2 : 256;
        char **names = realloc(t->names, (size_t)cap * sizeof *names);
        if (!names)
            return VB_ENOMEM;
        t->names = names;
        t->capacity = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return VB_ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    t->names[t->count] = copy;
    t->slots[at] = t->count;
    return t->count++;
}

/* ---- row storage ---- */
typedef struct row_builder {
    vb_annotation *rows;
    size_t count, capacity;
} row_builder;

static int row_push(row_builder *b, const char *id, long start, long end, int label)
{
    if (b->count >= MAX_ROWS)
        return VB_ELIMIT;
    if (b->count == b->capacity) {
        size_t cap = b->capacity ? b->capacity * 2 : 4096;
        vb_annotation *rows = realloc(b->rows, cap * sizeof *rows);
        if (!rows)
            return VB_ENOMEM;
        b->rows = rows;
        b->capacity = cap;
    }
    vb_annotation *r = &b->rows[b->count++];
    memcpy(r->youtube_id, id, 11);
    r->youtube_id[11] = '\0';
    r->time_start = (int32_t)start;
    r->time_end = (int32_t)end;
    r->label = label;
    return 0;
}

/* ---- line reader: yields lines without their LF / CRLF ---- */
typedef struct line_reader {
    const char *text;
    size_t size, pos;
    long number;
} line_reader;

static int next_line(line_reader *r, const char **line, size_t *len)
{
    if (r->pos >= r->size)
        return 0;
    const char *start = r->text + r->pos;
    const char *nl = memchr(start, '\n', r->size - r->pos);
    size_t n = nl ? (size_t)(nl - start) : r->size - r->pos;
    r->pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    r->number++;
    *line = start;
    *len = n;
    return 1;
}

/* ---- CSV (the common RFC 4180 reader) ---- */
static int parse_csv(const char *text, size_t size, const char *name, row_builder *rows, label_table *labels,
                     int *has_labels, vb_error *err)
{
    csv_reader reader;
    csv_reader_init(&reader, text, size, name);
    csv_record *record = calloc(1, sizeof *record);
    if (!record)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    int rc = csv_next(&reader, record, err);
    if (rc <= 0) {
        csv_record_free(record);
        free(record);
        return rc < 0 ? rc : vb_error_set(err, VB_EFORMAT, "%s: empty annotation file", name);
    }
    int col_label = -1, col_id = -1, col_start = -1, col_end = -1;
    for (int i = 0; i < record->count; i++) {
        if (!strcmp(record->fields[i], "label"))
            col_label = i;
        else if (!strcmp(record->fields[i], "youtube_id"))
            col_id = i;
        else if (!strcmp(record->fields[i], "time_start"))
            col_start = i;
        else if (!strcmp(record->fields[i], "time_end"))
            col_end = i;
    }
    const int header_fields = record->count;
    *has_labels = col_label >= 0;
    if (col_id < 0 || col_start < 0 || col_end < 0) {
        rc = vb_error_set(err, VB_EFORMAT, "%s:1: header lacks youtube_id, time_start or time_end column", name);
        goto done;
    }
    while ((rc = csv_next(&reader, record, err)) == 1) {
        rc = 0;
        const long line = record->line;
        if (csv_record_is_blank(record))
            continue;   /* blank lines (e.g. a trailing one) carry no row */
        if (record->count != header_fields) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: %d fields, header has %d", name, line, record->count,
                              header_fields);
            break;
        }
        const char *id = record->fields[col_id];
        if (!valid_youtube_id(id, record->lengths[col_id])) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: youtube_id is not 11 characters of [A-Za-z0-9_-]", name,
                              line);
            break;
        }
        long start = parse_seconds(record->fields[col_start], record->lengths[col_start]);
        long end = parse_seconds(record->fields[col_end], record->lengths[col_end]);
        if (start < 0 || end < 0 || end < start || end > MAX_TIME_SECONDS) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: time_start/time_end are not a window of whole seconds",
                              name, line);
            break;
        }
        int label = -1;
        if (col_label >= 0) {
            if (!valid_label(record->fields[col_label], record->lengths[col_label])) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: empty, overlong or non-text label", name, line);
                break;
            }
            label = label_table_intern(labels, record->fields[col_label], record->lengths[col_label]);
            if (label < 0) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
                break;
            }
        }
        rc = row_push(rows, id, start, end, label);
        if (rc) {
            vb_error_set(err, rc, "%s:%ld: too many rows", name, line);
            break;
        }
    }
done:
    csv_record_free(record);
    free(record);
    return rc;
}

/* ---- K600 ls -R listing:  "val:" / class names / "" / "val/<class>:" / clip names ---- */
static int parse_listing(line_reader *reader, const char *name, row_builder *rows,
                         label_table *labels, vb_error *err)
{
    const char *line;
    size_t len;
    int label = -1;       /* current block's class; -1 = top-level block (directory names) */
    int in_block = 0;
    while (next_line(reader, &line, &len)) {
        /* Trailing blanks are noise (the real val.txt has a line holding one space). */
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        if (line[len - 1] == ':') {
            const char *slash = memchr(line, '/', len - 1);
            if (!slash) {
                if (reader->number != 1)
                    return vb_error_set(err, VB_EFORMAT, "%s:%ld: second top-level block", name,
                                        reader->number);
                label = -1;
                in_block = 0;
                continue;
            }
            const char *cls = slash + 1;
            size_t n = (size_t)(line + len - 1 - cls);
            if (!valid_label(cls, n) || memchr(cls, '/', n))
                return vb_error_set(err, VB_EFORMAT, "%s:%ld: bad class directory name", name,
                                    reader->number);
            label = label_table_intern(labels, cls, n);
            if (label < 0)
                return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
            in_block = 1;
            continue;
        }
        if (!in_block)
            continue; /* the top-level block lists class directories */
        char file[128];
        if (len >= sizeof file)
            return vb_error_set(err, VB_EFORMAT, "%s:%ld: clip file name too long", name, reader->number);
        memcpy(file, line, len);
        file[len] = '\0';
        char id[12];
        int start, end;
        if (vb_clip_name_parse(file, id, &start, &end))
            return vb_error_set(err, VB_EFORMAT, "%s:%ld: not a clip file name <id>_<start>_<end>.mp4",
                                name, reader->number);
        int rc = row_push(rows, id, start, end, label);
        if (rc)
            return vb_error_set(err, rc, "%s:%ld: too many rows", name, reader->number);
    }
    return 0;
}

static const vb_annotation *sort_rows_base;
static int compare_row_index(const void *a, const void *b)
{
    const vb_annotation *ra = &sort_rows_base[*(const uint32_t *)a];
    const vb_annotation *rb = &sort_rows_base[*(const uint32_t *)b];
    int c = memcmp(ra->youtube_id, rb->youtube_id, 11);
    if (c)
        return c;
    if (ra->time_start != rb->time_start)
        return ra->time_start < rb->time_start ? -1 : 1;
    uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
    return ia < ib ? -1 : ia > ib;
}

typedef struct named_id {
    char *name;
    int id;
} named_id;

static int compare_named_id(const void *a, const void *b)
{
    return strcmp(((const named_id *)a)->name, ((const named_id *)b)->name);
}

/* qsort has no user pointer; the sort base is set under this lock. */
#include <pthread.h>
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sorts the label names, renumbers rows, builds the id index. */
static int finish(vb_annotations *a, row_builder *rows, label_table *labels, int has_labels)
{
    a->rows = rows->rows;
    a->count = rows->count;
    a->has_labels = has_labels;
    rows->rows = NULL;
    int n = labels->count;
    if (n > 0) {
        int *remap = malloc((size_t)n * sizeof *remap);
        named_id *order = malloc((size_t)n * sizeof *order);
        char **sorted = malloc((size_t)n * sizeof *sorted);
        if (!remap || !sorted || !order) {
            free(remap);
            free(order);
            free(sorted);
            return VB_ENOMEM;
        }
        for (int i = 0; i < n; i++) {
            order[i].name = labels->names[i];
            order[i].id = i;
        }
        qsort(order, (size_t)n, sizeof *order, compare_named_id);
        for (int i = 0; i < n; i++) {
            sorted[i] = order[i].name;
            remap[order[i].id] = i;
        }
        free(order);
        for (size_t r = 0; r < a->count; r++)
            if (a->rows[r].label >= 0)
                a->rows[r].label = remap[a->rows[r].label];
        free(remap);
        a->labels = sorted;
        a->label_count = n;
        free(labels->names); /* strings now owned by a->labels */
        labels->names = NULL;
        labels->count = 0;
    }
    a->by_id_ = malloc((a->count ? a->count : 1) * sizeof *a->by_id_);
    if (!a->by_id_)
        return VB_ENOMEM;
    for (size_t i = 0; i < a->count; i++)
        a->by_id_[i] = (uint32_t)i;
    pthread_mutex_lock(&sort_lock);
    sort_rows_base = a->rows;
    qsort(a->by_id_, a->count, sizeof *a->by_id_, compare_row_index);
    pthread_mutex_unlock(&sort_lock);
    return 0;
}

int vb_annotations_parse(const char *text, size_t size_bytes, const char *name,
                         vb_annotations *annotations, vb_error *err)
{
    memset(annotations, 0, sizeof *annotations);
    if (!name)
        name = "annotations";
    if (!text && size_bytes)
        return vb_error_set(err, VB_EINVAL, "%s: no text", name);
    if (size_bytes && memchr(text, '\0', size_bytes))
        return vb_error_set(err, VB_EFORMAT, "%s: contains NUL bytes (not a text file)", name);
    line_reader reader = {text, size_bytes, 0, 0};
    row_builder rows = {0};
    label_table labels = {0};
    int has_labels = 0;
    int rc;

    /* An `ls -R` listing starts with "<dir>:"; a CSV starts with its header. */
    const char *first;
    size_t first_len;
    line_reader peek = reader;
    if (!next_line(&peek, &first, &first_len))
        return vb_error_set(err, VB_EFORMAT, "%s: empty annotation file", name);
    if (first_len > 0 && first[first_len - 1] == ':' && !memchr(first, ',', first_len)) {
        rc = parse_listing(&reader, name, &rows, &labels, err);
        has_labels = 1;
    } else {
        rc = parse_csv(text, size_bytes, name, &rows, &labels, &has_labels, err);
    }
    if (!rc) {
        rc = finish(annotations, &rows, &labels, has_labels);
        if (rc)
            vb_error_set(err, rc, "%s: out of memory", name);
    }
    free(rows.rows);
    label_table_free(&labels);
    if (rc)
        vb_annotations_free(annotations);
    return rc;
}

int vb_annotations_load(const char *path, vb_annotations *annotations, vb_error *err)
{
    memset(annotations, 0, sizeof *annotations);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_ANNOTATION_FILE_BYTES, &text, &size, err);
    if (rc)
        return rc;
    rc = vb_annotations_parse(text, size, path, annotations, err);
    free(text);
    return rc;
}

void vb_annotations_free(vb_annotations *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->label_count; i++)
        free(a->labels[i]);
    free(a->labels);
    free(a->rows);
    free(a->by_id_);
    memset(a, 0, sizeof *a);
}

long vb_annotations_find(const vb_annotations *a, const char *youtube_id, int time_start)
{
    if (!a || !youtube_id || strlen(youtube_id) != 11 || !a->count)
        return -1;
    size_t lo = 0, hi = a->count;
    while (lo < hi) { /* first index whose id >= youtube_id */
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(a->rows[a->by_id_[mid]].youtube_id, youtube_id, 11) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < a->count; i++) {
        const vb_annotation *r = &a->rows[a->by_id_[i]];
        if (memcmp(r->youtube_id, youtube_id, 11))
            break;
        if (time_start < 0 || r->time_start == time_start)
            return (long)a->by_id_[i];
    }
    return -1;
}

const char *vb_annotation_label(const vb_annotations *a, size_t row)
{
    if (!a || row >= a->count || a->rows[row].label < 0 || a->rows[row].label >= a->label_count)
        return NULL;
    return a->labels[a->rows[row].label];
}

int vb_clip_name_parse(const char *file_name, char youtube_id[12], int *time_start, int *time_end)
{
    if (!file_name)
        return VB_EFORMAT;
    const char *base = strrchr(file_name, '/');
    base = base ? base + 1 : file_name;
    size_t n = strlen(base);
    /* id(11) '_' start(>=6) '_' end(>=6) '.' ext */
    if (n < 11 + 1 + 6 + 1 + 6 + 2 || !valid_youtube_id(base, 11) || base[11] != '_')
        return VB_EFORMAT;
    const char *p = base + 12;
    const char *us = strchr(p, '_');
    if (!us || us - p < 6)
        return VB_EFORMAT;
    long start = parse_seconds(p, (size_t)(us - p));
    const char *q = us + 1;
    const char *dot = strchr(q, '.');
    if (!dot || dot - q < 6)
        return VB_EFORMAT;
    long end = parse_seconds(q, (size_t)(dot - q));
    if (start < 0 || end < 0 || end < start)
        return VB_EFORMAT;
    const char *ext = dot + 1;
    size_t ext_len = strlen(ext);
    if (ext_len == 0 || ext_len > 8)
        return VB_EFORMAT;
    for (size_t i = 0; i < ext_len; i++)
        if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= 'A' && ext[i] <= 'Z') ||
              (ext[i] >= '0' && ext[i] <= '9')))
            return VB_EFORMAT;
    if (youtube_id) {
        memcpy(youtube_id, base, 11);
        youtube_id[11] = '\0';
    }
    if (time_start)
        *time_start = (int)start;
    if (time_end)
        *time_end = (int)end;
    return 0;
}

/* ---- versions and splits ---- */
const char *vb_split_name(vb_split split)
{
    switch (split) {
    case VB_SPLIT_TRAIN: return "train";
    case VB_SPLIT_VAL: return "val";
    case VB_SPLIT_TEST: return "test";
    }
    return "?";
}

int vb_split_parse(const char *text, vb_split *split)
{
    if (!text)
        return VB_EINVAL;
    if (!strcmp(text, "train"))
        *split = VB_SPLIT_TRAIN;
    else if (!strcmp(text, "val") || !strcmp(text, "validate"))
        *split = VB_SPLIT_VAL;
    else if (!strcmp(text, "test"))
        *split = VB_SPLIT_TEST;
    else
        return VB_EINVAL;
    return 0;
}

int vb_kinetics_version_valid(int version)
{
    return version == 400 || version == 600 || version == 700;
}
