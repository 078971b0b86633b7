/* libFuzzer target for safe unpacking: any bytes, unpacked as an archive into a scratch
 * target, must never leave anything outside the target nor create a link. The scratch box is
 * /tmp/vb_fuzz_unpack.<pid>/{in.tar, out/target}; after each run the box must hold exactly
 * in.tar, out and out/target, and the target no symlink. Slow-ish (real files) by design. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch_tree.h"
#include "vidbench/dataset.h"

static char box[256], archive_path[300], out_dir[300], target[300];

static int count_links(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    if (type == FTW_SL)
        abort(); /* a link was created inside the target */
    return 0;
}

/* Names directly in dir, at most 4 compared. */
static int only_entry(const char *dir, const char *a, const char *b)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int ok = 1, seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        seen++;
        if (strcmp(de->d_name, a) && (!b || strcmp(de->d_name, b)))
            ok = 0;
    }
    closedir(d);
    return ok && seen == (b ? 2 : 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!box[0]) {
        snprintf(box, sizeof box, "/tmp/vb_fuzz_unpack.%ld", (long)getpid());
        snprintf(archive_path, sizeof archive_path, "%s/in.tar", box);
        snprintf(out_dir, sizeof out_dir, "%s/out", box);
        snprintf(target, sizeof target, "%s/out/target", box);
    }
    scratch_remove_tree(box);
    mkdir(box, 0755);
    FILE *fp = fopen(archive_path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    vb_unpack_result result;
    vb_unpack_archive(archive_path, target, NULL, NULL, &result, NULL);
    if (!only_entry(box, "in.tar", "out") || !only_entry(out_dir, "target", NULL))
        abort(); /* something was written beside the target */
    nftw(target, count_links, 16, FTW_PHYS);
    return 0;
}
