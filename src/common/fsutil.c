/* Atomic file writes and small file-system helpers (see fsutil.h). */
#define _GNU_SOURCE
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint temp_counter;

int vb_atomic_open(vb_atomic_file *file, const char *path, vb_error *err)
{
    memset(file, 0, sizeof *file);
    file->final_path = strdup(path);
    if (!file->final_path ||
        asprintf(&file->temp_path, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&temp_counter, 1)) < 0) {
        free(file->final_path);
        file->final_path = NULL;
        file->temp_path = NULL;
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    file->fp = fopen(file->temp_path, "wb");
    if (!file->fp) {
        int saved = errno;
        vb_atomic_abort(file);
        return vb_error_set(err, VB_EIO, "%s: cannot create: %s", path, strerror(saved));
    }
    return VB_OK;
}

int vb_atomic_commit(vb_atomic_file *file, vb_error *err)
{
    int rc = VB_OK;
    if (fflush(file->fp) != 0 || ferror(file->fp) || fsync(fileno(file->fp)) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: write failed: %s", file->final_path, strerror(errno));
        goto fail;
    }
    FILE *fp = file->fp;
    file->fp = NULL;
    if (fclose(fp) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: close failed: %s", file->final_path, strerror(errno));
        goto fail;
    }
    if (rename(file->temp_path, file->final_path) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: rename into place failed: %s", file->final_path,
                          strerror(errno));
        goto fail;
    }
    free(file->temp_path);
    file->temp_path = NULL;
    vb_atomic_abort(file);
    return VB_OK;
fail:
    vb_atomic_abort(file);
    return rc;
}

void vb_atomic_abort(vb_atomic_file *file)
{
    if (file->fp)
        fclose(file->fp);
    if (file->temp_path)
        unlink(file->temp_path);
    free(file->temp_path);
    free(file->final_path);
    memset(file, 0, sizeof *file);
}

int vb_write_file_atomic(const char *path, const void *data, size_t size_bytes, vb_error *err)
{
    vb_atomic_file file;
    int rc = vb_atomic_open(&file, path, err);
    if (rc)
        return rc;
    if (size_bytes && fwrite(data, 1, size_bytes, file.fp) != size_bytes) {
        rc = vb_error_set(err, VB_EIO, "%s: write failed: %s", path, strerror(errno));
        vb_atomic_abort(&file);
        return rc;
    }
    return vb_atomic_commit(&file, err);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a regular file";
}

int vb_open_regular(const char *path, int *fd_out, int64_t *size_bytes, vb_error *err)
{
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer appears,
     * before fstat() could refuse it. Cleared again for the regular file we keep. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return vb_error_set(err, errno == ENOENT ? VB_ENOTFOUND : VB_EIO, "%s: cannot open: %s",
                            path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = vb_error_set(err, VB_EIO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vb_error_set(err, VB_EINVAL, "%s: is %s; only regular files are read", path,
                            file_kind(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int rc = vb_error_set(err, VB_EIO, "%s: fcntl: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (size_bytes)
        *size_bytes = (int64_t)st.st_size;
    *fd_out = fd;
    return VB_OK;
}

int vb_fopen_regular(const char *path, FILE **fp, int64_t *size_bytes, vb_error *err)
{
    int fd;
    *fp = NULL;
    int rc = vb_open_regular(path, &fd, size_bytes, err);
    if (rc)
        return rc;
    if (!(*fp = fdopen(fd, "rb"))) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: fdopen: %s", path, strerror(errno));
        close(fd);
    }
    return rc;
}

int vb_read_file(const char *path, size_t max_bytes, char **data, size_t *size_bytes, vb_error *err)
{
    *data = NULL;
    if (size_bytes)
        *size_bytes = 0;
    int64_t claimed = 0;
    FILE *fp;
    int rc = vb_fopen_regular(path, &fp, &claimed, err);
    if (rc)
        return rc;
    /* Refused before any allocation; the loop below still stops at the limit should the
     * file grow while it is read. */
    if ((uint64_t)claimed > max_bytes) {
        fclose(fp);
        return vb_error_set(err, VB_ELIMIT, "%s: %lld bytes, larger than the %zu-byte limit", path,
                            (long long)claimed, max_bytes);
    }
    size_t capacity = 4096, used = 0;
    char *buffer = malloc(capacity + 1);
    if (!buffer) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        if (used == capacity) {
            if (capacity >= max_bytes) {
                rc = vb_error_set(err, VB_ELIMIT, "%s: larger than the %zu-byte limit", path,
                                  max_bytes);
                goto done;
            }
            size_t grown = capacity * 2 > max_bytes ? max_bytes : capacity * 2;
            char *bigger = realloc(buffer, grown + 1);
            if (!bigger) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            buffer = bigger;
            capacity = grown;
        }
        size_t got = fread(buffer + used, 1, capacity - used, fp);
        used += got;
        if (got == 0) {
            if (ferror(fp))
                rc = vb_error_set(err, VB_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
    }
done:
    fclose(fp);
    if (rc) {
        free(buffer);
        return rc;
    }
    buffer[used] = '\0';
    *data = buffer;
    if (size_bytes)
        *size_bytes = used;
    return VB_OK;
}

size_t vb_utf8_bom_bytes(const char *text, size_t size_bytes)
{
    return text && size_bytes >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

int vb_mkdir_p(const char *path, vb_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
                int rc = vb_error_set(err, VB_EIO, "%s: cannot create directory: %s", copy,
                                      strerror(errno));
                free(copy);
                return rc;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(copy);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return vb_error_set(err, VB_EIO, "%s: exists and is not a directory", path);
    return VB_OK;
}

int vb_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
