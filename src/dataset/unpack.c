/* Safe archive unpacking with libarchive: we read entries and write regular files ourselves
 * (temporary name, then rename), so no archive can create links, devices or anything outside
 * the target. Links are never created: Kinetics partitions hold none, and a created link
 * would make later path checks depend on the file system instead of the entry name. */
#include "vidbench/dataset.h"
#include "common/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRY_PATH 1024
#define TEMP_SUFFIX ".unpack-XXXXXX"
/* Longest name component we can write: the temporary adds its suffix to the file name. */
#define MAX_COMPONENT_BYTES (NAME_MAX - (int)(sizeof TEMP_SUFFIX - 1))

void vb_unpack_limits_init(vb_unpack_limits *limits)
{
    limits->max_total_bytes = (int64_t)64 << 30;
    limits->max_ratio = 50;
    limits->ratio_floor_bytes = (int64_t)16 << 20;
}

/* Normalises an archive entry name into out ("a/b/c", no "." or empty parts).
 * Returns 1 safe, 0 empty (the archive root), -1 unsafe (absolute, "..", or a name the file
 * system cannot hold: such an entry is skipped, not a failure of the whole archive).*/
static int normalise_entry_path(const char *name, char *out, size_t out_size)
{
    if (!name || name[0] == '/' || name[0] == '\\')
        return -1;
    size_t w = 0;
    const char *p = name;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -1;
        if (n > MAX_COMPONENT_BYTES)
            return -1;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (w + n + 2 > out_size)
                return -1;
            if (w)
                out[w++] = '/';
            memcpy(out + w, p, n);
            w += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    out[w] = '\0';
    return w ? 1 : 0;
}

/* Does a link at entry_path with this target resolve (lexically) outside the root? */
static int link_escapes(const char *entry_path, const char *target)
{
    if (!target || target[0] == '/')
        return 1;
    int depth = 0;
    for (const char *p = entry_path; *p; p++) /* directories above the link */
        if (*p == '/')
            depth++;
    const char *p = target;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return 1;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* Creates the directories of relative path rel under root, refusing any existing component
 * that is not a real directory (a symlink planted by someone else would redirect writes).
 * With include_last the whole path is a directory; otherwise its last part is a file name. */
static int make_dirs_under(const char *root, const char *rel, int include_last, vb_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof path) /* the entry's fault: refused, the rest goes on */
        return vb_error_set(err, VB_EUNSAFE, "%s/%s: path too long", root, rel);
    size_t root_len = strlen(root) + 1;
    for (size_t i = root_len;; i++) {
        char c = path[i];
        int at_end = c == '\0';
        if (c != '/' && !at_end)
            continue;
        if (at_end && !include_last)
            break;
        path[i] = '\0';
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return vb_error_set(err, VB_EUNSAFE, "%s: exists and is not a directory", path);
        } else if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            return vb_error_set(err, VB_EIO, "%s: cannot create directory: %s", path, strerror(errno));
        }
        if (at_end)
            break;
        path[i] = '/';
    }
    return 0;
}

static int write_entry_file(struct archive *ar, const char *root, const char *rel,
                            const char *archive_path, int64_t *budget_bytes, vb_error *err)
{
    int rc = make_dirs_under(root, rel, 0, err);
    if (rc)
        return rc;
    char final_path[PATH_MAX], temp_path[PATH_MAX];
    int n = snprintf(final_path, sizeof final_path, "%s/%s", root, rel);
    int m = snprintf(temp_path, sizeof temp_path, "%s/%s" TEMP_SUFFIX, root, rel);
    if (n < 0 || m < 0 || (size_t)n >= sizeof final_path || (size_t)m >= sizeof temp_path)
        return vb_error_set(err, VB_EUNSAFE, "%s: entry path too long", rel);
    struct stat st;
    if (lstat(final_path, &st) == 0 && !S_ISREG(st.st_mode))
        return vb_error_set(err, VB_EUNSAFE, "%s: exists and is not a regular file", final_path);
    int fd = mkstemp(temp_path); /* O_EXCL: never follows a planted link */
    if (fd < 0)
        return vb_error_set(err, VB_EIO, "%s: cannot create: %s", temp_path, strerror(errno));
    const void *block;
    size_t size;
    la_int64_t offset;
    int64_t entry_bytes = 0;
    for (;;) {
        int r = archive_read_data_block(ar, &block, &size, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: entry %s: %s (truncated or corrupt archive)",
                              archive_path, rel, archive_error_string(ar));
            break;
        }
        /* Blocks must follow each other: a hole would be a sparse file, whose size on disk
         * says nothing about what it claims (a 1 TiB file from a few bytes). */
        if (offset != entry_bytes) {
            rc = vb_error_set(err, VB_EUNSAFE, "%s: entry %s has a hole at byte %lld (sparse)", archive_path,
                              rel, (long long)entry_bytes);
            break;
        }
        if ((int64_t)size > *budget_bytes) {
            rc = VB_ELIMIT; /* the caller words it: it knows the limit */
            break;
        }
        *budget_bytes -= (int64_t)size;
        entry_bytes += (int64_t)size;
        const char *bytes = block;
        while (size > 0) {
            ssize_t w = pwrite(fd, bytes, size, offset);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = vb_error_set(err, errno == ENOSPC ? VB_ENOSPACE : VB_EIO, "%s: write failed: %s",
                                  temp_path, strerror(errno));
                break;
            }
            bytes += w;
            size -= (size_t)w;
            offset += w;
        }
        if (rc)
            break;
    }
    if (!rc && fchmod(fd, 0644) != 0)
        rc = vb_error_set(err, VB_EIO, "%s: chmod failed: %s", temp_path, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = vb_error_set(err, VB_EIO, "%s: close failed: %s", temp_path, strerror(errno));
    if (!rc && rename(temp_path, final_path) != 0)
        rc = vb_error_set(err, VB_EIO, "%s: rename failed: %s", final_path, strerror(errno));
    if (rc)
        unlink(temp_path);
    return rc;
}

/* Enables the decompressors libarchive has built in. archive_read_support_filter_all would
 * also register external programs (lrzip -d, lzop -d, grzip...) run on untrusted bytes, and a
 * decompressor libarchive lacks falls back to one (the call returns ARCHIVE_WARN): such a
 * filter is tried on a scratch reader first and left out. */
static void support_builtin_filters(struct archive *ar)
{
    int (*const filters[])(struct archive *) = {
        archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
        archive_read_support_filter_xz, archive_read_support_filter_zstd,
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        struct archive *probe = archive_read_new();
        int builtin = probe && filters[i](probe) == ARCHIVE_OK;
        archive_read_free(probe);
        if (builtin)
            filters[i](ar);
    }
}

static void refuse_entry(vb_unpack_result *result, const char *what)
{
    result->entries_refused++;
    if (!result->first_refused[0])
        snprintf(result->first_refused, sizeof result->first_refused, "%.500s", what);
}

int vb_unpack_archive(const char *archive_path, const char *target_dir, vb_unpack_file_fn on_file,
                      void *user, vb_unpack_result *result, vb_error *err)
{
    return vb_unpack_archive_limited(archive_path, target_dir, NULL, on_file, user, result, err);
}

int vb_unpack_archive_limited(const char *archive_path, const char *target_dir,
                              const vb_unpack_limits *limits, vb_unpack_file_fn on_file, void *user,
                              vb_unpack_result *result, vb_error *err)
{
    vb_unpack_result local;
    if (!result)
        result = &local;
    memset(result, 0, sizeof *result);
    vb_unpack_limits defaults;
    if (!limits) {
        vb_unpack_limits_init(&defaults);
        limits = &defaults;
    }
    struct stat archive_st;
    if (stat(archive_path, &archive_st) != 0)
        return vb_error_set(err, errno == ENOENT ? VB_ENOTFOUND : VB_EIO, "%s: %s", archive_path,
                            strerror(errno));
    /* What this archive may unpack to, all entries together. */
    double by_ratio = limits->max_ratio > 0 ? limits->max_ratio * (double)archive_st.st_size : 0;
    int64_t budget = limits->ratio_floor_bytes;
    if (by_ratio > (double)budget)
        budget = by_ratio >= (double)INT64_MAX ? INT64_MAX : (int64_t)by_ratio;
    if (limits->max_total_bytes > 0 && budget > limits->max_total_bytes)
        budget = limits->max_total_bytes;
    const int64_t budget_total = budget;
    int rc = fs_mkdir_p(target_dir, err);
    if (rc)
        return rc;
    struct archive *ar = archive_read_new();
    if (!ar)
        return vb_error_set(err, VB_ENOMEM, "%s: cannot create archive reader", archive_path);
    support_builtin_filters(ar);
    archive_read_support_format_tar(ar);
    archive_read_support_format_gnutar(ar);
    if (archive_read_open_filename(ar, archive_path, 1 << 16) != ARCHIVE_OK) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: %s", archive_path, archive_error_string(ar));
        archive_read_free(ar);
        return rc;
    }
    char rel[MAX_ENTRY_PATH];
    struct archive_entry *entry;
    for (;;) {
        int r = archive_read_next_header(ar, &entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: %s (truncated or corrupt archive)", archive_path,
                              archive_error_string(ar));
            break;
        }
        const char *name = archive_entry_pathname(entry);
        int safe = normalise_entry_path(name, rel, sizeof rel);
        const char *hardlink = archive_entry_hardlink(entry);
        mode_t type = archive_entry_filetype(entry);
        if (safe < 0) {
            refuse_entry(result, name ? name : "(no name)");
            continue;
        }
        if (safe == 0)
            continue; /* "./" itself */
        if (hardlink || type == AE_IFLNK) {
            const char *target = hardlink ? hardlink : archive_entry_symlink(entry);
            /* A hard link's target is relative to the archive root, a symlink's to its dir. */
            int escapes = hardlink ? (normalise_entry_path(hardlink, (char[MAX_ENTRY_PATH]){0},
                                                           MAX_ENTRY_PATH) < 0)
                                   : link_escapes(rel, target);
            if (escapes) {
                result->entries_refused++;
                if (!result->first_refused[0])
                    snprintf(result->first_refused, sizeof result->first_refused, "%.250s -> %.250s", rel,
                             target ? target : "?");
            } else {
                result->entries_skipped++;
            }
            continue;
        }
        if (type == AE_IFDIR) {
            rc = make_dirs_under(target_dir, rel, 1, err);
            if (rc == VB_EUNSAFE) {
                result->entries_refused++;
                if (!result->first_refused[0])
                    snprintf(result->first_refused, sizeof result->first_refused, "%.500s", rel);
                rc = 0;
            }
            if (rc)
                break;
            continue;
        }
        if (type != AE_IFREG) {
            result->entries_skipped++;
            continue;
        }
        if (archive_entry_sparse_count(entry) > 0) {
            char what[MAX_ENTRY_PATH + 16];
            snprintf(what, sizeof what, "%s (sparse)", rel);
            refuse_entry(result, what);
            continue;
        }
        int64_t budget_before = budget;
        rc = write_entry_file(ar, target_dir, rel, archive_path, &budget, err);
        if (rc == VB_EUNSAFE) { /* a planted non-file, a hole, a long path: refuse it, go on */
            refuse_entry(result, rel);
            rc = 0;
            continue;
        }
        if (rc == VB_ELIMIT)
            vb_error_set(err, VB_ELIMIT, "%s: unpacks to more than %lld bytes (%s; at entry %s); a compression "
                         "bomb or not a dataset archive, refused", archive_path, (long long)budget_total,
                         budget_total == limits->max_total_bytes ? "the absolute cap"
                                                                 : "the cap for an archive of this size",
                         rel);
        if (rc)
            break;
        result->bytes_written += budget_before - budget;
        result->files_written++;
        if (on_file && on_file(user, rel)) {
            rc = vb_error_set(err, VB_ESTATE, "%s: unpacking stopped by the caller", archive_path);
            break;
        }
    }
    archive_read_free(ar);
    return rc;
}
