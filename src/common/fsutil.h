/* File-system helpers used across the library: atomic writes (temporary name, fsync,
 * rename) so that no reader ever sees a half-written file, and mkdir -p. Internal. */
#ifndef VB_COMMON_FSUTIL_H
#define VB_COMMON_FSUTIL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

typedef struct fs_atomic_file {
    FILE *fp;              /* write here */
    char *final_path;
    char *temp_path;       /* final_path + ".tmp.<pid>.<n>" in the same directory */
} fs_atomic_file;

/* VB_ENOSPACE for a full disk or quota (ENOSPC, EDQUOT), else VB_EIO: the code for a failed
 * write, so every writer reports a full disk the same way. */
int fs_write_error_code(int saved_errno);

/* Opens a temporary file beside path for writing; first removes the temporaries that dead
 * writers left in that directory (once per directory and process). */
int fs_atomic_open(fs_atomic_file *file, const char *path, vb_error *err);
/* Flushes, fsyncs, closes and renames into place. On failure the temporary is removed. */
int fs_atomic_commit(fs_atomic_file *file, vb_error *err);
/* Closes and removes the temporary; safe to call after commit or on a zeroed struct. */
void fs_atomic_abort(fs_atomic_file *file);

int fs_write_file_atomic(const char *path, const void *data, size_t size_bytes, vb_error *err);
/* Opens path for reading if it is a regular file; a FIFO, device, socket or directory is
 * refused (VB_EINVAL, the message says which) without blocking. size_bytes may be NULL. */
int fs_open_regular(const char *path, int *fd, int64_t *size_bytes, vb_error *err);
/* The same as a FILE* ("rb"). */
int fs_fopen_regular(const char *path, FILE **fp, int64_t *size_bytes, vb_error *err);
/* Reads a whole file (max_bytes guards against hostile sizes). *data is NUL-terminated. */
int fs_read_file(const char *path, size_t max_bytes, char **data, size_t *size_bytes, vb_error *err);
/* 3 if text starts with a UTF-8 byte-order mark (Windows editors write one), else 0: every
 * text reader skips it, so a file saved by Notepad reads like any other. */
size_t fs_utf8_bom_bytes(const char *text, size_t size_bytes);
/* Creates path and its parents (mode 0755); existing directories are fine. */
int fs_mkdir_p(const char *path, vb_error *err);
/* An exclusive lock between processes on the lock file path (created, holding our pid for
 * the message of whoever finds it taken; released with the process if it dies). `what` names
 * the locked thing in messages ("results dir X"): VB_ESTATE "X in use by pid N" when another
 * process holds it, VB_EIO "X is not writable: ..." when the lock file cannot be created. */
int fs_lock_acquire(const char *path, const char *what, int *fd, vb_error *err);
/* Removes the lock file and releases the lock; accepts *fd == -1. */
void fs_lock_release(const char *path, int *fd);
/* Returns 1 if path exists (any type), 0 otherwise. */
int fs_path_exists(const char *path);
/* 1 when text ends with suffix (file types by name: ".tflite", tensor names). */
int fs_ends_with(const char *text, const char *suffix);

#endif
