/* vidbench model fetch: obtains a model's files (HTTP via vb_download_file with resume, or a
 * local --from directory), verifies them against the registry's pins, converts a checkpoint
 * to safetensors, and installs by renaming one finished directory into place. Partial
 * downloads stay in HOME/downloads/NAME for the next attempt unless they proved corrupt. */
#define _GNU_SOURCE
#include "vidbench/models.h"
#include "vidbench/tfckpt.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void vb_model_fetch_options_init(vb_model_fetch_options *options)
{
    memset(options, 0, sizeof *options);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* rm -rf for our own temporary directories (never follows symlinks). */
static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes .NAME.tmp.* and .NAME.old.* left in models/ by a fetch that was killed; called
 * with the model's lock held, so none of them belongs to a live fetch. */
static void remove_stale_temporaries(const char *models_dir, const char *name)
{
    DIR *dir = opendir(models_dir);
    if (!dir)
        return;
    char tmp_prefix[256], old_prefix[256];
    snprintf(tmp_prefix, sizeof tmp_prefix, ".%s.tmp.", name);
    snprintf(old_prefix, sizeof old_prefix, ".%s.old.", name);
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (strncmp(entry->d_name, tmp_prefix, strlen(tmp_prefix)) &&
            strncmp(entry->d_name, old_prefix, strlen(old_prefix)))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", models_dir, entry->d_name);
        remove_tree(path);
    }
    closedir(dir);
}

/* One fetch per model at a time: two would write the same .part files. The lock is released
 * when the descriptor closes (also when the process dies). */
static int lock_model(const char *home, const char *name, int *fd, vb_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/downloads/%s.lock", home, name);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return vb_error_set(err, VB_EIO, "%s: cannot create: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return vb_error_set(err, VB_ESTATE, "%s: another 'vidbench model fetch %s' is running (lock %s)", name,
                            name, path);
    }
    return VB_OK;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

/* A complete file matches its pins: sha256 when pinned, size when known. */
static int check_pins(const char *path, const char *shown_as, const char *sha256, int64_t size_bytes,
                      vb_error *err)
{
    int64_t size = file_size(path);
    if (size < 0)
        return vb_error_set(err, VB_ENOTFOUND, "%s: not a regular file", shown_as);
    if (size_bytes >= 0 && size != size_bytes)
        return vb_error_set(err, VB_ECHECKSUM, "%s: %lld bytes, expected %lld", shown_as, (long long)size,
                            (long long)size_bytes);
    if (sha256) {
        char hex[65];
        int rc = vb_sha256_file(path, hex, err);
        if (rc)
            return rc;
        if (strcmp(hex, sha256) != 0)
            return vb_error_set(err, VB_ECHECKSUM, "%s: sha256 %s does not match the pinned %s", shown_as,
                                hex, sha256);
    }
    return VB_OK;
}

static int copy_file_atomic(const char *source, const char *dest, vb_error *err)
{
    FILE *in;
    int rc = fs_fopen_regular(source, &in, NULL, err);
    if (rc)
        return rc;
    fs_atomic_file out;
    rc = fs_atomic_open(&out, dest, err);
    if (rc) {
        fclose(in);
        return rc;
    }
    char buffer[1 << 16];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
        if (fwrite(buffer, 1, n, out.fp) != n)
            break;
    int failed = ferror(in) || ferror(out.fp);
    fclose(in);
    if (failed) {
        fs_atomic_abort(&out);
        return vb_error_set(err, VB_EIO, "copying %s to %s failed", source, dest);
    }
    return fs_atomic_commit(&out, err);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Largest plausible size of a model file whose size is not pinned: a server (or mirror) that
 * streams without end stops here instead of filling the disk. Generous: the real files are
 * a few KB (index, labels) to a few hundred MB (data, tflite). */
static int64_t role_size_cap(vb_model_file_role role)
{
    switch (role) {
    case VB_MODEL_FILE_INDEX: return (int64_t)64 << 20;
    case VB_MODEL_FILE_LABELS: return (int64_t)4 << 20;
    case VB_MODEL_FILE_REFERENCE: return (int64_t)64 << 20;
    case VB_MODEL_FILE_SAMPLE: return (int64_t)1 << 30;
    case VB_MODEL_FILE_TFLITE: return (int64_t)4 << 30;
    case VB_MODEL_FILE_DATA:
    default: return (int64_t)16 << 30;
    }
}

/* Puts one file into dir/install_name, verified against its pins (expected_size overrides
 * the registry's size when >= 0). */
static int obtain_file(const vb_model_info *model, const vb_model_file *file, const vb_model_fetch_options *options,
                       const char *dir, int64_t expected_size, char *dest, size_t dest_size, vb_error *err)
{
    int64_t size_pin = expected_size >= 0 ? expected_size : file->size_bytes;
    int n = snprintf(dest, dest_size, "%s/%s", dir, file->install_name);
    if (n < 0 || (size_t)n >= dest_size)
        return vb_error_set(err, VB_ELIMIT, "%s: path too long", dir);
    if (options->from_dir) {
        /* DIR laid out like the repository, or holding the files under their own names. */
        const char *candidates[3] = {file->mirror_path, base_name(file->mirror_path), file->install_name};
        char source[4096] = "";
        for (int i = 0; i < 3; i++) {
            snprintf(source, sizeof source, "%s/%s", options->from_dir, candidates[i]);
            if (file_size(source) >= 0)
                break;
            source[0] = '\0';
        }
        if (!source[0])
            return vb_error_set(err, VB_ENOTFOUND, "%s: no %s in %s (looked for %s, %s and %s)", model->name,
                                file->install_name, options->from_dir, file->mirror_path,
                                base_name(file->mirror_path), file->install_name);
        if (options->on_file)
            options->on_file(options->user, file, source);
        int rc = check_pins(source, source, file->sha256, size_pin, err);
        return rc ? rc : copy_file_atomic(source, dest, err);
    }
    char url[4096];
    const char *base_url = options->base_url;
    if (vb_model_file_url(file, base_url, url, sizeof url))
        return vb_error_set(err, VB_ELIMIT, "%s: URL too long", model->name);
    if (file_size(dest) >= 0) {
        /* Completed by an earlier, interrupted fetch: reuse it only if it still checks out. */
        if (check_pins(dest, dest, file->sha256, size_pin, NULL) == VB_OK)
            return VB_OK;
        unlink(dest);
    }
    if (options->on_file)
        options->on_file(options->user, file, url);
    vb_download_options download;
    vb_download_options_init(&download);
    if (options->max_attempts > 0)
        download.max_attempts = options->max_attempts;
    if (options->initial_backoff_ms > 0)
        download.initial_backoff_ms = options->initial_backoff_ms;
    download.expected_sha256 = file->sha256;
    download.expected_size_bytes = size_pin >= 0 ? size_pin : 0;
    download.max_size_bytes = role_size_cap(file->role);
    download.progress = options->progress;
    download.progress_user = options->user;
    return vb_download_file(url, dest, &download, err);
}

static int path_join(char *out, size_t out_size, const char *dir, const char *name, vb_error *err)
{
    int n = snprintf(out, out_size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= out_size)
        return vb_error_set(err, VB_ELIMIT, "%s: path too long", dir);
    return VB_OK;
}

/* The shard size the pinned index implies (its entries tile the shard). */
static int data_size_from_index(const char *staging, const vb_model_info *model, int64_t *size, vb_error *err)
{
    char prefix[4200];
    int rc = path_join(prefix, sizeof prefix, staging, "model.ckpt", err);
    vb_tfckpt *ckpt = NULL;
    if (rc || (rc = vb_tfckpt_open(prefix, &ckpt, err)))
        return rc;
    int64_t shard_bytes[1] = {0};
    if (vb_tfckpt_num_shards(ckpt) != 1)
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: checkpoint has %d data shards; vidbench fetches "
                          "single-shard checkpoints", model->name, vb_tfckpt_num_shards(ckpt));
    else
        rc = vb_tfckpt_check_layout(ckpt, shard_bytes, err);
    vb_tfckpt_free(&ckpt);
    *size = shard_bytes[0];
    return rc;
}

static int write_install_record(const vb_model_info *model, const char *dir, const char *index_sha256,
                                const vb_model_fetch_options *options, vb_error *err)
{
    char path[4200];
    int rc = path_join(path, sizeof path, dir, "install.txt", err);
    if (rc)
        return rc;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    time_t now = time(NULL);
    struct tm tm_utc;
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm_utc));
    fprintf(out, "model %s\narchitecture %s\nclasses %d\ninstalled %s\n", model->name, model->architecture,
            model->classes, when);
    if (index_sha256)
        fprintf(out, "source_index_sha256 %s\n", index_sha256);
    for (int i = 0; i < model->n_files; i++) {
        const vb_model_file *f = &model->files[i];
        if (f->role == VB_MODEL_FILE_SAMPLE || f->role == VB_MODEL_FILE_REFERENCE)
            continue;
        char url[4096];
        if (options->from_dir)
            snprintf(url, sizeof url, "%s/%s", options->from_dir, f->mirror_path);
        else
            vb_model_file_url(f, options->base_url, url, sizeof url);
        fprintf(out, "source %s %s %s\n", f->install_name, f->sha256 ? f->sha256 : "crc32c-per-tensor", url);
    }
    fclose(out);
    rc = fs_write_file_atomic(path, text, size, err);
    free(text);
    return rc;
}

static int fetch_locked(const vb_model_info *model, const vb_model_fetch_options *options, vb_model_paths *paths,
                        vb_error *err)
{
    /* Sizes grow with nesting so that no join below can truncate (home is at most 4095). */
    char home[4096], staging[4400], models_dir[4400], install_dir[4800], temp_dir[4800], old_dir[4800];
    char index_path[5200], labels_path[5200], main_path[5200], target[5200], prefix[5200];
    int rc = vb_model_home(home, sizeof home, err);
    if (rc)
        return rc;
    if (!options->force && vb_model_installed_paths(model, paths))
        return VB_OK;
    snprintf(staging, sizeof staging, "%s/downloads/%s", home, model->name);
    snprintf(models_dir, sizeof models_dir, "%s/models", home);
    snprintf(install_dir, sizeof install_dir, "%s/%s", models_dir, model->name);
    snprintf(temp_dir, sizeof temp_dir, "%s/.%s.tmp.%ld", models_dir, model->name, (long)getpid());
    snprintf(old_dir, sizeof old_dir, "%s/.%s.old.%ld", models_dir, model->name, (long)getpid());
    if ((rc = fs_mkdir_p(staging, err)) || (rc = fs_mkdir_p(models_dir, err)))
        return rc;
    remove_stale_temporaries(models_dir, model->name);

    const vb_model_file *labels = vb_model_find_file(model, VB_MODEL_FILE_LABELS);
    if (!labels)
        return vb_error_set(err, VB_EFORMAT, "%s: registry entry lacks a label map", model->name);
    char index_sha[65] = "";
    if (model->format == VB_MODEL_FORMAT_TF_CHECKPOINT) {
        const vb_model_file *index = vb_model_find_file(model, VB_MODEL_FILE_INDEX);
        const vb_model_file *data = vb_model_find_file(model, VB_MODEL_FILE_DATA);
        if (!index || !data || strcmp(index->install_name, "model.ckpt.index") ||
            strcmp(data->install_name, "model.ckpt.data-00000-of-00001"))
            return vb_error_set(err, VB_EFORMAT, "%s: registry entry lacks index/data files", model->name);
        if ((rc = obtain_file(model, index, options, staging, -1, index_path, sizeof index_path, err)) ||
            (rc = obtain_file(model, labels, options, staging, -1, labels_path, sizeof labels_path, err)))
            return rc;
        int64_t data_size = 0;
        if ((rc = data_size_from_index(staging, model, &data_size, err)))
            return rc;
        if (data->size_bytes >= 0 && data->size_bytes != data_size)
            return vb_error_set(err, VB_ECHECKSUM, "%s: the index describes a %lld-byte data shard, the registry "
                                "expects %lld", model->name, (long long)data_size, (long long)data->size_bytes);
        if ((rc = obtain_file(model, data, options, staging, data_size, main_path, sizeof main_path, err)))
            return rc;
    } else {
        const vb_model_file *tflite = vb_model_find_file(model, VB_MODEL_FILE_TFLITE);
        if (!tflite)
            return vb_error_set(err, VB_EFORMAT, "%s: registry entry lacks the .tflite file", model->name);
        if ((rc = obtain_file(model, tflite, options, staging, -1, main_path, sizeof main_path, err)) ||
            (rc = obtain_file(model, labels, options, staging, -1, labels_path, sizeof labels_path, err)))
            return rc;
    }

    remove_tree(temp_dir);
    if (mkdir(temp_dir, 0755) != 0)
        return vb_error_set(err, VB_EIO, "%s: cannot create: %s", temp_dir, strerror(errno));
    if (model->format == VB_MODEL_FORMAT_TF_CHECKPOINT) {
        vb_convert_options convert = {.labels_path = labels_path, .architecture = model->architecture,
                                      .model_name = model->name};
        vb_convert_report report;
        snprintf(prefix, sizeof prefix, "%s/model.ckpt", staging);
        snprintf(target, sizeof target, "%s/weights.safetensors", temp_dir);
        rc = vb_tfckpt_convert(prefix, target, &convert, &report, err);
        if (rc == VB_ECHECKSUM || rc == VB_EFORMAT) {
            /* A corrupt shard can never be completed by resuming: drop it so the next fetch
             * downloads it afresh. */
            unlink(main_path);
            vb_error_prefix(err, "%s: downloaded data shard is corrupt and was removed (run fetch again): ",
                            model->name);
            goto fail;
        }
        if (rc)
            goto fail;
        if (model->classes > 0 && report.classes != model->classes) {
            rc = vb_error_set(err, VB_ESHAPE, "%s: checkpoint has %d classes, the registry says %d", model->name,
                              report.classes, model->classes);
            goto fail;
        }
        memcpy(index_sha, report.index_sha256, sizeof index_sha);
    } else {
        snprintf(target, sizeof target, "%s/model.tflite", temp_dir);
        if (rename(main_path, target) != 0) {
            rc = vb_error_set(err, VB_EIO, "%s: cannot move into %s: %s", main_path, temp_dir, strerror(errno));
            goto fail;
        }
    }
    snprintf(target, sizeof target, "%s/labels.txt", temp_dir);
    if ((rc = copy_file_atomic(labels_path, target, err)) ||
        (rc = write_install_record(model, temp_dir, index_sha[0] ? index_sha : NULL, options, err)))
        goto fail;
    /* The swap: an existing copy (--force) moves aside first, so the name is never absent
     * of a complete model for longer than between two renames, and never half-present. */
    int had_old = fs_path_exists(install_dir);
    if (had_old && rename(install_dir, old_dir) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: cannot move the old copy aside: %s", install_dir, strerror(errno));
        goto fail;
    }
    if (rename(temp_dir, install_dir) != 0) {
        rc = vb_error_set(err, VB_EIO, "%s: cannot rename into place: %s", install_dir, strerror(errno));
        if (had_old)
            rename(old_dir, install_dir);
        goto fail;
    }
    if (had_old)
        remove_tree(old_dir);
    remove_tree(staging);
    if (paths)
        vb_model_installed_paths(model, paths);
    return VB_OK;
fail:
    remove_tree(temp_dir);
    return rc;
}

int vb_model_fetch(const vb_model_info *model, const vb_model_fetch_options *options, vb_model_paths *paths,
                   vb_error *err)
{
    vb_model_fetch_options defaults;
    if (!options) {
        vb_model_fetch_options_init(&defaults);
        options = &defaults;
    }
    char home[4096], downloads[4200];
    int rc = vb_model_home(home, sizeof home, err);
    if (rc)
        return rc;
    if (!options->force && vb_model_installed_paths(model, paths))
        return VB_OK;
    snprintf(downloads, sizeof downloads, "%s/downloads", home);
    if ((rc = fs_mkdir_p(downloads, err)))
        return rc;
    int lock_fd = -1;
    if ((rc = lock_model(home, model->name, &lock_fd, err)))
        return rc;
    rc = fetch_locked(model, options, paths, err);
    close(lock_fd);
    return rc;
}

int vb_model_fetch_verify_files(const vb_model_info *model, const vb_model_fetch_options *options,
                                char *sample_path, size_t sample_path_size, char *reference_path,
                                size_t reference_path_size, vb_error *err)
{
    vb_model_fetch_options defaults;
    if (!options) {
        vb_model_fetch_options_init(&defaults);
        options = &defaults;
    }
    const vb_model_file *sample = vb_model_find_file(model, VB_MODEL_FILE_SAMPLE);
    const vb_model_file *reference = vb_model_find_file(model, VB_MODEL_FILE_REFERENCE);
    if (!sample || !reference)
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: no published sample and reference output to verify "
                            "against (DeepMind publishes them for i3d-kinetics-400 only)", model->name);
    char home[4096], dir[4200];
    int rc = vb_model_home(home, sizeof home, err);
    if (rc)
        return rc;
    snprintf(dir, sizeof dir, "%s/samples/%s", home, model->name);
    if ((rc = fs_mkdir_p(dir, err)))
        return rc;
    if ((rc = obtain_file(model, sample, options, dir, -1, sample_path, sample_path_size, err)))
        return rc;
    return obtain_file(model, reference, options, dir, -1, reference_path, reference_path_size, err);
}
