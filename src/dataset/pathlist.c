/* Partition URL lists (k{ver}_{split}_path.txt) and mirror rewriting. URLs are kept verbatim,
 * spaces included (K600 per-class names); they are percent-encoded only when fetched. */
#include "vidbench/dataset.h"
#include "common/fsutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATHLIST_BYTES (64u << 20)
#define MAX_URL_BYTES 4096
#define MAX_URLS 1000000u

/* The URLs already in a list, for dropping repeats (a list naming one partition 500 times
 * fetched it 500 times). Open addressing over indices into list->urls, at most half full. */
typedef struct url_set {
    size_t *slots; /* index + 1, 0 = empty */
    size_t capacity;
} url_set;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* 1 if url[0..n) is already in list, else records index `count` for it; -1 on no memory. */
static int url_set_seen(url_set *set, const vb_pathlist *list, const char *url, size_t n)
{
    if ((list->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 128;
        size_t *slots = calloc(capacity, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < list->count; i++) {
            size_t h = (size_t)hash_bytes(list->urls[i], strlen(list->urls[i])) & (capacity - 1);
            while (slots[h])
                h = (h + 1) & (capacity - 1);
            slots[h] = i + 1;
        }
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    size_t h = (size_t)hash_bytes(url, n) & (set->capacity - 1);
    for (; set->slots[h]; h = (h + 1) & (set->capacity - 1)) {
        const char *other = list->urls[set->slots[h] - 1];
        if (strlen(other) == n && !memcmp(other, url, n))
            return 1;
    }
    set->slots[h] = list->count + 1; /* the caller appends the URL at index count */
    return 0;
}

int vb_pathlist_parse(const char *text, size_t size_bytes, const char *name, vb_pathlist *list,
                      vb_error *err)
{
    memset(list, 0, sizeof *list);
    url_set seen = {0};
    if (!name)
        name = "path list";
    if (!text && size_bytes)
        return vb_error_set(err, VB_EINVAL, "%s: no text", name);
    size_t pos = fs_utf8_bom_bytes(text, size_bytes), capacity = 0;
    long line_number = 0;
    int rc = 0;
    while (pos < size_bytes) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', size_bytes - pos);
        size_t n = nl ? (size_t)(nl - start) : size_bytes - pos;
        pos += n + (nl ? 1 : 0);
        line_number++;
        /* Trailing CR and blanks are line-end noise; inner spaces belong to the URL. */
        while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (start[lead] == ' ' || start[lead] == '\t'))
            lead++;
        start += lead;
        n -= lead;
        if (n == 0)
            continue;
        if (n > MAX_URL_BYTES) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: URL longer than %d bytes", name, line_number,
                              MAX_URL_BYTES);
            break;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)start[i] < 0x20 || start[i] == 0x7f) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: control byte in URL", name, line_number);
                break;
            }
        if (rc)
            break;
        if (!(n > 8 && !memcmp(start, "https://", 8)) && !(n > 7 && !memcmp(start, "http://", 7))) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: not an http(s) URL", name, line_number);
            break;
        }
        int repeated = url_set_seen(&seen, list, start, n);
        if (repeated < 0) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
            break;
        }
        if (repeated) {
            list->duplicates++;
            continue;
        }
        if (list->count >= MAX_URLS) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: more than %u URLs", name, MAX_URLS);
            break;
        }
        if (list->count == capacity) {
            size_t cap = capacity ? capacity * 2 : 64;
            char **urls = realloc(list->urls, cap * sizeof *urls);
            if (!urls) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
                break;
            }
            list->urls = urls;
            capacity = cap;
        }
        char *url = malloc(n + 1);
        if (!url) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
            break;
        }
        memcpy(url, start, n);
        url[n] = '\0';
        list->urls[list->count++] = url;
    }
    free(seen.slots);
    if (rc)
        vb_pathlist_free(list);
    return rc;
}

int vb_pathlist_load(const char *path, vb_pathlist *list, vb_error *err)
{
    memset(list, 0, sizeof *list);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_PATHLIST_BYTES, &text, &size, err);
    if (rc)
        return rc;
    if (memchr(text, '\0', size))
        rc = vb_error_set(err, VB_EFORMAT, "%s: contains NUL bytes (not a text file)", path);
    else
        rc = vb_pathlist_parse(text, size, path, list, err);
    free(text);
    return rc;
}

void vb_pathlist_free(vb_pathlist *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->urls[i]);
    free(list->urls);
    memset(list, 0, sizeof *list);
}

static int needs_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL;
}

char *vb_mirror_url(const char *url, const char *mirror_root)
{
    if (!url)
        return NULL;
    const size_t prefix_len = strlen(VB_KINETICS_MIRROR);
    const char *tail = url;
    const char *root = "";
    int add_slash = 0;
    if (mirror_root && *mirror_root && !strncmp(url, VB_KINETICS_MIRROR, prefix_len)) {
        root = mirror_root;
        tail = url + prefix_len;
        add_slash = root[strlen(root) - 1] != '/';
    }
    size_t out_len = strlen(root) + (size_t)add_slash;
    for (const char *p = tail; *p; p++)
        out_len += needs_escape((unsigned char)*p) ? 3 : 1;
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    char *w = out;
    size_t root_len = strlen(root);
    memcpy(w, root, root_len);
    w += root_len;
    if (add_slash)
        *w++ = '/';
    static const char hex[] = "0123456789ABCDEF";
    for (const char *p = tail; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (needs_escape(c)) {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    return out;
}

int vb_partition_shard(size_t partition, int shard_count)
{
    return shard_count > 1 ? (int)(partition % (size_t)shard_count) : 0;
}
