/* Atomic file writes and small file-system helpers (see fsutil.h). */
#define _GNU_SOURCE
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint temp_counter;

/* Directories already swept for stale temporaries by this process: one sweep per directory
 * is enough (a writer that dies later is found by the next process), and sweeping on every
 * open would make writing N files into one folder O(N^2). Process-wide on purpose: the
 * temporaries belong to the file system, not to any object of the caller. */
enum { SWEPT_SLOTS = 64 };
static pthread_mutex_t swept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { dev_t dev; ino_t ino; } swept[SWEPT_SLOTS];
static unsigned swept_count;

/* Parses the ".tmp.<pid>.<n>" suffix fs_atomic_open gives its temporaries; 0 if absent. */
static long temp_owner_pid(const char *name)
{
    const char *tmp = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
        tmp = p; /* the last one: "a.tmp.b.npy.tmp.1.2" belongs to a.tmp.b.npy */
    if (!tmp || tmp == name)
        return 0;
    const char *p = tmp + 5;
    long pid = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
        pid = pid * 10 + (*p - '0');
    if (!digits || *p != '.' || !p[1])
        return 0;
    for (p++; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return pid;
}

/* Removes the temporaries of writers that died (SIGKILL, power loss) in dir, the folder a
 * new temporary is about to be created in; without this each kill left its partial file
 * (tens of MB for a frames dump) forever. A temporary is stale only if its pid is gone and
 * nobody holds its lock: every live writer holds flock() on its temporary, which also
 * protects one reused pid or a writer in another pid namespace. */
static void sweep_stale_temporaries(const char *dir)
{
    struct stat dir_st;
    if (stat(dir, &dir_st) != 0)
        return;
    pthread_mutex_lock(&swept_lock);
    unsigned known = swept_count < SWEPT_SLOTS ? swept_count : SWEPT_SLOTS;
    for (unsigned i = 0; i < known; i++)
        if (swept[i].dev == dir_st.st_dev && swept[i].ino == dir_st.st_ino) {
            pthread_mutex_unlock(&swept_lock);
            return;
        }
    swept[swept_count % SWEPT_SLOTS].dev = dir_st.st_dev;
    swept[swept_count % SWEPT_SLOTS].ino = dir_st.st_ino;
    swept_count++;
    pthread_mutex_unlock(&swept_lock);

    DIR *d = opendir(dir);
    if (!d)
        return;
    long self = (long)getpid();
    for (struct dirent *de; (de = readdir(d));) {
        long pid = temp_owner_pid(de->d_name);
        if (pid <= 0 || pid == self || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), de->d_name, 0);
        close(fd);
    }
    closedir(d);
}

/* A full disk is its own code: callers stop a run on it instead of retrying. */
int fs_write_error_code(int saved_errno)
{
    return saved_errno == ENOSPC || saved_errno == EDQUOT ? VB_ENOSPACE : VB_EIO;
}

int fs_atomic_open(fs_atomic_file *file, const char *path, vb_error *err)
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
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (dir)
        sweep_stale_temporaries(dir);
    free(dir);
    /* O_EXCL|O_NOFOLLOW: a file or link planted under the temporary's name is never written
     * through (mode 0666 & umask, as fopen). The lock marks the temporary as alive for other
     * processes' sweeps; where the file system has no locks (ENOLCK) the sweeps cannot take
     * it either, so it is kept: best effort, never a reason to fail the write. */
    int fd = open(file->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0)
        (void)flock(fd, LOCK_EX | LOCK_NB);
    file->fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!file->fp) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlink(file->temp_path);
        }
        free(file->temp_path); /* not ours to unlink when open failed (EEXIST) */
        file->temp_path = NULL;
        fs_atomic_abort(file);
        return vb_error_set(err, fs_write_error_code(saved), "%s: cannot create: %s", path, strerror(saved));
    }
    return VB_OK;
}

int fs_atomic_commit(fs_atomic_file *file, vb_error *err)
{
    int rc = VB_OK;
    if (fflush(file->fp) != 0 || ferror(file->fp) || fsync(fileno(file->fp)) != 0) {
        rc = vb_error_set(err, fs_write_error_code(errno), "%s: write failed: %s", file->final_path,
                          strerror(errno));
        goto fail;
    }
    FILE *fp = file->fp;
    file->fp = NULL;
    if (fclose(fp) != 0) {
        rc = vb_error_set(err, fs_write_error_code(errno), "%s: close failed: %s", file->final_path,
                          strerror(errno));
        goto fail;
    }
    if (rename(file->temp_path, file->final_path) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: rename into place failed: %s", file->final_path,
                          strerror(errno));
        goto fail;
    }
    free(file->temp_path);
    file->temp_path = NULL;
    fs_atomic_abort(file);
    return VB_OK;
fail:
    fs_atomic_abort(file);
    return rc;
}

void fs_atomic_abort(fs_atomic_file *file)
{
    if (file->fp)
        fclose(file->fp);
    if (file->temp_path)
        unlink(file->temp_path);
    free(file->temp_path);
    free(file->final_path);
    memset(file, 0, sizeof *file);
}

int fs_write_file_atomic(const char *path, const void *data, size_t size_bytes, vb_error *err)
{
    fs_atomic_file file;
    int rc = fs_atomic_open(&file, path, err);
    if (rc)
        return rc;
    if (size_bytes && fwrite(data, 1, size_bytes, file.fp) != size_bytes) {
        rc = vb_error_set(err, fs_write_error_code(errno), "%s: write failed: %s", path, strerror(errno));
        fs_atomic_abort(&file);
        return rc;
    }
    return fs_atomic_commit(&file, err);
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

int fs_open_regular(const char *path, int *fd_out, int64_t *size_bytes, vb_error *err)
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

int fs_fopen_regular(const char *path, FILE **fp, int64_t *size_bytes, vb_error *err)
{
    int fd;
    *fp = NULL;
    int rc = fs_open_regular(path, &fd, size_bytes, err);
    if (rc)
        return rc;
    if (!(*fp = fdopen(fd, "rb"))) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: fdopen: %s", path, strerror(errno));
        close(fd);
    }
    return rc;
}

int fs_read_file(const char *path, size_t max_bytes, char **data, size_t *size_bytes, vb_error *err)
{
    *data = NULL;
    if (size_bytes)
        *size_bytes = 0;
    int64_t claimed = 0;
    FILE *fp;
    int rc = fs_fopen_regular(path, &fp, &claimed, err);
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

size_t fs_utf8_bom_bytes(const char *text, size_t size_bytes)
{
    return text && size_bytes >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

int fs_mkdir_p(const char *path, vb_error *err)
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

int fs_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int fs_ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && !memcmp(text + n - m, suffix, m);
}

int fs_lock_acquire(const char *path, const char *what, int *fd_out, vb_error *err)
{
    *fd_out = -1;
    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            return vb_error_set(err, fs_write_error_code(errno), "%s is not writable: cannot create %s: %s", what,
                                path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            char text[32] = "";
            ssize_t got = pread(fd, text, sizeof text - 1, 0);
            close(fd);
            if (saved != EWOULDBLOCK)
                return vb_error_set(err, VB_EIO, "%s: cannot lock %s: %s", what, path, strerror(saved));
            long pid = got > 0 ? strtol(text, NULL, 10) : 0;
            if (pid > 0)
                return vb_error_set(err, VB_ESTATE, "%s in use by pid %ld (lock %s); wait for it to finish or "
                                    "use another", what, pid, path);
            return vb_error_set(err, VB_ESTATE, "%s in use by another process (lock %s)", what, path);
        }
        /* The holder we waited out may have removed the file after we opened it: a lock on a
         * removed file excludes nobody, so take the one that is there now. */
        struct stat held, now;
        if (fstat(fd, &held) != 0 || stat(path, &now) != 0 || held.st_ino != now.st_ino ||
            held.st_dev != now.st_dev) {
            close(fd);
            continue;
        }
        char text[32];
        int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
            int saved = errno;
            close(fd);
            return vb_error_set(err, fs_write_error_code(saved), "%s is not writable: %s: %s", what, path,
                                strerror(saved));
        }
        *fd_out = fd;
        return VB_OK;
    }
    return vb_error_set(err, VB_ESTATE, "%s: lock %s keeps changing hands", what, path);
}

void fs_lock_release(const char *path, int *fd)
{
    if (*fd < 0)
        return;
    unlink(path); /* while still holding it: nobody can take the old file after this */
    close(*fd);
    *fd = -1;
}
